#!/usr/bin/env python3
"""Convert a fitted scikit-learn KMeans into a neon-batch model file.

    python3 tools/sklearn_to_model.py KMEANS.joblib MODEL.h5     (or a .pkl pickle)

or from Python:

    from sklearn_to_model import write_model
    write_model(kmeans, "model.h5")

The model file (docs/file-formats.md) has the root attribute kind = "kmeans" and the dataset
centroids (K x d, float64) = kmeans.cluster_centers_. neon-batch assigns each sample to its
nearest centroid in Euclidean distance (lowest index on ties), which is KMeans.predict's rule,
so the explanations are of the clusters scikit-learn found. Needs numpy and h5py.
"""
import argparse
import pickle
import sys

import h5py
import numpy as np


def write_model(kmeans, path):
    """Write kmeans.cluster_centers_ (K x d) as a neon-batch k-means model file."""
    centroids = getattr(kmeans, "cluster_centers_", None)
    if centroids is None:
        raise ValueError("not a fitted KMeans (no cluster_centers_)")
    centroids = np.asarray(centroids, dtype=np.float64)
    if centroids.ndim != 2 or centroids.shape[0] < 2:
        raise ValueError(f"cluster_centers_ has shape {centroids.shape}; neon-batch needs K >= 2 rows")
    if not np.all(np.isfinite(centroids)):
        raise ValueError("cluster_centers_ holds NaN or Inf")
    with h5py.File(path, "w") as f:
        f.attrs["kind"] = "kmeans"
        f.create_dataset("centroids", data=centroids)
        f.attrs["source"] = f"scikit-learn {type(kmeans).__module__}.{type(kmeans).__name__}"


def load_estimator(path):
    """A pickled or joblib-dumped estimator."""
    try:
        import joblib
        return joblib.load(path)
    except ImportError:
        with open(path, "rb") as f:
            return pickle.load(f)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("estimator", help="KMeans saved with joblib.dump or pickle")
    p.add_argument("model", help="neon-batch model file to write (HDF5)")
    a = p.parse_args(argv)
    try:
        km = load_estimator(a.estimator)
        write_model(km, a.model)
    except (OSError, ValueError, pickle.UnpicklingError) as e:
        print(f"sklearn_to_model: error: {a.estimator}: {e}", file=sys.stderr)
        return 1
    print(f"sklearn_to_model: wrote {a.model} (kmeans, K = {len(km.cluster_centers_)}, d = {km.cluster_centers_.shape[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
