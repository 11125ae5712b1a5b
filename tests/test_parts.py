"""Parts: groups of sections above section level (tests/fixtures/parts). Part headings, labels and
cross-references agree in HTML, PDF and DOCX; a part switched off takes its sections and its
appendices with it and the rest renumber; layers and numbering schemes handle parts."""
import html as htmllib
import re
import shutil
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from policypack.cli import main
from policypack.diff import diff_policies
from policypack.errors import Report
from policypack.load import load_project
from policypack.render.docx import heading_text, outline_pages
from tests.helpers import expected_margin_labels, pdf_pages
from tests.helpers_docx import docx_to_pdf, word_paragraphs

PARTS = Path(__file__).parent / "fixtures" / "parts"


def resolved(root, org, policy="combined"):
    from policypack.resolve import resolve
    report = Report()
    doc = resolve(load_project(root, Report()), org, policy, report)
    assert not report.errors, [p.format() for p in report.errors]
    return doc


def outline(doc) -> list:
    """(kind, label, title) of the body's top level and the parts' sections, in order."""
    return [(n.kind, n.label, n.title) for top in doc.top_level() for n in [top] + (
        top.children if top.kind == "part" else [])]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("parts")
    result = CliRunner().invoke(main, ["build", "--root", str(PARTS), "--out", str(out), "--format", "html,pdf,docx"])
    assert result.exit_code == 0, result.output
    return out, resolved(PARTS, "parts-school")


def test_sections_number_on_across_parts_and_appendices_follow_source_order(built):
    doc = built[1]
    assert outline(doc) == [
        ("section", "1", "About this policy"),
        ("part", "Part 1", "Devices and accounts"),
        ("section", "2", "School accounts"), ("section", "3", "Raising a concern"),  # an include inside a part
        ("part", "Part 2", "Driving the school minibus"),  # retitled by the school
        ("section", "4", "Who may drive"), ("section", "5", "Passengers"),
        ("section", "6", "Keeping this policy up to date")]
    assert [s.id for s in doc.sections] == ["about", "accounts", "raising-a-concern", "driving",
                                            "driving-passengers", "review-of-policy"]
    assert [(a.id, a.label) for a in doc.appendices] == [
        ("lost-device-form", "Appendix 1"), ("vehicle-checklist", "Appendix 2"), ("glossary", "Appendix 3"),
        ("table-of-changes", "Appendix 4")]
    by = doc.by_id()
    assert by["part-driving"].ref == "Part 2" and by["driving-licence"].text.startswith("Part 2 is for staff")
    assert doc.changes[0].affected == "Part 2, 4.2"
    assert [n.id for n in doc.walk()].count("driving") == 1, "walk() visits a section once, parts or not"


def test_a_part_switched_off_takes_its_sections_and_appendices_and_the_rest_renumber(built):
    on, off = built[1], resolved(PARTS, "parts-la")  # the council leaves the default-off part off
    assert [n.label for n in off.parts] == ["Part 1"]
    assert [(s.id, s.label) for s in off.sections] == [("about", "1"), ("accounts", "2"), ("raising-a-concern", "3"),
                                                       ("review-of-policy", "4")]
    assert [(a.id, a.label) for a in off.appendices] == [("lost-device-form", "Appendix 1"),
                                                         ("glossary", "Appendix 2"), ("table-of-changes", "Appendix 3")]
    d = diff_policies(off, on)  # switching the part on reads as one part added, with what it holds
    assert [(c.kind, c.number) for c in d.added] == [
        ("part", "Part 2"), ("section", "4"), ("clause", "4.1"), ("clause", "4.2"), ("section", "5"),
        ("clause", "5.1"), ("appendix", "Appendix 2")]
    assert ("review-of-policy", "4", "6") in {(r.id, r.old_number, r.new_number) for r in d.renumbered}
    assert not d.moved and not d.removed
    back = diff_policies(on, off)
    assert [c.number for c in back.removed][:2] == ["Part 2", "4"]


def test_part_headings_labels_and_cross_references_agree_in_every_format(built, tmp_path):
    out, doc = built
    folder = out / "parts-school"
    headings = [p.heading for p in doc.parts]
    assert headings == ["Part 1 \u2013 Devices and accounts", "Part 2 \u2013 Driving the school minibus"]
    contents = [heading_text(n) for top in doc.top_level() for n in [top] + (
        top.children if top.kind == "part" else [])] + [heading_text(a) for a in doc.appendices]
    labels = expected_margin_labels(doc, sections=True, key_message=False)
    sentences = ["Every member of staff reads Part 1, and 2.2 in particular.",
                 "Walk round the vehicle before every journey, using the checklist in Appendix 2."]

    # HTML: a part is an <h2> with its sections' headings one level down inside it, and nests in the contents
    page = (folder / "combined.html").read_text()
    assert re.findall(r'<h2 class="part-title">([^<]*)</h2>', page) == headings
    body = page[page.index('<div class="policy-body">'):]
    levels = [int(h) for h in re.findall(r"<h([1-6])", body)]
    assert all(b <= a + 1 for a, b in zip([1] + levels, levels)), "no heading level is skipped"
    part = body[body.index('id="c-part-devices"'):body.index('id="c-part-driving"')]
    assert '<h3 class="numbered"><span class="num">2</span> School accounts</h3>' in part
    toc = page[page.index('<nav class="toc"'):page.index("</nav>", page.index('<nav class="toc"'))]
    assert re.search(r'<li class="part"><a href="#c-part-driving">Part 2 \u2013 Driving the school minibus</a>\s*'
                     r'<ol>\s*<li><a href="#c-driving"><span class="num">4</span> Who may drive', toc)
    html_labels = [htmllib.unescape(t) for t in re.findall(r'<span class="(?:num|marker)">([^<]*)</span>',
                                                           page[page.index('id="c-about"'):])]
    assert html_labels == labels
    html_text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", page)).replace("\u2060", "").split())  # word joiner: render/html.py

    # PDF (the printed HTML): each part opens a page, and its heading is in the contents and bookmarks
    pages = pdf_pages(folder / "combined.pdf")
    for heading in headings:
        opening = [n for n, text in enumerate(pages) if text.strip().splitlines()[-1:] and any(
            line.strip() == heading for line in text.splitlines())]
        assert len(opening) == 1, heading
        first_body_line = next(line.strip() for line in pages[opening[0]].splitlines()[3:] if line.strip())
        assert first_body_line == heading, "a part starts on a new page"
    pdf_text = " ".join(" ".join(pages).split())
    from pypdf import PdfReader
    marks = [m.title for m in PdfReader(folder / "combined.pdf").outline if not isinstance(m, list)]
    assert [m for m in marks if m.startswith("Part ")] == headings

    # DOCX: a part heading style, in the contents (its sections indented under it) and in the outline
    d = docx.Document(str(folder / "combined.docx"))
    shown = word_paragraphs(folder / "combined.docx", tables=False)  # with Word's numbers
    assert [t for t, p in zip(shown, d.paragraphs) if p.style.name == "Part Heading"] == headings
    toc = [(p.style.name, p.text.rsplit("\t", 1)[0]) for p in d.paragraphs if p.style.name.startswith("toc ")]
    assert [t for _, t in toc] == contents
    assert [s for s, t in toc if t.startswith("4\t")] == ["toc 2"]
    pdf = docx_to_pdf(folder / "combined.docx", tmp_path)
    assert len(outline_pages(pdf)) == len(contents), "LibreOffice's outline maps one to one onto the contents"
    docx_lines = [line.strip() for text in pdf_pages(pdf) for line in text.splitlines()]
    assert [h for h in headings if h in docx_lines] == headings
    docx_text = " ".join(" ".join(shown).replace("\t", " ").split())
    docx_labels = [t.split("\t")[0] for t, p in list(zip(shown, d.paragraphs))[next(
        i for i, (t, p) in enumerate(zip(shown, d.paragraphs)) if p.style.name == "Heading 1" and t.startswith("1\t")):]
        if "\t" in t and p.style.name != "Part Heading"]
    assert docx_labels == labels

    for text in (html_text, pdf_text, docx_text):
        for sentence in sentences:
            assert sentence in text


def copy_parts(tmp_path) -> Path:
    """The fixture, its opening clause no longer pointing into the first part (so it can go)."""
    root = tmp_path / "p"
    shutil.copytree(PARTS, root)
    edit(root / "policy_src" / "combined.yaml", "Every member of staff reads {{ ref('part-devices') }}, and "
         "{{ ref('accounts-lost') }}\n            in particular.", "Read the parts that apply to you.")
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_scheme_letters_its_parts_and_layers_switch_and_remove_them(tmp_path):
    root = copy_parts(tmp_path)
    school = root / "schools" / "parts-school.yaml"
    edit(school, "  numbering: decimal\n", "  numbering: lettered-parts\n  numbering_schemes:\n    lettered-parts:\n"
         "      levels: [{}]\n      parts: part-letter\n")
    edit(school, "      enable: [part-driving]\n", "      enable: [part-driving]\n      remove: [part-devices]\n")
    doc = resolved(root, "parts-school")
    assert [(p.label, p.ref) for p in doc.parts] == [("Part A", "Part A")]
    assert [s.label for s in doc.sections] == ["1", "2", "3", "4"]
    assert "lost-device-form" not in doc.by_id(), "a removed part's appendices go with it"
    assert doc.by_id()["driving-licence"].text.startswith("Part A is for staff")

    edit(root / "policy_src" / "combined.yaml", "        - id: driving-passengers\n",
         "        - id: driving-passengers\n          locked: true\n")
    edit(school, "remove: [part-devices]", "remove: [part-driving]")
    result = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert result.exit_code == 1
    assert "cannot remove 'part-driving': it holds locked clause 'driving-passengers'" in result.output


def test_a_custom_part_label_and_a_default_on_part_switched_off(tmp_path):
    root = copy_parts(tmp_path)
    edit(root / "schools" / "parts-school.yaml", "  numbering: decimal\n",
         "  numbering: roman-parts\n  numbering_schemes:\n    roman-parts:\n      levels: [{}]\n"
         "      parts: {format: upper-roman, label: \"Section {n}\"}\n")
    edit(root / "policy_src" / "combined.yaml", "      guidance: Applies to every school.\n",
         "      guidance: Applies to every school.\n      optional: default-on\n")
    doc = resolved(root, "parts-school")
    assert [p.label for p in doc.parts] == ["Section I", "Section II"]
    edit(root / "schools" / "parts-school.yaml", "      enable: [part-driving]\n",
         "      enable: [part-driving]\n      disable: [part-devices]\n")
    doc = resolved(root, "parts-school")
    assert [p.label for p in doc.parts] == ["Section I"] and doc.parts[0].id == "part-driving"
    assert [a.id for a in doc.appendices][0] == "vehicle-checklist"
