"""neon_batch.export_torch: a torch feature extractor + deep soft clustering head exported and
explained by neon-batch: assignments and per-target logits (Lemma 3) match torch, the 4-D input
keeps its (sample, target, channel, y, x) layout, load() names the target coordinate, and, when
zennit is installed, the relevance maps match zennit's LRP seeded with the NEON head's relevance."""
import h5py
import numpy as np
import pytest

import neon_batch

torch = pytest.importorskip("torch")
pytest.importorskip("xarray")


def net_and_data():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 5, 3, padding=1, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(5, 6)).double()
    rng = np.random.default_rng(1)
    return net, np.abs(rng.normal(size=(30, 3, 8, 8))), rng.normal(size=(3, 6))


TARGETS = [2, 0]


def explained(tmp_path):
    """Exports the net + deep soft head, explains targets 2 and 0 on 2 ranks: (net, X, mu, A, Z, ds)."""
    net, X, mu = net_and_data()
    targets = TARGETS
    neon_batch.export_torch(list(net), {"kind": "deep_soft", "centroids": mu}, str(tmp_path / "model.h5"))
    with h5py.File(tmp_path / "model.h5", "r") as f:
        assert [f["psi"][str(i)].attrs["type"] for i in range(8)] == \
            ["conv2d", "relu", "maxpool2d", "conv2d", "relu", "global_avg_pool", "flatten", "linear"]
        assert f["psi/3"].attrs["stride"] == 2 and f["psi/0/weight"].shape == (4, 3, 3, 3)
    with h5py.File(tmp_path / "data.h5", "w") as f:
        f["x"] = X
    job = {"input": {"file": "data.h5", "dataset": "x"}, "model": {"file": "model.h5"},
           "output": {"file": "out.h5"}, "explain": {"beta": 1.5, "target": targets, "lrp": {"gamma": 0.1}}}
    neon_batch.run(job, ranks=2, args=["-q"], cwd=str(tmp_path))
    ds = neon_batch.load(str(tmp_path / "out.h5"))
    with torch.no_grad():
        A = net(torch.from_numpy(X)).numpy()
    return net, X, mu, A, A @ mu.T, ds


def test_feature_extractor_and_head_match_torch(tmp_path):
    net, X, mu, A, Z, ds = explained(tmp_path)
    targets = TARGETS
    assert ds.relevance.dims == ("sample", "target", "channel", "y", "x")
    assert list(ds.target.values) == targets
    R = ds.relevance.values
    np.testing.assert_allclose(ds.relevance_channels.values, R.sum(axis=(3, 4)), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(ds.assignment.values, Z.argmax(1))
    for j, c in enumerate(targets):
        expected = Z[:, c] - np.delete(Z, c, axis=1).max(1)          # Lemma 3: min_k z_c - z_k
        np.testing.assert_allclose(ds.logit.values[:, j], expected, rtol=1e-9, atol=1e-12)


def test_relevance_matches_zennit(tmp_path):
    zennit = pytest.importorskip("zennit")
    assert zennit
    net, X, mu, A, Z, ds = explained(tmp_path)
    R, targets = ds.relevance.values, TARGETS
    from zennit.attribution import Gradient
    from zennit.composites import LayerMapComposite
    from zennit.rules import Epsilon, Gamma, Norm, Pass
    composite = LayerMapComposite(layer_map=[
        (torch.nn.ReLU, Pass()), (torch.nn.Conv2d, Gamma(gamma=0.1)), (torch.nn.Linear, Epsilon(epsilon=1e-6)),
        (torch.nn.AdaptiveAvgPool2d, Norm())])
    for j, c in enumerate(targets):
        # The NEON head (Prop. 6, bias-free midpoint rule): R_a = sum_k a (mu_c - mu_k) R_k / h_k.
        Ra = np.zeros_like(A)
        for n in range(len(A)):
            ks = [k for k in range(3) if k != c]
            h = np.array([Z[n, c] - Z[n, k] for k in ks])
            e = np.exp(-1.5 * (h - h.min()))
            Rk = e / e.sum() * h.min()
            for k, hk, rk in zip(ks, h, Rk):
                Ra[n] += A[n] * (mu[c] - mu[k]) * rk / hk
        with Gradient(model=net, composite=composite) as attributor:
            _, rel = attributor(torch.from_numpy(X).requires_grad_(), attr_output=torch.from_numpy(Ra))
        rel = rel.numpy()
        assert np.abs(rel - R[:, j]).max() / np.abs(rel).max() < 1e-3


def test_head_as_kmeans_and_bad_heads(tmp_path):
    sklearn = pytest.importorskip("sklearn")
    assert sklearn
    from sklearn.cluster import KMeans
    net, X, _ = net_and_data()
    with torch.no_grad():
        A = net(torch.from_numpy(X)).numpy()
    km = KMeans(n_clusters=3, n_init=2, random_state=0).fit(A)
    neon_batch.export_torch(list(net), km, str(tmp_path / "model.h5"))
    with h5py.File(tmp_path / "model.h5", "r") as f:
        assert f.attrs["kind"] == "deep_kmeans"
        np.testing.assert_array_equal(f["centroids"][()], km.cluster_centers_)
    with h5py.File(tmp_path / "data.h5", "w") as f:
        f["x"] = X
    job = {"input": {"file": "data.h5", "dataset": "x"}, "model": {"file": "model.h5"}, "output": {"file": "out.h5"}}
    neon_batch.run(job, args=["-q"], cwd=str(tmp_path))
    np.testing.assert_array_equal(neon_batch.load(str(tmp_path / "out.h5")).assignment.values, km.predict(A))
    with pytest.raises(ValueError, match=r"^head keys \['centroids', 'kind', 'theta'\]: expected kind, centroids and optionally stiffness$"):
        neon_batch.export_torch(list(net), {"kind": "deep_soft", "centroids": km.cluster_centers_, "theta": 1}, str(tmp_path / "m.h5"))
    with pytest.raises(ValueError, match=r"^head must be a dict \{kind, centroids\[, stiffness\]\} or a fitted KMeans$"):
        neon_batch.export_torch(list(net), "kmeans", str(tmp_path / "m.h5"))
    with pytest.raises(ValueError, match=r"^layer GELU has no neon-batch equivalent$"):
        neon_batch.export_torch([torch.nn.GELU()], km, str(tmp_path / "m.h5"))
