"""One set of choices per organisation: a clause its policies share takes one variant, one switch and
one text; choices can be made once beside `policies:`; a variant that throws away a layer's wording,
and a replacement that brings back a variant a layer below switched away from, are warned about."""
import shutil
from pathlib import Path

from click.testing import CliRunner

from policypack.cli import main
from policypack.errors import Report
from policypack.load import load_project
from policypack.resolve import resolve
from tests.helpers import second_policy

BASE = Path(__file__).parent / "bad_inputs" / "base"
LIBRARY = """
  clauses:
    - id: phone-rule
      variants:
        breaks: Staff use personal phones at break times, away from pupils.
        never: Staff keep personal phones switched off and out of sight on site.
      default_variant: breaks
    - id: shared-option
      optional: default-off
      text: Staff who drive pupils carry the school's mobile phone.
"""
OTHER = second_policy("Online conduct policy", """\
        - id: conduct-scope
          text: It covers what staff do online.
        - include: phone-rule
        - include: shared-option
""")


def make(root: Path, la: str = "", school: str = "", school_top: str = "") -> Path:
    shutil.copytree(BASE, root)
    lib = root / "policy_src" / "library" / "common.yaml"
    lib.write_text(lib.read_text() + LIBRARY)
    (root / "policy_src" / "conduct.yaml").write_text(OTHER)
    demo = root / "policy_src" / "demo.yaml"
    demo.write_text(demo.read_text().replace("        - id: optional-thing\n",
                                             "        - include: phone-rule\n        - include: shared-option\n"
                                             "        - id: optional-thing\n", 1))
    path = root / "schools" / "demo-la.yaml"
    path.write_text(path.read_text().replace("    demo: {}", "    demo: {}\n    conduct: {}") + la)
    path = root / "schools" / "demo-school.yaml"
    path.write_text(path.read_text().replace("  policies:\n", school_top + "  policies:\n", 1) + school)
    return root


def check(root: Path):
    result = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def texts(root: Path, cid: str) -> dict:
    report = Report()
    project = load_project(root, report)
    out = {pid: resolve(project, "demo-school", pid, report).by_id()[cid].text for pid in ("demo", "conduct")}
    assert not report.errors, [p.format() for p in report.errors]
    return out


def test_a_choice_made_once_applies_to_every_policy_with_the_clause(tmp_path):
    root = make(tmp_path / "p", school_top="  variants:\n    phone-rule: never\n  enable: [shared-option]\n")
    assert check(root)[0] == 0
    assert set(texts(root, "phone-rule").values()) == {
        "Staff keep personal phones switched off and out of sight on site."}
    assert set(texts(root, "shared-option").values()) == {"Staff who drive pupils carry the school’s mobile phone."}


def test_two_phone_rules_in_one_school_are_refused(tmp_path):
    root = make(tmp_path / "p", school="    conduct:\n      variants: {phone-rule: never}\n")
    code, out = check(root)
    assert code == 1
    line = next(n for n, text in enumerate((root / "schools/demo-school.yaml").read_text().splitlines(), 1)
                if "phone-rule: never" in text)
    assert (f"schools/demo-school.yaml:{line}: error: 'phone-rule' is variant 'never' in conduct but variant "
            "'breaks' in demo: an organisation holds one rule in all its policies") in out, out
    assert out.count("holds one rule") == 1, "said once, not once per policy"


def test_an_option_on_in_one_policy_and_off_in_the_other_is_refused(tmp_path):
    root = make(tmp_path / "p", school="    conduct:\n      enable: [shared-option]\n")
    code, out = check(root)
    assert code == 1 and "'shared-option' is switched on in conduct but switched off in demo" in out, out


def test_a_per_policy_choice_that_agrees_is_fine_and_the_school_overrides_its_council(tmp_path):
    root = make(tmp_path / "p", la="  variants:\n    phone-rule: never\n",
                school_top="  variants:\n    phone-rule: breaks\n", school="    conduct:\n      variants: {phone-rule: breaks}\n")
    assert check(root)[0] == 0
    assert set(texts(root, "phone-rule").values()) == {"Staff use personal phones at break times, away from pupils."}


def test_unknown_ids_and_variants_beside_policies_are_reported(tmp_path):
    root = make(tmp_path / "p", school_top="  variants:\n    phone-rul: never\n    phone-rule: sometimes\n"
                                           "  disable: [conduct-scope]\n")
    code, out = check(root)
    assert code == 1
    assert "error: 'phone-rul' is not a clause with variants in any policy" in out and "phone-rule" in out
    assert "error: 'phone-rule' has no variant 'sometimes'" in out
    assert "error: 'conduct-scope' is not an optional clause of any policy, so it cannot be disabled" in out


def test_a_variant_that_discards_a_councils_wording_is_warned_about(tmp_path):
    root = make(tmp_path / "p", school_top="  variants:\n    phone-rule: never\n")
    la = root / "schools" / "demo-la.yaml"
    la.write_text(la.read_text().replace("    demo: {}", "    demo:\n      replace:\n"
                                         "        phone-rule: Phones stay in the staff room.\n"))
    code, out = check(root)
    assert "warning: choosing variant 'never' of 'phone-rule' discards the wording 'demo-la' wrote" in out, out


def test_a_replacement_that_brings_back_a_variant_switched_away_from_is_warned_about(tmp_path):
    root = make(tmp_path / "p", la="  variants:\n    phone-rule: never\n",
                school="    conduct:\n      replace:\n        phone-rule: Staff use personal phones at break "
                       "times, away from pupils and visitors.\n")
    code, out = check(root)
    assert ("warning: the replacement for 'phone-rule' reads like its variant 'breaks', but 'demo-la' chose "
            "'never'") in out, out


def test_what_the_parents_give_leaves_out_the_schools_choices_made_once(tmp_path):
    """`diff --inherited` and the stale-override check compare a school with what its parents give
    it: choices made beside `policies:` are the school's own edits too."""
    from policypack.versions import inherited, overrides
    root = make(tmp_path / "p", school_top="  variants:\n    phone-rule: never\n")
    project = load_project(root, Report())
    org = project.organisations["demo-school"]
    assert inherited(project, org, "demo").by_id()["phone-rule"].variant == "breaks"
    assert inherited(project, org, "demo", keep_choices=True).by_id()["phone-rule"].variant == "never"
    assert [(cid, action, name) for cid, action, name, _ in overrides(org, "demo", {"phone-rule"})] == [
        ("phone-rule", "variant", "never")]
