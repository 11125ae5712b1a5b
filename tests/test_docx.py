"""The DOCX writer, read back the way people and tools read it: LibreOffice lays it out, poppler reads
the PDF, and the package's XML is checked for what Word relies on (styles, bookmarks, fields)."""
import copy
import dataclasses
import datetime as dt
import html
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
import yaml
from lxml import etree

from policypack.errors import Report
from policypack.load import load_project
from policypack.model import Emph, Link, ListBlock, Para, Strong, Table, Text, XRef
from policypack.render import RenderContext
from policypack.render.docx import bookmark_name, heading_text, outline_pages, render_docx
from policypack.resolve import resolve
from tests.helpers import expected_margin_labels, pdf_pages
from tests.helpers_docx import docx_paragraph_numbers, docx_to_pdf

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
NS = {"w": W[1:-1]}
AS_OF = dt.date(2026, 1, 15)
needs_libreoffice = pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")

SENTENCES = [
    "Staff keep their personal accounts private and check the settings at the start of each term.",
    "A member of staff who is unsure what to do asks their line manager before acting, not afterwards.",
    "The school reviews these arrangements with the recognised unions and publishes any change to staff.",
    "Records made under this section are stored securely and kept only for as long as they are needed.",
    "Where a situation is not covered here, staff use their professional judgement and ask for advice.",
    "Leaders apply this section consistently, so that similar conduct leads to similar outcomes for everyone.",
]


def _text(i, n=3):
    return " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(n))


def _policy():
    sections = []
    for s in range(1, 17):
        clauses = [{"id": f"s{s}-c{c}", "text": _text(s + c)} for c in range(1, 6)]
        sections.append({"id": f"s{s}", "title": f"Section {s} of the policy", "clauses": clauses})
    sections[3]["title"] = "Scope"  # shorter than the number column
    sections[1]["title"] = ("Arrangements for monitoring, recording and reporting the use of school systems "
                            "and personal devices by staff, volunteers and visiting contractors")
    sections[0]["clauses"][0]["text"] = ("This policy applies to all staff. See paragraph {{ ref('s3-c2') }}, "
                                         "section {{ ref('s5') }} and {{ ref('app-contacts') }}.")
    sections[2]["clauses"][1].update(title="Expectations", clauses=[
        {"id": "s3-c2-a", "text": "Staff must:\n\n1. think first;\n2. act:\n   1. calmly;\n   2. quickly.",
         "clauses": [{"id": "s3-c2-a-x", "text": "A third-level clause: " + _text(2, 1)}]},
        {"id": "s3-c2-b", "text": "- a bullet point;\n- another, with a [link](https://www.gov.uk)."}])
    sections[4]["clauses"][0]["text"] = ("Contacts are listed below.\n\n| Role | Contact |\n| --- | --- |\n"
                                         "| Office | 01632 960 000 |\n| Head | head@example.org |")
    return {"policy": {
        "id": "demo", "title": "Staff conduct online policy", "reference": "HR-T1", "kind": "policy",
        "version": "3.1", "review_cycle_months": 12, "owner": "HR",
        "key_message": "**Think before you post.** Never discuss pupils online.",
        "sections": sections,
        "appendices": [
            {"id": "app-contacts", "title": "Useful contacts", "text": "Lead-in text for the appendix.",
             "clauses": [{"id": "app-c1", "text": "Call [0344 000 000](tel:0344000000)."}]},
            {"id": "app-changes", "title": "Table of changes", "generated": "changes"},
            {"id": "app-history", "title": "Review history", "generated": "review-history"}],
        "changes": [{"date": "2025-09-01", "summary": "Added expectations.", "clauses": ["s3-c2"]},
                    {"date": "2024-09-01", "summary": "Whole policy reviewed.", "clauses": "all"}],
    }}


def _school(oid, numbering, **extra):
    org = {"id": oid, "name": f"{oid.replace('-', ' ').title()} School", "kind": "school", "extends": "demo-la",
           "numbering": numbering, "policies": {"demo": {}}}
    org.update(extra)
    return {"organisation": org}


def write_project(root: Path) -> Path:
    """A policy long enough for two-digit page numbers, and one school per numbering style."""
    (root / "policy_src" / "library").mkdir(parents=True)
    (root / "schools" / "assets").mkdir(parents=True)
    (root / "policy_src" / "library" / "common.yaml").write_text(yaml.safe_dump({"library": {"variables": {}}}))
    (root / "policy_src" / "demo.yaml").write_text(yaml.safe_dump(_policy(), sort_keys=False, width=1000))
    from PIL import Image
    Image.new("RGB", (120, 60), (29, 79, 145)).save(root / "schools" / "assets" / "logo.png")
    (root / "schools" / "assets" / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')
    orgs = [
        {"organisation": {"id": "demo-la", "name": "Demo Borough Council", "kind": "local-authority",
                          "policies": {"demo": {}}}},
        _school("oak-primary", "decimal", branding={"logo": "assets/logo.png", "colour": "#1d4f91"},
                adoption={"body": "Governing Board", "date": "2025-05-16", "chairs": ["Ann Chair", "Bo Chair"],
                          "chair_title": "Co-chairs of Governors", "statement": "Adopted at the summer meeting.",
                          "written_by": "J Writer", "agreed_by": "Full Governing Board", "agreed_date": "2025-06-10"},
                approvals=[{"label": "CEO approval", "name": "Dr A Example", "date": "2025-09-01"}],
                review={"last_reviewed": "2024-09-01", "next_review": "2025-09-01"},
                review_history=["2018-09-01", "2024-09-01"],
                policies={"demo": {"changes": [{"date": "2025-10-01", "summary": "Local contacts.",
                                                "clauses": ["app-c1"]}]}}),
        _school("ash-primary", "flat", branding={"logo": "assets/logo.svg", "font": "Liberation Serif"},
                review={"last_reviewed": "2025-09-01"}),
        _school("elm-primary", "decimal-alpha"),
        _school("fir-primary", "decimal-dot"),
    ]
    for org in orgs:
        (root / "schools" / f"{org['organisation']['id']}.yaml").write_text(yaml.safe_dump(org, sort_keys=False))
    return root


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    return write_project(tmp_path_factory.mktemp("docx-project"))


def resolved(root, org):
    report = Report()
    doc = resolve(load_project(root), org, "demo", report)
    assert not report.errors, [p.format() for p in report.errors]
    return doc


def context(root):
    return RenderContext(as_of=AS_OF, project_root=root, template_dir=root / "templates")


@pytest.fixture(scope="session")
def built(project, tmp_path_factory):
    """org -> (resolved policy, its DOCX with page numbers laid out by LibreOffice when installed)."""
    cache = {}

    def get(org):
        if org not in cache:
            doc = resolved(project, org)
            path = tmp_path_factory.mktemp(org) / f"{org}.docx"
            path.write_bytes(render_docx(doc, context(project)))
            cache[org] = doc, path
        return cache[org]
    return get


@pytest.fixture(scope="session")
def oak(built):
    return built("oak-primary")[0]


@pytest.fixture(scope="session")
def oak_docx(built):
    return built("oak-primary")[1]


@pytest.fixture(scope="session")
def oak_pdf(oak_docx):
    return docx_to_pdf(oak_docx, oak_docx.parent)


def part(docx_bytes, name):
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as z:
        return etree.fromstring(z.read(name))


def document(path_or_bytes):
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    return part(data, "word/document.xml")


def contents_entries(body):
    """[(anchor, entry text, page or None)] of the TOC field's result."""
    begin = body.xpath("//w:p[w:r/w:instrText[starts-with(normalize-space(.), 'TOC ')]]", namespaces=NS)
    assert len(begin) == 1, "exactly one TOC field"
    entries = []
    for p in [begin[0]] + begin[0].xpath("following-sibling::w:p", namespaces=NS):
        for link in p.xpath("w:hyperlink", namespaces=NS):
            text = text_of(link)
            if link.xpath(".//w:instrText[contains(., 'PAGEREF')]", namespaces=NS):
                text, page = text.rsplit("\t", 1)
            else:
                page = None
            entries.append((link.get(W + "anchor"), text, page))
        if p.xpath("w:r/w:fldChar[@w:fldCharType='end']", namespaces=NS):
            return entries
    raise AssertionError("the TOC field is never closed")


def text_of(el):
    """What a paragraph (or any element) reads as, tabs included."""
    return "".join("\t" if x.tag == W + "tab" else x.text or "" for r in el.iter(W + "r")
                   for x in r if x.tag in (W + "t", W + "tab"))


def bookmarks(body):
    return {b.get(W + "name") for b in body.iter(W + "bookmarkStart")}


def squash(text):
    return re.sub(r"\s+", " ", text).strip()


# ---- layout: LibreOffice reads it and shows it in order ---------------------------------------
@needs_libreoffice
@pytest.mark.parametrize("org", ["oak-primary", "ash-primary"])
def test_libreoffice_shows_every_heading_in_order_with_its_page_in_the_contents(built, org):
    doc, path = built(org)
    pdf = docx_to_pdf(path, path.parent)
    tops = doc.sections + doc.appendices
    entries = contents_entries(document(path))
    assert [e[1] for e in entries] == [heading_text(n) for n in tops]
    assert all(e[2] for e in entries), "LibreOffice is installed, so every entry has a page number"
    lines = [(page, squash(line)) for page, text in enumerate(pdf_pages(pdf), 1) for line in text.splitlines()]
    # the contents: each entry ends in a dot leader and its page number, numbered or not
    leaders = [re.fullmatch(r".*?[^. ] ?\.{4,} ?(\d+)", line) for page, line in lines if page == 2]
    assert [m.group(1) for m in leaders if m] == [e[2] for e in entries]
    # find each heading where a reader finds it: the first line after the previous heading that reads
    # like the heading (the contents lines carry dot leaders and a number, so they never match)
    where, i = [], 0
    for n in tops:
        want = squash(heading_text(n))
        while not (lines[i][1] == want or (len(lines[i][1]) > 20 and want.startswith(lines[i][1]))):
            i += 1
            assert i < len(lines), f"heading {want!r} is not in LibreOffice's PDF, or is out of order"
        where.append(str(lines[i][0]))
    assert [e[2] for e in entries] == where
    assert int(where[-1]) >= 10, "the fixture is long enough to need two-digit page numbers"
    assert outline_pages(pdf) == where


@needs_libreoffice
@pytest.mark.parametrize("org", ["oak-primary", "ash-primary", "elm-primary", "fir-primary"])
def test_clause_numbers_are_the_first_token_of_their_line_in_order(project, org, tmp_path):
    doc = resolved(project, org)
    path = tmp_path / "p.docx"
    path.write_bytes(render_docx(doc, context(project), page_numbers=False))
    expected = expected_margin_labels(doc)
    assert len(expected) > 80
    assert docx_paragraph_numbers(path) == expected


@needs_libreoffice
def test_pdftotext_reads_every_clause_with_its_number(oak, oak_pdf):
    text = squash(" ".join(pdf_pages(oak_pdf)))
    pos = 0
    for n in oak.walk():
        first = n.title or (n.text.split("\n")[0][:40] if n.text else "")
        needle = squash(f"{n.label} {first}" if n.kind != "appendix" else heading_text(n))
        found = text.find(needle, pos)
        assert found >= 0, f"{n.id}: {needle!r} not found after position {pos}"
        pos = found


def pdf_words(pdf, page):
    """[(x, y, word)] of one page, as poppler places them."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         check=True, capture_output=True, text=True).stdout
    return [(float(x), float(y), html.unescape(w)) for x, y, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', out)]


@needs_libreoffice
def test_a_clause_opening_with_a_list_has_its_number_on_the_first_items_line(project, oak, tmp_path):
    doc = copy.deepcopy(oak)
    by = doc.by_id()
    item = "the first item, long enough to wrap onto a second line of the page so that it hangs;"
    by["s1-c2"].blocks = [ListBlock("alpha", ((Para((Text(item),)),), (Para((Text("the second item."),)),))),
                          Para((Text("Text after the list."),))]
    by["s3-c2-a-x"].blocks = [ListBlock("roman", ((Para((Text("a list opening a level-4 clause;"),)),),
                                                  (Para((Text("its second item."),)),)))]
    path = tmp_path / "lists.docx"
    path.write_bytes(render_docx(doc, context(project), page_numbers=False))
    pdf = docx_to_pdf(path, tmp_path)
    lines = [squash(line) for page in pdf_pages(pdf) for line in page.splitlines()]
    for first in ("1.2 (a) the first item,", "3.2.1.1 (i) a list opening a level-4 clause;", "3.2.2 \u2022 a bullet point;"):
        assert any(line.startswith(first) for line in lines), first
    # laid out as the PDF writer lays it out: the number in the number column, the markers one under
    # the other, the item's wrapped line under its text
    page = next(i for i, text in enumerate(pdf_pages(pdf), 1) if "the first item" in text)
    words = pdf_words(pdf, page)
    at = lambda word, nth=0: [(x, y) for x, y, w in words if w == word][nth]  # noqa: E731
    assert at("1.2")[0] == pytest.approx(at("1.1")[0], abs=0.5)
    assert at("(a)")[1] == pytest.approx(at("1.2")[1], abs=0.5), "the number and the first item share a line"
    assert at("(b)")[0] == pytest.approx(at("(a)")[0], abs=0.5)
    assert at("(a)")[0] > at("This")[0], "markers sit inside the clause's text, as in a clause's own lists"
    text_x = min(x for x, y, w in words if abs(y - at("(a)")[1]) < 0.5 and x > at("(a)")[0])
    wrapped = [x for x, y, w in words if at("(a)")[1] + 5 < y < at("(b)")[1]]
    assert wrapped and min(wrapped) == pytest.approx(text_x, abs=0.5), "the wrapped line hangs under the text"
    assert at("Text")[0] == pytest.approx(at("This")[0], abs=0.5)  # text after the list: the clause's column
    assert bookmark_name(by["s1-c2"].anchor) in bookmarks(document(path))


# ---- structure Word relies on ---------------------------------------------------------------------
def test_contents_is_a_populated_toc_field_linked_to_bookmarks(oak, oak_docx):
    body = document(oak_docx)
    instr = body.xpath("//w:instrText[starts-with(normalize-space(.), 'TOC ')]/text()", namespaces=NS)
    assert instr == [' TOC \\o "1-1" \\h \\z \\u ']
    entries = contents_entries(body)
    tops = oak.sections + oak.appendices
    assert len(entries) == len(tops) == 19
    assert [e[0] for e in entries] == [bookmark_name(n.anchor) for n in tops]
    assert {e[0] for e in entries} <= bookmarks(body)
    styles = part(oak_docx.read_bytes(), "word/styles.xml")
    toc1 = styles.xpath("//w:style[w:name/@w:val='toc 1']", namespaces=NS)[0]
    assert toc1.xpath(".//w:tab[@w:val='right' and @w:leader='dot']", namespaces=NS)
    style_ids = body.xpath("//w:p[w:hyperlink/@w:anchor]/w:pPr/w:pStyle/@w:val", namespaces=NS)
    assert style_ids.count(toc1.get(W + "styleId")) == len(tops)


def test_without_libreoffice_the_contents_is_linked_but_unnumbered(project, oak):
    body = document(render_docx(oak, context(project), page_numbers=False))
    entries = contents_entries(body)
    assert [e[1] for e in entries] == [heading_text(n) for n in oak.sections + oak.appendices]
    assert all(e[2] is None for e in entries)
    assert not body.xpath("//w:instrText[contains(., 'PAGEREF')]", namespaces=NS)
    assert {e[0] for e in entries} <= bookmarks(body)


def test_every_node_has_a_valid_bookmark_and_xrefs_and_links_resolve(oak, oak_docx):
    data = oak_docx.read_bytes()
    body = document(data)
    names = bookmarks(body)
    assert {bookmark_name(n.anchor) for n in oak.walk()} <= names
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,39}", n) for n in names)
    assert len({b.get(W + "id") for b in body.iter(W + "bookmarkStart")}) == len(names)
    body_links = body.xpath("//w:hyperlink[not(ancestor::w:p/w:pPr/w:pStyle[@w:val='TOC1'])]", namespaces=NS)
    assert not [a for a in body_links if a.get(W + "anchor")]  # cross-references are REF fields
    refs = [t.split()[1] for t in body.xpath("//w:instrText/text()", namespaces=NS) if t.strip().startswith("REF ")]
    assert refs == ["c_s3_c2", "c_s5", "c_app_contacts"] and set(refs) <= names
    assert any("See paragraph 3.2, section 5 and Appendix 1." in squash(text_of(p).replace("\xa0", " "))
               for p in body.iter(W + "p"))
    rels = part(data, "word/_rels/document.xml.rels")
    external = {r.get("Id"): r for r in rels if r.get("TargetMode") == "External"}
    link_ids = body.xpath("//w:hyperlink/@r:id", namespaces={**NS, "r": "http://schemas.openxmlformats.org/"
                                                                       "officeDocument/2006/relationships"})
    assert {external[i].get("Target") for i in link_ids} == {"https://www.gov.uk", "tel:0344000000"}


def test_long_anchors_become_short_distinct_bookmark_names():
    a, b = "c-" + "x" * 60 + "-one", "c-" + "x" * 60 + "-two"
    assert len(bookmark_name(a)) <= 40 and bookmark_name(a) != bookmark_name(b)
    assert bookmark_name("c-intro-purpose") == "c_intro_purpose"
    assert bookmark_name("9-lives")[0].isalpha()


def test_numbers_are_word_numbering_linked_to_the_styles_with_hanging_indents(oak, oak_docx):
    data = oak_docx.read_bytes()
    body = document(data)
    styles = part(data, "word/styles.xml")
    numbering = part(data, "word/numbering.xml")
    names = {s.get(W + "styleId"): s.find(W + "name").get(W + "val") for s in styles.iter(W + "style")}

    def num(p):
        ids = p.xpath("w:pPr/w:numPr/*/@w:val", namespaces=NS)
        return tuple(int(i) for i in reversed(ids)) or None  # (numId, ilvl)
    paras = {text_of(p): (names[p.xpath("string(w:pPr/w:pStyle/@w:val)", namespaces=NS)], num(p))
             for p in body.iter(W + "p") if p.xpath("w:pPr/w:pStyle", namespaces=NS)}
    by = oak.by_id()
    assert paras["Section 1 of the policy"] == ("heading 1", (1, 0))
    assert paras[by["s3-c2"].title] == ("heading 2", (1, 1))
    assert paras[" \u2013 Useful contacts"] == ("heading 1", (2, 0))  # "Appendix 1" is Word's number
    assert paras[by["s1-c1"].text] == ("Clause 2", (1, 1))
    assert paras["Staff must:"] == ("Clause 3", (1, 2))
    assert paras[by["s3-c2-a-x"].text] == ("Clause 4", (1, 3))
    assert paras["think first;"][0] == "List Item 1" and paras["think first;"][1][0] >= 10
    assert paras["quickly."][0] == "List Item 2" and paras["quickly."][1][0] >= 10
    assert paras["\u2022\ta bullet point;"] == ("List Item 1", (1, 2))  # a clause opening with a list
    body_levels = {lvl.get(W + "ilvl"): lvl for lvl in numbering.xpath("w:abstractNum[@w:abstractNumId='1']/w:lvl",
                                                                        namespaces=NS)}
    assert body_levels["1"].find(W + "lvlText").get(W + "val") == "%1.%2"
    assert body_levels["0"].find(W + "pStyle").get(W + "val") == "Heading1"
    clause2 = styles.xpath("//w:style[w:name/@w:val='Clause 2']/w:pPr/w:numPr/*/@w:val", namespaces=NS)
    assert clause2 == ["1", "1"]  # ilvl 1 of the body's numbering
    for style in ("Clause 2", "Clause 3", "List Item 1", "heading 1", "heading 2"):
        el = styles.xpath(f"//w:style[w:name/@w:val='{style}']", namespaces=NS)[0]
        ind = el.find(f"{W}pPr/{W}ind")
        assert int(ind.get(W + "hanging")) > 0 and int(ind.get(W + "left")) >= int(ind.get(W + "hanging")), style


def test_flat_numbering_leaves_headings_unnumbered(project):
    body = document(render_docx(resolved(project, "ash-primary"), context(project), page_numbers=False))
    texts = [text_of(p) for p in body.iter(W + "p")]
    assert "Section 1 of the policy" in texts and "1\tSection 1 of the policy" not in texts
    heading = body.xpath("//w:p[w:pPr/w:pStyle/@w:val='Heading1'][1]", namespaces=NS)[0]
    assert not heading.xpath("w:pPr/w:numPr", namespaces=NS)  # not in Word's numbering at all
    numbering = part(render_docx(resolved(project, "ash-primary"), context(project), page_numbers=False),
                     "word/numbering.xml")
    level2 = numbering.xpath("w:abstractNum[@w:abstractNumId='1']/w:lvl[@w:ilvl='1']", namespaces=NS)[0]
    assert level2.xpath("string(w:lvlText/@w:val)", namespaces=NS) == "%2"
    assert level2.xpath("string(w:lvlRestart/@w:val)", namespaces=NS) == "0"  # 1..N through the document


def test_tables_repeat_their_header_row_and_have_borders(oak, oak_docx):
    data = oak_docx.read_bytes()
    body = document(data)
    tables = body.xpath("//w:tbl[not(w:tblPr/w:tblStyle/@w:val='KeyMessageBox')]", namespaces=NS)
    assert len(tables) == 4  # approvals, the contacts table, changes, review history (the key message box aside)
    for t in tables:
        rows = t.xpath("w:tr", namespaces=NS)
        assert rows[0].xpath("w:trPr/w:tblHeader", namespaces=NS), "first row repeats on each page"
        assert not any(r.xpath("w:trPr/w:tblHeader", namespaces=NS) for r in rows[1:])
    style_id = tables[0].xpath("string(w:tblPr/w:tblStyle/@w:val)", namespaces=NS)
    style = part(data, "word/styles.xml").xpath(f"//w:style[@w:styleId='{style_id}']", namespaces=NS)[0]
    assert style.xpath("w:tblPr/w:tblBorders/w:insideH[@w:val='single']", namespaces=NS)
    changes = [text_of(c) for c in tables[2].xpath("w:tr[1]/w:tc", namespaces=NS)]
    assert changes == ["Date", "Paragraphs affected", "Summary", "Changed by"]
    first = [text_of(c) for c in tables[2].xpath("w:tr[2]/w:tc", namespaces=NS)]
    assert first == ["1 October 2025", "A1.1", "Local contacts.", "Oak Primary School"]
    history = [text_of(c) for c in tables[3].xpath("w:tr/w:tc", namespaces=NS)]
    assert history == ["Review", "Date", "1", "1 September 2018", "2", "1 September 2024"]


def test_model_only_changes_have_no_changed_by_column(project):
    body = document(render_docx(resolved(project, "elm-primary"), context(project), page_numbers=False))
    headers = [[text_of(c) for c in t.xpath("w:tr[1]/w:tc", namespaces=NS)]
               for t in body.xpath("//w:tbl", namespaces=NS)]
    assert ["Date", "Paragraphs affected", "Summary"] in headers


# ---- front matter -------------------------------------------------------------------------------
def test_cover_shows_what_the_layers_say_and_nothing_empty(project, oak, oak_docx):
    body = document(oak_docx)
    texts = [text_of(p) for p in body.iter(W + "p")]
    # the front matter's wording is the HTML's (policypack.frontmatter computes it once)
    for line in ["Oak Primary School", "Staff conduct online policy", "Formally adopted by\tGoverning Board",
                 "Date adopted\t16 May 2025", "Co-chairs of Governors\tAnn Chair & Bo Chair",
                 "Agreed by\tFull Governing Board, 10 June 2025",
                 "Adopted at the summer meeting.", "Last reviewed\t1 September 2024",
                 "Next review due\t1 September 2025",
                 "Review overdue. This policy was due for review on 1 September 2025 (status on 15 January 2026)."]:
        assert line in texts, line
    assert "Reference\tHR-T1" in texts and "Version\t3.1" in texts
    assert not any("Reference HR-T1" in t for t in texts)  # said once, in the details, as in the HTML
    assert any(t.startswith("Written by\tJ Writer") for t in texts)
    assert "Date written" not in " ".join(texts)  # not given, so not shown
    key = body.xpath("//w:p[w:pPr/w:pStyle/@w:val='KeyMessage']", namespaces=NS)
    assert text_of(key[0]) == "Think before you post. Never discuss pupils online."
    assert key[0].xpath("ancestor::w:tbl/w:tblPr/w:tblStyle/@w:val", namespaces=NS) == ["KeyMessageBox"]
    styles = part(oak_docx.read_bytes(), "word/styles.xml")
    box = styles.xpath("//w:style[@w:styleId='KeyMessageBox']", namespaces=NS)[0]
    assert box.xpath("w:tblPr/w:tblBorders/w:top and w:tblPr/w:tblBorders/w:bottom and w:tcPr/w:shd/@w:fill",
                     namespaces=NS)
    key_at = texts.index("Think before you post. Never discuss pupils online.")
    assert key_at < texts.index("Section 1 of the policy")

    bare = document(render_docx(resolved(project, "elm-primary"), context(project), page_numbers=False))
    bare_texts = " ".join(text_of(p) for p in bare.iter(W + "p"))
    assert "Adopted by" not in bare_texts and "Review overdue" not in bare_texts and "Stage" not in bare_texts


def rich_key_message(doc):
    """A key message with what a callout rarely has but may: a link, a cross-reference, emphasis,
    a nested list and a table."""
    return [
        Para((Strong((Text("Think first."),)), Text(" Read "), Link("https://www.gov.uk", (Text("the guidance"),)),
              Text(" and paragraph "), XRef("s3-c2", doc.by_id()["s3-c2"].anchor, "3.2"), Text("."))),
        ListBlock("alpha", ((Para((Text("never post about pupils;"),)),),
                            (Para((Text("ask "), Emph((Text("before"),)), Text(" you act:"))),
                             ListBlock("roman", ((Para((Text("your line manager, or"),)),),
                                                 (Para((Text("the "), Link("mailto:head@example.org", (Text("head"),)),
                                                        Text(".")),),)))))),
        Table(((Text("Who"),), (Text("Contact"),)), (((Text("Office"),), (Text("01632 960 000"),)),)),
    ]


def test_key_message_blocks_are_boxed_as_clause_blocks_are(project, oak, tmp_path):
    doc = dataclasses.replace(oak, key_message=rich_key_message(oak))
    data = render_docx(doc, context(project), page_numbers=False)
    body = document(data)
    boxes = body.xpath("//w:tbl[w:tblPr/w:tblStyle/@w:val='KeyMessageBox']", namespaces=NS)
    assert len(boxes) == 1, "one box holds the whole key message"
    box = boxes[0]
    styles = part(data, "word/styles.xml")
    names = {s.get(W + "styleId"): s.find(W + "name").get(W + "val") for s in styles.iter(W + "style")}
    paras = [(text_of(p), names[p.xpath("string(w:pPr/w:pStyle/@w:val)", namespaces=NS)])
             for p in box.xpath("w:tr/w:tc/w:p", namespaces=NS)]
    assert paras[:5] == [("Think first. Read the guidance and paragraph 3.2.", "Key Message"),
                         ("never post about pupils;", "List Item 1"),  # (a), (b): Word's list numbers
                         ("ask before you act:", "List Item 1"),
                         ("your line manager, or", "List Item 2"),
                         ("the head.", "List Item 2")]
    assert box.xpath("w:tr/w:tc/w:tbl//w:tc", namespaces=NS), "the table is a table, inside the box"
    assert box.xpath("w:tr/w:tc/w:p[1]/w:pPr/w:pageBreakBefore", namespaces=NS)
    # links and emphasis as in a clause
    assert box.xpath(".//w:instrText[normalize-space(.)='REF c_s3_c2 \\r \\h']", namespaces=NS)  # a REF field
    rels = {r.get("Id"): r.get("Target") for r in part(data, "word/_rels/document.xml.rels")}
    external = box.xpath(".//w:hyperlink/@r:id", namespaces={
        **NS, "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"})
    assert [rels[i] for i in external] == ["https://www.gov.uk", "mailto:head@example.org"]
    assert box.xpath("string(.//w:r[w:rPr/w:b][1])", namespaces=NS) == "Think first."
    assert box.xpath("string(.//w:r[w:rPr/w:i][1])", namespaces=NS) == "before"
    if shutil.which("soffice"):  # LibreOffice lays the list out with its markers in the margin of the box
        path = tmp_path / "key.docx"
        path.write_bytes(data)
        page = [squash(line) for line in pdf_pages(docx_to_pdf(path, tmp_path))[2].splitlines() if line.strip()]
        assert page[1:6] == ["Think first. Read the guidance and paragraph 3.2.", "(a) never post about pupils;",
                             "(b) ask before you act:", "(i) your line manager, or", "(ii) the head."]


def test_logos_are_embedded_with_alt_text_svg_rasterised(project, oak_docx):
    def media(data):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {n: z.read(n) for n in z.namelist() if n.startswith("word/media/")}

    assert media(oak_docx.read_bytes()) == {
        "word/media/image1.png": (project / "schools" / "assets" / "logo.png").read_bytes()}
    assert document(oak_docx.read_bytes()).xpath("//wp:docPr/@descr", namespaces={
        "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"}) == ["Oak Primary School logo"]
    ash = media(render_docx(resolved(project, "ash-primary"), context(project), page_numbers=False))
    if shutil.which("pdftoppm"):
        from PIL import Image
        image = Image.open(io.BytesIO(ash["word/media/image1.png"]))
        assert image.size == (360, 360) and image.getpixel((180, 180))[:3] == (0, 0, 0)  # the black square
    else:
        assert ash == {}


def test_an_svg_logo_is_drawn_once_per_process_however_many_documents_show_it(project, monkeypatch):
    from policypack.render import docx as docx_module

    drawn = []
    real = docx_module._rasterise
    monkeypatch.setattr(docx_module, "_RASTERISED", {})
    monkeypatch.setattr(docx_module, "_rasterise", lambda svg, root: drawn.append(svg) or real(svg, root))
    doc, ctx = resolved(project, "ash-primary"), context(project)
    first = render_docx(doc, ctx, page_numbers=False)
    assert render_docx(doc, ctx, page_numbers=False) == first
    assert len(drawn) == 1


def test_running_header_and_footer_with_page_fields(oak_docx):
    data = oak_docx.read_bytes()
    header = part(data, "word/header1.xml")
    footer = part(data, "word/footer1.xml")
    assert text_of(header) == "Staff conduct online policy\tOak Primary School"
    instr = [t.strip() for t in footer.xpath("//w:instrText/text()", namespaces=NS)]
    assert instr == ["PAGE", "NUMPAGES"]
    assert text_of(footer).startswith("HR-T1  \u00b7  Version 3.1\tPage ")
    settings = document(data).xpath("//w:sectPr/w:titlePg", namespaces=NS)
    assert settings, "the cover has no running header"


def test_branding_font_colour_and_language(project, oak_docx):
    styles = part(oak_docx.read_bytes(), "word/styles.xml")
    assert styles.xpath("string(//w:docDefaults//w:lang/@w:val)", namespaces=NS) == "en-GB"
    assert styles.xpath("string(//w:style[@w:styleId='Heading1']//w:color/@w:val)", namespaces=NS) == "1D4F91"
    assert styles.xpath("string(//w:docDefaults//w:rFonts/@w:ascii)", namespaces=NS) == "DejaVu Sans"
    assert not styles.xpath("//w:rFonts[@w:asciiTheme]", namespaces=NS), "no theme fonts override the brand"
    ash = render_docx(resolved(project, "ash-primary"), context(project), page_numbers=False)
    assert part(ash, "word/styles.xml").xpath("string(//w:docDefaults//w:rFonts/@w:ascii)",
                                               namespaces=NS) == "Times New Roman"  # Liberation Serif's twin


def test_core_properties_and_no_template_leftovers(oak_docx):
    data = oak_docx.read_bytes()
    core = part(data, "docProps/core.xml")
    get = lambda tag: core.findtext(tag)  # noqa: E731
    assert get("{http://purl.org/dc/elements/1.1/}title") == "Staff conduct online policy"
    assert get("{http://purl.org/dc/elements/1.1/}language") == "en-GB"
    assert get("{http://purl.org/dc/elements/1.1/}creator") == "Oak Primary School"
    assert get("{http://purl.org/dc/terms/}created") == "2024-09-01T00:00:00Z"
    assert get("{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}revision") == "1"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
    assert names[0] == "[Content_Types].xml"
    assert not [n for n in names if "thumbnail" in n or "customXml" in n or "stylesWithEffects" in n]


def test_two_renders_are_byte_identical(project, oak, oak_docx):
    assert render_docx(oak, context(project)) == oak_docx.read_bytes()
    again = render_docx(oak, context(project), page_numbers=False)
    assert again == render_docx(oak, context(project), page_numbers=False)
    with zipfile.ZipFile(io.BytesIO(again)) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_mini_fixture_renders(tmp_path):
    root = Path(__file__).parent / "fixtures" / "mini"
    report = Report()
    doc = resolve(load_project(root), "demo-school", "demo", report)
    data = render_docx(doc, context(root), page_numbers=False)
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    reopened = docx.Document(io.BytesIO(data))
    assert [p.text for p in reopened.paragraphs if p.style.name == "Heading 1"][0] == "Introduction"  # Word's "1"
    assert [e[1] for e in contents_entries(document(data))] == [
        "1\tIntroduction", "2\tShared section", "Appendix 1 \u2013 Help", "Appendix 2 \u2013 Table of changes"]
