#!/usr/bin/env python3
"""tools/neon_output.py: loads a neon-batch output with named dimensions (from the output's
dimension scales), refuses an incomplete one, and the output opens in xarray's h5netcdf engine
with the same dimension names. Exit 0 pass, 1 fail, 77 skipped (no h5py/xarray)."""
import shutil
import tempfile

from common import neon_batch, require

require("numpy", "h5py", "xarray")
import h5py
import numpy as np
import xarray as xr

import neon_output

with tempfile.TemporaryDirectory() as d:
    neon_batch("demo", d, "--rows", "500", "--features", "6", "--clusters", "3")
    neon_batch(f"{d}/job.json", "-q")
    out = f"{d}/out.h5"

    arrays, attrs = neon_output.load_numpy(out)
    assert arrays["relevance"][0] == ("sample", "feature"), arrays["relevance"][0]
    assert arrays["assignment"][0] == ("sample",) and arrays["logit"][0] == ("sample",)
    assert arrays["relevance"][1].shape == (500, 6)
    assert attrs["status"] == "complete" and attrs["model_kind"] == "kmeans"

    ds = neon_output.load(out)
    assert dict(ds.sizes) == {"sample": 500, "feature": 6}, dict(ds.sizes)
    assert "feature" not in ds.coords, "the demo input has no feature names"
    assert ds.attrs["clusters"] == 3
    rel = ds.relevance.values.astype(np.float64)
    np.testing.assert_allclose(rel.sum(1), ds.logit.values, rtol=1e-4)

    with h5py.File(out, "r") as f:
        assert [dim.label for dim in f["relevance"].dims] == ["sample", "feature"]
        assert f["sample"].attrs["CLASS"] == b"DIMENSION_SCALE"

    try:
        import h5netcdf  # noqa: F401
        nc = xr.open_dataset(out, engine="h5netcdf")
        assert nc.relevance.dims == ("sample", "feature"), nc.relevance.dims
        assert nc.logit.dims == ("sample",)
        np.testing.assert_array_equal(nc.assignment.values, ds.assignment.values)
        nc.close()
    except ImportError:
        print("note: h5netcdf not installed; xarray.open_dataset not checked")

    part = f"{d}/part.h5"
    shutil.copy(out, part)
    with h5py.File(part, "r+") as f:
        f.attrs["status"] = "incomplete"
    try:
        neon_output.load(part)
        raise AssertionError("an incomplete output was loaded")
    except ValueError as e:
        assert "status is 'incomplete'" in str(e), e
    assert neon_output.load(part, allow_incomplete=True).sizes["sample"] == 500
print("test_neon_output: ok")
