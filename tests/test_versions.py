"""Versions between reviews: diff, redlines (text, JSON, HTML, DOCX), --record, --against-parent,
stale overrides and review status, on a throwaway git repository built from the small base project."""
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from policypack.cli import main
from policypack.diff import apply_ops, diff_policies, word_ops
from policypack.errors import Report
from policypack.load import load_project
from policypack.redline_docx import render_redline_docx, version_paragraphs
from policypack.resolve import resolve
from tests.helpers_docx import libreoffice_resolve

BASE = Path(__file__).parent / "bad_inputs" / "base"
needs_libreoffice = pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
RID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"

# v1 -> v2 of policy_src/demo.yaml: change a clause's text, insert a clause, remove a clause, move a
# clause ("phones") to another section (the appendix "app-help").
PHONES = """        - id: phones
          variants:
            breaks: Phones at breaks only.
            never: No phones on site.
          default_variant: breaks
"""
V2_EDITS = [
    ("policy_src/demo.yaml", "This policy applies to everyone.", "This policy applies to all staff and volunteers."),
    ("policy_src/demo.yaml", PHONES, ""),
    ("policy_src/demo.yaml", "        - id: optional-thing\n          optional: default-off\n          text: An optional clause.\n",
     "        - id: new-rule\n          text: Staff answer parents' emails within two working days.\n"),
    ("policy_src/demo.yaml", '(tel:0344)."\n', '(tel:0344)."\n' + PHONES),
    ("schools/demo-school.yaml", "      enable: [optional-thing]\n", ""),
]


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def commit(repo, message):
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=Test", "-c", "user.email=test@example.org", "commit", "-q", "-m", message)


def edit(root, rel, find, replace):
    path = root / rel
    text = path.read_text()
    assert find in text, find
    path.write_text(text.replace(find, replace, 1))


def run(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


@pytest.fixture
def repo(tmp_path):
    """Tagged v1, then v2 committed on top (HEAD, working tree clean)."""
    root = tmp_path / "repo"
    shutil.copytree(BASE, root)
    git(root.parent, "init", "-q", str(root))
    commit(root, "v1")
    git(root, "tag", "v1")
    for rel, find, replace in V2_EDITS:
        edit(root, rel, find, replace)
    commit(root, "v2")
    return root


def resolved_at(root, rev=None):
    from policypack.versions import load_at
    project = load_at(rev, root)
    report = Report()
    doc = resolve(project, "demo-school", "demo", report)
    assert not report.errors, [p.format() for p in report.errors]
    return doc


def diff_json(repo, *extra):
    return json.loads(run("diff", "--root", repo, "--school", "demo-school", "--policy", "demo", "--from", "v1",
                          "--format", "json", *extra).stdout)


# ---- the diff itself -------------------------------------------------------------------------


def test_word_ops_round_trip():
    ops = word_ops("The quick brown fox.\n(a) one", "The slow brown fox jumps.\n(a) one\n(b) two")
    assert ("-", "quick") in ops and ("+", "slow") in ops
    assert apply_ops(ops, "-") == "The quick brown fox.\n(a) one"
    assert apply_ops(ops, "+") == "The slow brown fox jumps.\n(a) one\n(b) two"
    assert word_ops("a b c", "x y z") == [("-", "a b c"), ("+", "x y z")]


def test_json_lists_exactly_the_right_ids_and_numbers(repo):
    data = diff_json(repo)
    assert (data["school"], data["policy"], data["from"], data["to"]) == ("demo-school", "demo", "v1", "working tree")
    assert [(a["id"], a["number"]) for a in data["added"]] == [("new-rule", "1.3")]
    assert [(a["id"], a["number"]) for a in data["removed"]] == [("optional-thing", "1.4")]
    changed = {c["id"]: c for c in data["changed"]}
    assert set(changed) == {"intro-purpose"}
    c = changed["intro-purpose"]
    assert (c["old_number"], c["new_number"], c["refs_only"]) == ("1.1", "1.1", False)
    ops = [(o["op"], o["text"]) for o in c["ops"]]
    assert ("delete", "everyone.") in ops and ("insert", "all staff and volunteers.") in ops
    assert ("delete", "1.3") in ops and ("insert", "A1.2") in ops  # the cross-reference followed the move
    assert [(m["id"], m["old_number"], m["new_number"], m["old_parent"], m["new_parent"]) for m in data["moved"]] \
        == [("phones", "1.3", "A1.2", "intro", "app-help")]
    assert [(n["id"], n["old_number"], n["new_number"]) for n in data["renumbered"]] \
        == [("local-contacts", "1.5", "1.4"), ("phones", "1.3", "A1.2")]
    assert data["retitled"] == [] and data["front"] == []
    entry = data["proposed_change"]
    assert entry["clauses"] == ["intro-purpose", "new-rule", "phones"]
    assert entry["affected"] == "1.1, 1.3, A1.2; removed: 1.4"


def test_text_summary_lists_each_change(repo):
    out = run("diff", "--root", repo, "--school", "demo-school", "--policy", "demo", "--from", "v1").output
    assert "1 added, 1 removed, 1 changed, 1 moved, 2 renumbered, 0 retitled" in out
    assert "+ 1.3 new-rule: Staff answer parents’ emails within two working days." in out
    assert "- 1.4 (old number) optional-thing: An optional clause." in out
    assert "~ 1.1 intro-purpose" in out and "[-everyone.-]{+all staff and volunteers.+}" in out
    assert "> 1.3 -> A1.2 phones (from intro to app-help)" in out
    assert "1.5 -> 1.4 local-contacts" in out
    assert "Proposed table-of-changes entry:" in out and "paragraphs affected: 1.1, 1.3, A1.2; removed: 1.4" in out
    assert f"date: {dt.date.today().isoformat()}" in out  # no new review date recorded in v2


def test_order_change_among_siblings_is_a_move_and_equal_versions_are_empty(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(BASE, root)
    old = resolve(load_project(root), "demo-school", "demo", Report())
    assert diff_policies(old, old).empty
    edit(root, "schools/demo-school.yaml", "        - after: intro-purpose\n", "        - after: local-contacts\n")
    d = diff_policies(old, resolve(load_project(root), "demo-school", "demo", Report()))
    assert [m.id for m in d.moved] == ["local-extra"] and not d.added and not d.removed
    assert {c.id: c.refs_only for c in d.changed} == {"intro-purpose": True}  # "see 1.3" -> "see 1.2" only
    assert d.proposed_change(dt.date(2025, 9, 1))["clauses"] == ["local-extra"]


# ---- HTML ------------------------------------------------------------------------------------


def test_html_redline_marks_insertions_and_deletions(repo):
    out = repo / "out"
    run("diff", "--root", repo, "--school", "demo-school", "--policy", "demo", "--from", "v1", "--format", "html",
        "--out", out)
    page = (out / "demo-school" / "demo.diff.html").read_text()
    assert '<html lang="en-GB">' in page and page.count("<h1>") == 1
    assert re.search(r"<del><span class=\"vh\">\[deleted: </span>everyone\.", page)
    assert re.search(r"<ins><span class=\"vh\">\[inserted: </span>all staff and volunteers\.", page)
    assert re.search(r"<ins><span class=\"vh\">\[inserted: </span>Staff answer parents’ emails", page)  # the added clause, escaped
    assert re.search(r"<del><span class=\"vh\">\[deleted: </span>An optional clause\.", page)  # the removed clause
    assert "1.3 \u2192 A1.2" in page and "Moved: it was 1.3" in page and "1.5 \u2192 1.4" in page
    assert "text-decoration: underline" in page and "text-decoration: line-through" in page
    assert "Paragraphs affected</dt><dd>1.1, 1.3, A1.2; removed: 1.4" in page
    glance = page[page.index("Changes at a glance"):page.index("</ul>", page.index("Changes at a glance"))]
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a> \u2013 (\w+)', glance)
    assert {(a, k) for a, _, k in links} == {("c-intro-purpose", "changed"), ("c-new-rule", "added"),
                                             ("c-optional-thing", "removed"), ("c-phones", "moved")}
    ids = set(re.findall(r'id="([^"]+)"', page))
    assert all(anchor in ids for anchor, _, _ in links)
    assert page.index('class="skip-link" href="#main"') < page.index('<main id="main">')


# ---- DOCX: an independent tracked-changes reader -----------------------------------------------


def tracked_runs(docx_bytes: bytes, accept: bool) -> list:
    """Accept All (or Reject All) over document.xml: each paragraph as [(text, bold, italic, link)].

    Accept: drop w:del and w:moveFrom, keep w:ins and w:moveTo content; a paragraph whose mark is
    deleted or moved from joins the next one. Reject: drop w:ins and w:moveTo, keep w:del (w:delText)
    and w:moveFrom content; a paragraph whose mark is inserted or moved to joins the next; a run's
    formatting is the one its w:rPrChange recorded, if any. Link: ("anchor", bookmark) or ("href",
    target) of the hyperlink around the run."""
    package = zipfile.ZipFile(io.BytesIO(docx_bytes))
    body = etree.fromstring(package.read("word/document.xml")).find("w:body", NS)
    rels = {r.get("Id"): r.get("Target") for r in etree.fromstring(package.read("word/_rels/document.xml.rels"))}
    drop = ("del", "moveFrom") if accept else ("ins", "moveTo")
    tracked = {f"{{{W}}}{tag}" for tag in ("ins", "del", "moveFrom", "moveTo")}
    on = lambda rpr, tag: rpr is not None and rpr.find(f"w:{tag}", NS) is not None and \
        rpr.find(f"w:{tag}", NS).get(f"{{{W}}}val") not in ("0", "false")  # noqa: E731
    out, pending = [], []
    for p in body.iter(f"{{{W}}}p"):
        for r in p.iter(f"{{{W}}}r"):
            wrappers = {a.tag.split("}")[1] for a in r.iterancestors() if a.tag in tracked}
            if wrappers & set(drop):
                continue
            text = "".join("\t" if t.tag == f"{{{W}}}tab" else t.text or ""
                           for t in r if t.tag in (f"{{{W}}}t", f"{{{W}}}delText", f"{{{W}}}tab"))
            rpr = r.find("w:rPr", NS)
            if not accept and rpr is not None and rpr.find("w:rPrChange", NS) is not None:
                rpr = rpr.find("w:rPrChange/w:rPr", NS)
            link = next((("anchor", h.get(f"{{{W}}}anchor")) if h.get(f"{{{W}}}anchor") else ("href", rels[h.get(RID)])
                         for h in r.iterancestors(f"{{{W}}}hyperlink")), None)
            pending.append((text, on(rpr, "b"), on(rpr, "i"), link))
        mark = p.find("w:pPr/w:rPr", NS)
        if not (mark is not None and any(mark.find(f"w:{tag}", NS) is not None for tag in drop)):
            out.append(pending)
            pending = []
    if pending:
        out.append(pending)
    return [runs for runs in out if "".join(t for t, *_ in runs).strip()]


def tracked_paragraphs(docx_bytes: bytes, accept: bool) -> list:
    """Accept All (or Reject All) over document.xml, then the text of each paragraph."""
    return ["".join(t for t, *_ in runs) for runs in tracked_runs(docx_bytes, accept)]


def stretches(runs: list, key) -> list:
    """[(text, key value)] of the stretches of a paragraph's runs where `key(run)` is truthy."""
    out, last = [], None
    for run in runs:
        value = key(run)
        if value and out and value == last:
            out[-1] = (out[-1][0] + run[0], value)
        elif value:
            out.append((run[0], value))
        last = value
    return [(text.strip(), value) for text, value in out]


def test_docx_redline_accepts_to_new_and_rejects_to_old(repo, tmp_path):
    out = repo / "out"
    run("diff", "--root", repo, "--school", "demo-school", "--policy", "demo", "--from", "v1", "--format", "docx",
        "--out", out)
    path = out / "demo-school" / "demo.redline.docx"
    data = path.read_bytes()
    xml = zipfile.ZipFile(path).read("word/document.xml").decode()
    assert "<w:delText" in xml and 'w:author="policypack"' in xml and 'w:date="2025-05-16T00:00:00Z"' in xml
    new, old = resolved_at(repo), resolved_at(repo, "v1")
    assert tracked_paragraphs(data, accept=True) == version_paragraphs(new)
    assert tracked_paragraphs(data, accept=False) == version_paragraphs(old)
    accepted = tracked_paragraphs(data, accept=True)
    assert "1.3\tStaff answer parents’ emails within two working days." in accepted
    assert "1.4\tAn optional clause." in tracked_paragraphs(data, accept=False)
    assert not any("An optional clause" in p for p in accepted)
    # deterministic: the same diff gives the same bytes
    run("diff", "--root", repo, "--school", "demo-school", "--policy", "demo", "--from", "v1", "--format", "docx",
        "--out", tmp_path / "again")
    assert (tmp_path / "again" / "demo-school" / "demo.redline.docx").read_bytes() == data
    # and LibreOffice opens it
    conv = tmp_path / "lo"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", "txt:Text", "--outdir", str(conv), str(path)],
                   check=True, capture_output=True, timeout=180)
    text = (conv / "demo.redline.txt").read_text(encoding="utf-8-sig")
    assert "Staff answer parents" in text and "Demo policy" in text


def test_docx_redline_keeps_bold_italic_and_links_on_both_sides(repo):
    """A changed clause keeps its formatting: unchanged words the same in both versions, deleted words
    the old version's, inserted the new's; a word made bold is a tracked formatting change."""
    old_text = ("This policy **applies** to all staff and *volunteers*, **promptly**, with "
                "[the guidance](https://www.gov.uk).")
    new_text = ("This policy **applies** to **all** staff, *volunteers* and governors, with "
                "[the new guidance](https://www.gov.uk) and [the office](mailto:office@example.org).")
    edit(repo, "policy_src/demo.yaml", "This policy applies to all staff and volunteers.", old_text)
    commit(repo, "formatted")
    git(repo, "tag", "formatted")
    edit(repo, "policy_src/demo.yaml", old_text, new_text)
    new, old = resolved_at(repo), resolved_at(repo, "formatted")
    data = render_redline_docx(diff_policies(old, new))
    assert tracked_paragraphs(data, accept=True) == version_paragraphs(new)
    assert tracked_paragraphs(data, accept=False) == version_paragraphs(old)

    def clause(accept):
        return next(runs for runs in tracked_runs(data, accept) if runs[0][0].startswith("1.1"))

    bold = lambda accept: [t for t, _ in stretches(clause(accept), lambda r: r[1])]  # noqa: E731
    italic = lambda accept: [t for t, _ in stretches(clause(accept), lambda r: r[2])]  # noqa: E731
    links = lambda accept: stretches(clause(accept), lambda r: r[3])  # noqa: E731
    assert bold(True) == ["applies", "all"] and bold(False) == ["applies", "promptly"]  # "applies": unchanged
    assert italic(True) == italic(False) == ["volunteers"]
    assert links(True) == [("the new guidance", ("href", "https://www.gov.uk")),
                           ("the office", ("href", "mailto:office@example.org")),
                           ("A1.2", ("anchor", "c_phones")), ("Appendix 1", ("anchor", "c_app_help"))]
    assert links(False) == [("the guidance", ("href", "https://www.gov.uk")),
                            ("A1.2", ("anchor", "c_phones")), ("Appendix 1", ("anchor", "c_app_help"))]
    body = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))
    assert {"c_phones", "c_app_help"} <= set(body.xpath("//w:bookmarkStart/@w:name", namespaces=NS))
    assert body.xpath("//w:rPrChange", namespaces=NS), "'all' made bold is a tracked formatting change"
    # the policy DOCX's external links and tel: links survive in unchanged clauses too
    accepted = [r for runs in tracked_runs(data, True) for r in runs]
    assert ("Safer internet", False, False, ("href", "https://saferinternet.org.uk")) in accepted
    assert ("0344", False, False, ("href", "tel:0344")) in accepted
    if shutil.which("soffice"):  # LibreOffice's own Accept All / Reject All agree, formatting included
        for accept, doc in ((True, new), (False, old)):
            runs = libreoffice_runs(data, accept, repo.parent)
            assert ["".join(t for t, *_ in r) for r in runs] == version_paragraphs(doc)
            lo_clause = next(r for r in runs if r[0][0].startswith("1.1"))
            assert [t for t, _ in stretches(lo_clause, lambda r: r[1])] == bold(accept)
            assert [t for t, _ in stretches(lo_clause, lambda r: r[2])] == italic(accept)


def libreoffice_runs(data: bytes, accept: bool, folder) -> list:
    """LibreOffice's Accept All (Reject All) of a DOCX, read as `tracked_runs` reads: no tracked
    change and no empty paragraph may be left over."""
    resolved = libreoffice_resolve(data, accept, folder)
    body = etree.fromstring(zipfile.ZipFile(io.BytesIO(resolved)).read("word/document.xml"))
    assert not body.xpath("//w:ins|//w:del|//w:moveFrom|//w:moveTo|//w:rPrChange", namespaces=NS)
    assert all("".join(p.itertext()).strip() for p in body.iter(f"{{{W}}}p")), "an empty paragraph is left"
    return tracked_runs(resolved, accept=True)


def test_docx_redline_shows_a_clause_that_only_moved_as_a_move(repo, tmp_path):
    """v1 -> v2 moves "phones" (1.3) into the appendix (A1.2), its text unchanged: a native Word move,
    its old number deleted and its new one inserted; a clause that moved and changed is deleted and
    inserted instead."""
    new, old = resolved_at(repo), resolved_at(repo, "v1")
    data = render_redline_docx(diff_policies(old, new))
    body = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))
    x = lambda path: body.xpath(path, namespaces=NS)  # noqa: E731
    assert x("//w:moveFromRangeStart/@w:name") == x("//w:moveToRangeStart/@w:name") == ["move1"]
    for side in ("moveFrom", "moveTo"):
        start, end = x(f"//w:{side}RangeStart"), x(f"//w:{side}RangeEnd")
        assert [e.get(f"{{{W}}}id") for e in end] == [s.get(f"{{{W}}}id") for s in start]
        para = start[0].getnext()  # the range holds the whole paragraph
        assert para.tag == f"{{{W}}}p" and para.getnext() is end[0]
        assert para.xpath(f"w:pPr/w:rPr/w:{side}", namespaces=NS), "the paragraph mark moved too"
        moved = "".join("\t" if t.tag == f"{{{W}}}tab" else t.text for t in para.xpath(f"w:{side}/w:r/*", namespaces=NS))
        assert moved == "\tNo phones on site."
    assert x("string(//w:p[w:moveFrom]/w:del)") == "1.3" and x("string(//w:p[w:moveTo]/w:ins)") == "A1.2"
    assert "No phones" not in "".join(x("//w:del//text()|//w:ins//text()"))
    assert tracked_paragraphs(data, accept=True) == version_paragraphs(new)
    assert tracked_paragraphs(data, accept=False) == version_paragraphs(old)
    if shutil.which("soffice"):  # LibreOffice reads the move as Word does: Accept All and Reject All exact
        for accept, doc in ((True, new), (False, old)):
            runs = libreoffice_runs(data, accept, tmp_path)
            assert ["".join(t for t, *_ in r) for r in runs] == version_paragraphs(doc)

    edit(repo, "policy_src/demo.yaml", "never: No phones on site.", "never: No phones on site, ever.")
    changed = resolved_at(repo)
    data = render_redline_docx(diff_policies(old, changed))
    body = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))
    assert not body.xpath("//w:moveFrom|//w:moveTo|//w:moveFromRangeStart", namespaces=NS)
    assert "No phones on site." in "".join(body.xpath("//w:del//text()", namespaces=NS))
    assert tracked_paragraphs(data, accept=True) == version_paragraphs(changed)
    assert tracked_paragraphs(data, accept=False) == version_paragraphs(old)


# ---- revisions -------------------------------------------------------------------------------


def test_bad_revisions_are_usage_errors(repo, tmp_path):
    args = ["diff", "--root", repo, "--school", "demo-school", "--policy", "demo"]
    r = run(*args, "--from", "no-such-tag", code=2)
    assert "unknown revision 'no-such-tag'" in r.output and "Traceback" not in r.output
    (repo / "empty").mkdir()
    r = run(*args, "--from", repo / "empty", code=2)
    assert "without a policy_src/ folder" in r.output
    plain = tmp_path / "plain"
    shutil.copytree(BASE, plain)
    r = run("diff", "--root", plain, "--school", "demo-school", "--policy", "demo", "--from", "v1", code=2)
    assert "is not inside a git repository" in r.output
    # a folder outside the project is refused: its text would show in the diff
    r = run(*args, "--from", plain, code=2)
    assert "is a folder outside the project" in r.output
    # a folder inside the project holding another copy of the sources works as a revision
    shutil.copytree(BASE, repo / "copies" / "plain")
    data = json.loads(run(*args, "--from", repo / "copies" / "plain", "--format", "json").stdout)
    assert [a["id"] for a in data["added"]] == ["new-rule"]


def test_to_a_revision_compares_two_commits(repo):
    edit(repo, "policy_src/demo.yaml", "Staff answer parents'", "Staff reply to parents'")  # uncommitted
    data = diff_json(repo, "--to", "HEAD")
    assert [a["id"] for a in data["added"]] == ["new-rule"] and data["to"] == "HEAD"
    assert "reply" not in json.dumps(data)


# ---- recording -------------------------------------------------------------------------------


def test_record_appends_a_valid_entry_and_keeps_the_file(repo):
    school = repo / "schools" / "demo-school.yaml"
    school.write_text(school.read_text().replace("  policies:\n", "  # our policies\n  policies:\n"))
    before = school.read_text()
    run("diff", "--root", repo, "--school", "demo-school", "--policy", "demo", "--from", "v1",
        "--record", "Adopted the model's 2025 changes: new email rule.")
    after = school.read_text()
    entry = ('        - date: {d}\n          summary: "Adopted the model\'s 2025 changes: new email rule. '
             'Removed: 1.4 (previous numbering)."\n          clauses: [intro-purpose, new-rule, phones]\n'
             ).format(d=dt.date.today().isoformat())
    assert after == before.replace("      changes:\n", "      changes:\n" + entry)
    doc = resolved_at(repo)
    row = next(r for r in doc.changes if r.summary.startswith("Adopted"))
    assert row.affected == "1.1, 1.3, A1.2" and row.layer == "demo-school"


def test_record_creates_missing_keys(repo):
    # demo-la publishes demo as "demo: {}"; give it an entry of its own
    run("diff", "--root", repo, "--school", "demo-la", "--policy", "demo", "--from", "v1", "--record", "Model update.")
    text = (repo / "schools" / "demo-la.yaml").read_text()
    assert "    demo:\n      changes:\n        - date: " in text
    report = Report()
    doc = resolve(load_project(repo, report), "demo-la", "demo", report)
    assert not report.errors and any(r.summary.startswith("Model update.") for r in doc.changes)


# ---- against the parent, stale overrides -------------------------------------------------------


def test_against_parent_flags_an_insert_as_needing_consultation(repo):
    r = run("diff", "--root", repo, "--school", "demo-school", "--policy", "demo", "--against-parent")
    assert "+ 1.2 local-extra: A local clause for Demo Primary School.  [needs consultation]" in r.output
    data = json.loads(run("diff", "--root", repo, "--school", "demo-school", "--policy", "demo",
                          "--against-parent", "--format", "json").stdout)
    assert [(a["id"], a["needs_consultation"]) for a in data["added"]] == [("local-extra", True)]
    changed = {c["id"]: c["needs_consultation"] for c in data["changed"]}
    assert changed["local-contacts"] is False  # filling a slot needs no consultation
    assert changed["phones"] is False  # choosing a variant neither
    assert data["consultation"] == [{"id": "local-extra", "action": "insert"}]


def test_stale_override_warns_in_check_and_diff_shows_three_texts(repo):
    edit(repo, "schools/demo-school.yaml", "  policies:\n",
         "  model_revision: v1\n  policies:\n")
    edit(repo, "schools/demo-school.yaml", "      insert:\n",
         "      replace:\n        shared-one: Our governors adopt this policy.\n      insert:\n")
    result = run("check", "--root", repo)
    assert "0 warning(s)" in result.output  # the model has not changed shared-one since v1
    edit(repo, "policy_src/library/common.yaml", "adopts this", "approves and adopts this")
    result = run("check", "--root", repo)
    line = next(n for n, t in enumerate((repo / "schools/demo-school.yaml").read_text().splitlines(), 1)
                if "shared-one:" in t)
    assert f"schools/demo-school.yaml:{line}: warning: demo: 'shared-one' has changed in the model since v1" in result.output
    r = run("diff", "--root", repo, "--school", "demo-school", "--policy", "demo", "--from", "v1")
    assert "! 2.1 shared-one (replace at schools/demo-school.yaml" in r.output
    assert "upstream then: The Governing Board adopts this policy for Demo Primary School." in r.output
    assert "upstream now:  The Governing Board approves and adopts this policy" in r.output
    assert "yours:         Our governors adopt this policy." in r.output


def test_unreadable_model_revision_warns_once(repo):
    edit(repo, "schools/demo-school.yaml", "  policies:\n", "  model_revision: v9\n  policies:\n")
    result = run("check", "--root", repo)
    assert result.output.count("cannot look for stale overrides: unknown revision 'v9'") == 1


# ---- review ----------------------------------------------------------------------------------


def test_review_status_flips_around_the_due_date(repo):
    edit(repo, "schools/demo-school.yaml", "  policies:\n", "  model_revision: v1\n  policies:\n")
    git(repo, "tag", "v2")
    rows = lambda day: {(r["organisation"], r["policy"]): r for r in json.loads(  # noqa: E731
        run("review", "--root", repo, "--as-of", day, "--format", "json").stdout)["rows"]}
    before, soon, after = rows("2025-09-01"), rows("2026-03-01"), rows("2026-05-17")
    school = ("demo-school", "demo")
    assert before[school]["next_review"] == "2026-05-16"
    assert (before[school]["status"], soon[school]["status"], after[school]["status"]) == ("current", "due-soon", "overdue")
    assert before[school]["model_revision"] == "v1" and before[school]["latest_revision"] == "v2"
    # new-rule added, intro-purpose changed (optional-thing went too, but the school's layer no longer
    # switches it on, and the count reads the model through the school's current choices)
    assert before[school]["behind"] == 2
    assert before[("demo-la", "demo")]["behind"] == "unknown" and before[("demo-la", "demo")]["status"] == "unknown"
    table = run("review", "--root", repo, "--as-of", "2026-05-17").output
    assert re.search(r"demo-school\s+demo\s+2025-05-16\s+2025-05-16\s+2026-05-16\s+overdue\s+v1\s+v2\s+2", table)
    out = repo / "out"
    run("review", "--root", repo, "--as-of", "2026-05-17", "--format", "csv,html", "--out", out)
    assert "demo-school,Demo Primary School,demo,Demo policy,2025-05-16" in (out / "review.csv").read_text()
    page = (out / "review.html").read_text()
    assert '<html lang="en-GB">' in page and '<th scope="col">Status</th>' in page and "Review overdue" in page


def test_docx_falls_back_to_plain_styles(repo, monkeypatch):
    import policypack.render.docx as policy_docx
    from policypack.redline_docx import render_redline_docx

    def broken(*a, **k):
        raise RuntimeError("writer changed")

    monkeypatch.setattr(policy_docx, "_Builder", broken)
    new, old = resolved_at(repo), resolved_at(repo, "v1")
    data = render_redline_docx(diff_policies(old, new))
    assert tracked_paragraphs(data, accept=True) == version_paragraphs(new)
    assert tracked_paragraphs(data, accept=False) == version_paragraphs(old)
