#!/usr/bin/env python3
"""`check` as the number of schools grows.

    python benchmarks/bench_check.py [SCHOOLS ...]

For each count (default 30, 300 and 3,000), copies the shipped model and examples into a
temporary folder, adds that many schools under Northshire County Council (bench_packs.py's
school), and times `check` as a whole process, with its peak memory (the largest process:
check forks processes to resolve when it has two cores or more). Prints milliseconds per
organisation, so that growth that is not linear shows, and the largest run's time per
organisation as a ratio of the smallest's. Target (issue 9): under 2 s at 300 schools, linear
whatever the names. Not a test.
"""
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_packs import ROOT, bench_project, whole_process  # noqa: E402


def main(counts: list) -> None:
    per = []
    for schools in counts:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            bench_project(root, schools)
            orgs = sum(1 for _ in (root / "schools").glob("*.yaml"))
            took, rss = whole_process([sys.executable, str(ROOT / "build.py"), "check", "--root", str(root)])
            per.append(took / orgs)
            print(f"check, {schools} schools ({orgs} organisations): {took:.2f} s, {1000 * took / orgs:.1f} ms "
                  f"an organisation, peak memory {rss:.0f} MB")
    if len(per) > 1:
        print(f"time per organisation, {counts[-1]} schools / {counts[0]}: {per[-1] / per[0]:.2f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [30, 300, 3000])
