#!/usr/bin/env python3
"""The build's main process memory as the number of documents grows.

    python benchmarks/bench_memory.py [DOCUMENTS ...]

For each count (default 300 and 1000), copies the shipped model and examples into a temporary
folder, adds enough schools under Northshire County Council for that many documents
(bench_packs' school, two policies each), and builds them all as HTML (`--jobs 2`), the cheapest
format, so the main process's bookkeeping is what grows. Prints the main process's peak resident memory (its own, not its
workers'), measured side by side in this run, and the ratio of the largest to the smallest.
Target (issue 9): 1,000 documents under 300 MB, flat in the number of documents. Not a test.
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_packs import ROOT, bench_project  # noqa: E402

# run the real command line in a child that then reports its own peak (ru_maxrss of RUSAGE_SELF
# counts this process only: the render workers are children with their own)
CHILD = """
import resource, sys
sys.path.insert(0, {root!r})
sys.argv = ["policypack", *{args!r}]
from policypack.cli import main
try:
    main()
except SystemExit as exit:
    code = exit.code
print("PEAK", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def peak(documents: int) -> tuple:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        from policypack.errors import Report
        from policypack.load import load_project
        project = load_project(ROOT, Report())
        shipped = sum(len(project.published(o)) for o in project.organisations)
        per_school = 2  # bench_packs' school publishes both policies
        bench_project(root, max(0, -(-(documents - shipped) // per_school)))
        args = ["build", "--root", str(root), "--format", "html", "--jobs", "2", "--as-of", "2026-11-21"]
        t = time.perf_counter()
        run = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), args=args)],
                             capture_output=True, text=True)
        took = time.perf_counter() - t
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        built = run.stdout.strip().splitlines()[-1]
        mb = int(run.stderr.split("PEAK")[-1].split()[0]) / 1024
        return mb, took, built


def main(counts: list) -> None:
    seen = []
    for n in counts:
        mb, took, built = peak(n)
        seen.append(mb)
        print(f"{n} documents, HTML: main process peak {mb:.0f} MB, {took:.0f} s ({built[:70]})")
    if len(seen) > 1:
        print(f"ratio of peaks, {counts[-1]} to {counts[0]} documents: {seen[-1] / seen[0]:.2f} "
              f"(documents {counts[-1] / counts[0]:.2f}x)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [300, 1000])
