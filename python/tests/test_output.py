"""neon_batch.load: named dimensions from the output's dimension scales, the sample coordinate
as input row numbers (also for part files), refusal of incomplete outputs, h5netcdf."""
import json
import shutil

import h5py
import numpy as np
import pytest

import neon_batch

xr = pytest.importorskip("xarray")


def test_load_names_dimensions_and_conserves(demo):
    neon_batch.run(str(demo / "job.json"), args=["-q"])
    out = str(demo / "out.h5")
    arrays, attrs = neon_batch.load_numpy(out)
    assert arrays["relevance"][0] == ("sample", "feature")
    assert arrays["assignment"][0] == ("sample",) and arrays["logit"][0] == ("sample",)
    assert arrays["relevance"][1].shape == (500, 6)
    assert attrs["status"] == "complete" and attrs["model_kind"] == "kmeans"

    ds = neon_batch.load(out)
    assert dict(ds.sizes) == {"sample": 500, "feature": 6}
    np.testing.assert_array_equal(ds.sample.values, np.arange(500))
    assert "feature" not in ds.coords, "the demo input has no feature names"
    assert ds.attrs["clusters"] == 3
    np.testing.assert_allclose(ds.relevance.values.astype(np.float64).sum(1), ds.logit.values, rtol=1e-4)
    with h5py.File(out, "r") as f:
        assert [dim.label for dim in f["relevance"].dims] == ["sample", "feature"]
    h5netcdf = pytest.importorskip("h5netcdf")
    assert h5netcdf
    with xr.open_dataset(out, engine="h5netcdf") as nc:
        assert nc.relevance.dims == ("sample", "feature")
        np.testing.assert_array_equal(nc.assignment.values, ds.assignment.values)


def test_incomplete_output_is_refused(demo):
    neon_batch.run(str(demo / "job.json"), args=["-q"])
    part = str(demo / "part.h5")
    shutil.copy(demo / "out.h5", part)
    with h5py.File(part, "r+") as f:
        f.attrs["status"] = "incomplete"
    with pytest.raises(ValueError, match=f"^{part}: status is 'incomplete', not 'complete'"):
        neon_batch.load(part)
    assert neon_batch.load(part, allow_incomplete=True).sizes["sample"] == 500


def test_sample_coordinate_is_the_input_rows_of_a_part(demo):
    job = json.loads((demo / "job.json").read_text())
    job["execution"] = {"block_rows": 100}
    (demo / "job.json").write_text(json.dumps(job))
    neon_batch.run(str(demo / "job.json"), args=["-q"])
    full = neon_batch.load(str(demo / "out.h5"))
    # --part 1/3 of 5 blocks of 100 rows, and input.rows [120, 310].
    neon_batch.run(str(demo / "job.json"), args=["--part", "1/3", "-q"])
    part = neon_batch.load(str(demo / "out.part-1-of-3.h5"))
    with h5py.File(demo / "out.part-1-of-3.h5", "r") as f:
        rows = np.arange(f.attrs["row_start"], f.attrs["row_end"])
    assert 0 < rows[0] and rows[-1] < 499
    np.testing.assert_array_equal(part.sample.values, rows)
    np.testing.assert_array_equal(part.assignment.values, full.assignment.sel(sample=rows).values)

    job["input"]["rows"] = [120, 310]
    job["output"]["file"] = "rows.h5"
    neon_batch.run(job, args=["-q"], cwd=str(demo))
    ranged = neon_batch.load(str(demo / "rows.h5"))
    np.testing.assert_array_equal(ranged.sample.values, np.arange(120, 310))
    np.testing.assert_allclose(ranged.relevance.values, full.relevance.sel(sample=slice(120, 309)).values)
