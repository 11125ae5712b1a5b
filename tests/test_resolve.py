"""The resolved policy: numbering styles, provenance, variables, changes and review dates."""
import datetime as dt
import shutil
from pathlib import Path

import pytest

from policypack.errors import Report
from policypack.load import load_project
from policypack.model import ListBlock, Text, XRef
from policypack.resolve import add_months, resolve

BASE = Path(__file__).parent / "bad_inputs" / "base"


@pytest.fixture
def project_dir(tmp_path):
    shutil.copytree(BASE, tmp_path / "p")
    return tmp_path / "p"


def edit(root, rel, find, replace):
    path = root / rel
    text = path.read_text()
    assert find in text
    path.write_text(text.replace(find, replace, 1))


def resolved(root, org="demo-school"):
    report = Report()
    doc = resolve(load_project(root), org, "demo", report)
    assert not report.errors, [p.format() for p in report.errors]
    return doc


def labels(doc):
    return [(n.id, n.label, n.ref) for n in doc.walk()]


def test_decimal_numbering_and_provenance(project_dir):
    doc = resolved(project_dir)
    by = {n.id: n for n in doc.walk()}
    assert [n.label for n in doc.walk()] == ["1", "1.1", "1.1.1", "1.2", "1.3", "1.4", "1.5", "2", "2.1",
                                             "Appendix 1", "A1.1", "Appendix 2"]
    assert by["local-extra"].provenance.layer == "demo-school"
    assert by["local-extra"].provenance.outside_slots
    assert by["phones"].provenance.action == "variant" and by["phones"].variant == "never"
    assert by["local-contacts"].provenance.action == "fill" and not by["local-contacts"].provenance.outside_slots
    assert by["shared-one"].provenance.layer == "model"
    assert [c[2] for c in doc.consultation] == ["local-extra"]


def test_cross_references_follow_renumbering(project_dir):
    doc = resolved(project_dir)
    xref = [i for i in doc.by_id()["intro-purpose"].blocks[0].inlines if isinstance(i, XRef)]
    assert [(x.target, x.label) for x in xref] == [("phones", "1.3"), ("app-help", "Appendix 1")]
    edit(project_dir, "schools/demo-school.yaml", "        - after: intro-purpose\n", "        - after: phones\n")
    xref = [i for i in resolved(project_dir).by_id()["intro-purpose"].blocks[0].inlines if isinstance(i, XRef)]
    assert xref[0].label == "1.2"


@pytest.mark.parametrize("style,expected", [
    ("decimal-dot", ["1.", "1.1.", "1.1.1.", "1.2."]),
    ("decimal-alpha", ["1", "1.1", "(a)", "1.2"]),
    ("flat", ["", "1", "(a)", "2"]),
])
def test_numbering_styles(project_dir, style, expected):
    edit(project_dir, "schools/demo-school.yaml", "numbering: decimal", f"numbering: {style}")
    doc = resolved(project_dir)
    assert [n.label for n in doc.walk()][:4] == expected
    if style == "flat":
        assert [n.label for s in doc.sections for n in s.walk() if n.level == 2][-1] == "6"
        assert doc.by_id()["intro-sub"].ref == "1(a)"


def test_changes_table_uses_this_schools_numbers(project_dir):
    doc = resolved(project_dir)
    rows = {(r.date, r.affected, r.layer) for r in doc.changes}
    assert ("2025-06-01", "1.2", "demo-school") in rows
    assert ("2025-01-01", "1.1.1, 1.3", "model") in rows
    assert ("2024-01-01", "All", "model") in rows
    assert [r.date for r in doc.changes] == sorted((r.date for r in doc.changes), reverse=True)


def test_lists_and_raw_html_stay_text(project_dir):
    edit(project_dir, "policy_src/demo.yaml", "text: An optional clause.", 'text: "<b onclick=x>bold</b> <script>alert(1)</script>"')
    doc = resolved(project_dir)
    para = doc.by_id()["optional-thing"].blocks[0]
    assert all(isinstance(i, Text) for i in para.inlines)
    assert "<script>" in para.inlines[0].text
    lists = doc.by_id()["intro-sub"].blocks[1]
    assert isinstance(lists, ListBlock) and lists.style == "alpha"
    assert lists.items[1][1].style == "roman"


def test_review_dates(project_dir):
    doc = resolved(project_dir)
    assert doc.last_reviewed == dt.date(2025, 5, 16)
    assert doc.next_review == dt.date(2026, 5, 16)
    assert doc.review_status(dt.date(2026, 5, 17)) == "overdue"
    assert doc.review_status(dt.date(2026, 3, 1)) == "due-soon"
    assert doc.review_status(dt.date(2025, 9, 1)) == "current"
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)


def test_parent_without_fill_gets_placeholder(project_dir):
    doc = resolved(project_dir, "demo-la")
    assert "Ask the office." in doc.by_id()["local-contacts"].text
    assert doc.by_id()["phones"].text == "Phones at breaks only."


def test_organisation_names_are_found_as_whole_words_longest_first():
    from policypack.resolve import _names_in, _names_index
    index = _names_index(("Kestrel Park Academy", "Kestrel Park", "Oak School", "Park"))
    text = "Staff at Kestrel Park Academy and Oak Schools; Kestrel Park; Parkside; the Park."
    assert list(_names_in(text, index)) == ["Kestrel Park Academy", "Kestrel Park", "Park"]
