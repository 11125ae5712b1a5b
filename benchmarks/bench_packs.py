#!/usr/bin/env python3
"""How policypack scales to a local authority's worth of schools.

    python benchmarks/bench_packs.py [SCHOOLS] [BUILT]

Copies the shipped model and example organisations into a temporary folder and adds SCHOOLS
(default 300) maintained schools under Northshire County Council, each with its own name,
adoption record and slot fills. Then times `check` (load + resolve every policy) and `build` of
BUILT (default 8) of those schools in all three formats. Not a test: it prints the figures.
Targets: check well under a minute for 300 schools; build time grows linearly with the schools.
"""
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policypack.build import build  # noqa: E402
from policypack.cli import _writers  # noqa: E402
from policypack.errors import Report  # noqa: E402
from policypack.load import load_project  # noqa: E402
from policypack.resolve import resolve  # noqa: E402

SCHOOL = """organisation:
  id: bench-school-{n:04d}
  name: Bench Test School {n:04d}
  kind: school
  extends: northshire-county-council
  adoption:
    body: Governing Board
    date: 2026-0{m}-1{d}
    chairs: [Chair {n:04d}]
  fill:
    local-it-contacts: Ring the office at Bench Test School {n:04d} for IT help.
    local-support-contacts: Staff can talk in confidence to the school business manager.
"""


def main(schools: int, built: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for d in ("policy_src", "schools", "templates"):
            shutil.copytree(ROOT / d, root / d)
        for n in range(schools):
            (root / "schools" / f"bench-school-{n:04d}.yaml").write_text(
                SCHOOL.format(n=n, m=1 + n % 9, d=n % 10), encoding="utf-8")
        t = time.perf_counter()
        project = load_project(root, Report())
        loaded = time.perf_counter() - t
        t = time.perf_counter()
        report = Report()
        pairs = [(o, p) for o in sorted(project.organisations) for p in project.published(o)]
        for o, p in pairs:
            resolve(project, o, p, report)
        resolved = time.perf_counter() - t
        assert not report.errors, report.errors[:3]
        print(f"load {len(project.organisations)} organisations: {loaded:.2f} s")
        print(f"resolve {len(pairs)} policies: {resolved:.2f} s ({1000 * resolved / len(pairs):.1f} ms each)")
        todo = [(f"bench-school-{n:04d}", "acceptable-use") for n in range(built)]
        t = time.perf_counter()
        outcome = build(project, todo, _writers(("html", "pdf", "docx")), root / "outputs", dt.date(2026, 11, 21),
                        Report())
        took = time.perf_counter() - t
        print(f"build {built} schools x 3 formats: {took:.1f} s ({took / built:.2f} s a school; "
              f"about {took / built * schools / 60:.0f} min for all {schools}), {len(outcome.failed)} failed")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300, int(sys.argv[2]) if len(sys.argv) > 2 else 8)
