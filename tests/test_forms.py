"""Forms (declarations, approval forms): a `form:` on a node becomes one Form block, laid out in
HTML (no <input>, boxes drawn by CSS), in the PDF at its full height on paper, and in the DOCX as
label cells and empty entry cells of exact heights; and underscores in clause text never vanish.
"""
from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import docx
import lxml.html
import pytest
from click.testing import CliRunner

from policypack import markup
from policypack.cli import main
from policypack.errors import Loc, Report
from policypack.load import load_project
from policypack.model import (BLANK, LINE_MM, TICK_BOX, Form, FormField, FormTable, Para, Text, blocks_text)
from policypack.render.docx import form_height
from policypack.resolve import resolve
from tests.helpers import pdf_pages
from tests.helpers_docx import docx_to_pdf

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

# written for this test, in a clause of the mini fixture's policy
FORM_APPENDIX = textwrap.indent(textwrap.dedent("""\
    - id: app-form
      title: Request form
      text: |
        Return this form to the office. Your initials: ______ (in capitals), or (____) if none.

        Checked by
        ______
      form:
        - field: Full name
        - field: Why you are asking, at **{{ organisation }}**
          lines: 4
        - tick: I have read this {{ policy_kind }}
        - choices: [Agreed, Not agreed]
          label: Outcome
        - table: [Post held, Start date]
        - table: [Member of staff, Manager]
          columns: [Name, Signature]
          lines: 2
        - signature: Signed by the applicant
        - signature: Countersigned
          date: false
"""), "    ")

EXPECTED_TEXT = "\n".join([
    "Return this form to the office. Your initials: ______ (in capitals), or (____) if none.",
    "Checked by",
    BLANK,
    f"Full name: {BLANK}",
    f"Why you are asking, at Demo Primary School: {BLANK} (4 lines)",
    f"{TICK_BOX} I have read this policy",
    f"Outcome: {TICK_BOX} Agreed  {TICK_BOX} Not agreed",
    f"Post held | {BLANK}",
    f"Start date | {BLANK}",
    " | Name | Signature",
    f"Member of staff | {BLANK} (2 lines) | {BLANK} (2 lines)",
    f"Manager | {BLANK} (2 lines) | {BLANK} (2 lines)",
    f"Signed by the applicant: {BLANK}  Date: {BLANK}",
    f"Countersigned: {BLANK}",
])


def form_project(tmp: Path) -> Path:
    root = tmp / "forms"
    shutil.copytree(MINI, root)
    demo = root / "policy_src" / "demo.yaml"
    text = demo.read_text(encoding="utf-8")
    demo.write_text(text.replace("    - id: app-changes\n", FORM_APPENDIX + "    - id: app-changes\n", 1), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = form_project(tmp_path_factory.mktemp("forms"))
    out = root.parent / "out"
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--school", "demo-school", "--out", str(out),
                                       "--format", "html,pdf,docx"])
    assert result.exit_code == 0, result.output
    return root, out / "demo-school"


def test_the_form_is_one_block_after_the_text_with_its_plain_text(built):
    root, _ = built
    doc = resolve(load_project(root, Report()), "demo-school", "demo", Report())
    node = doc.by_id()["app-form"]
    assert [type(b) for b in node.blocks] == [Para, Para, Form, Form]
    assert node.text == EXPECTED_TEXT


def test_html_shows_labels_lines_boxes_and_tick_boxes_without_inputs(built):
    _, out = built
    page = (out / "demo.html").read_text(encoding="utf-8")
    assert "<input" not in page and "<form" not in page
    section = lxml.html.fromstring(page).get_element_by_id("c-app-form")
    labels = [" ".join(e.text_content().split()) for e in section.find_class("form-label")]
    assert labels == ["Full name", "Why you are asking, at Demo Primary School", "Outcome",
                      "Signed by the applicant", "Date", "Countersigned"]
    assert section.find_class("form-label")[1].find("strong").text == "Demo Primary School"
    box = section.find_class("write-box")[0]
    assert len(box.find_class("write-row")) == 4
    ticks = [" ".join(e.text_content().split()) for e in section.find_class("form-tick")]
    assert ticks == [f"{TICK_BOX} I have read this policy"]
    assert [li.text_content() for li in section.find_class("form-choices")[0].iter("li")] == \
        [f"{TICK_BOX} Agreed", f"{TICK_BOX} Not agreed"]
    first, second = section.find_class("form-table")
    assert [th.text_content() for th in first.iter("th")] == ["Post held", "Start date"]
    assert first.find("thead") is None  # a label/entry table has no header row
    assert [th.text_content() for th in second.find("thead").iter("th")] == ["", "Name", "Signature"]
    assert all(len(td.find_class("write-row")) == 2 for td in second.find("tbody").iter("td"))
    assert len(section.find_class("write-line")) == 1 + 1 + 2 + 1  # underscores, field, signature + date, countersigned


def test_pdf_writing_space_is_the_given_height_on_paper(built):
    """WeasyPrint lays the page out as render_pdf does: the 4-line box is 4 x 8 mm inside its border,
    each line to write on is 8 mm above the text's baseline."""
    from weasyprint import HTML
    _, out = built
    document = HTML(string=(out / "demo.html").read_text(encoding="utf-8")).render()
    boxes = [b for page in document.pages for b in page._page_box.descendants()
             if getattr(b, "element_tag", None) in ("div", "span") and b.element is not None]
    mm = 96 / 25.4
    box = next(b for b in boxes if "write-box" in (b.element.get("class") or ""))
    assert box.height == pytest.approx(4 * LINE_MM * mm, abs=0.5)
    assert box.border_top_width > 0 and box.border_left_width > 0
    lines = [b for b in boxes if (b.element.get("class") or "").startswith("write-line")]
    assert lines and all(b.border_bottom_width > 0 and b.border_height() == pytest.approx(LINE_MM * mm, abs=0.5)
                         for b in lines)


def test_pdf_text_has_every_label_and_box(built):
    _, out = built
    text = " ".join(" ".join(pdf_pages(out / "demo.pdf", layout=False)).split())
    for words in ("Your initials: ______ (in capitals), or (____) if none.", "Full name",
                  "Why you are asking, at Demo Primary School", f"{TICK_BOX} I have read this policy",
                  f"Outcome {TICK_BOX} Agreed {TICK_BOX} Not agreed", "Post held", "Name Signature",
                  "Signed by the applicant Date", "Countersigned"):
        assert words in text, words


def _height(row):
    h = row._tr.find(f"{W}trPr/{W}trHeight")
    return (int(h.get(f"{W}val")), h.get(f"{W}hRule")) if h is not None else None


def _borders(cell) -> set:
    b = cell._tc.find(f"{W}tcPr/{W}tcBorders")
    return {el.tag.replace(W, "") for el in b} if b is not None else set()


def test_docx_entry_cells_have_exact_heights_and_drawn_lines(built):
    _, out = built
    d = docx.Document(str(out / "demo.docx"))
    assert form_height(1) == round(LINE_MM / 25.4 * 1440)
    box = next(t for t in d.tables if len(t.rows) == 1 and len(t.columns) == 1 and _height(t.rows[0])
               and _height(t.rows[0])[1] == "exact")
    assert _height(box.rows[0]) == (form_height(4), "exact")
    assert _borders(box.cell(0, 0)) == {"top", "left", "bottom", "right"}
    field = next(t for t in d.tables if t.cell(0, 0).text == "Full name")
    assert field.cell(0, 1).text == "" and _borders(field.cell(0, 1)) == {"bottom"}
    assert _height(field.rows[0]) == (form_height(1), "atLeast")
    sign = next(t for t in d.tables if t.cell(0, 0).text == "Signed by the applicant")
    assert [c.text for c in sign.rows[0].cells] == ["Signed by the applicant", "", "Date", ""]
    assert [_borders(c) for c in sign.rows[0].cells] == [set(), {"bottom"}, set(), {"bottom"}]
    counter = next(t for t in d.tables if t.cell(0, 0).text == "Countersigned")
    assert len(counter.columns) == 2
    staff = next(t for t in d.tables if len(t.columns) == 3 and t.cell(0, 1).text == "Name")
    assert [c.text for c in staff.rows[0].cells] == ["", "Name", "Signature"]
    assert staff.rows[0]._tr.find(f"{W}trPr/{W}tblHeader") is not None
    assert [_height(r) for r in staff.rows[1:]] == [(form_height(2), "atLeast")] * 2
    texts = [p.text for p in d.paragraphs]
    assert f"{TICK_BOX}\tI have read this policy" in texts
    assert f"Outcome\u2003{TICK_BOX} Agreed\u2003{TICK_BOX} Not agreed" in texts
    assert "Why you are asking, at Demo Primary School" in texts
    assert any("Your initials: ______ (in capitals), or (____) if none." in t for t in texts)


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice lays the DOCX out")
def test_docx_opens_and_lays_out_in_libreoffice(built, tmp_path):
    _, out = built
    text = " ".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(docx_to_pdf(out / "demo.docx", tmp_path)),
                                    "-"], check=True, capture_output=True, text=True).stdout.split())
    for words in ("(____) if none.", "Full name", f"{TICK_BOX} I have read this policy", "Post held",
                  "Signed by the applicant Date"):
        assert words in text, words


# ---- underscores and rules in clause text --------------------------------------------------
def parse(text: str):
    report = Report()
    return markup.parse(text, Loc("x.yaml", 10), report, lambda *a: None), report


@pytest.mark.parametrize("text", ["Name: ______ and date: ____", "(____) and (____)", "I, ____, of ____Street____",
                                  "Pupil ___name___ here", "Name:______"])
def test_runs_of_underscores_in_text_are_kept(text):
    blocks, report = parse(text)
    assert blocks_text(blocks) == text and not report.problems


def test_underscores_in_code_and_emphasis_keep_their_meaning():
    blocks, _ = parse("`a___b` and __bold__ and <https://example.org/a___b>")
    assert blocks_text(blocks) == "a___b and bold and https://example.org/a___b"


def test_a_line_of_underscores_is_a_writing_line():
    blocks, report = parse("Signed\n_______\n___\n\nNext")
    assert blocks == [Para((Text("Signed"),)), Form((FormField(()), FormField(()))), Para((Text("Next"),))]
    assert not report.problems


@pytest.mark.parametrize("text,line,found", [("a\n\n---\n\nb", 12, "'---' draws a horizontal rule"),
                                             ("a\n\n***", 12, "'***' draws a horizontal rule"),
                                             ("first\nSigned\n------", 12, "'---' under this text makes it a Markdown heading")])
def test_rules_are_errors_that_say_what_to_write(text, line, found):
    _, report = parse(text)
    (problem,) = report.problems
    assert problem.loc.line == line and found in problem.message and "underscores" in problem.hint


def test_form_table_plain_text_without_columns():
    assert blocks_text([Form((FormTable(((Text("Name"),),)),))]) == f"Name | {BLANK}"


def test_diff_and_redline_see_a_changed_form(built, tmp_path):
    """The redline's formatted runs spell the plain text exactly, and a form whose box grows is a
    changed clause in `diff`."""
    from policypack.diff import diff_policies
    from policypack.redline_docx import _block_runs
    root, _ = built
    old = resolve(load_project(root, Report()), "demo-school", "demo", Report())
    node = old.by_id()["app-form"]
    assert "".join(t for t, _ in _block_runs(node.blocks)) == node.text
    changed = tmp_path / "changed"
    shutil.copytree(root, changed)
    demo = changed / "policy_src" / "demo.yaml"
    demo.write_text(demo.read_text(encoding="utf-8").replace("lines: 4", "lines: 6"), encoding="utf-8")
    new = resolve(load_project(changed, Report()), "demo-school", "demo", Report())
    assert [c.id for c in diff_policies(old, new).changed] == ["app-form"]
