#!/usr/bin/env python3
"""Benchmark / validation against zennit (needs torch, zennit, h5py; not part of CI):
VGG-16 blocks 4-5 (random He weights, torchvision layout) + global average pooling + a K = 100
deep k-means head, N float32 inputs of 256 x 12 x 12. Runs neon-batch (mpirun -n 1, beta fixed
to 1 / mean f_c) and zennit (Gamma(0.1) in the convs, Pass in ReLU, Norm in the average pooling,
gradient = winner-take-all in max pooling) seeded with the same NEON head relevance R_a, on the
same cores; prints the time per image of both and the largest relevance difference.

    /path/to/python-with-torch tools/bench_zennit.py [--rows 256] [--threads 2]   (after pip install ./python)
"""
import argparse
import copy
import json
import os
import subprocess
import tempfile
import time

import h5py
import numpy as np
import torch

from neon_batch import torch_export as vgg_to_model

p = argparse.ArgumentParser()
p.add_argument("--rows", type=int, default=256)
p.add_argument("--clusters", type=int, default=100)
p.add_argument("--threads", type=int, default=os.cpu_count())
p.add_argument("--batch", type=int, default=16)
p.add_argument("--float64", action="store_true", help="inputs, weights and both computations in float64")
p.add_argument("--reference64", action="store_true",
               help="also run zennit in float64 on the same inputs and report both float32 results' errors against it")
a = p.parse_args()
torch.set_num_threads(a.threads)
here = os.path.dirname(os.path.abspath(__file__))
exe = os.environ.get("NEON_BATCH") or os.path.join(here, "..", ".build", "release", "neon-batch")

features = vgg_to_model.vgg16_features(seed=0)
psi = torch.nn.Sequential(*list(features[17:31]), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
rng = np.random.default_rng(0)
dtype = np.float64 if a.float64 else np.float32
if a.float64:
    psi = psi.double()
# The centroids are the activations of the first K generated samples (the same model for any --rows).
Xall = np.maximum(rng.normal(size=(max(a.rows, a.clusters), 256, 12, 12)), 0).astype(dtype)
# The head's inputs a = Psi(x) in float64 (float32 activations would move the k-means logits
# |a - mu_k|^2 - |a - mu_c|^2 of samples near a boundary by more than the LRP differences measured).
psi64 = copy.deepcopy(psi).double()
with torch.no_grad():
    Aall = psi64(torch.from_numpy(Xall.astype(np.float64))).numpy()
mu = Aall[:a.clusters] * (1 + 0.05 * rng.normal(size=(a.clusters, Aall.shape[1])))
X, A = Xall[:a.rows], Aall[:a.rows]
D2 = ((A[:, None, :] - mu[None]) ** 2).sum(-1)
assign = D2.argmin(1)
f = np.array([np.delete(D2[n], assign[n]).min() - D2[n, assign[n]] for n in range(a.rows)])
beta = 1 / f.mean()

# The NEON head (Prop. 1 on a, min-take-most Eq. 2, midpoint rule Eq. 4) in numpy.
Ra = np.zeros_like(A)
for n in range(a.rows):
    c = assign[n]
    ks = np.array([k for k in range(a.clusters) if k != c])
    h = D2[n, ks] - D2[n, c]
    e = np.exp(-beta * (h - h.min()))
    Rk = e / e.sum() * h.min()
    w = 2 * (mu[c] - mu[ks])
    m = (mu[c] + mu[ks]) / 2
    Ra[n] = ((A[n] - m) * w * (Rk / h)[:, None]).sum(0)

with tempfile.TemporaryDirectory() as d:
    vgg_to_model.export(f"{d}/model.h5", list(features[17:31]) + [torch.nn.AdaptiveAvgPool2d(1)], "deep_kmeans", mu)
    with h5py.File(f"{d}/data.h5", "w") as fh:
        fh["x"] = X
    with open(f"{d}/job.json", "w") as fh:
        json.dump({"input": {"file": "data.h5", "dataset": "x"}, "model": {"file": "model.h5"},
                   "output": {"file": "out.h5"}, "explain": {"beta": beta, "lrp": {"gamma": 0.1}},
                   "execution": {"block_rows": a.rows}}, fh)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    t0 = time.perf_counter()
    r = subprocess.run(["mpirun", "-n", "1", exe, f"{d}/job.json", "-q"], env=env, capture_output=True, text=True)
    t_neon = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr
    with h5py.File(f"{d}/out.h5", "r") as fh:
        R_neon = fh["relevance"][()]
        logit_neon = fh["logit"][()]
        assert (fh["assignment"][()] == assign).all()
        elapsed = float(fh.attrs["elapsed_seconds"])

from zennit.attribution import Gradient
from zennit.composites import LayerMapComposite
from zennit.rules import Gamma, Norm, Pass

composite = LayerMapComposite(layer_map=[(torch.nn.ReLU, Pass()), (torch.nn.Conv2d, Gamma(gamma=0.1)),
                                         (torch.nn.AdaptiveAvgPool2d, Norm())])
R_z = np.zeros_like(X)
t0 = time.perf_counter()
with Gradient(model=psi, composite=composite) as attributor:
    for s in range(0, a.rows, a.batch):
        x = torch.from_numpy(X[s:s + a.batch]).requires_grad_()
        _, rel = attributor(x, attr_output=torch.from_numpy(Ra[s:s + a.batch].astype(dtype)))
        R_z[s:s + a.batch] = rel.numpy()
t_zennit = time.perf_counter() - t0
err = np.abs(R_neon - R_z).max() / np.abs(R_z).max()
per_sample = np.abs(R_neon - R_z).reshape(a.rows, -1).max(1) / np.abs(R_z).reshape(a.rows, -1).max(1)
# Aggregates are insensitive to float32 max-pool winner / ReLU flips between the two implementations.
l1 = np.abs(R_neon - R_z).reshape(a.rows, -1).sum(1) / np.abs(R_z).reshape(a.rows, -1).sum(1)
ch_n, ch_z = R_neon.sum(axis=(2, 3)), R_z.sum(axis=(2, 3))
ch = np.abs(ch_n - ch_z).max(1) / np.abs(ch_z).max(1)
print(f"bench_zennit: VGG-16 blocks 4-5 + GAP + deep k-means K={a.clusters}, N={a.rows}, {a.threads} threads")
print(f"  neon-batch (mpirun -n 1, whole job incl. start-up and I/O): {t_neon:.1f} s = {1000 * t_neon / a.rows:.0f} ms/image"
      f" (elapsed_seconds {elapsed:.1f} s = {1000 * elapsed / a.rows:.0f} ms/image)")
print(f"  zennit {torch.__version__} Gamma composite (forward + attribution, batches of {a.batch}): {t_zennit:.1f} s"
      f" = {1000 * t_zennit / a.rows:.0f} ms/image")
print(f"  neon-batch / zennit time per image: {elapsed / t_zennit:.2f}")
print(f"  f_c: max relative difference neon-batch / float64 head {np.abs(logit_neon - f).max() / np.abs(f).max():.2e}")
print(f"  max |R_neon - R_zennit| / max |R_zennit| = {err:.2e} ({'float64' if a.float64 else 'float32'});"
      f" per sample: median {np.median(per_sample):.2e}, max {per_sample.max():.2e}")
print(f"  per sample L1 |R_neon - R_zennit|_1 / |R_zennit|_1: median {np.median(l1):.2e}, max {l1.max():.2e};"
      f" channel relevance (sum over positions) max rel. diff: median {np.median(ch):.2e}, max {ch.max():.2e}")

if a.reference64 and not a.float64:
    R_64 = np.zeros(X.shape, dtype=np.float64)
    with Gradient(model=psi64, composite=composite) as attributor:
        for s in range(0, a.rows, a.batch):
            x = torch.from_numpy(X[s:s + a.batch].astype(np.float64)).requires_grad_()
            _, rel = attributor(x, attr_output=torch.from_numpy(Ra[s:s + a.batch]))
            R_64[s:s + a.batch] = rel.numpy()
    def l1(R):
        e = np.abs(R - R_64).reshape(a.rows, -1).sum(1) / np.abs(R_64).reshape(a.rows, -1).sum(1)
        return f"median {np.median(e):.2e}, max {e.max():.2e}"
    print(f"  against zennit in float64 (per sample L1): neon-batch float32 {l1(R_neon)}; zennit float32 {l1(R_z)}")
