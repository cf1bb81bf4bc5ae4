"""Run the neon-batch binary from Python.

    import neon_batch
    neon_batch.run("job.json", ranks=4)                  # mpirun -n 4 neon-batch job.json
    neon_batch.run({"input": {...}, ...}, ranks=1)        # a job as a dict (written beside `cwd`)

The binary is, in this order: the `binary` argument, the environment variable NEON_BATCH,
`neon-batch` on PATH, or the repository's .build/release/neon-batch (then .build/debug) when this
package runs from a checkout. ranks > 1 runs it under `mpirun -n RANKS` (with
--oversubscribe, and Open MPI's run-as-root variables when run as root).
"""
import json
import os
import shutil
import subprocess
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_binary(binary=None):
    """The path of the neon-batch executable (see the module's docstring for the order)."""
    if binary:
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise FileNotFoundError(f"{binary}: neon-batch binary does not exist or is not executable")
        return binary
    env = os.environ.get("NEON_BATCH")
    if env:
        return find_binary(env)
    on_path = shutil.which("neon-batch")
    if on_path:
        return on_path
    for config in ("release", "debug"):
        candidate = os.path.join(REPO, ".build", config, "neon-batch")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError("neon-batch binary not found: pass binary=, set NEON_BATCH, put neon-batch on PATH, "
                            "or build it (swift build -c release --product neon-batch)")


def run(job, ranks=1, binary=None, args=(), cwd=None, check=True):
    """Runs `neon-batch JOB [ARGS]` (a job file path, or a dict written to a temporary job file in
    `cwd`, default the current folder, so that its relative paths resolve there) on `ranks` MPI
    ranks. Returns the subprocess.CompletedProcess (text stdout/stderr); raises RuntimeError with
    neon-batch's error line when it fails and check is true."""
    if not isinstance(ranks, int) or ranks < 1:
        raise ValueError(f"ranks must be a positive integer, not {ranks!r}")
    exe = find_binary(binary)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_COMM_WORLD", "PMIX_"))}
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    tmp = None
    try:
        if isinstance(job, dict):
            tmp = tempfile.NamedTemporaryFile("w", suffix=".json", prefix=".neon-job-", dir=cwd or os.getcwd(), delete=False)
            json.dump(job, tmp)
            tmp.close()
            job = tmp.name
        command = [exe, os.fspath(job), *map(str, args)]
        if ranks > 1:
            mpirun = shutil.which("mpirun")
            if mpirun is None:
                raise FileNotFoundError("mpirun not found on PATH (install openmpi-bin) for ranks > 1")
            command = [mpirun, "-n", str(ranks), "--oversubscribe", *command]
        r = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    finally:
        if tmp is not None:
            os.unlink(tmp.name)
    if check and r.returncode != 0:
        lines = [l for l in r.stderr.splitlines() if "error" in l] or r.stderr.splitlines()[-1:]
        raise RuntimeError(f"neon-batch {os.fspath(job)}: exit {r.returncode}: {' '.join(lines)}")
    return r
