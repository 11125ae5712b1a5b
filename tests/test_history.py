"""The version history (policypack.history): version and author columns, placement at the front or
in its appendix, whose entries a copy shows, and the same table in HTML, PDF and DOCX.

Runs on the small bad-input base project: a council (no adoption of its own) and a school that
adopted on 2025-05-16; the model's entries are dated 2024-01-01 and 2025-01-01, the school's
2025-06-01.
"""
from __future__ import annotations

import datetime as dt
import io
import subprocess
from collections import Counter
from pathlib import Path

import docx
import lxml.html
import pytest

from policypack.errors import Report
from policypack.load import load_project
from policypack.render import RenderContext
from policypack.render.docx import render_docx
from policypack.render.html import render_html
from policypack.render.pdf import render_pdf
from policypack.resolve import resolve

from tests.test_resolve import edit, project_dir  # noqa: F401 (a fixture: a copy of the base project)

SCHOOL = "schools/demo-school.yaml"
MODEL = "policy_src/demo.yaml"


@pytest.fixture
def root(project_dir):  # noqa: F811
    return project_dir


def resolved(root, org="demo-school"):
    report = Report()
    doc = resolve(load_project(root, report), org, "demo", report)
    assert not report.problems, [p.format() for p in report.problems]
    return doc


def ctx(root):
    return RenderContext(dt.date(2025, 7, 1), root, Path(__file__).parent.parent / "templates")


def with_versions(root):
    """Version and author on two entries; the model's written as YAML numbers (2, 1.10)."""
    edit(root, MODEL, "    - date: 2025-01-01\n", "    - date: 2025-01-01\n      version: 2\n")
    edit(root, SCHOOL, "          summary: Added a local clause.\n",
         "          summary: Added a local clause.\n          version: 1.10\n          author: J Example\n")


def html_tables(data: bytes) -> dict:
    """class -> [header + rows as tuples of cell text] of every table of changes on the page."""
    page = lxml.html.fromstring(data)
    return {t.get("class"): [tuple(" ".join(c.text_content().split()) for c in tr) for tr in t.iter("tr")]
            for t in page.iter("table") if "changes" in t.get("class", "").split()}


def docx_blocks(data: bytes) -> list:
    """The DOCX body in order: ("p", text) for paragraphs, ("table", rows) for data tables."""
    d = docx.Document(io.BytesIO(data))
    out = []
    for child in d.element.body.iterchildren():
        if child.tag.endswith("}p"):
            out.append(("p", docx.text.paragraph.Paragraph(child, d).text))
        elif child.tag.endswith("}tbl"):
            rows = [tuple(c.text for c in r.cells) for r in docx.table.Table(child, d).rows]
            if len(rows[0]) > 1:  # not the key message's one-cell box
                out.append(("table", rows))
    return out


def pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, check=True,
                          capture_output=True).stdout.decode("utf-8")


def table_of(doc) -> list:
    h = doc.history
    return [tuple(label for _, label in h.columns)] + [tuple(row) for row in h.rows]


def test_version_and_author_are_text_and_every_format_shows_the_columns(root):
    with_versions(root)
    doc = resolved(root)
    rows = {r.date: r for r in doc.changes}
    assert rows["2025-06-01"].version == "1.10" and rows["2025-06-01"].author == "J Example"
    assert rows["2025-01-01"].version == "2" and rows["2024-01-01"].version == ""
    expected = [("Version", "Date", "Author", "Paragraphs affected", "Summary", "Changed by"),
                ("1.10", "1 June 2025", "J Example", "1.2", "Added a local clause.", "Demo Primary School"),
                ("2", "1 January 2025", "", "1.1.1, 1.3", "Added phones.", "Model policy"),
                ("", "1 January 2024", "", "All", "Whole review.", "Model policy")]
    assert table_of(doc) == expected
    assert html_tables(render_html(doc, ctx(root))) == {"changes history-appendix": expected}
    assert [b[1] for b in docx_blocks(render_docx(doc, ctx(root), page_numbers=False)) if b[0] == "table"] == [expected]
    text = pdf_text(render_pdf(doc, ctx(root)))
    after = text[text.rindex("Table of changes"):]
    for row in expected:  # cells wrap inside their columns: compare the words
        assert not Counter(" ".join(row).split()) - Counter(after.split()), row


def test_only_the_columns_some_entry_uses_are_shown(root):
    assert table_of(resolved(root))[0] == ("Date", "Paragraphs affected", "Summary", "Changed by")
    assert table_of(resolved(root, "demo-la"))[0] == ("Date", "Paragraphs affected", "Summary")  # the model's only


def test_at_the_front_the_table_comes_before_the_contents_and_its_appendix_goes(root):
    with_versions(root)
    edit(root, SCHOOL, "  numbering: decimal\n", "  numbering: decimal\n  history:\n    place: front\n")
    doc = resolved(root)
    assert "app-changes" not in doc.by_id() and doc.front.history is doc.history and doc.history.rows
    assert doc.history.caption == "Version history"
    expected = table_of(doc)

    page = render_html(doc, ctx(root))
    assert html_tables(page) == {"changes history-front": expected}
    tree = lxml.html.fromstring(page)
    front, toc = tree.find_class("front")[0], tree.find_class("toc")[0]
    assert front.find_class("history-front") and toc.getprevious() is not None
    assert page.index(b"history-front") < page.index(b'class="toc"')
    assert b"Table of changes" not in page

    blocks = docx_blocks(render_docx(doc, ctx(root), page_numbers=False))
    contents = blocks.index(("p", "Contents"))
    assert ("p", "Version history") in blocks[:contents]
    assert [b[1] for b in blocks[:contents] if b[0] == "table"] == [expected]
    assert [b for b in blocks if b[0] == "table"] == [("table", expected)]
    assert not any("Table of changes" in b[1] for b in blocks if b[0] == "p")

    text = pdf_text(render_pdf(doc, ctx(root)))
    assert "Table of changes" not in text
    assert text.index("Version history") < text.index("Contents")
    front_text = text[text.index("Version history"):text.index("Contents")]
    for row in expected:
        assert not Counter(" ".join(row).split()) - Counter(front_text.split()), row


def test_a_copy_never_shows_inherited_entries_dated_after_its_adoption(root):
    edit(root, MODEL, "  changes:\n", "  changes:\n    - date: 2025-09-01\n      summary: Later model change.\n")
    school = resolved(root)
    assert [r.date for r in school.changes] == ["2025-06-01", "2025-01-01", "2024-01-01"]
    assert school.history.left_out == 1
    council = resolved(root, "demo-la")  # no adoption date of its own: everything inherited
    assert [r.date for r in council.changes] == ["2025-09-01", "2025-01-01", "2024-01-01"]
    # a school's own entries show whatever their date
    edit(root, SCHOOL, "        - date: 2025-06-01\n", "        - date: 2026-01-10\n")
    assert resolved(root).changes[0].date == "2026-01-10"


def test_the_adoption_date_is_the_agreed_date_when_the_record_has_no_date(root):
    edit(root, SCHOOL, "    date: 2025-05-16\n", "    agreed_date: 2024-06-01\n")
    assert [r.date for r in resolved(root).changes] == ["2025-06-01", "2024-01-01"]


def test_own_only_shows_the_adopters_entries(root):
    edit(root, SCHOOL, "      variants: {phones: never}\n", "      variants: {phones: never}\n      history: {include: own}\n")
    doc = resolved(root)
    assert [r.layer for r in doc.changes] == ["demo-school"] and doc.history.left_out == 2
    assert table_of(doc)[0] == ("Date", "Paragraphs affected", "Summary")  # one layer: no "Changed by"


def test_an_adoption_recorded_above_makes_that_organisations_entries_the_copys_own(root):
    """The adoption record is replaced whole by the nearest layer that gives one: a school that
    records none shows its council's adoption, so the council's entries are its own too."""
    edit(root, SCHOOL, "  adoption:\n    body: Governing Board\n    date: 2025-05-16\n    chairs: [Ann Chair]\n", "")
    edit(root, "schools/demo-la.yaml", "  policies:\n    demo: {}\n",
         "  adoption:\n    body: Schools Forum\n    date: 2024-06-01\n  history:\n    include: own\n"
         "  policies:\n    demo:\n      changes:\n        - date: 2024-06-01\n          summary: Issued to schools.\n")
    doc = resolved(root)
    assert [(r.date, r.layer) for r in doc.changes] == [("2025-06-01", "demo-school"), ("2024-06-01", "demo-la")]
    edit(root, "schools/demo-la.yaml", "    include: own\n", "    include: inherited\n")
    assert [r.date for r in resolved(root).changes] == ["2025-06-01", "2024-06-01", "2024-01-01"]


def test_the_nearest_layer_chooses_key_by_key(root):
    edit(root, "schools/demo-la.yaml", "  policies:\n", "  history: {place: front, include: own}\n  policies:\n")
    edit(root, SCHOOL, "      variants: {phones: never}\n",
         "      variants: {phones: never}\n      history: {include: inherited}\n")
    doc = resolved(root)
    assert (doc.history.place, doc.history.include) == ("front", "inherited") and len(doc.changes) == 3


# ---- check: an ancestor's authorship on a copy with its own adoption --------------------------
def authorship_warnings(root):
    report = Report()
    resolve(load_project(root, report), "demo-school", "demo", report)
    assert not report.errors, [p.format() for p in report.errors]
    return [p.format() for p in report.warnings]


def test_check_warns_at_the_schools_adoption_when_an_ancestors_author_or_version_shows(root):
    assert authorship_warnings(root) == []  # the model's own version numbers the shared text: not flagged
    edit(root, "schools/demo-la.yaml", "  policies:\n    demo: {}\n",
         "  adoption:\n    written_by: A Adviser\n  policies:\n    demo:\n      version: \"7\"\n")
    got = authorship_warnings(root)
    assert len(got) == 2 and all(w.startswith("schools/demo-school.yaml:7: warning: this organisation records "
                                              "its own adoption") for w in got), got
    assert "Written by 'A Adviser' from Demo County Council (schools/demo-la.yaml:5)" in got[0]
    assert "Version '7' from Demo County Council (schools/demo-la.yaml:9)" in got[1]
    assert "Add 'version:' to this adoption block" in got[1]
    # the school's own values (or the same ones, kept on purpose) silence it
    edit(root, SCHOOL, "    chairs: [Ann Chair]\n", "    chairs: [Ann Chair]\n    written_by: A Adviser\n    version: \"1\"\n")
    assert authorship_warnings(root) == []


def test_a_copy_that_inherits_its_adoption_is_not_warned(root):
    edit(root, SCHOOL, "  adoption:\n    body: Governing Board\n    date: 2025-05-16\n    chairs: [Ann Chair]\n", "")
    edit(root, "schools/demo-la.yaml", "  policies:\n",
         "  adoption:\n    body: Schools Forum\n    date: 2024-06-01\n    author: A Adviser\n  policies:\n")
    assert authorship_warnings(root) == []


def test_explain_shows_the_running_text_and_how_many_entries_show(root):
    from click.testing import CliRunner
    from policypack.cli import main
    edit(root, SCHOOL, "  numbering: decimal\n",
         "  numbering: decimal\n  running: {header: Staff copy, footer: Printed copies go out of date}\n")
    edit(root, MODEL, "  changes:\n", "  changes:\n    - date: 2025-09-01\n      summary: Later model change.\n")
    out = CliRunner().invoke(main, ["explain", "demo-school", "demo", "--root", str(root)]).output
    assert "Running header: Staff copy\nRunning footer: Printed copies go out of date\n" in out
    assert "3 entries shown; 1 entry of the layers above left out" in out
    assert "  adoption   Formally adopted by: Governing Board\n" in out
