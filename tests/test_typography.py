"""Typography and layout (issue 12): curly quotes in every format, no line broken mid-sentence, no
table's last row alone on a page, contents leaders that end at the same x.

The checks over real outputs read the shared `shipped` build; the checks that must fail without
the fix they guard lay out a small page of their own with WeasyPrint (a second or two)."""
from __future__ import annotations

import random
import re
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pikepdf
import pytest

from policypack import markup
from policypack.errors import Loc, Report
from policypack.model import XRef
from policypack.render.html import BodyRenderer
from tests.helpers import pdf_pages

ROOT = Path(__file__).resolve().parent.parent

XHTML = "{http://www.w3.org/1999/xhtml}"
STRAIGHT = re.compile(r"['\"]")


# ---- quotes and apostrophes --------------------------------------------------------------------


def parse(text: str) -> list:
    return markup.parse(text, Loc("t.yaml", 1), Report(), lambda target, loc: XRef(target, f"c-{target}", "9.2"))


def test_quotes_curl_as_written_and_an_apostrophe_is_always_a_right_quote():
    para = parse("He said \"we're fine\" and 'no', pupils' work.")[0]
    assert para.inlines[0].text == "He said \u201cwe\u2019re fine\u201d and \u2018no\u2019, pupils\u2019 work."
    assert parse("in the '90s")[0].inlines[0].text == "in the \u201990s"
    assert markup.typeset("St Mary's \"Key\" Stage") == "St Mary\u2019s \u201cKey\u201d Stage"
    assert markup.typeset('a quote left "open') == "a quote left \u201copen"


def test_code_spans_and_addresses_keep_their_straight_quotes():
    blocks = parse("Type `it's \"here\"` at <https://example.org/it's> or [Jo's page](https://example.org/a'b).")
    code, link, named = (i for i in blocks[0].inlines if type(i).__name__ in ("Code", "Link"))
    assert code.text == "it's \"here\""
    assert link.href == "https://example.org/it's" and link.children[0].text == "https://example.org/it's"
    assert named.href == "https://example.org/a'b" and named.children[0].text == "Jo\u2019s page"


def test_dots_and_list_labels_are_not_replaced():
    # markdown-it's `replacements` rule stays off: "(c)" is a list label, a row of dots a writing line
    assert parse("items (a) to (c), signed ........ -- done")[0].inlines[0].text == \
        "items (a) to (c), signed ........ -- done"


class _BodyText(HTMLParser):
    """The text a reader sees in <body>, without code, scripts and styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip, self.body = [], 0, False

    def handle_starttag(self, tag, attrs):
        self.body = self.body or tag == "body"
        self.skip += tag in ("code", "script", "style")

    def handle_endtag(self, tag):
        self.skip -= tag in ("code", "script", "style")

    def handle_data(self, data):
        if self.body and not self.skip:
            self.parts.append(data)


def _straight(text: str) -> list:
    return [text[max(0, m.start() - 30):m.end() + 30] for m in STRAIGHT.finditer(text)]


def test_no_straight_quotes_in_the_text_of_any_shipped_document(shipped):
    """Every quote and apostrophe a reader sees is curly, in HTML, PDF and DOCX alike (the policies
    quote nothing that must stay straight: no code, and no address holds a quote)."""
    found = {}
    for path in sorted(shipped.glob("**/*.html")):
        parser = _BodyText()
        parser.feed(path.read_text(encoding="utf-8"))
        found[path.relative_to(shipped)] = _straight("".join(parser.parts))
    for path in sorted(shipped.glob("*/*.pdf")):
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
        found[path.relative_to(shipped)] = _straight(text)
    for path in sorted(shipped.glob("*/*.docx")):
        xml = zipfile.ZipFile(path).read("word/document.xml")
        text = "".join(t.text or "" for t in ET.fromstring(xml).iter(
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"))
        found[path.relative_to(shipped)] = _straight(text)
    assert len(found) > 50
    assert {k: v[:3] for k, v in found.items() if v} == {}


# ---- line breaks ---------------------------------------------------------------------------------


def _lines(pdf) -> list:
    """[(page, block lines)]: pdftotext's blocks (a paragraph, a cell), each a list of lines, each a
    list of words (x0, x1, text)."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xml))
    out = []
    for n, page in enumerate(root.iter(XHTML + "page"), 1):
        for block in page.iter(XHTML + "block"):
            out.append((n, float(block.get("xMax")), [
                [(float(w.get("xMin")), float(w.get("xMax")), w.text or "") for w in line.iter(XHTML + "word")]
                for line in block.iter(XHTML + "line")]))
    return out


def early_breaks(pdf) -> list:
    """Lines that end before they had to: inside a block, the next line's first word (with the
    number glued to it, "paragraph 9.2") would have fitted after the line's last word. A natural
    wrap never leaves that much room; a line broken mid-sentence does."""
    found = []
    for page, right, lines in _lines(pdf):
        for line, following in zip(lines, lines[1:]):
            if not line or not following:
                continue
            space = line[1][0] - line[0][1] if len(line) > 1 else 3.0
            first = following[:2] if len(following) > 1 and following[1][2][:1].isdigit() else following[:1]
            needed = first[-1][1] - first[0][0]
            if line[-1][1] + space + needed < right - 1:
                found.append((page, " ".join(w[2] for w in line)[-50:], " ".join(w[2] for w in following)[:40]))
    return found


def test_no_line_of_any_shipped_pdf_breaks_before_it_must(shipped):
    found = {p.relative_to(shipped): early_breaks(p) for p in sorted(shipped.glob("*/*.pdf"))}
    assert len(found) > 20
    assert {k: v for k, v in found.items() if v} == {}


def _page(body: str) -> str:
    css = (ROOT / "templates" / "base" / "style.css").read_text(encoding="utf-8")
    return (f'<!DOCTYPE html><html lang="en-GB"><head><style>{css}</style></head>'
            f'<body style="--font: Liberation Sans"><main class="policy-body">{body}</main></body></html>')


def test_a_reference_glued_to_its_noun_does_not_break_the_line_early(tmp_path):
    """'paragraph {{ ref() }}' keeps its noun and number together with a no-break space; WeasyPrint
    cannot carry that space across the start of the link and used to break the line words too
    early ("removable media⏎holding ... paragraph 9.2"). Many paragraphs, the reference at every
    place in a line, through the real Markdown reader and HTML writer."""
    from weasyprint import HTML

    rng = random.Random(7)
    words = ("staff must report any loss of removable media holding school information as a possible data "
             "breach under the procedure in").split()
    renderer = BodyRenderer()
    paras = []
    for n in range(120):
        text = [rng.choice(words) for _ in range(rng.randint(15, 60))]
        text.insert(rng.randint(3, len(text)), f"paragraph {markup.xref_link('x' + str(n))}")
        blocks = parse(" ".join(text) + ".")
        paras.append(f'<div class="clause"><div class="text">{renderer.render_blocks(blocks)}</div></div>')
    pdf = tmp_path / "refs.pdf"
    HTML(string=_page("".join(paras))).write_pdf(pdf)
    assert early_breaks(pdf) == []


# ---- tables at page breaks -----------------------------------------------------------------------


def table_rows_by_page(pdf_path) -> tuple:
    """(page count, tables): each table as [(page, body rows on that page)], read from the PDF's tag
    tree. WeasyPrint tags a table that runs over a page break as one Table per page, each in the
    page's own Part; a Table that opens a page's Part right after a Table that closed the previous
    page's is taken for the rest of that one."""
    pdf = pikepdf.open(pdf_path)
    number = {p.objgen: i for i, p in enumerate(pdf.pages, 1)}

    def pages(node, pg=None) -> set:
        if isinstance(node, pikepdf.Array):
            return set().union(*(pages(k, pg) for k in node)) if len(node) else set()
        if isinstance(node, pikepdf.Dictionary):
            pg = node.get("/Pg", pg)
            found = {number[pg.objgen]} if "/MCID" in node and pg is not None else set()
            return found | (pages(node["/K"], pg) if "/K" in node else set())
        return {number[pg.objgen]} if isinstance(node, int) and pg is not None else set()

    def kids(node) -> list:
        k = node.get("/K") if isinstance(node, pikepdf.Dictionary) else None
        return list(k) if isinstance(k, pikepdf.Array) else [k] if k is not None else []

    def edge(node, last: bool):
        """The first (last) structure element of `node`, looking through groupings (Div, Sect)."""
        elements = [k for k in kids(node) if isinstance(k, pikepdf.Dictionary) and "/S" in k]
        if not elements:
            return None
        child = elements[-1 if last else 0]
        return edge(child, last) if child.get("/S") in ("/Div", "/Sect", "/Art", "/NonStruct") else child

    def rows(node, part, out):
        for k in kids(node):
            if isinstance(k, pikepdf.Dictionary):
                s = k.get("/S")
                if s == "/TR":
                    out.append((part, min(pages(k, k.get("/Pg")) or {0})))
                else:
                    rows(k, s if s in ("/THead", "/TBody", "/TFoot") else part, out)

    tables, parts, ends = [], [], []

    def walk(node, part):
        for k in kids(node):
            if not isinstance(k, pikepdf.Dictionary):
                continue
            if k.get("/S") == "/Part":
                parts.append(k)
                walk(k, k)
            elif k.get("/S") == "/Table":
                out = []
                rows(k, None, out)
                body = [(q, sum(1 for kind, p in out if p == q and kind != "/THead")) for q in sorted({p for _, p in out})]
                if not body:
                    ends.append(False)
                    continue
                opens = part is not None and edge(part, False) is not None and edge(part, False).objgen == k.objgen
                if tables and opens and ends[-1] and tables[-1][-1][0] + 1 == body[0][0]:
                    tables[-1] += body
                else:
                    tables.append(body)
                ends.append(part is not None and edge(part, True) is not None and edge(part, True).objgen == k.objgen)
            else:
                walk(k, part)

    walk(pdf.Root.StructTreeRoot, None)
    return len(pdf.pages), tables


def lone_rows(pdf_path) -> list:
    """The tables that end with a single row on a page after the one they began on."""
    _, tables = table_rows_by_page(pdf_path)
    return [t for t in tables if len(t) > 1 and t[-1][1] == 1]


def test_no_shipped_pdf_ends_a_table_with_one_row_or_ends_on_a_blank_page(shipped):
    for pdf in sorted(shipped.glob("*/*.pdf")):
        assert lone_rows(pdf) == [], pdf
        last = pdf_pages(pdf, layout=False)[-1].splitlines()
        assert len([line for line in last if line.strip()]) > 4, (pdf, last)  # more than the running header and footer


@pytest.mark.parametrize("rows", [31, 32])
def test_a_long_table_never_leaves_its_last_row_alone_on_a_page(tmp_path, rows):
    """A table of changes that runs over a page break takes at least two rows (and its repeated
    header) to the next page; without the print rules, 31 rows left one row alone on page 3."""
    from weasyprint import HTML

    from policypack.render.html import data_table

    body = ("<p>Lead-in text.</p>" * 30 + data_table("Changes to this policy", ["Date", "Summary"],
            [[f"{n} May 2026", "A change to the policy, in words. " * 2] for n in range(rows)], "changes"))
    pdf = tmp_path / "table.pdf"
    HTML(string=_page(body)).write_pdf(pdf, pdf_variant="pdf/ua-1")
    _, tables = table_rows_by_page(pdf)
    assert len(tables[0]) > 1, "the table must cross a page break for this test to mean anything"
    assert lone_rows(pdf) == []


# ---- contents leaders ----------------------------------------------------------------------------


def contents_rows(pdf) -> list:
    """(right edge of the page number, right edge of the last leader dot) of each contents line."""
    xml = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "4", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xml))
    out = []
    for page in root.iter(XHTML + "page"):
        words = list(page.iter(XHTML + "word"))
        if not any(w.text == "Contents" for w in words):
            continue
        lines: dict = {}
        for w in words:
            lines.setdefault(round(float(w.get("yMax"))), []).append(
                (float(w.get("xMin")), float(w.get("xMax")), w.text or ""))
        for words_in_line in lines.values():
            words_in_line.sort()
            dots = [x1 for _, x1, t in words_in_line if t and set(t) <= {"."}]
            if dots and words_in_line[-1][2].strip().isdigit():
                out.append((words_in_line[-1][1], max(dots)))
    return out


def test_contents_leaders_end_together_before_right_aligned_page_numbers(shipped):
    for pdf in sorted(shipped.glob("*/*.pdf")):
        rows = contents_rows(pdf)
        assert len(rows) > 5, pdf
        numbers, leaders = [r[0] for r in rows], [r[1] for r in rows]
        assert max(numbers) - min(numbers) < 1, pdf
        assert max(leaders) - min(leaders) < 1, (pdf, sorted(set(round(x, 1) for x in leaders)))
