"""neon_batch.export_sklearn: a KMeans and a Pipeline([StandardScaler, KMeans]) fitted by
scikit-learn, explained by neon-batch: the same assignments as estimator.predict, f_c as
Prop. 1 in the estimator's space, conservation, and the CLI's errors."""
import contextlib
import io

import h5py
import numpy as np
import pytest

import neon_batch
from neon_batch import sklearn_export

pytest.importorskip("xarray")
sklearn = pytest.importorskip("sklearn")
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

NAMES = ["age", "height", "weight", "income", "score"]


def data(tmp_path, scales=(1, 1, 1, 1, 1)):
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 6, size=(4, 5))
    X = np.concatenate([c + rng.normal(size=(60, 5)) for c in centres]) * np.array(scales) + 50
    with h5py.File(tmp_path / "data.h5", "w") as f:
        f["x"] = X
        f["x"].attrs["feature_names"] = NAMES
    return X


def explain(tmp_path, ranks=1):
    job = {"input": {"file": "data.h5", "dataset": "x"}, "model": {"file": "model.h5"},
           "output": {"file": "out.h5", "overwrite": True}, "explain": {"beta": "auto"}}
    neon_batch.run(job, ranks=ranks, args=["-q"], cwd=str(tmp_path))
    return neon_batch.load(str(tmp_path / "out.h5"))


def prop1_logit(Z, centroids, c):
    dist = ((Z[:, None, :] - centroids[None]) ** 2).sum(-1)
    own = dist[np.arange(len(Z)), c]
    dist[np.arange(len(Z)), c] = np.inf
    return dist.min(1) - own


def test_kmeans_assignments_equal_predict(tmp_path):
    X = data(tmp_path)
    km = KMeans(n_clusters=4, n_init=3, random_state=0).fit(X)
    neon_batch.export_sklearn(km, str(tmp_path / "model.h5"))
    with h5py.File(tmp_path / "model.h5", "r") as f:
        assert f.attrs["kind"] == "kmeans"
        np.testing.assert_array_equal(f["centroids"][()], km.cluster_centers_)
        assert "standardize_mean" not in f
    ds = explain(tmp_path, ranks=2)
    assert list(ds.feature.values) == NAMES
    c = km.predict(X)
    np.testing.assert_array_equal(ds.assignment.values, c)
    np.testing.assert_allclose(ds.logit.values, prop1_logit(X, km.cluster_centers_, c), rtol=1e-9)
    np.testing.assert_allclose(ds.relevance.sum("feature").values, ds.logit.values,
                               rtol=1e-9, atol=1e-9 * float(np.abs(ds.logit).max()))


def test_pipeline_with_standard_scaler(tmp_path):
    # Features on very different scales: clusters in the scaled space differ from raw k-means.
    X = data(tmp_path, scales=(1, 100, 0.01, 10, 1))
    pipe = make_pipeline(StandardScaler(), KMeans(n_clusters=4, n_init=3, random_state=0)).fit(X)
    neon_batch.export_sklearn(pipe, str(tmp_path / "model.h5"))
    scaler, km = pipe[0], pipe[-1]
    with h5py.File(tmp_path / "model.h5", "r") as f:
        np.testing.assert_array_equal(f["standardize_mean"][()], scaler.mean_)
        np.testing.assert_array_equal(f["standardize_std"][()], scaler.scale_)
    ds = explain(tmp_path)
    c = pipe.predict(X)
    np.testing.assert_array_equal(ds.assignment.values, c)
    np.testing.assert_allclose(ds.logit.values, prop1_logit(scaler.transform(X), km.cluster_centers_, c), rtol=1e-7)
    # Without the scaler the same centroids give other assignments: the standardisation is used.
    neon_batch.export_sklearn(km, str(tmp_path / "model.h5"))
    assert (explain(tmp_path).assignment.values != c).any()


def test_unsupported_estimators_are_refused(tmp_path):
    from sklearn.decomposition import PCA
    with pytest.raises(ValueError, match=r"^pipeline steps \['PCA', 'KMeans'\]: only \[KMeans\] or \[StandardScaler, KMeans\] can be exported$"):
        neon_batch.export_sklearn(make_pipeline(PCA(2), KMeans(2)), str(tmp_path / "m.h5"))
    with pytest.raises(ValueError, match=r"^not a fitted KMeans \(no cluster_centers_\)$"):
        neon_batch.export_sklearn(KMeans(2), str(tmp_path / "m.h5"))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert sklearn_export.main([str(tmp_path / "missing.joblib"), str(tmp_path / "m2.h5")]) == 1
    assert err.getvalue().startswith(f"sklearn_to_model: error: {tmp_path}/missing.joblib: ")
    assert not (tmp_path / "m2.h5").exists()


def test_cli_exports_a_joblib_dump(tmp_path):
    joblib = pytest.importorskip("joblib")
    X = data(tmp_path)
    km = KMeans(n_clusters=3, n_init=2, random_state=1).fit(X)
    joblib.dump(km, tmp_path / "km.joblib")
    assert sklearn_export.main([str(tmp_path / "km.joblib"), str(tmp_path / "model.h5")]) == 0
    with h5py.File(tmp_path / "model.h5", "r") as f:
        np.testing.assert_array_equal(f["centroids"][()], km.cluster_centers_)
