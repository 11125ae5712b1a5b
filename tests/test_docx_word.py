"""The DOCX behaves like a Word document (issue 12): every shipped DOCX validates against the OOXML
schema; clauses, appendices and parts are numbered by Word's multilevel numbering (no literal
"1.2<tab>"), in-text lists are Word lists, cross-references are REF fields to bookmarks that exist,
the fonts are ones Word has with their Liberation stand-ins named, the contents is a TOC field with
page numbers, and LibreOffice's layout ends on a page with something on it. LibreOffice lays the
numbering out exactly as resolve labelled it, also after a school removes and inserts clauses."""
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from lxml import etree

from policypack import numbering
from policypack.errors import Report
from policypack.load import load_project
from policypack.render import docx_numbering as wn
from policypack.render.docx import (FONT_FACTS, bookmark_name, numbered_nodes, render_docx, word_font,
                                    word_numbering)
from policypack.resolve import resolve
from tests.helpers_docx import docx_paragraph_numbers, laid_out

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
NS = {"w": W[1:-1]}
ROOT = Path(__file__).resolve().parent.parent
PROJECT = load_project(ROOT, Report())
DOCS = {(o, p): resolve(PROJECT, o, p, Report()) for o in sorted(PROJECT.organisations) for p in PROJECT.published(o)}
needs_libreoffice = pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")


def xml(path, name="word/document.xml"):
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read(name))


def text_of(el):
    return "".join("\t" if x.tag == W + "tab" else x.text or "" for r in el.iter(W + "r") for x in r
                   if x.tag in (W + "t", W + "tab"))


@pytest.fixture(scope="module")
def files(shipped):
    return {(o, p): shipped / o / f"{p}.docx" for o, p in DOCS}


# ---- schema ---------------------------------------------------------------------------------------
def test_every_shipped_docx_validates_against_the_schema(shipped, files):
    audit = Path(sys.executable).parent / "openxml-audit"
    if not audit.exists():
        pytest.skip("openxml-audit is not installed")
    out = subprocess.run([str(audit), "--recursive", "-o", "json", "-m", "0", str(shipped)],
                         capture_output=True, text=True, timeout=300)
    results = {Path(r["file"]).resolve(): r for r in json.loads(out.stdout)}
    assert {p.resolve() for p in files.values()} <= set(results)
    bad = {str(f): [e.get("message", e) for e in r["errors"]][:3] for f, r in results.items() if r["error_count"]}
    assert not bad


# ---- numbering --------------------------------------------------------------------------------------
def test_every_scheme_has_a_word_form_and_every_shipped_document_uses_it():
    assert all(wn.plan(s) is not None for s in numbering.SCHEMES.values())
    assert all(word_numbering(doc) is not None for doc in DOCS.values())


def test_clause_numbers_are_word_numbering_never_literal_text(files):
    for key, path in files.items():
        doc, body = DOCS[key], xml(path)
        nodes, plan = numbered_nodes(doc), word_numbering(doc)
        numbered = body.xpath("//w:p[w:pPr/w:numPr/w:numId[@w:val > 0 and @w:val < 10]]", namespaces=NS)
        levels = [(int(p.xpath("string(w:pPr/w:numPr/w:numId/@w:val)", namespaces=NS)),
                   int(p.xpath("string(w:pPr/w:numPr/w:ilvl/@w:val)", namespaces=NS))) for p in numbered]
        assert levels == [(f, i) for _, f, i in nodes if (f, i) not in plan.unnumbered], key
        labels = {n.label for n, _, _ in nodes if n.label}
        body_paras = body.xpath("//w:body/w:p[not(w:pPr/w:pStyle[starts-with(@w:val, 'TOC')])]", namespaces=NS)
        literal = [t for t in map(text_of, body_paras) if t.split("\t", 1)[0] in labels and "\t" in t]
        assert not literal, (key, literal[:3])


def test_lists_in_clause_text_are_word_lists_each_restarting(files):
    lists = 0
    for key, path in files.items():
        body, num = xml(path), xml(path, "word/numbering.xml")
        ids = body.xpath("//w:p[w:pPr/w:pStyle[starts-with(@w:val, 'ListItem')]]/w:pPr/w:numPr/w:numId/@w:val",
                         namespaces=NS)
        assert ids, key
        for i in set(ids):
            assert int(i) >= 10
            assert num.xpath(f"w:num[@w:numId='{i}']/w:lvlOverride/w:startOverride", namespaces=NS), (key, i)
        lists += len(set(ids))
        # only a list opening a clause keeps its first marker as text, after the clause's Word number
        for p in body.xpath("//w:p[w:pPr/w:pStyle[starts-with(@w:val, 'ListItem')]][not(w:pPr/w:numPr)]",
                            namespaces=NS):
            pytest.fail(f"{key}: a list item without Word numbering: {text_of(p)[:60]!r}")
    assert lists > 100


def test_cross_references_are_ref_fields_to_bookmarks_that_exist(files):
    total = 0
    for key, path in files.items():
        body = xml(path)
        names = {b.get(W + "name") for b in body.iter(W + "bookmarkStart")}
        assert {bookmark_name(n.anchor) for n in DOCS[key].walk_outline()} <= names
        refs = [t.strip() for t in body.xpath("//w:instrText/text()", namespaces=NS) if t.strip().startswith("REF ")]
        for instr in refs:
            assert re.fullmatch(r"REF [A-Za-z][A-Za-z0-9_]{0,39}( \\[rw])? \\h", instr), instr
            assert instr.split()[1] in names, (key, instr)
        static = body.xpath("//w:hyperlink[@w:anchor][not(ancestor::w:p/w:pPr/w:pStyle[starts-with(@w:val, 'TOC')])]",
                            namespaces=NS)
        assert not static, key
        total += len(refs)
    assert total > 100


def test_ref_field_results_are_the_resolved_references(files):
    """The cached result, with the words outside the field, reads as the resolved reference."""
    path = files["saltmarsh-infant-school", "social-media"]
    body = xml(path)
    shown = [text_of(p) for p in body.iter(W + "p")]
    doc = DOCS["saltmarsh-infant-school", "social-media"]
    from policypack.model import XRef
    wanted = []
    for n in doc.walk():
        for b in n.blocks:
            wanted += [x.label for x in getattr(b, "inlines", ()) if isinstance(x, XRef) and not x.policy]
    assert wanted and all(any(label in t for t in shown) for label in wanted)


# ---- fonts and contents -------------------------------------------------------------------------------
def test_fonts_are_words_with_liberation_stand_ins_in_the_font_table(files):
    for key, path in files.items():
        styles, fonts = xml(path, "word/styles.xml"), xml(path, "word/fontTable.xml")
        used = set(styles.xpath("//w:rFonts/@w:ascii", namespaces=NS))
        table = {f.get(W + "name"): f for f in fonts.iter(W + "font")}
        assert used <= set(table), key
        assert word_font(DOCS[key].branding.font) in used
        assert not any(u.startswith("Liberation") for u in used), key
        for name in used & set(FONT_FACTS):
            alt = table[name].find(W + "altName")
            assert alt is not None and alt.get(W + "val") == FONT_FACTS[name][0], name
            assert table[name].find(W + "panose1") is not None and table[name].find(W + "family") is not None
    assert word_font("Liberation Serif") == "Times New Roman" and word_font("DejaVu Sans") == "DejaVu Sans"


def test_contents_is_a_toc_field_with_page_numbers(files):
    for key, path in files.items():
        body = xml(path)
        assert body.xpath("//w:instrText[starts-with(normalize-space(.), 'TOC ')]", namespaces=NS), key
        entries = body.xpath("//w:p[w:pPr/w:pStyle[starts-with(@w:val, 'TOC')]]/w:hyperlink", namespaces=NS)
        pages = [text_of(e).rsplit("\t", 1)[-1] for e in entries]
        assert entries and all(p.isdigit() for p in pages), key
        assert [int(p) for p in pages] == sorted(int(p) for p in pages), key


@needs_libreoffice
def test_libreoffice_layout_has_no_blank_last_page(files):
    """Nothing on the last page but the running header and footer (and what repeats from the page
    before) would be a blank page."""
    for key, path in files.items():
        pdf = laid_out(path)
        count = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                                 text=True).stdout).group(1))
        def lines(page):
            out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                                 capture_output=True, text=True).stdout
            return {re.sub(r"\d+", "#", line.strip()) for line in out.splitlines() if line.strip()}
        assert lines(count) - lines(count - 1), f"{key}: the last page ({count}) is blank"


# ---- Word's numbers are the resolved labels, after a school edits the structure --------------------------
def _edited_project(root: Path, scheme: str) -> Path:
    from tests.test_docx import write_project
    write_project(root)
    org = {"organisation": {
        "id": "yew-primary", "name": "Yew Primary School", "kind": "school", "extends": "demo-la",
        "numbering": scheme, "policies": {"demo": {
            "remove": ["s2-c3", "s6"],
            "insert": [{"after": "s3-c2-a", "clause": {"id": "yew-extra", "text": "A clause of the school's own."}},
                       {"before": "s9", "section": {"id": "yew-section", "title": "Local arrangements",
                                                    "clauses": [{"id": "yew-local", "text": "Ask the office."}]}}],
        }}}}
    (root / "schools" / "yew-primary.yaml").write_text(yaml.safe_dump(org, sort_keys=False))
    return root


@needs_libreoffice
@pytest.mark.parametrize("scheme", ["legal", "flat"])  # labels the PDF-text reader knows
def test_word_numbers_laid_out_are_the_resolved_labels_after_removing_and_inserting(tmp_path, scheme):
    from tests.helpers import expected_margin_labels
    from tests.test_docx import context
    root = _edited_project(tmp_path / "project", scheme)
    report = Report()
    doc = resolve(load_project(root), "yew-primary", "demo", report)
    assert not report.errors, [p.format() for p in report.errors]
    by = doc.by_id()
    assert "s6" not in by and by["yew-extra"].label and by["yew-local"].label
    assert word_numbering(doc) is not None
    path = tmp_path / "yew.docx"
    path.write_bytes(render_docx(doc, context(root), page_numbers=False))
    assert docx_paragraph_numbers(path) == expected_margin_labels(doc)


@pytest.mark.parametrize("scheme", sorted(numbering.SCHEMES))
def test_word_numbers_read_from_the_xml_are_the_resolved_labels_after_editing(tmp_path, scheme):
    """Every scheme: numbering.xml read as Word reads it (tests/helpers_docx.word_paragraphs, which
    shares no code with the writer) puts each node's resolved label before its heading or text."""
    from tests.helpers_docx import word_paragraphs
    from tests.test_docx import context
    root = _edited_project(tmp_path / "project", scheme)
    doc = resolve(load_project(root), "yew-primary", "demo", Report())
    path = tmp_path / "yew.docx"
    path.write_bytes(render_docx(doc, context(root), page_numbers=False))
    squash = lambda t: " ".join(t.replace("\xa0", " ").split())  # noqa: E731
    shown = [squash(t) for t in word_paragraphs(path)]
    at = 0
    for n in doc.walk_outline():
        first = n.title or (n.text.split("\n")[0][:30] if n.text else "")
        want = (n.label + ("\t" if n.kind not in ("appendix", "part") else "") if n.label else "") + first
        if n.kind in ("appendix", "part") and n.title:
            want = f"{n.label} \u2013 {n.title}"
        want = squash(want)
        while at < len(shown) and not shown[at].startswith(want):
            at += 1
        assert at < len(shown), f"{n.id}: {want!r} not found in order"


def test_a_scheme_word_cannot_show_keeps_literal_labels():
    wide = numbering.Scheme("wide", (numbering.Level(), numbering.Level(pad=3)))
    parent = numbering.Scheme("parent", (numbering.Level(), numbering.Level(label="{parent}-{n}")))
    assert wn.plan(wide) is None and wn.plan(parent) is None
    padded = wn.plan(numbering.Scheme("padded", (numbering.Level(), numbering.Level(number="{1}.{2}", pad=2))))
    assert padded.families[wn.BODY][1].num_fmt == "decimalZero"
    assert wn.simulate(padded, [(wn.BODY, 0), (wn.BODY, 1), (wn.BODY, 1), (wn.BODY, 0), (wn.BODY, 1)]) == [
        "1", "1.01", "1.02", "2", "2.01"]


def test_simulation_counts_continuous_levels_on_and_appendices_apart():
    flat = wn.plan(numbering.SCHEMES["flat"])
    seq = [(wn.BODY, 0), (wn.BODY, 1), (wn.BODY, 2), (wn.BODY, 0), (wn.BODY, 1), (wn.APPENDIX, 0), (wn.APPENDIX, 1),
           (wn.APPENDIX, 0), (wn.APPENDIX, 1)]
    assert wn.simulate(flat, seq) == ["", "1", "(a)", "", "2", "Appendix 1", "A1.1", "Appendix 2", "A2.1"]


def _tree_labels(scheme, appendix: bool) -> tuple:
    """[(family, ilvl)] and the labels numbering.Numberer gives a tree of 3 x 3 x 2 x 2 nodes (two
    trees for appendices), numbered in document order as resolve numbers them."""
    numberer, seq, labels = numbering.Numberer(scheme), [], []
    family = wn.APPENDIX if appendix else wn.BODY

    def walk(level, path, parent_ref, width):
        for i in range(1, width + 1):
            here = path + [numberer.counter(level, i, appendix)]
            _, label, ref = numberer.label(level, here, appendix, parent_ref, "Title")
            seq.append((family, level - 1))
            labels.append(label)
            if level < 4:
                walk(level + 1, here, ref, 2 if level > 1 else 3)
    walk(1, [], "", 2 if appendix else 3)
    return seq, labels


@pytest.mark.parametrize("name", sorted(numbering.SCHEMES) + ["thornvale-sections"])
def test_word_levels_count_as_the_scheme_labels(name):
    """Every scheme, built in or an organisation's own: Word's levels, counted as Word counts, give
    the labels the scheme gives, in the body and in appendices."""
    scheme = numbering.SCHEMES.get(name) or next(doc.scheme for doc in DOCS.values() if doc.numbering == name)
    plan = wn.plan(scheme)
    for appendix in (False, True):
        seq, labels = _tree_labels(scheme, appendix)
        shown = wn.simulate(plan, seq)
        assert [s for s, (f, i) in zip(shown, seq) if (f, i) not in plan.unnumbered] == [
            label for label, (f, i) in zip(labels, seq) if (f, i) not in plan.unnumbered]
