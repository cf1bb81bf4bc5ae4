"""Shared by the neon_batch tests: the binary (NEON_BATCH, PATH or the repository's build)."""
import subprocess

import pytest

import neon_batch


@pytest.fixture(scope="session")
def exe():
    return neon_batch.find_binary()


@pytest.fixture
def demo(exe, tmp_path):
    """A generated dataset (500 x 6, K = 3) with model and job in tmp_path."""
    subprocess.run([exe, "demo", str(tmp_path), "--rows", "500", "--features", "6", "--clusters", "3"],
                   check=True, capture_output=True)
    return tmp_path
