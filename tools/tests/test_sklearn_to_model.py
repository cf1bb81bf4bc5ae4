#!/usr/bin/env python3
"""tools/sklearn_to_model.py: a KMeans fitted by scikit-learn, converted, explained by neon-batch:
the model file holds its centroids, neon-batch assigns every sample as KMeans.predict does, and
the explanations conserve f_c. Exit 0 pass, 1 fail, 77 skipped (no sklearn/h5py)."""
import contextlib
import io
import json
import os
import tempfile

from common import neon_batch, require

require("numpy", "h5py", "sklearn", "joblib", "xarray")
import h5py
import joblib
import numpy as np
from sklearn.cluster import KMeans

import neon_output
import sklearn_to_model

rng = np.random.default_rng(3)
centres = rng.normal(0, 6, size=(4, 5))
X = np.concatenate([c + rng.normal(size=(60, 5)) for c in centres])
km = KMeans(n_clusters=4, n_init=3, random_state=0).fit(X)
names = ["age", "height", "weight", "income", "score"]

with tempfile.TemporaryDirectory() as d:
    with h5py.File(f"{d}/data.h5", "w") as f:
        f["x"] = X
        f["x"].attrs["feature_names"] = names
    # CLI: a joblib dump in, a model file out.
    joblib.dump(km, f"{d}/km.joblib")
    assert sklearn_to_model.main([f"{d}/km.joblib", f"{d}/model.h5"]) == 0
    with h5py.File(f"{d}/model.h5", "r") as f:
        assert f.attrs["kind"] == "kmeans", f.attrs["kind"]
        np.testing.assert_array_equal(f["centroids"][()], km.cluster_centers_)
        assert f["centroids"].dtype == np.float64
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert sklearn_to_model.main([f"{d}/missing.joblib", f"{d}/m2.h5"]) == 1
    assert err.getvalue().startswith(f"sklearn_to_model: error: {d}/missing.joblib: "), err.getvalue()
    assert not os.path.exists(f"{d}/m2.h5")

    job = {"input": {"file": "data.h5", "dataset": "x"}, "model": {"file": "model.h5"},
           "output": {"file": "out.h5"}, "explain": {"beta": "auto"}}
    with open(f"{d}/job.json", "w") as f:
        json.dump(job, f)
    neon_batch("validate", f"{d}/job.json")
    neon_batch(f"{d}/job.json", "-q")

    ds = neon_output.load(f"{d}/out.h5")
    assert ds.relevance.dims == ("sample", "feature"), ds.relevance.dims
    assert list(ds.feature.values) == names, ds.feature.values
    np.testing.assert_array_equal(ds.assignment.values, km.predict(X))
    # Conservation (Sec. II-B): each row of relevance sums to f_c.
    np.testing.assert_allclose(ds.relevance.sum("feature").values, ds.logit.values,
                               rtol=1e-9, atol=1e-9 * float(np.abs(ds.logit).max()))
    # f_c (Prop. 1): min over k != c of ||x - mu_k||^2 - ||x - mu_c||^2.
    dist = ((X[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1)
    c = km.predict(X)
    own = dist[np.arange(len(X)), c]
    dist[np.arange(len(X)), c] = np.inf
    np.testing.assert_allclose(ds.logit.values, dist.min(1) - own, rtol=1e-9)
print("test_sklearn_to_model: ok")
