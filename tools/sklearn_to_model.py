#!/usr/bin/env python3
"""Moved to the neon_batch package (python/neon_batch/sklearn_export.py; install it with pip install ./python).
This command line stays for old scripts: python3 tools/sklearn_to_model.py ... is python3 -m neon_batch.sklearn_export ..."""
import sys

from neon_batch.sklearn_export import *  # noqa: F401,F403
from neon_batch.sklearn_export import main

if __name__ == "__main__":
    sys.exit(main())
