"""`check` shares its resolving among forked processes when there are enough documents: what it
reports, and in what order, must not depend on that."""
import shutil

import pytest
from click.testing import CliRunner

from conftest import ROOT
from policypack import cli

SCHOOL = """organisation:
  id: extra-school-{n:02d}
  name: Extra School {n:02d}
  kind: school
  extends: northshire-county-council
  adoption:
    body: Governing Board
    date: 2026-03-1{d}
  fill:
    local-it-contacts: Ask the office at Extra School {n:02d}.
"""


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """The shipped project and 30 more schools, two of them with problems far apart."""
    root = tmp_path_factory.mktemp("many")
    for d in ("policy_src", "schools", "templates"):
        shutil.copytree(ROOT / d, root / d)
    for n in range(30):
        text = SCHOOL.format(n=n, d=n % 10)
        if n in (3, 27):  # an unfilled slot and another school's name, in schools far apart
            text = text.replace(f"Ask the office at Extra School {n:02d}.", "Ask the office at Extra School 11.")
        if n == 27:
            text = text.replace("  fill:\n", "  variables:\n    no_such_variable_here: 1\n  fill:\n")
        (root / "schools" / f"extra-school-{n:02d}.yaml").write_text(text, encoding="utf-8")
    return root


def test_check_reports_the_same_in_parallel_as_in_one_process(many, monkeypatch):
    outputs = []
    for threshold in (10 ** 9, 1):
        monkeypatch.setattr(cli, "CHECK_IN_PARALLEL_FROM", threshold)
        result = CliRunner().invoke(cli.main, ["check", "--root", str(many)])
        outputs.append((result.exit_code, result.output))
    (serial_code, serial), (parallel_code, parallel) = outputs
    assert serial_code == parallel_code == 1
    assert serial.count("has not been filled") == 30  # every extra school leaves the slot empty
    assert "extra-school-03" in serial and "extra-school-27" in serial  # the problems were found
    assert serial.index("extra-school-03") < serial.index("extra-school-27")
    assert parallel == serial


def test_check_falls_back_to_one_process_when_processes_fail(many, monkeypatch):
    import concurrent.futures

    class Broken:
        def __init__(self, *a, **k):
            raise OSError("cannot fork")

    monkeypatch.setattr(cli, "CHECK_IN_PARALLEL_FROM", 1)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Broken)
    result = CliRunner().invoke(cli.main, ["check", "--root", str(many)])
    assert result.exit_code == 1
    assert "extra-school-27" in result.output and "Traceback" not in result.output


def test_a_clause_a_layer_inserts_is_each_schools_own_copy(many):
    """Northshire inserts a customisable slot for its schools. One school's fill must not become
    the next school's text (the inserted node was once shared by every school, and filled in
    place, so only the first school resolved in a process was told to fill it)."""
    from policypack.errors import Report
    from policypack.load import load_project
    from policypack.model import blocks_text
    from policypack.resolve import resolve

    project = load_project(many, Report())
    first = resolve(project, "brookfield-primary-school", "acceptable-use", Report())
    filled = [n for n in first.walk_outline() if n.id == "northshire-support-contacts"]
    assert filled and blocks_text(filled[0].blocks).strip()
    for n in (0, 12):  # both after a school that filled it
        report = Report()
        resolve(project, f"extra-school-{n:02d}", "acceptable-use", report)
        assert [p.message for p in report.errors] == [
            f"customisable slot 'northshire-support-contacts' has not been filled for extra-school-{n:02d}"]
