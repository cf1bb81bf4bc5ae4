"""Shared by the tool tests: skip (exit 77) without a dependency, run the neon-batch binary."""
import importlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))          # tools/


def require(*modules):
    """Exit 77 (skipped) if a module cannot be imported."""
    for m in modules:
        try:
            importlib.import_module(m)
        except ImportError:
            print(f"skip: python module {m} is not installed")
            sys.exit(77)


def neon_batch(*args):
    """Runs neon-batch (NEON_BATCH, or .build/debug/neon-batch) in one process; returns stdout."""
    exe = os.environ.get("NEON_BATCH") or os.path.join(HERE, "..", "..", ".build", "debug", "neon-batch")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    r = subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, f"neon-batch {' '.join(args)}: exit {r.returncode}: {r.stderr}"
    return r.stdout
