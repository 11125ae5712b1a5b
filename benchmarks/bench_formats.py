#!/usr/bin/env python3
"""policypack against pandoc, one school's policy, whole processes, per format.

    python benchmarks/bench_formats.py [ORG] [POLICY] [RUNS]

For each format, times `build.py build --school ORG --policy POLICY --format F --force` (a fresh
process each time, as an adviser runs it) and pandoc converting the same content (the resolved
policy's headings, numbers and text as Markdown) to the same format, alternating the two, and
prints the medians and their ratio. pandoc makes its PDF with WeasyPrint too, so the PDF ratio
compares everything around the layout. Installs Debian's pandoc if it is missing (needs root).
Targets (issue 9): HTML at most 1.5x pandoc.
"""
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policypack.errors import Report  # noqa: E402
from policypack.load import load_project  # noqa: E402
from policypack.model import blocks_text  # noqa: E402
from policypack.resolve import resolve  # noqa: E402


def markdown(org: str, policy: str) -> str:
    doc = resolve(load_project(ROOT, Report()), org, policy, Report())
    lines = [f"# {doc.title}", ""]
    for node in doc.walk_outline():
        if node.title:
            lines += [f"{'#' * min(node.level + 1, 6)} {node.label} {node.title}".replace("  ", " "), ""]
        text = blocks_text(node.blocks)
        if text:
            lines += [f"{node.label} {text}" if not node.title else text, ""]
    return "\n".join(lines)


def ensure_pandoc() -> str:
    found = shutil.which("pandoc")
    if not found:
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "pandoc"], check=True,
                       capture_output=True)
        found = shutil.which("pandoc")
    return found


def median_time(command: list, runs: int) -> list:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return times


def main(org: str, policy: str, runs: int) -> None:
    pandoc = ensure_pandoc()
    engine = str(Path(sys.executable).with_name("weasyprint"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "policy.md"
        source.write_text(markdown(org, policy), encoding="utf-8")
        for fmt in ("html", "docx", "pdf"):
            ours = [sys.executable, str(ROOT / "build.py"), "build", "--school", org, "--policy", policy,
                    "--format", fmt, "--force", "--jobs", "1", "--out", str(tmp / "out")]
            theirs = [pandoc, str(source), "--standalone", "-o", str(tmp / f"pandoc.{fmt}")]
            if fmt == "pdf":
                theirs += [f"--pdf-engine={engine}"]
            a, b = [], []
            for _ in range(runs):  # alternate, so the machine's load falls on both alike
                a += median_time(ours, 1)
                b += median_time(theirs, 1)
            ma, mb = statistics.median(a), statistics.median(b)
            print(f"{fmt:5} policypack {ma:.2f} s, pandoc {mb:.2f} s: {ma / mb:.2f}x")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0] if args else "brookfield-primary-school", args[1] if len(args) > 1 else "acceptable-use",
         int(args[2]) if len(args) > 2 else 5)
