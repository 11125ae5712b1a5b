#!/usr/bin/env python3
"""policypack's command line: `python build.py --help`. Same as the installed `policypack` command."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policypack.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
