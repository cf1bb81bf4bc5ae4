#!/usr/bin/env python3
"""Moved to the neon_batch package (python/neon_batch/output.py; install it with pip install ./python).
This command line stays for old scripts: python3 tools/neon_output.py ... is python3 -m neon_batch.output ..."""
import sys

from neon_batch.output import *  # noqa: F401,F403
from neon_batch.output import main

if __name__ == "__main__":
    sys.exit(main())
