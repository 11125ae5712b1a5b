"""Messages carry the field path of what they are about (issue 11), so an editor can show each one
beside its field: `Problem.path`, e.g. ('organisation', 'policies', 'demo', 'fill', 'phones'), kept
alongside file and line; the text output stays `file:line: error: ...`."""
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from policypack.cli import main, pairs, resolve_reporting
from policypack.errors import Failed, Loc, Problem, Report, dotted
from policypack.load import load_project
from test_bad_inputs import HERE, apply_edits


def problems(case: str, tmp_path: Path) -> list:
    """Every error `check` reports for the bad-input case, with its path."""
    spec = yaml.safe_load((HERE / "cases" / f"{case}.yaml").read_text(encoding="utf-8"))
    root = tmp_path / "p"
    shutil.copytree(HERE / "base", root)
    apply_edits(root, spec.get("edit", []))
    report = Report()
    try:
        project = load_project(root, report)
    except Failed:
        return report.errors
    for oid, pid in pairs(project):
        resolve_reporting(project, oid, pid, report, "check")
    return report.errors


# case | the start of the message | where it is | its field path
EXPECTED = [tuple(part.strip() for part in row.split("|")) for row in """
bad-colour | branding colour 'navy' | schools/demo-school.yaml:8 | organisation.branding.colour
bad-id-slug | the id of a clause | policy_src/demo.yaml:32 | policy.sections.0.clauses.2.id
unknown-key-clause | unknown key 'optinal' | policy_src/demo.yaml:33 | policy.sections.0.clauses.2.optinal
missing-required | the policy is missing 'title' | policy_src/demo.yaml:2 | policy
form-empty-label | 'field' in a 'field' item | policy_src/demo.yaml:47 | policy.appendices.0.clauses.0.form.1.field
move-no-place | a move needs exactly one | schools/demo-school.yaml:16 | organisation.policies.demo.move.0
change-unknown-key | unknown key 'authors' | schools/demo-school.yaml:23 | organisation.policies.demo.changes.0.authors
numbering-format | 'format' in level 2 | schools/demo-school.yaml:11 | organisation.numbering_schemes.ours.levels.1.format
top-level-key | the file must have a single top-level key | schools/bare.yaml:1 |
duplicate-key-school | duplicate key 'variables' | schools/demo-school.yaml:8 | organisation.variables
fill-not-slot | 'phones' is not a customisable slot | schools/demo-school.yaml:17 | organisation.policies.demo.fill.phones
unknown-policy | organisation 'demo-la' publishes unknown | schools/demo-la.yaml:6 | organisation.policies.demos
extends-unknown | organisation 'demo-school' extends unknown | schools/demo-school.yaml:5 | organisation.extends
locked-replace | 'phones' is locked | schools/demo-school.yaml:16 | organisation.policies.demo.replace.phones
remove-unknown-id | cannot remove 'shared-onne' | schools/demo-school.yaml:15 | organisation.policies.demo.remove.0
override-unknown-variant | 'phones' has no variant | schools/demo-school.yaml:13 | organisation.policies.demo.variants.phones
undefined-variable | undefined variable 'bursar' | policy_src/demo.yaml:34 | policy.sections.0.clauses.2.text
javascript-link | link to 'javascript:alert(1)' | schools/demo-school.yaml:19 | organisation.policies.demo.insert.0.clause.text
unfilled-slot | customisable slot 'local-contacts' | policy_src/demo.yaml:35 | policy.sections.0.clauses.3
""".strip().splitlines()]  # the loader (shape, then what ids refer to), the layers, then the text


@pytest.mark.parametrize("case,message,where,path", EXPECTED, ids=[e[0] for e in EXPECTED])
def test_message_carries_its_field_path(case, message, where, path, tmp_path):
    found = [p for p in problems(case, tmp_path) if p.message.startswith(message)]
    assert found, f"no message starting {message!r}"
    assert str(found[0].loc) == where
    assert found[0].path is not None and dotted(found[0].path) == path


def test_text_output_is_unchanged(tmp_path):
    """The path is for editors: the command line still says file:line."""
    root = tmp_path / "p"
    shutil.copytree(HERE / "base", root)
    apply_edits(root, yaml.safe_load((HERE / "cases" / "fill-not-slot.yaml").read_text(encoding="utf-8"))["edit"])
    result = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert "schools/demo-school.yaml:17: error: 'phones' is not a customisable slot" in result.output
    assert "organisation.policies" not in result.output


def test_path_is_beside_the_place_not_part_of_it():
    """Two Locs of one file and line are one place whatever their paths (sorting, de-duplicating
    and fingerprints of places are as before); a Problem takes its Loc's path unless given one."""
    a, b = Loc("f.yaml", 3, ("organisation", "name")), Loc("f.yaml", 3)
    assert a == b and hash(a) == hash(b) and not a < b
    assert Problem(a, "m").path == ("organisation", "name") and Problem(b, "m").path is None
    assert Problem(a, "m", path=("organisation",)).path == ("organisation",)
    report = Report()
    report.error(b, "m", path=("organisation", "kind"))
    report.error(a, "m")  # the same message at the same place: kept once
    assert [p.path for p in report.problems] == [("organisation", "kind")]
    assert dotted(("organisation", "policies", "social-media", "insert", 0)) == "organisation.policies.social-media.insert.0"
