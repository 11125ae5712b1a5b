"""Structure: layers moving sections and clauses, locks against removal, and an organisation's
own policy (schools/<org-id>/<policy-id>.yaml)."""
import re
import shutil
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner
from docx import Document

from policypack.cli import main
from policypack.errors import Failed, Report
from policypack.load import load_project
from policypack.model import XRef
from policypack.render import RenderContext
from policypack.render.html import render_html
from policypack.resolve import resolve
from tests.helpers import pdf_pages

HERE = Path(__file__).parent
BASE = HERE / "bad_inputs" / "base"
ROOT = HERE.parent


@pytest.fixture
def project_dir(tmp_path):
    shutil.copytree(BASE, tmp_path / "p")
    return tmp_path / "p"


def edit(root, rel, find, replace):
    path = root / rel
    text = path.read_text()
    assert find in text, f"{find!r} not in {rel}"
    path.write_text(text.replace(find, replace, 1))


def layer(root, yaml_lines: str, org="demo-school"):
    """Add lines under `policies: demo:` of the school (indented six spaces)."""
    edit(root, f"schools/{org}.yaml", "      enable: [optional-thing]\n", "      enable: [optional-thing]\n" + yaml_lines)


def lock(root, *ids):
    path = root / "policy_src" / "demo.yaml"
    for cid in ids:
        text, n = re.subn(rf"^( *)- id: {cid}\n", rf"\1- id: {cid}\n\1  locked: true\n", path.read_text(), flags=re.M)
        assert n == 1, cid
        path.write_text(text)


def resolved(root, org="demo-school", policy="demo"):
    report = Report()
    doc = resolve(load_project(root), org, policy, report)
    assert not report.errors, [p.format() for p in report.errors]
    return doc


def problems(root, org="demo-school", policy="demo"):
    report = Report()
    try:
        resolve(load_project(root, report), org, policy, report)
    except Failed:
        pass
    return [p.format() for p in report.errors]


def outline(doc):
    return [(n.label, n.id) for n in doc.walk()]


# ---- moves -----------------------------------------------------------------------------------


def test_a_locked_clause_moves_renumbers_and_its_references_follow(project_dir):
    lock(project_dir, "phones")
    layer(project_dir, "      move:\n        - {id: phones, into: shared-section}\n")
    doc = resolved(project_dir)
    by = doc.by_id()
    assert by["phones"].label == "2.2" and by["phones"].locked
    assert [c.id for c in doc.sections[1].children] == ["shared-one", "phones"]
    xref = [i for i in by["intro-purpose"].blocks[0].inlines if isinstance(i, XRef)]
    assert xref[0].target == "phones" and xref[0].label == "2.2"
    assert ("demo-school", "move") in [(layer, action) for layer, action, _ in by["phones"].provenance.edits]
    assert "move" not in [action for _, action, _, _ in doc.consultation]  # a move changes no words
    assert by["phones"].text == "No phones on site."  # the variant chosen, unchanged by the move


def test_sections_appendices_and_clauses_move_before_after_and_into(project_dir):
    layer(project_dir, "      move:\n"
                       "        - {id: shared-section, before: intro}\n"
                       "        - {id: intro-sub, after: app-help-one}\n"
                       "        - {id: local-contacts, into: intro-purpose}\n"
                       "        - {id: app-changes, before: app-help}\n")
    doc = resolved(project_dir)
    assert outline(doc) == [("1", "shared-section"), ("1.1", "shared-one"), ("2", "intro"),
                            ("2.1", "intro-purpose"), ("2.1.1", "local-contacts"), ("2.2", "local-extra"),
                            ("2.3", "phones"), ("2.4", "optional-thing"),
                            ("Appendix 1", "app-changes"), ("Appendix 2", "app-help"), ("A2.1", "app-help-one"),
                            ("A2.2", "intro-sub")]


def test_a_layer_can_insert_a_section_move_clauses_into_it_and_remove_the_old_one(project_dir):
    lock(project_dir, "phones")
    edit(project_dir, "schools/demo-school.yaml", "      insert:\n",
         "      insert:\n        - before: intro\n          section: {id: essentials, title: Essentials}\n")
    layer(project_dir, "      move:\n"
                       "        - {id: intro-purpose, into: essentials}\n"
                       "        - {id: phones, into: essentials}\n"
                       "      remove: [intro]\n")
    doc = resolved(project_dir)
    assert outline(doc)[:5] == [("1", "essentials"), ("1.1", "intro-purpose"), ("1.1.1", "intro-sub"),
                                ("1.2", "phones"), ("2", "shared-section")]
    assert "local-extra" not in doc.by_id()  # it was inserted after intro-purpose, inside intro
    assert [a for _, a, i, _ in doc.consultation] == ["insert", "insert", "remove"]


def test_a_parent_layers_move_is_kept_by_the_school(project_dir):
    edit(project_dir, "schools/demo-la.yaml", "    demo: {}\n",
         "    demo:\n      move:\n        - {id: optional-thing, before: intro-purpose}\n")
    doc = resolved(project_dir)
    assert [c.id for c in doc.sections[0].children][:2] == ["optional-thing", "intro-purpose"]
    assert [(layer, action) for layer, action, _ in doc.by_id()["optional-thing"].provenance.edits] == \
        [("demo-la", "move"), ("demo-school", "enable")]


@pytest.mark.parametrize("move,message", [
    ("{id: nothing-here, after: intro}",
     "schools/demo-school.yaml:16: error: cannot move 'nothing-here': policy 'demo' has no section or clause"),
    ("{id: intro-purpose, into: intro-sub}",
     "schools/demo-school.yaml:16: error: cannot move clause 'intro-purpose' into clause 'intro-sub': that is "
     "inside it, so it would be moved into itself"),
    ("{id: intro, into: shared-one}",
     "schools/demo-school.yaml:16: error: cannot move section 'intro' into clause 'shared-one': a section "
     "stays at the top level"),
    ("{id: phones, after: intro}",
     "schools/demo-school.yaml:16: error: cannot move clause 'phones' after section 'intro': a clause goes next "
     "to another clause, or into a section or clause"),
    ("{id: app-help, before: intro}",
     "schools/demo-school.yaml:16: error: cannot move appendix 'app-help' before section 'intro': an appendix "
     "moves among the appendices"),
    ("{id: intro-sub, into: app-changes}",
     "schools/demo-school.yaml:16: error: cannot move clause 'intro-sub' into appendix 'app-changes': that "
     "appendix is generated"),
    ("{id: phones, after: phones}",
     "schools/demo-school.yaml:16: error: cannot move clause 'phones' after clause 'phones': an item cannot be "
     "placed next to or inside itself"),
    ("{id: phones}", "schools/demo-school.yaml:16: error: a move needs exactly one of before, after or into"),
])
def test_a_bad_move_is_an_error_on_its_line(project_dir, move, message):
    layer(project_dir, f"      move:\n        - {move}\n")
    assert any(p.startswith(message) for p in problems(project_dir)), problems(project_dir)


# ---- locks and removal -------------------------------------------------------------------------


def test_removing_a_section_with_locked_clauses_names_them_all_and_the_moves_it_gives_work(project_dir):
    lock(project_dir, "phones", "optional-thing")
    layer(project_dir, "      remove: [intro]\n")
    [error] = problems(project_dir)
    assert error.startswith("schools/demo-school.yaml:15: error: cannot remove 'intro': it holds locked clauses "
                            "'phones', 'optional-thing'")
    pasted = error.split("      move:\n")[1]
    assert pasted == ("        - {id: phones, into: shared-section}\n"
                      "        - {id: optional-thing, into: shared-section}")
    layer(project_dir, "      move:\n" + re.sub(r"^  ", "", pasted, flags=re.M) + "\n")
    doc = resolved(project_dir)
    assert [s.id for s in doc.sections] == ["shared-section"]
    assert [c.id for c in doc.sections[0].children] == ["shared-one", "phones", "optional-thing"]


def test_a_clause_holding_locked_sub_clauses_is_freed_by_moving_them_next_to_it(project_dir):
    lock(project_dir, "intro-sub")
    layer(project_dir, "      remove: [intro-purpose]\n")
    [error] = problems(project_dir)
    assert "cannot remove 'intro-purpose': it holds locked clause 'intro-sub'" in error
    assert error.endswith("      move:\n        - {id: intro-sub, after: intro-purpose}")


def test_a_locked_clause_itself_is_never_removed(project_dir):
    lock(project_dir, "phones")
    layer(project_dir, "      remove: [phones]\n")
    [error] = problems(project_dir)
    assert error.startswith("schools/demo-school.yaml:15: error: cannot remove 'phones': it is locked")


def four_section_layer() -> str:
    """Willowbank's social media policy cut from the model's fifteen sections to four: the locked
    clauses of removed sections are moved into kept ones, with a clause that kept text refers to,
    one text that referred to a removed section is reworded, and the rest is removed."""
    model = load_project(ROOT).policies["social-media"]
    keep = ["sm-introduction", "sm-personal-accounts", "contact-pupils-parents", "allegations"]
    remove = [s.id for s in model.sections if s.id not in keep]
    return f"""      move:
        - {{id: personal-devices-no-photos, into: contact-pupils-parents}}
        - {{id: cyber-indecent-images, into: contact-pupils-parents}}
        - {{id: social-proportionate-response, into: sm-personal-accounts}}
      retitle:
        allegations: Concerns about a colleague
      replace:
        sm-intro-who: |
          This {{{{ policy_kind }}}} covers everybody working at {{{{ organisation }}}}, whether or
          not they are paid, and its governors.
      remove: [{", ".join(remove)}]
"""


def test_a_shipped_policy_cut_to_four_sections_builds_and_keeps_every_locked_clause(tmp_path):
    root = tmp_path / "p"
    for folder in ("policy_src", "schools", "templates"):
        shutil.copytree(ROOT / folder, root / folder)
    edit(root, "schools/willowbank-primary-school.yaml", "      enable: [parents-code-of-conduct]\n",
         "      enable: [parents-code-of-conduct]\n" + four_section_layer())
    project = load_project(root)
    doc = resolved(root, "willowbank-primary-school", "social-media")
    assert [s.id for s in doc.sections] == ["sm-introduction", "sm-personal-accounts", "contact-pupils-parents",
                                            "allegations"]
    assert doc.sections[-1].title == "Concerns about a colleague"
    locked = {n.id for n in project.policies["social-media"].walk() if n.locked}
    assert len(locked) >= 3 and locked <= {n.id for n in doc.walk() if n.locked}
    page = lxml.html.fromstring(render_html(doc, RenderContext(as_of=doc.last_reviewed, project_root=root.resolve(),
                                                               template_dir=root / "templates")))

    def words(text):  # list markers ("(1)") are laid out apart from their item's text
        return " ".join(re.sub(r"\(\w{1,4}\)", " ", text).split())
    for cid in locked:  # each locked text is on the page, word for word
        node = doc.by_id()[cid]
        assert words(node.text) in words(page.get_element_by_id(node.anchor).text_content()), cid
    moved = doc.by_id()["social-proportionate-response"]  # a reference to a moved clause follows it
    xrefs = [x for b in doc.by_id()["social-disrepute"].blocks if hasattr(b, "inlines")
             for x in b.inlines if isinstance(x, XRef)]
    assert [x.label for x in xrefs if x.target == moved.id] == [moved.ref]


# ---- an organisation's own policy --------------------------------------------------------------

OWN = """policy:
  id: staff-dress
  title: Dress at work
  reference: DLA-7
  kind: policy
  version: "1.0"
  review_cycle_months: 24
  owner: Demo County Council
  sections:
    - id: dress-aims
      title: What we expect
      clauses:
        - id: dress-practical
          text: Wear what lets you do the day's work safely; the shared rule in {{ ref('shared-one') }} applies.
        - id: dress-phones
          text: Phones are covered by paragraph {{ ref('demo:phones') }}.
        - id: dress-contact
          slot: true
          text: Ask the office.
    - include: shared-section
"""


@pytest.fixture
def own_dir(project_dir):
    """demo-la publishes its own policy staff-dress to demo-school; other-la's other-school is a
    school of another authority and does not see it."""
    (project_dir / "schools" / "demo-la").mkdir()
    (project_dir / "schools" / "demo-la" / "staff-dress.yaml").write_text(OWN)
    edit(project_dir, "schools/demo-school.yaml", "  policies:\n",
         "  fill:\n    dress-contact: Ask Ms Example in the office.\n  policies:\n"
         "    staff-dress:\n      retitle: {dress-aims: Dress}\n")
    (project_dir / "schools" / "other-la.yaml").write_text(
        "organisation:\n  id: other-la\n  name: Other Borough Council\n  kind: local-authority\n"
        "  policies:\n    demo: {}\n")
    (project_dir / "schools" / "other-school.yaml").write_text(
        "organisation:\n  id: other-school\n  name: Other Infant School\n  kind: school\n  extends: other-la\n"
        "  fill:\n    local-contacts: Ask the head.\n")
    return project_dir


def test_an_own_policy_is_published_for_its_organisation_and_below_only(own_dir):
    project = load_project(own_dir)
    assert project.published("demo-la") == ["demo", "staff-dress"]
    assert project.published("demo-school") == ["demo", "staff-dress"]
    assert project.published("other-school") == ["demo"]
    assert project.policy("other-school", "staff-dress") is None
    doc = resolved(own_dir, "demo-school", "staff-dress")
    by = doc.by_id()
    assert outline(doc) == [("1", "dress-aims"), ("1.1", "dress-practical"), ("1.2", "dress-phones"),
                            ("1.3", "dress-contact"), ("2", "shared-section"), ("2.1", "shared-one")]
    assert [(x.target, x.label) for x in by["dress-phones"].blocks[0].inlines if isinstance(x, XRef)] == \
        [("demo:phones", "1.3 of the Demo policy")]  # a reference into the model's policy of the same pack
    assert by["dress-aims"].title == "Dress" and by["dress-contact"].text == "Ask Ms Example in the office."
    assert by["dress-practical"].provenance.layer == "demo-la"  # written by the council, not the model
    assert by["shared-one"].provenance.layer == "model"  # a library section it includes
    assert by["shared-one"].text == "The Governing Board adopts this policy for Demo Primary School."


def test_an_own_policy_builds_in_every_format_for_it_and_its_school_and_not_for_another(own_dir, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--root", str(own_dir), "--out", str(out), "--as-of", "2025-09-01",
                                       "--policy", "staff-dress", "--school", "demo-la", "--school", "demo-school",
                                       "--school", "other-school", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "built 2 of 2 documents (10 files written)" in result.output
    assert not (out / "other-school" / "staff-dress.html").exists()
    for org, name in (("demo-la", "Demo County Council"), ("demo-school", "Demo Primary School")):
        html = (out / org / "staff-dress.html").read_text()
        pdf = " ".join(" ".join(pdf_pages(out / org / "staff-dress.pdf", layout=False)).split())
        docx = " ".join(p.text for p in Document(str(out / org / "staff-dress.docx")).paragraphs)
        for text in (html, pdf, docx):
            assert "Dress at work" in text and f"adopts this policy for {name}" in text
        assert "staff-dress.html" in (out / org / "index.html").read_text()  # on its pack page
    assert "Ask Ms Example in the office." in (out / "demo-school" / "staff-dress.html").read_text()


@pytest.mark.parametrize("setup,message", [
    (lambda p: (p / "schools/demo-la/demo.yaml").write_text(OWN.replace("id: staff-dress", "id: demo")),
     "schools/demo-la/demo.yaml:2: error: policy id 'demo' is already the model's policy (policy_src/demo.yaml)"),
    (lambda p: ((p / "schools/demo-school").mkdir(), (p / "schools/demo-school/staff-dress.yaml").write_text(OWN)),
     "schools/demo-school/staff-dress.yaml:2: error: policy id 'staff-dress' is already the own policy of "
     "'demo-la' (schools/demo-la/staff-dress.yaml), which 'demo-school' publishes too"),
    (lambda p: edit(p, "schools/other-school.yaml", "  fill:", "  policies:\n    staff-dress: {}\n  fill:"),
     "schools/other-school.yaml:7: error: organisation 'other-school' cannot publish 'staff-dress': it is the own "
     "policy of 'demo-la', which 'other-school' does not extend"),
    (lambda p: (p / "schools/demo-la/broken.yaml").write_text("policy:\n  id: broken\n  title: [x\n"),
     "schools/demo-la/broken.yaml:4: error: YAML syntax error"),
])
def test_own_policy_mistakes_are_errors_on_their_line(own_dir, setup, message):
    setup(own_dir)
    report = Report()
    with pytest.raises(Failed):
        load_project(own_dir, report)
    assert any(p.format().startswith(message) for p in report.errors), [p.format() for p in report.errors]


def test_a_misspelt_folder_of_policies_is_a_warning_and_other_folders_are_left_alone(own_dir):
    for folder in ("demo-lla", "shared"):
        (own_dir / "schools" / folder).mkdir()
        (own_dir / "schools" / folder / "staff-code.yaml").write_text(OWN.replace("staff-dress", "staff-code"))
    report = Report()
    project = load_project(own_dir, report)
    assert [p.format() for p in report.problems] == [
        "schools/demo-lla: warning: no organisation 'demo-lla': the policy files in this folder are not read\n"
        "    did you mean 'demo-la'? An organisation's own policies go in schools/<organisation-id>/, beside its "
        "schools/<organisation-id>.yaml."]
    assert "staff-code" not in project.policy_ids()


def test_two_unrelated_organisations_may_give_own_policies_the_same_id(own_dir):
    (own_dir / "schools" / "other-la").mkdir()
    (own_dir / "schools" / "other-la" / "staff-dress.yaml").write_text(OWN.replace("Dress at work", "Our dress code"))
    project = load_project(own_dir)
    assert project.policy("demo-school", "staff-dress").title == "Dress at work"
    assert project.policy("other-school", "staff-dress").title == "Our dress code"


def test_an_own_policy_folder_linked_from_outside_schools_is_not_read(project_dir, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "staff-dress.yaml").write_text(OWN)
    (project_dir / "schools" / "demo-la").symlink_to(outside, target_is_directory=True)
    report = Report()
    with pytest.raises(Failed):
        load_project(project_dir, report)
    assert [p.format().split("\n")[0] for p in report.errors] == [
        "schools/demo-la/staff-dress.yaml: error: the path goes through a symbolic link to something outside schools/"]


def test_parts_move_among_parts_and_sections_move_between_parts(project_dir):
    edit(project_dir, "policy_src/demo.yaml", "    - include: shared-section\n",
         "    - part: part-one\n      title: First part\n      sections:\n        - include: shared-section\n"
         "    - part: part-two\n      title: Second part\n      sections:\n        - id: later\n"
         "          title: Later\n          clauses:\n            - id: later-one\n              text: Later text.\n")
    layer(project_dir, "      move:\n        - {id: part-two, before: part-one}\n"
                       "        - {id: shared-section, after: later}\n")
    doc = resolved(project_dir)
    assert [(n.kind, n.id, [c.id for c in n.children]) for n in doc.outline if n.kind == "part"] == \
        [("part", "part-two", ["later", "shared-section"]), ("part", "part-one", [])]
    edit(project_dir, "schools/demo-school.yaml", "        - {id: shared-section, after: later}\n",
         "        - {id: shared-section, after: later}\n        - {id: part-one, into: intro}\n"
         "        - {id: phones, into: part-two}\n")
    assert [p.split("\n")[0] for p in problems(project_dir)] == [
        "schools/demo-school.yaml:18: error: cannot move part 'part-one' into section 'intro': a part stays at the "
        "top level and cannot go inside another item",
        "schools/demo-school.yaml:19: error: cannot move clause 'phones' into part 'part-two': a part holds sections, "
        "not clauses"]
