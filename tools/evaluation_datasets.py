#!/usr/bin/env python3
"""Export scikit-learn's bundled datasets for `neon-batch evaluate` (docs/evaluation.md).

    python3 tools/evaluation_datasets.py OUTDIR [--names iris breast_cancer digits]

For each dataset: the features standardized to mean 0 and standard deviation 1 per column (a
constant column is only centred), k-means (n_init 10, random_state 0) with K chosen by the elbow
method (the K in 2..10 whose inertia lies farthest below the straight line from K = 2 to K = 10),
and in OUTDIR/NAME/: data.h5 (dataset "features", float64), model.h5 (a neon-batch k-means model)
and job.json (explain and evaluate sections for a Table-I-style comparison of every method).
With --kernel, also OUTDIR/NAME-kernel/: a kernel k-means model built from the same clusters (not
trained with the paper's Appendix F algorithm): 20 support vectors per cluster drawn from its
members, gamma = 1 / median squared distance between a cluster's members and its support vectors.
Needs numpy, h5py and scikit-learn (the datasets ship with it; nothing is downloaded).
"""
import argparse
import json
import os

import h5py
import numpy as np
from sklearn import datasets
from sklearn.cluster import KMeans

from neon_batch import export_sklearn as write_model

LOADERS = {"iris": datasets.load_iris, "breast_cancer": datasets.load_breast_cancer, "digits": datasets.load_digits}


def standardize(x):
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - x.mean(axis=0)) / sd


def elbow(x, ks=range(2, 11)):
    """K at the largest drop below the chord of the inertia curve, and the fitted models."""
    fits = {k: KMeans(n_clusters=k, n_init=10, random_state=0).fit(x) for k in ks}
    ks = list(ks)
    inertia = np.array([fits[k].inertia_ for k in ks])
    chord = inertia[0] + (inertia[-1] - inertia[0]) * (np.array(ks) - ks[0]) / (ks[-1] - ks[0])
    k = ks[int(np.argmax(chord - inertia))]
    return k, fits[k], dict(zip(ks, inertia.tolist()))


def export(name, outdir, repeats, seed):
    x = standardize(LOADERS[name]().data)
    k, km, inertia = elbow(x)
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    with h5py.File(os.path.join(d, "data.h5"), "w") as f:
        f.create_dataset("features", data=x)
    write_model(km, os.path.join(d, "model.h5"))
    job = {
        "input": {"file": "data.h5", "dataset": "features"},
        "model": {"file": "model.h5"},
        "output": {"file": "out.h5", "overwrite": True},
        "explain": {"beta": "auto", "steps": 10, "samples": 10},
        "evaluate": {"repeats": repeats, "seed": seed},
    }
    with open(os.path.join(d, "job.json"), "w") as f:
        json.dump(job, f, indent=2)
    print(f"{name}: N = {x.shape[0]}, d = {x.shape[1]}, K = {k} (elbow; inertia {', '.join(f'{kk}: {v:.0f}' for kk, v in inertia.items())})")


def export_kernel(name, outdir, repeats, seed, per_cluster=20):
    x = standardize(LOADERS[name]().data)
    k, km, _ = elbow(x)
    rng = np.random.default_rng(seed)
    sv, ids, sq = [], [], []
    for c in range(k):
        members = np.flatnonzero(km.labels_ == c)
        pick = rng.choice(members, size=min(per_cluster, len(members)), replace=False)
        sv.append(x[pick]); ids += [c] * len(pick)
        sq.append(((x[members][:, None, :] - x[pick][None, :, :]) ** 2).sum(-1).ravel())
    gamma = 1.0 / float(np.median(np.concatenate(sq)))
    d = os.path.join(outdir, name + "-kernel")
    os.makedirs(d, exist_ok=True)
    with h5py.File(os.path.join(d, "data.h5"), "w") as f:
        f.create_dataset("features", data=x)
    with h5py.File(os.path.join(d, "model.h5"), "w") as f:
        f.attrs["kind"] = "kernel_kmeans"
        f.attrs["gamma"] = gamma
        f.create_dataset("support_vectors", data=np.concatenate(sv))
        f.create_dataset("support_cluster", data=np.array(ids, dtype=np.int64))
    job = {
        "input": {"file": "data.h5", "dataset": "features"},
        "model": {"file": "model.h5"},
        "output": {"file": "out.h5", "overwrite": True},
        "explain": {"beta": "auto", "steps": 10, "samples": 10},
        "evaluate": {"repeats": repeats, "seed": seed},
    }
    with open(os.path.join(d, "job.json"), "w") as f:
        json.dump(job, f, indent=2)
    print(f"{name}-kernel: N = {x.shape[0]}, d = {x.shape[1]}, K = {k}, M = {len(ids)}, gamma = {gamma:.4g}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("outdir")
    p.add_argument("--names", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kernel", action="store_true", help="also export kernel k-means models (NAME-kernel/)")
    a = p.parse_args(argv)
    for name in a.names:
        export(name, a.outdir, a.repeats, a.seed)
        if a.kernel:
            export_kernel(name, a.outdir, a.repeats, a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
