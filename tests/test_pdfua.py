"""Every shipped PDF conforms to PDF/UA-1: our checker (tests/pdfua.py) and page-validation's ua1
profile find nothing; the contents has one described link per entry; each table of the page is
one Table. Each rule is shown to fail on a PDF broken on purpose, and WeasyPrint's own output
(before policypack.render.pdf_tags) fails them, so none of these tests can pass blindly."""
from __future__ import annotations

import io
import re

import lxml.html
import page
import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name
from weasyprint import HTML

from policypack.render import pdf as pdf_writer
from policypack.render.pdf_tags import finish_tags

import pdfua


def shipped_pdfs(shipped):
    paths = sorted(shipped.glob("*/*.pdf"))
    assert len(paths) >= 20
    return paths


def failures(path) -> dict:
    return {rule: msgs for rule, msgs in pdfua.check(path).items() if msgs}


def test_every_shipped_pdf_passes_the_checker_and_page_validation(shipped):
    bad = {}
    for path in shipped_pdfs(shipped):
        found = failures(path)
        found.update({f.rule_id: [f.message] for f in page.validate_pdf(str(path), profile="ua1").failures})
        if found:
            bad[path.relative_to(shipped).as_posix()] = found
    assert not bad


def test_contents_has_one_described_link_per_entry(shipped):
    for path in shipped_pdfs(shipped):
        html = lxml.html.parse(str(path.with_suffix(".html"))).getroot()
        entries = [(a.get("href")[1:], " ".join(a.text_content().split())) for a in html.xpath('//nav[@class="toc"]//a')]
        with pikepdf.open(path) as pdf:
            annots = [a for p in pdf.pages[1:] for a in p.get("/Annots", []) if a.get("/Subtype") == "/Link"]
            got = [(str(a.Dest), str(a.Contents)) for a in annots[:len(entries)]]
        assert [d for d, _ in got] == [anchor for anchor, _ in entries], path
        for (_, described), (_, text) in zip(got, entries):
            assert re.fullmatch(re.escape(text) + r", page \d+", described), (path, described)


def test_each_table_is_one_table_element(shipped):
    for path in shipped_pdfs(shipped):
        html = lxml.html.parse(str(path.with_suffix(".html"))).getroot()
        assert pdfua.tables(path) == len(html.xpath("//main//table")), path


# ---- each rule can fail -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def good(shipped):
    """A shipped PDF with a logo, tables, lists, titled clauses and links."""
    path = shipped / "willowbank-primary-school" / "social-media.pdf"
    assert not failures(path)
    return path.read_bytes()


def broken(data: bytes, tmp_path, damage) -> dict:
    pdf = pikepdf.open(io.BytesIO(data))
    damage(pdf)
    out = tmp_path / "broken.pdf"
    pdf.save(out)
    return failures(out)


def elems(pdf, s):
    found, stack = [], [pdf.Root.StructTreeRoot]
    while stack:
        e = stack.pop()
        k = e.get("/K")
        for kid in (k if isinstance(k, Array) else [k] if k is not None else []):
            if isinstance(kid, Dictionary) and "/S" in kid:
                stack.append(kid)
                if kid.S == s:
                    found.append(kid)
    return found


def nest(pdf, s):
    """Move the first element tagged `s` inside the second."""
    a, b = elems(pdf, s)[:2]
    a.P.K = Array([k for k in a.P.K if not (isinstance(k, Dictionary) and k.objgen == a.objgen)])
    b.K = Array(list(b.K) + [a])
    a.P = b


def no_scope(pdf):
    del elems(pdf, "/TH")[0].A.Scope


def li_with_p(pdf):
    li = elems(pdf, "/LI")[0]
    li.K = Array(list(li.K) + [pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.P, P=li, K=Array()))])


def first_link(pdf):
    return next(a for p in pdf.pages for a in p.get("/Annots", []) if a.get("/Subtype") == "/Link")


def untagged_link(pdf):
    del first_link(pdf).StructParent


def link_named_by_id(pdf):
    a = first_link(pdf)
    a.Contents = a.Dest


def no_alt(pdf):
    del elems(pdf, "/Figure")[0].Alt


def orphan_content(pdf):
    e = next(e for e in elems(pdf, "/Span") if isinstance(e.get("/K"), Array) and any(isinstance(k, int) for k in e.K))
    e.K = Array([k for k in e.K if not isinstance(k, int)])


def untagged_document(pdf):
    del pdf.Root.Lang
    pdf.Root.MarkInfo.Marked = False


@pytest.mark.parametrize("damage, rule", [
    (untagged_document, "document"),
    (untagged_link, "annotations"),
    (link_named_by_id, "annotations"),
    (no_scope, "table_headers"),
    (li_with_p, "list_items"),
    (lambda pdf: nest(pdf, "/H3"), "headings"),
    (lambda pdf: nest(pdf, "/Link"), "links"),
    (no_alt, "figures"),
    (orphan_content, "content"),
])
def test_each_rule_fails_on_a_pdf_broken_on_purpose(good, tmp_path, damage, rule):
    assert rule in broken(good, tmp_path, damage)


def test_weasyprints_own_output_fails_what_pdf_tags_fixes(shipped, tmp_path, monkeypatch):
    """The same policy printed with the post-processing and the link filter left out."""
    from click.testing import CliRunner
    from conftest import ROOT

    from policypack.cli import main

    monkeypatch.setattr(pdf_writer, "finish_tags", lambda data, descriptions=None: data)
    monkeypatch.setattr(pdf_writer, "_one_per_link", lambda links: links)
    result = CliRunner().invoke(main, ["build", "--root", str(ROOT), "--out", str(tmp_path), "--format", "pdf",
                                       "--school", "willowbank-primary-school", "--policy", "social-media",
                                       "--jobs", "1"])
    assert result.exit_code == 0, result.output
    raw = tmp_path / "willowbank-primary-school" / "social-media.pdf"
    assert {"annotations", "table_headers", "list_items", "headings", "links", "content"} <= set(failures(raw))
    assert "PDFUA1-LI-KIDS-001" in {f.rule_id for f in page.validate_pdf(str(raw), profile="ua1").failures}
    assert finish_tags(raw.read_bytes()) == finish_tags(raw.read_bytes())  # same input, same bytes


# ---- a table broken by a page -----------------------------------------------------------------
LONG_TABLE = """<!doctype html><html lang="en-GB"><head><title>T</title></head><body>
<p>Before the table.</p>
<table><caption>Changes</caption><thead><tr><th scope="col">Date</th><th scope="col">Change</th></tr></thead>
<tbody>{rows}</tbody></table>
<table><caption>Another</caption><thead><tr><th scope="col">A</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>
</body></html>"""


def test_a_table_broken_by_a_page_is_one_table_with_its_header_once(tmp_path):
    rows = "".join(f'<tr><th scope="row">{i}</th><td>Change number {i}</td></tr>' for i in range(90))
    raw = HTML(string=LONG_TABLE.format(rows=rows)).write_pdf(pdf_variant="pdf/ua-1")
    (tmp_path / "raw.pdf").write_bytes(raw)
    assert pdfua.tables(tmp_path / "raw.pdf") >= 3  # WeasyPrint: one Table per page, plus the second
    fixed = tmp_path / "fixed.pdf"
    fixed.write_bytes(finish_tags(raw))
    assert pdfua.tables(fixed) == 2
    assert not failures(fixed)
    assert not page.validate_pdf(str(fixed), profile="ua1").failures
    with pikepdf.open(fixed) as pdf:
        assert len(pdf.pages) >= 3
        assert len(elems(pdf, "/THead")) == 2  # each table's header once
        assert len(elems(pdf, "/TR")) == 1 + 90 + 1 + 1
