"""Numbering schemes (policypack/numbering.py): every built-in scheme and a scheme written in YAML
number one small policy alike in HTML, PDF and DOCX, cross-references agree, and no label shows
twice within one paragraph (sub-clause letters and the markers of lists inside the text differ)."""
import html as htmllib
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from policypack import numbering
from policypack.cli import main
from policypack.errors import Report
from policypack.load import load_project
from policypack.model import NUMBERING_STYLES, ListBlock, list_marker
from policypack.resolve import resolve
from tests.helpers import expected_margin_labels
from tests.helpers_docx import word_paragraphs

BASE = Path(__file__).parent / "bad_inputs" / "base"
CUSTOM = """  numbering: harbour-legal
  numbering_schemes:
    harbour-legal:
      summary: Clause 1., 1.01, then (A) and (I)
      levels:
        - {format: decimal, number: "{1}", label: "{number}.", ref: "clause {number}"}
        - {format: decimal, number: "{1}.{2}", pad: 2}
        - {format: upper-alpha, number: "({3})", ref: "{parent}{number}"}
        - {format: upper-roman, number: "({n})", ref: "{parent}{number}"}
      appendices: annex-letter
"""
SCHEMES = list(numbering.BUILTIN) + ["harbour-legal"]


def org_id(scheme):
    return f"n-{scheme}"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The bad-input base project, its policy deepened (a list in a clause that has lettered
    sub-clauses, a level-4 clause, cross-references to a sub-clause), and one school per scheme."""
    root = tmp_path_factory.mktemp("numbering") / "p"
    shutil.copytree(BASE, root)
    src = root / "policy_src" / "demo.yaml"
    text = src.read_text()
    text = text.replace(
        "This policy applies to everyone. See paragraph {{ ref('phones') }} and {{ ref('app-help') }}.\n",
        "This policy applies to everyone. See {{ ref('phones') }}, {{ ref('app-help') }}, {{ ref('intro-sub') }} "
        "and {{ ref('intro-deep') }}.\n\n"
        "            1. the first point;\n            2. the second point.\n", 1)
    text = text.replace("                   2. quickly.\n",
                        "                   2. quickly.\n"
                        "              clauses:\n"
                        "                - id: intro-deep\n"
                        "                  text: A clause at the fourth level.\n"
                        "            - id: intro-sub-two\n"
                        "              text: A second sub-clause.\n", 1)
    src.write_text(text)
    school = (root / "schools" / "demo-school.yaml").read_text()
    (root / "schools" / "demo-school.yaml").unlink()
    trees = iter(["Ash", "Birch", "Cedar", "Damson", "Elder", "Fir", "Gorse", "Hazel", "Ivy", "Juniper", "Larch"])
    for scheme in SCHEMES:
        body = school.replace("id: demo-school", f"id: {org_id(scheme)}")
        body = body.replace("Demo Primary School", f"{next(trees)} Primary School")
        own = CUSTOM if scheme == "harbour-legal" else f"  numbering: {scheme}\n"
        body = body.replace("  numbering: decimal\n", own)
        (root / "schools" / f"{org_id(scheme)}.yaml").write_text(body)
    out = root.parent / "out"
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out), "--format", "html,pdf,docx"])
    assert result.exit_code == 0, result.output
    project = load_project(root, Report())
    docs = {}
    for scheme in SCHEMES:
        report = Report()
        docs[scheme] = resolve(project, org_id(scheme), "demo", report)
        assert not report.errors, [p.format() for p in report.errors]
    return out, docs


def xref_sentence(doc) -> str:
    by = doc.by_id()
    return (f"See {by['phones'].ref}, {by['app-help'].ref}, {by['intro-sub'].ref} and {by['intro-deep'].ref}.")


def html_printed(path: Path) -> tuple:
    page = path.read_text()
    body = page[page.index('id="c-intro"'):]
    labels = [htmllib.unescape(t) for t in re.findall(r'<span class="(?:num|marker)">([^<]*)</span>', body)]
    text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", page)).replace("\u2060", "").split())  # word joiner: render/html.py
    return labels, text


def docx_printed(path: Path) -> tuple:
    d = docx.Document(str(path))
    paras = d.paragraphs
    shown = word_paragraphs(path, tables=False)  # the text with Word's numbers before it
    first = next(i for i, p in enumerate(paras) if p.style.name == "Heading 1" and p.text.strip() != "Contents")
    labels = [t.split("\t")[0] for t in shown[first:] if "\t" in t and t.split("\t")[0] != "\u2022"]
    text = " ".join(" ".join(shown).replace("\t", " ").split())
    return labels, text


def pdf_lines(path: Path) -> list:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_labels_and_cross_references_agree_in_every_format(project, scheme):
    out, docs = project
    doc = docs[scheme]
    folder = out / org_id(scheme)
    expected = expected_margin_labels(doc, sections=True, key_message=False)
    assert len(expected) >= 12

    html_labels, html_text = html_printed(next(folder.rglob("demo*.html")))
    assert html_labels == expected
    docx_labels, docx_text = docx_printed(folder / "demo.docx")
    # headings and clauses print "label<TAB>"; numbered list items too
    assert docx_labels == expected

    # the PDF: every label starts a line, in order (pdftotext keeps the margin number on its line)
    lines, i = pdf_lines(folder / "demo.pdf"), 0
    start = next(k for k, line in enumerate(lines) if line.endswith("Introduction") and k > 0
                 and not re.search(r"\.{4,}|\s\d+$", line))
    for label in expected:
        pattern = re.compile(re.escape(label) + r"(\s|$)")
        while i < len(lines) and not (i >= start and pattern.match(lines[i])):
            i += 1
        assert i < len(lines), f"{label!r} is not at the start of a line of the PDF, in order"
        i += 1

    sentence = xref_sentence(doc)
    pdf_text = " ".join(" ".join(pdf_lines(folder / "demo.pdf")).split())
    for text in (html_text, docx_text, pdf_text):
        assert sentence in text
    for appendix in doc.appendices:
        assert appendix.label in html_text and appendix.label in docx_text and appendix.label in pdf_text


@pytest.mark.parametrize("scheme", SCHEMES)
def test_no_label_twice_within_one_paragraph(project, scheme):
    doc = project[1][scheme]
    refs = [n.ref for n in doc.walk() if n.ref]
    assert len(refs) == len(set(refs)), "every cross-reference names one place"

    def markers(blocks):
        for b in blocks:
            if isinstance(b, ListBlock):
                for n, item in enumerate(b.items, b.start):
                    if b.style != "bullet":
                        yield list_marker(b.style, n)
                    yield from markers(item)

    def group(n):
        """A paragraph: a clause with the sub-clauses whose labels are their own counter alone."""
        nodes = [n]
        for child in n.children:
            if child.ref.startswith(n.ref) and child.label and not child.label.startswith(n.label.rstrip(".")):
                nodes += group(child)
        return nodes

    checked = 0
    for n in doc.walk():
        if n.kind != "clause" or n.level != 2:
            continue
        nodes = group(n)
        sub_labels = [m.label for m in nodes[1:]]
        list_labels = {mk for m in nodes for mk in markers(m.blocks)}
        assert len(sub_labels) == len(set(sub_labels))
        assert not set(sub_labels) & list_labels, f"{n.ref}: a list marker looks like a sub-clause"
        checked += 1
    assert checked >= 4


def test_the_shipped_styles_keep_their_labels(project):
    docs = project[1]
    by = {s: docs[s].by_id() for s in SCHEMES}
    assert [by["decimal"][i].label for i in ("intro", "intro-purpose", "intro-sub", "intro-deep")] == \
        ["1", "1.1", "1.1.1", "1.1.1.1"]
    assert [by["decimal-dot"][i].label for i in ("intro", "intro-purpose", "intro-sub")] == ["1.", "1.1.", "1.1.1."]
    assert [by["decimal-alpha"][i].ref for i in ("intro-purpose", "intro-sub", "intro-deep")] == \
        ["1.1", "1.1(a)", "1.1(a)(i)"]
    assert (by["flat"]["intro"].label, by["flat"]["intro"].ref) == ("", "\u2018Introduction\u2019")
    assert by["flat"]["intro-sub"].ref == "1(a)"
    assert set(NUMBERING_STYLES) <= set(numbering.SCHEMES)


def test_the_other_schemes(project):
    by = {s: project[1][s].by_id() for s in SCHEMES}
    assert by["legal"]["intro-deep"].ref == "1.1.1(a)"
    assert by["paragraph"]["phones"].ref == "paragraph 1.3"
    assert by["paragraph"]["intro-sub"].ref == "paragraph 1.1(a)"  # the word once, not "paragraph paragraph"
    assert by["paragraph"]["intro-deep"].ref == "paragraph 1.1(a)(i)"
    assert by["paragraph"]["app-help"].label == "Appendix A"
    assert by["paragraph"]["app-help-one"].label == "A.1"
    assert [by["lettered-sections"][i].label for i in ("intro", "intro-purpose", "intro-sub")] == ["A", "A.1", "(a)"]
    assert by["lettered-sections"]["app-help"].label == "Annex 1"
    assert [by["sections"][i].label for i in ("intro", "intro-purpose", "intro-sub")] == ["A", "A1", "(a)"]
    assert by["sections"]["intro"].ref == "Section A"
    assert by["sections"]["intro-sub"].ref == "A1(a)"
    assert by["numbered-paragraphs"]["intro-purpose"].label == "1."
    assert by["numbered-paragraphs"]["intro-sub"].ref == "1.1"
    assert [by["harbour-legal"][i].label for i in ("intro", "intro-purpose", "intro-sub", "intro-deep")] == \
        ["1.", "1.01", "(A)", "(I)"]
    assert by["harbour-legal"]["intro"].ref == "clause 1"
    assert by["harbour-legal"]["app-help"].label == "Annex A"


def test_lists_inside_lettered_sub_clauses_use_other_markers(project):
    docs = project[1]
    assert numbering.SCHEMES["decimal"].list_formats() == ("lower-alpha", "lower-roman")
    assert numbering.SCHEMES["decimal-alpha"].list_formats() == ("decimal", "upper-alpha")
    lst = docs["decimal-alpha"].by_id()["intro-sub"].blocks[1]
    assert [list_marker(lst.style, n) for n in (1, 2)] == ["(1)", "(2)"]
    assert list_marker(lst.items[1][1].style, 1) == "(A)"
    lst = docs["decimal"].by_id()["intro-sub"].blocks[1]
    assert (lst.style, lst.items[1][1].style) == ("alpha", "roman")  # unchanged where nothing collides


def test_every_builtin_scheme_is_sound_and_documented():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "source-format.md").read_text()
    for name, scheme in numbering.SCHEMES.items():
        assert numbering.problems(scheme) == [], name
        assert scheme.summary and scheme.example
        assert f"`{name}`" in doc


def test_a_scheme_whose_labels_collide_is_refused():
    sub = numbering.Level(format="lower-alpha", number="({n})", ref="{parent}{number}")
    base = numbering.SCHEMES["decimal-alpha"]
    same_twice = numbering.Scheme("x", base.levels[:2] + (sub, sub))
    assert any("both label" in p[1] for p in numbering.problems(same_twice))
    lists_alike = numbering.Scheme("x", base.levels, lists=("lower-alpha", "decimal"))
    assert any("look like the lower-alpha lists" in p[1] for p in numbering.problems(lists_alike))
    no_counter = numbering.Scheme("x", (numbering.Level(number="{1}"), numbering.Level(number="{1}.")))
    assert any("does not show its own counter" in p[1] for p in numbering.problems(no_counter))


@pytest.mark.parametrize("scheme,narrow", [("decimal", False), ("decimal-alpha", True), ("legal", False)])
def test_deep_clauses_indent_by_their_labels_width_not_the_schemes_name(project, scheme, narrow):
    """Short labels such as "(a)" get the narrow indent in every scheme that prints them, a built-in
    or an organisation's own; "1.1.1" keeps the wide one."""
    out, docs = project
    page = (out / org_id(scheme) / "demo.html").read_text()
    div = re.search(r'<div class="([^"]*)" id="c-intro-sub"', page).group(1).split()
    label = docs[scheme].by_id()["intro-sub"].label
    assert "level-3" in div and ("narrow" in div) == narrow, (label, div)


def test_text_that_names_the_noun_is_not_doubled_by_a_scheme_whose_references_carry_it(tmp_path):
    """The model writes "paragraph {{ ref('x') }}" so that it reads well where references are bare
    numbers; under a scheme whose references say "paragraph 1.3" the noun is printed once."""
    root = tmp_path / "p"
    shutil.copytree(BASE, root)
    school = root / "schools" / "demo-school.yaml"
    school.write_text(school.read_text().replace("  numbering: decimal\n", "  numbering: paragraph\n").replace(
        "          summary: Added a local clause.\n",
        "          summary: Added a local clause after paragraph {{ ref('intro-purpose') }}.\n"))
    report = Report()
    doc = resolve(load_project(root, report), "demo-school", "demo", report)
    assert not report.errors, [p.format() for p in report.errors]
    text = doc.by_id()["intro-purpose"].text.replace("\u00a0", " ")
    assert text.startswith("This policy applies to everyone. See paragraph 1.3 and Appendix A."), text
    assert any(c.summary == "Added a local clause after paragraph 1.1." for c in doc.changes), doc.changes
