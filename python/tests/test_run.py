"""neon_batch.run and find_binary: the binary from the argument, NEON_BATCH or PATH; a job file
or a dict; ranks under mpirun (the same output as one rank); errors carry neon-batch's line."""
import json
import os

import numpy as np
import pytest

import neon_batch


def test_binary_lookup_order(exe, tmp_path, monkeypatch):
    assert neon_batch.find_binary(exe) == exe
    monkeypatch.setenv("NEON_BATCH", exe)
    assert neon_batch.find_binary() == exe
    with pytest.raises(FileNotFoundError, match=f"^{tmp_path}/nope: neon-batch binary does not exist or is not executable$"):
        neon_batch.find_binary(str(tmp_path / "nope"))
    monkeypatch.delenv("NEON_BATCH")
    link = tmp_path / "bin" / "neon-batch"
    link.parent.mkdir()
    link.symlink_to(exe)
    monkeypatch.setenv("PATH", f"{link.parent}{os.pathsep}{os.environ['PATH']}")
    assert neon_batch.find_binary() == str(link)


def test_ranks_give_the_same_output_and_errors_name_the_problem(exe, demo):
    neon_batch.run(str(demo / "job.json"), ranks=1, binary=exe, args=["-q"])
    one = neon_batch.load(str(demo / "out.h5"))
    job = json.loads((demo / "job.json").read_text())
    job["output"]["file"] = "out3.h5"
    neon_batch.run(job, ranks=3, binary=exe, args=["-q"], cwd=str(demo))
    three = neon_batch.load(str(demo / "out3.h5"))
    assert three.attrs["ranks"] == 3 and one.attrs["ranks"] == 1
    np.testing.assert_array_equal(one.relevance.values, three.relevance.values)
    assert not [p for p in os.listdir(demo) if p.startswith(".neon-job-")], "the temporary job file is removed"

    job["input"]["file"] = "missing.h5"
    with pytest.raises(RuntimeError, match=r"exit 1: .*missing\.h5"):
        neon_batch.run(job, binary=exe, cwd=str(demo))
    with pytest.raises(ValueError, match=r"^ranks must be a positive integer, not 0$"):
        neon_batch.run(job, ranks=0, binary=exe)
