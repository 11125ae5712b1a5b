"""Front matter is computed once (policypack.frontmatter) and every format lays out the same rows:
same labels, same order, same values, for every shipped document; and layers can edit the rows.

HTML is read from its DOM, the DOCX from its paragraphs and tables (no LibreOffice layout: the
cover does not depend on page numbers), the PDF with pdftotext. The PDF is rendered from the same
resolved document with its body left out: the front matter is computed before any writer runs
and does not depend on the clauses the writer lays out after it, and a whole PDF per shipped
document would take about 35 s here.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import subprocess
import textwrap
from collections import Counter
from pathlib import Path

import docx
import lxml.html
import pytest

from policypack.errors import Failed, Report
from policypack.load import load_project
from policypack.render import RenderContext
from policypack.render.docx import render_docx
from policypack.render.html import render_html
from policypack.render.pdf import render_pdf
from policypack.resolve import resolve

ROOT = Path(__file__).resolve().parent.parent
PROJECT = load_project(ROOT, Report())
DOCS = {(o, p): resolve(PROJECT, o, p, Report()) for o in sorted(PROJECT.organisations) for p in PROJECT.published(o)}
CASES = sorted(DOCS)
AS_OF = dt.date(2026, 11, 24)  # some shipped documents are overdue, some due soon on this date
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def ctx(root=ROOT):
    return RenderContext(AS_OF, root, root / "templates")


# ---- each format's front matter, as a list of (what, text...) ---------------------------------
def from_html(data: bytes) -> list:
    front = lxml.html.fromstring(data).find_class("front")[0]
    out = []
    for el in front.iter():
        cls = el.get("class") or ""
        if el.tag == "p" and cls == "banner":
            out.append(("banner", norm(el.text_content())))
        elif el.tag == "p" and "summary" in cls.split():
            out.append(("summary", norm(el.text_content())))
        elif el.tag == "p" and "notice" in cls.split():
            out.append(("notice", norm(el.text_content())))
        elif el.tag == "div" and cls == "statement":
            out.append(("statement", norm(el.text_content())))
        elif el.tag == "dt":
            out.append(("row", norm(el.text_content()), norm(el.getnext().text_content())))
        elif el.tag == "tr" and el.getparent().getparent().get("class") in ("details", "adoption-rows"):
            out.append(("row", norm(el[0].text_content()), norm(el[1].text_content())))
        elif el.tag == "tr" and el.getparent().tag == "tbody" and el.getparent().getparent().get("class") == "approvals":
            out.append(("approval",) + tuple(norm(c.text_content()) for c in el))
        elif el.tag == "caption" and "history-front" in el.getparent().get("class", ""):
            out.append(("history-caption", norm(el.text_content())))
        elif el.tag == "tr" and "history-front" in el.getparent().getparent().get("class", ""):
            out.append(("history",) + tuple(norm(c.text_content()) for c in el))
    return out


def from_docx(data: bytes) -> list:
    """The cover: every paragraph and table before the contents."""
    d = docx.Document(io.BytesIO(data))
    out, statement = [], []
    for child in d.element.body.iterchildren():
        if child.tag == W + "p":
            p = docx.text.paragraph.Paragraph(child, d)
            style, text = p.style.name, norm(p.text)
            if style == "TOC Heading" or text == "Contents":
                break
            if style == "Banner":
                out.append(("banner", text))
            elif style == "Summary":
                out.append(("summary", text))
            elif style == "Notice":
                out.append(("notice", text))
            elif style == "Cover Heading":
                out.append(("history-caption", text))
            elif style == "Cover Detail":
                label, _, value = p.text.partition("\t")
                out.append(("row", norm(label), norm(value)))
            elif style == "Normal" and text and all(r.italic for r in p.runs if r.text.strip()):
                statement.append(text)
                if not out or out[-1][0] != "statement":
                    out.append(("statement", ""))
                out[-1] = ("statement", " ".join(statement))
        elif child.tag == W + "tbl":
            rows = [tuple(norm(c.text) for c in row.cells) for row in docx.table.Table(child, d).rows]
            if rows[0] == ("Stage", "Name", "Date"):
                out += [("approval",) + row for row in rows[1:]]
            else:  # the version history: its header row, then its rows
                out += [("history",) + row for row in rows]
    return out


def pdf_cover_text(data: bytes) -> str:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, check=True,
                          capture_output=True).stdout.decode("utf-8")
    return norm(text.split("Contents")[0])


def assert_in_order(items: list, text: str):
    """Every piece of every item appears in `text`, in the order given."""
    at = 0
    for item in items:
        for piece in item[1:]:
            if not piece:
                continue
            found = text.find(piece, at)
            assert found >= 0, f"{piece!r} ({item[0]}) not found after position {at} in: {text[at:at + 300]!r}"
            at = found + len(piece)


def expected(doc) -> list:
    """What the resolved front matter says, in the writers' order."""
    f = doc.front
    out = [("banner", " · ".join(f"{r.label}: {r.text}" for r in f.banner))] if f.banner else []
    out += [("summary", f.summary)] if f.summary else []
    from policypack.render import format_date
    notice = f.notice(AS_OF, format_date)
    if notice:
        out.append(("notice", f"{notice[1]} {notice[2]}"))
    if f.statement:
        from policypack.model import blocks_text
        out.append(("statement", norm(blocks_text(f.statement))))
    out += [("row", r.label, r.text) for r in f.adoption + f.details]
    out += [("approval",) + tuple(a) for a in f.approvals]
    if f.history:
        out.append(("history-caption", f.history.caption))
        out += [("history",) + tuple(label for _, label in f.history.columns)]
        out += [("history",) + row for row in f.history.rows]
    return out


@pytest.mark.parametrize("org,policy", CASES, ids=[f"{o}-{p}" for o, p in CASES])
def test_html_and_docx_lay_out_the_same_front_matter(org, policy):
    doc = DOCS[org, policy]
    html = from_html(render_html(doc, ctx()))
    assert [x for x in html if x[0] == "row"], "every document has document details"
    assert from_docx(render_docx(doc, ctx(), page_numbers=False)) == html
    assert html == expected(doc)


@pytest.mark.parametrize("org,policy", CASES, ids=[f"{o}-{p}" for o, p in CASES])
def test_pdf_shows_the_same_front_matter_in_the_same_order(org, policy):
    doc = DOCS[org, policy]
    cover_only = dataclasses.replace(doc, sections=[], appendices=[])
    assert_pdf_front(expected(doc), pdf_cover_text(render_pdf(cover_only, ctx())))


def words(text: str) -> list:
    return [w for w in re.split(r"[\s\-]+", text) if w]


def assert_pdf_front(items: list, text: str):
    """The front matter in order; a version history's cells wrap inside their columns, so its words
    are compared as a bag, after its caption."""
    table = [piece for item in items if item[0] == "history" for piece in item[1:]]
    assert_in_order([item for item in items if item[0] != "history"], text)
    if table:
        caption = next(item[1] for item in items if item[0] == "history-caption")
        missing = Counter(words(" ".join(table))) - Counter(words(text[text.rindex(caption):]))
        assert not missing, f"the PDF's version history lacks {sorted(missing)}"


def test_the_shipped_covers_use_one_wording():
    """The labels the formats used to disagree on, the rows the DOCX used to drop, and the box
    Porthaven's settings show above the title (cover rows placed in the banner, no longer a
    template override that only the HTML could see)."""
    fed = DOCS["saltmarsh-federation", "social-media"]
    rows = {r.label: r.text for r in fed.front.adoption}
    assert rows["Formally adopted by"].startswith("Governing Board")
    assert rows["Co-chairs of Governors"] == "Agnes Thornbury & Kofi Mensah-Hale"
    got = from_docx(render_docx(fed, ctx(), page_numbers=False))
    assert ("row", "Formally adopted by", rows["Formally adopted by"]) in got
    assert any(x[:2] == ("row", "Maintained by") for x in got)
    assert got[0] == ("summary", fed.front.summary) and fed.front.summary
    assert ("statement", "The Governing Board has adopted this policy for both schools in the federation "
            "and will keep it under review.") in got


def test_review_notice_follows_the_as_of_date():
    doc = next(d for d in DOCS.values() if d.next_review)
    from policypack.render import format_date
    due = doc.next_review
    assert doc.front.notice(due + dt.timedelta(days=1), format_date)[0] == "overdue"
    assert doc.front.notice(due - dt.timedelta(days=30), format_date)[0] == "due-soon"
    assert doc.front.notice(due - dt.timedelta(days=400), format_date) is None
    soon = RenderContext(due - dt.timedelta(days=30), ROOT, ROOT / "templates")
    notice = [x for x in from_docx(render_docx(doc, soon, page_numbers=False)) if x[0] == "notice"]
    assert notice == [x for x in from_html(render_html(doc, soon)) if x[0] == "notice"]
    assert notice and notice[0][1].startswith("Review due soon.")
    acorns = DOCS["little-acorns-nursery-school", "social-media"]
    assert [(r.label, r.text) for r in acorns.front.banner] == [("Setting", "Little Acorns Nursery School"),
                                                                 ("Date adopted", "24 February 2026")]
    assert not acorns.front.adoption
    assert not DOCS["porthaven-city-council", "social-media"].front.banner


# ---- layers edit the cover --------------------------------------------------------------------
ACORNS = "schools/little-acorns-nursery-school.yaml"


def project_with(tmp_path, edits: str):
    """The shipped project with `edits` (YAML under the school's social-media policy) added."""
    import shutil
    for name in ("policy_src", "schools", "templates"):
        shutil.copytree(ROOT / name, tmp_path / name)
    path = tmp_path / ACORNS
    text = path.read_text(encoding="utf-8")
    text = text.replace("    social-media:\n", "    social-media:\n" + textwrap.indent(textwrap.dedent(edits), " " * 6), 1)
    path.write_text(text, encoding="utf-8")
    report = Report()
    try:
        project = load_project(tmp_path, report)
        doc = resolve(project, "little-acorns-nursery-school", "social-media", report)
    except Failed:  # reported
        doc = None
    return doc, report


def test_a_layer_adds_relabels_moves_and_removes_rows_and_overrides_summary_and_owner(tmp_path):
    doc, report = project_with(tmp_path, """
        summary: In short, for {{ organisation }}.
        owner: The {{ head }} and the school business manager
        cover:
          - label: Audience
            value: Everyone at {{ organisation }}, see [the code](https://example.org/code)
            after: Type
          - label: Maintained by
            relabel: Policy owner
          - label: Address
            remove: true
          - label: Version
            place: banner
    """)
    assert not report.problems, [p.format() for p in report.problems]
    f = doc.front
    assert f.summary == "In short, for Little Acorns Nursery School."
    labels = [r.label for r in f.details]
    assert labels[:4] == ["Reference", "Type", "Audience", "Policy owner"] and "Address" not in labels
    assert [r.label for r in f.banner] == ["Setting", "Date adopted", "Version"]
    html = from_html(render_html(doc, ctx(tmp_path)))
    assert html == from_docx(render_docx(doc, ctx(tmp_path), page_numbers=False)) == expected(doc)
    assert ("row", "Audience", "Everyone at Little Acorns Nursery School, see the code") in html
    assert ("row", "Policy owner", "The Headteacher and the school business manager") in html
    page = render_html(doc, ctx(tmp_path)).decode()
    assert '<a href="https://example.org/code">the code</a>' in page
    assert_pdf_front(expected(doc), pdf_cover_text(render_pdf(dataclasses.replace(doc, sections=[], appendices=[]),
                                                              ctx(tmp_path))))


def test_cover_edits_that_name_nothing_are_reported_with_a_suggestion(tmp_path):
    doc, report = project_with(tmp_path, """
        cover:
          - label: Maintaned by
            relabel: Owner
          - label: Audience
            value: All staff
            before: Refrence
    """)
    text = "\n".join(p.format() for p in report.problems)
    assert "cover row 'Maintaned by' is not on this cover" in text and "Maintained by" in text
    assert "cover row 'Refrence' (named by 'before') is not on this cover" in text and "Reference" in text
    (tmp_path / "2").mkdir()
    _, report = project_with(tmp_path / "2", """
        cover:
          - label: Type
            remove: true
            value: x
            plac: banner
    """)
    text = "\n".join(p.format() for p in report.problems)
    assert "a cover row that is removed takes no other keys" in text
    assert "unknown key 'plac' in a cover row" in text and "place" in text
    assert ACORNS in text and "Traceback" not in text


def test_running_header_and_footer_set_in_yaml_reach_pdf_and_docx(tmp_path):
    doc, report = project_with(tmp_path, """
        running:
          header: Staff copy for {{ organisation }}
          footer: Uncontrolled when printed
    """)
    assert not report.problems, [p.format() for p in report.problems]
    assert (doc.front.running_header, doc.front.running_footer) == (
        "Staff copy for Little Acorns Nursery School", "Uncontrolled when printed")
    pages = [norm(p) for p in subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=render_pdf(doc, ctx(tmp_path)), check=True,
        capture_output=True).stdout.decode("utf-8").split("\f") if p.strip()]
    assert len(pages) > 2
    for page in pages[1:]:  # the cover has no running header
        assert "Staff copy for Little Acorns Nursery School" in page and "Uncontrolled when printed" in page
        assert "HR-P12" not in page  # the footer's default text, reference and version, is replaced
    d = docx.Document(io.BytesIO(render_docx(doc, ctx(tmp_path), page_numbers=False)))
    header, footer = d.sections[0].header.paragraphs[0].text, d.sections[0].footer.paragraphs[0].text
    assert header == "Staff copy for Little Acorns Nursery School\tLittle Acorns Nursery School"
    assert footer.startswith("Uncontrolled when printed\tPage ")
    page = lxml.html.fromstring(render_html(doc, ctx(tmp_path)))
    assert [norm(p.text_content()) for p in page.find_class("running")[0]] == [
        "Staff copy for Little Acorns Nursery School", "Uncontrolled when printed"]


def test_relabelled_reference_and_version_rows_keep_the_default_footer(tmp_path):
    """The running footer is computed once from the reference and version, not read back from the
    cover rows' labels, so a layer that relabels those rows keeps it in every format."""
    doc, report = project_with(tmp_path, """
        cover:
          - label: Reference
            relabel: Policy number
          - label: Version
            relabel: Issue
    """)
    assert not report.problems, [p.format() for p in report.problems]
    footer = f"{doc.reference}  \u00b7  Version {doc.version}"
    assert doc.reference and doc.front.running_footer == footer
    assert "Policy number" in [r.label for r in doc.front.details]
    pages = [norm(p) for p in subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=render_pdf(doc, ctx(tmp_path)), check=True,
        capture_output=True).stdout.decode("utf-8").split("\f") if p.strip()]
    assert all(norm(footer) in page for page in pages), "every page's footer shows the reference and version"
    d = docx.Document(io.BytesIO(render_docx(doc, ctx(tmp_path), page_numbers=False)))
    assert d.sections[0].footer.paragraphs[0].text.startswith(footer + "\tPage ")
