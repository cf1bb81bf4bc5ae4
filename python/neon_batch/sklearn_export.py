"""Export a fitted scikit-learn KMeans, or a Pipeline([StandardScaler, KMeans]), as a neon-batch
model file.

    import neon_batch
    neon_batch.export_sklearn(kmeans, "model.h5")
    neon_batch.export_sklearn(make_pipeline(StandardScaler(), KMeans(4)), "model.h5")

    python3 -m neon_batch.sklearn_export KMEANS.joblib MODEL.h5     (or a .pkl pickle)

The model file (docs/file-formats.md) has the root attribute kind = "kmeans" and the dataset
centroids (K x d, float64) = kmeans.cluster_centers_. A pipeline's StandardScaler becomes the
datasets standardize_mean (scaler.mean_, or 0) and standardize_std (scaler.scale_, or 1):
neon-batch then applies x' = (x - mean) / std to every input row, as the pipeline does, and the
explanations are of the raw input features. neon-batch assigns each sample to its nearest centroid
in Euclidean distance (lowest index on ties), which is KMeans.predict's rule, so the explanations
are of the clusters scikit-learn found. Needs numpy and h5py.
"""
import argparse
import pickle
import sys

import h5py
import numpy as np


def _split(estimator):
    """(scaler or None, kmeans) of a KMeans or a Pipeline([StandardScaler, KMeans])."""
    steps = getattr(estimator, "steps", None)
    if steps is None:
        return None, estimator
    models = [s for _, s in steps if s not in (None, "passthrough")]
    names = [type(s).__name__ for s in models]
    if len(models) == 1:
        return None, models[0]
    if len(models) == 2 and names[0] == "StandardScaler":
        return models[0], models[1]
    raise ValueError(f"pipeline steps {names}: only [KMeans] or [StandardScaler, KMeans] can be exported")


def export_sklearn(estimator, path):
    """Write a fitted KMeans (or Pipeline([StandardScaler, KMeans])) as a neon-batch k-means model file."""
    scaler, kmeans = _split(estimator)
    centroids = getattr(kmeans, "cluster_centers_", None)
    if centroids is None:
        raise ValueError("not a fitted KMeans (no cluster_centers_)")
    centroids = np.asarray(centroids, dtype=np.float64)
    if centroids.ndim != 2 or centroids.shape[0] < 2:
        raise ValueError(f"cluster_centers_ has shape {centroids.shape}; neon-batch needs K >= 2 rows")
    if not np.all(np.isfinite(centroids)):
        raise ValueError("cluster_centers_ holds NaN or Inf")
    d = centroids.shape[1]
    mean = std = None
    if scaler is not None:
        if getattr(scaler, "n_features_in_", d) != d:
            raise ValueError(f"StandardScaler has {scaler.n_features_in_} features, KMeans {d}")
        mean = np.asarray(scaler.mean_ if scaler.with_mean else np.zeros(d), dtype=np.float64)
        std = np.asarray(scaler.scale_ if scaler.with_std else np.ones(d), dtype=np.float64)
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
            raise ValueError("StandardScaler's mean_/scale_ must be finite and scale_ > 0")
    with h5py.File(path, "w") as f:
        f.attrs["kind"] = "kmeans"
        f.create_dataset("centroids", data=centroids)
        if scaler is not None:
            f.create_dataset("standardize_mean", data=mean)
            f.create_dataset("standardize_std", data=std)
        f.attrs["source"] = f"scikit-learn {type(estimator).__module__}.{type(estimator).__name__}"


write_model = export_sklearn     # the name in tools/sklearn_to_model.py


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
    p.add_argument("estimator", help="KMeans or Pipeline([StandardScaler, KMeans]) saved with joblib.dump or pickle")
    p.add_argument("model", help="neon-batch model file to write (HDF5)")
    a = p.parse_args(argv)
    try:
        km = load_estimator(a.estimator)
        export_sklearn(km, a.model)
    except (OSError, ValueError, pickle.UnpicklingError) as e:
        print(f"sklearn_to_model: error: {a.estimator}: {e}", file=sys.stderr)
        return 1
    c = _split(km)[1].cluster_centers_
    print(f"sklearn_to_model: wrote {a.model} (kmeans, K = {len(c)}, d = {c.shape[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
