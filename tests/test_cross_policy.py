"""Cross-references between the policies of one pack: `ref('policy-id:clause-id')` prints the other
policy's title and this organisation's number for the clause, links to it in HTML, PDF and DOCX,
is checked like any reference, and shows in the diff when the other policy renumbers."""
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from pypdf import PdfReader

from policypack.cli import main
from policypack.diff import diff_policies
from policypack.errors import Report
from policypack.load import load_project
from policypack.resolve import resolve
from tests.helpers import second_policy

BASE = Path(__file__).parent / "bad_inputs" / "base"
OTHER = second_policy("The online conduct policy", """\
        - id: conduct-scope
          text: It covers what staff do online. Devices are covered by paragraph {{ ref('demo:phones') }}.
        - id: conduct-optional
          optional: default-on
          text: An optional rule.
        - id: conduct-images
          text: Images of pupils are taken on school devices only.
""")
REF = "Images are covered by paragraph {{ ref('conduct:conduct-images') }}."


def make(root: Path, school_edits: str = "", text: str = REF) -> Path:
    shutil.copytree(BASE, root)
    (root / "policy_src" / "conduct.yaml").write_text(OTHER)
    demo = root / "policy_src" / "demo.yaml"
    demo.write_text(demo.read_text().replace("An optional clause.", "An optional clause.\n        - id: see-conduct\n"
                                             f"          text: \"{text}\"", 1))
    la = root / "schools" / "demo-la.yaml"
    la.write_text(la.read_text().replace("    demo: {}", "    demo: {}\n    conduct: {}"))
    school = root / "schools" / "demo-school.yaml"
    school.write_text(school.read_text().replace("  policies:\n", "  policies:\n" + school_edits, 1))
    return root


def resolved(root: Path, policy="demo", report=None):
    report = report if report is not None else Report()
    doc = resolve(load_project(root, report), "demo-school", policy, report)
    assert not report.errors, [p.format() for p in report.errors]
    return doc


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = make(tmp_path_factory.mktemp("xpol") / "p")
    out = root.parent / "out"
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out), "--format", "html,pdf,docx"])
    assert result.exit_code == 0, result.output
    return root, out / "demo-school"


def test_the_reference_prints_the_other_policys_title_and_number(built):
    root, _ = built
    doc = resolved(root)
    other = resolved(root, "conduct")
    number = other.by_id()["conduct-images"].ref
    assert number == "1.3"
    assert doc.by_id()["see-conduct"].text.replace("\u00a0", " ") == f"Images are covered by paragraph {number} of the online conduct policy."
    assert other.by_id()["conduct-scope"].text.replace("\u00a0", " ").endswith(f"paragraph {doc.by_id()['phones'].ref} of the Demo policy.")


def test_html_links_open_the_other_file_at_the_clause(built):
    _, folder = built
    page = (folder / "demo.html").read_text()
    link = re.search(r'<a class="xref" href="([^"]+)">1\.3 of the online conduct policy</a>', page)
    assert link and link.group(1) == "conduct.html#c-conduct-images"
    target = (folder / "conduct.html").read_text()
    assert 'id="c-conduct-images"' in target


def test_pdf_links_open_the_other_pdf_beside_it(built):
    _, folder = built
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(folder / "demo.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "1.3 of the online conduct policy" in " ".join(text.replace("\u00a0", " ").split())
    uris = [a.get_object()["/A"].get("/URI") for page in PdfReader(folder / "demo.pdf").pages
            for a in page.get("/Annots", []) if "/A" in a.get_object()]
    assert "conduct.pdf#c-conduct-images" in uris
    assert not [u for u in uris if u and str(u).startswith("file:")], "no link names the builder's folders"
    names = PdfReader(folder / "conduct.pdf").named_destinations
    assert "c-conduct-images" in names


def test_docx_links_to_the_other_docx_at_its_bookmark(built):
    _, folder = built
    with zipfile.ZipFile(folder / "demo.docx") as z:
        body = etree.fromstring(z.read("word/document.xml"))
        rels = etree.fromstring(z.read("word/_rels/document.xml.rels"))
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    r = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    links = [h for h in body.iter(w + "hyperlink") if "".join(h.itertext()) == "1.3 of the online conduct policy"]
    assert len(links) == 1
    targets = {e.get("Id"): (e.get("Target"), e.get("TargetMode")) for e in rels}
    assert targets[links[0].get(r + "id")] == ("conduct.docx", "External")
    anchor = links[0].get(w + "anchor")
    with zipfile.ZipFile(folder / "conduct.docx") as z:
        marks = [b.get(w + "name") for b in etree.fromstring(z.read("word/document.xml")).iter(w + "bookmarkStart")]
    assert anchor in marks


@pytest.mark.parametrize("text,message", [
    ("See {{ ref('nothing:conduct-images') }}.", "refers to unknown policy 'nothing'"),
    ("See {{ ref('conduct:no-such-clause') }}.", "refers to unknown id 'no-such-clause' in policy 'conduct'"),
    ("See {{ ref('demo:phones') }}.", "refers to 'demo:phones' in its own policy"),
    ("See {{ ref('conduct:conduct-optional') }}.", "refers to 'conduct-optional' in 'conduct', which demo-school has switched off"),
])
def test_check_reports_bad_references_with_file_and_line(tmp_path, text, message):
    root = make(tmp_path / "p", "    conduct:\n      disable: [conduct-optional]\n", text=text)
    result = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert result.exit_code == 1
    assert re.search(r"policy_src/demo\.yaml:\d+: error: clause 'see-conduct' " + re.escape(message), result.output), \
        result.output
    assert "Traceback" not in result.output


def test_a_reference_to_a_policy_the_organisation_does_not_publish(tmp_path):
    root = make(tmp_path / "p")
    la = root / "schools" / "demo-la.yaml"
    la.write_text(la.read_text().replace("    conduct: {}", ""))
    result = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert result.exit_code == 1
    assert "refers to policy 'conduct', which demo-school does not publish" in result.output, result.output


def test_a_renumbering_in_one_policy_shows_in_the_other(tmp_path):
    old = resolved(make(tmp_path / "old"))
    new_root = make(tmp_path / "new", "    conduct:\n      disable: [conduct-optional]\n")
    new = resolved(new_root)
    assert new.by_id()["see-conduct"].text.replace("\u00a0", " ").endswith("paragraph 1.2 of the online conduct policy.")
    d = diff_policies(old, new)
    changed = {c.id: c for c in d.changed}
    assert "see-conduct" in changed and not changed["see-conduct"].refs_only


def test_a_whole_policy_is_named_by_its_title_and_linked_when_published(tmp_path):
    """`ref('conduct:')` prints the other policy's title as the organisation publishes it and links
    to its file; `policies` lets text fall back to plain words where the pack lacks that policy."""
    text = "Read {% if 'conduct' in policies %}{{ ref('conduct:') }}{% else %}the conduct rules{% endif %}."
    root = make(tmp_path / "p", "    conduct:\n      title: Staff conduct online\n", text=text)
    assert resolved(root).by_id()["see-conduct"].text.replace("\u00a0", " ") == "Read Staff conduct online."
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out), "--format", "html"]).exit_code == 0
    assert '<a class="xref" href="conduct.html">Staff conduct online</a>' in (out / "demo-school" / "demo.html").read_text()
    la = root / "schools" / "demo-la.yaml"
    la.write_text(la.read_text().replace("    conduct: {}", ""))
    school = root / "schools" / "demo-school.yaml"
    school.write_text(school.read_text().replace("    conduct:\n      title: Staff conduct online\n", ""))
    assert resolved(root).by_id()["see-conduct"].text == "Read the conduct rules."
