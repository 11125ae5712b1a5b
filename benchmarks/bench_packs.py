#!/usr/bin/env python3
"""How policypack scales to a local authority's worth of schools.

    python benchmarks/bench_packs.py [SCHOOLS] [BUILT]

Copies the shipped model and example organisations into a temporary folder and adds SCHOOLS
(default 300) maintained schools under Northshire County Council, each with its own name,
adoption record and slot fills, publishing both policies. Then times `check` (load + resolve
every policy) and, as whole processes (`build.py build`), a build of BUILT (default 8) of those
schools in all three formats (`bench_packs.py 300 300` is the full 300 x 2 x 3 build),
a rebuild with nothing changed, and a rebuild after one school's edit, printing the rebuilds'
time as ratios of the full build's, measured side by side in this run. Not a test.
Targets (issue 9): a no-op rebuild of 300 schools x 2 policies under 10 s; one school's edit
rebuilds that school's documents only.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
  policies:
    acceptable-use:
      fill:
        northshire-support-contacts: Staff can talk in confidence to the school business manager.
    social-media:
      fill:
        media-official-accounts: The school business manager keeps the list of the school's official accounts.
        local-support-contacts: Staff can talk in confidence to the school business manager.
"""

def whole_process(command: list) -> tuple:
    """(seconds, peak resident memory in MB) of one run of `command`, which must succeed."""
    t = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - t
    assert os.waitstatus_to_exitcode(status) == 0, command
    return took, usage.ru_maxrss / 1024


def bench_project(root: Path, schools: int) -> None:
    """The shipped model and examples in `root`, with `schools` more schools under Northshire."""
    for d in ("policy_src", "schools", "templates"):
        shutil.copytree(ROOT / d, root / d)
    for n in range(schools):
        (root / "schools" / f"bench-school-{n:04d}.yaml").write_text(
            SCHOOL.format(n=n, m=1 + n % 9, d=n % 10), encoding="utf-8")


def main(schools: int, built: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench_project(root, schools)
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
        took, rss = whole_process([sys.executable, str(ROOT / "build.py"), "check", "--root", str(root)])
        print(f"check, whole process: {took:.2f} s, peak memory {rss:.0f} MB")
        ids = [f"bench-school-{n:04d}" for n in range(built)]
        command = [sys.executable, str(ROOT / "build.py"), "build", "--root", str(root), "--as-of", "2026-11-21"]
        command += [arg for i in ids for arg in ("--school", i)]

        def timed(what: str) -> float:
            t = time.perf_counter()
            run = subprocess.run(command, capture_output=True, text=True)
            took = time.perf_counter() - t
            assert run.returncode == 0, run.stdout + run.stderr
            summary = re.search(r"built .*", run.stdout).group()
            print(f"{what}: {took:.1f} s ({summary.split(' into ')[0]}; {summary.split('; ')[-1]})")
            return took

        full = timed(f"build {built} schools x 3 formats")
        print(f"  {full / built:.2f} s a school (2 policies x 3 formats); about {full / built * schools / 60:.0f} min "
              f"for all {schools} (target for 300: under 13 min)")
        noop = timed("rebuild, nothing changed")
        edited = root / "schools" / f"{ids[0]}.yaml"
        edited.write_text(edited.read_text(encoding="utf-8").replace("for IT help", "for help with IT"), encoding="utf-8")
        one = timed("rebuild after one school's edit")
        print(f"ratios to the full build: no-op {noop / full:.3f}, one school's edit {one / full:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300, int(sys.argv[2]) if len(sys.argv) > 2 else 8)
