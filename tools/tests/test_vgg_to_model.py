#!/usr/bin/env python3
"""tools/vgg_to_model.py: a torch feature extractor + deep soft clustering head exported and
explained by neon-batch: assignments and per-target logits (Lemma 3) match torch, the 4-D input
keeps its (sample, target, channel, y, x) layout, and, when zennit is installed, the relevance maps
match zennit's Gamma/Epsilon/Norm LRP seeded with the NEON head's relevance. Needs torch (exit 77
without it)."""
import json
import tempfile

from common import neon_batch, require

require("numpy", "h5py", "torch")
import h5py
import numpy as np
import torch

import vgg_to_model

torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(4, 5, 3, padding=1, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
    torch.nn.Flatten(), torch.nn.Linear(5, 6)).double()
rng = np.random.default_rng(1)
X = np.abs(rng.normal(size=(30, 3, 8, 8)))
mu = rng.normal(size=(3, 6))
targets = [2, 0]

with tempfile.TemporaryDirectory() as d:
    vgg_to_model.export(f"{d}/model.h5", list(net), "deep_soft", mu)
    with h5py.File(f"{d}/model.h5", "r") as f:
        assert [f["psi"][str(i)].attrs["type"] for i in range(8)] == \
            ["conv2d", "relu", "maxpool2d", "conv2d", "relu", "global_avg_pool", "flatten", "linear"]
        assert f["psi/3"].attrs["stride"] == 2 and f["psi/0/weight"].shape == (4, 3, 3, 3)
    with h5py.File(f"{d}/data.h5", "w") as f:
        f["x"] = X
    job = {"input": {"file": "data.h5", "dataset": "x"}, "model": {"file": "model.h5"},
           "output": {"file": "out.h5"}, "explain": {"beta": 1.5, "target": targets, "lrp": {"gamma": 0.1}}}
    with open(f"{d}/job.json", "w") as f:
        json.dump(job, f)
    neon_batch(f"{d}/job.json", "-q")
    with h5py.File(f"{d}/out.h5", "r") as f:
        R, logit, assign = f["relevance"][()], f["logit"][()], f["assignment"][()]
        assert R.shape == (30, 2, 3, 8, 8), R.shape
        assert f["relevance_channels"].shape == (30, 2, 3)
        np.testing.assert_allclose(f["relevance_channels"][()], R.sum(axis=(3, 4)), rtol=1e-9, atol=1e-12)

    with torch.no_grad():
        A = net(torch.from_numpy(X)).numpy()
    Z = A @ mu.T
    np.testing.assert_array_equal(assign, Z.argmax(1))
    for j, c in enumerate(targets):
        expected = Z[:, c] - np.delete(Z, c, axis=1).max(1)          # Lemma 3: min_k z_c - z_k
        np.testing.assert_allclose(logit[:, j], expected, rtol=1e-9, atol=1e-12)

    try:
        import zennit  # noqa: F401
    except ImportError:
        print("zennit not installed: relevance not compared")
    else:
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
            err = np.abs(rel - R[:, j]).max() / np.abs(rel).max()
            print(f"target {c}: max |neon - zennit| / max |zennit| = {err:.2e}")
            assert err < 1e-3, err
print("ok")
