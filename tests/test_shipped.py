"""The shipped model and example organisations: clean, complete, original, and well reported when broken."""
import datetime as dt
import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from policypack.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEED_OVERLAP = ROOT.parent / "shared" / "tools" / "seed-overlap"
SHIPPED = sorted(p.relative_to(ROOT).as_posix() for d in ("policy_src", "schools") for p in (ROOT / d).rglob("*.yaml"))


def run(*args, root=ROOT):
    return CliRunner().invoke(main, [*args, "--root", str(root)])


def test_check_is_clean():
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "error" not in result.output


def test_list_shows_six_families():
    data = json.loads(run("list", "--json").output)
    orgs = {o["id"]: o for o in data["organisations"]}
    assert len(orgs) >= 14
    roots = [o for o in orgs.values() if o["extends"] is None]
    assert len(roots) == 6
    kinds = {o["kind"] for o in orgs.values()}
    assert {"local-authority", "trust", "federation", "school", "academy", "nursery"} <= kinds
    assert {p["id"] for p in data["policies"]} == {"social-media", "acceptable-use"}
    for o in orgs.values():
        assert o["policies"], f"{o['id']} publishes nothing"
        assert o["extends"] is None or o["extends"] in orgs
    tree = run("list").output
    for o in roots:
        assert o["id"] in tree


@pytest.mark.skipif(not SEED_OVERLAP.exists(), reason="../shared/tools/seed-overlap is not beside this checkout")
def test_no_sentences_shared_with_the_seeds():
    result = subprocess.run([sys.executable, str(SEED_OVERLAP), "policy_src", "schools", "templates"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("rel", SHIPPED)
def test_broken_line_is_reported_with_file_and_line(rel, tmp_path):
    copy = tmp_path / "p"
    for d in ("policy_src", "schools"):
        shutil.copytree(ROOT / d, copy / d)
    path = copy / rel
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    target = next(i for i, l in enumerate(lines) if i > 2 and l.strip().startswith(("title:", "name:", "id:")))
    lines[target] = lines[target].rstrip("\n") + ": [unclosed\n"
    path.write_text("".join(lines), encoding="utf-8")
    result = run("check", root=copy)
    assert result.exit_code == 1
    assert f"{rel}:{target + 1}: error: YAML syntax error" in result.output, result.output
    assert "Traceback" not in result.output


def test_review_statuses_of_the_examples_flip_at_their_due_dates():
    @functools.cache
    def statuses(day):
        rows = json.loads(run("review", "--as-of", day, "--format", "json").output)["rows"]
        return {(r["organisation"], r["policy"]): (r["status"], r["next_review"]) for r in rows}

    today = statuses("2026-11-21")
    assert {s for s, _ in today.values()} == {"overdue", "due-soon", "current"}
    for key, (_, due) in today.items():
        day = dt.date.fromisoformat(due)
        on, after = statuses(day.isoformat())[key][0], statuses((day + dt.timedelta(days=1)).isoformat())[key][0]
        assert (on, after) == ("due-soon", "overdue"), key
        assert statuses((day - dt.timedelta(days=91)).isoformat())[key][0] == "current", key


def test_explain_shows_provenance_options_and_guidance():
    aup = json.loads(run("explain", "little-acorns-nursery-school", "acceptable-use", "--json").output)
    phones = {r["id"]: r for r in aup["outline"]}["personal-phones"]
    assert phones["variant"] == "not-on-site" and phones["layer"] == "little-acorns-nursery-school"
    assert phones["variants"] == ["allowed-at-breaks", "not-on-site", "with-permission"] and phones["guidance"]
    data = json.loads(run("explain", "little-acorns-nursery-school", "social-media", "--json").output)
    rows = {r["id"]: r for r in data["outline"]}
    assert rows["porthaven-terms"]["layer"] == "porthaven-city-council" and rows["porthaven-terms"]["outside_slots"]
    assert rows["local-support-contacts"]["slot"] and not rows["local-support-contacts"]["outside_slots"]
    assert [c["id"] for c in data["consultation"]] == ["porthaven-terms"]
    text = run("explain", "little-acorns-nursery-school", "acceptable-use", "--guidance").output
    assert "| variants: allowed-at-breaks, not-on-site, with-permission." in text


def test_explain_shows_numbering_front_matter_running_text_and_history():
    data = json.loads(run("explain", "willowbank-primary-school", "social-media", "--json").output)
    n = data["numbering_scheme"]
    assert n["name"] == "flat" and n["set_by"] == "willowbank-primary-school (schools/willowbank-primary-school.yaml:12)"
    assert [(e["level"], e["label"], e["reference"]) for e in n["examples"][:3]] == [
        ("level 1", "", "\u2018Title\u2019"), ("level 2", "1", "1"), ("level 3", "(a)", "1(a)")]
    front = [(r["group"], r["label"]) for r in data["front_matter"]]
    assert front[0] == ("summary", "") and front[-1] == ("history", "Version history")
    assert ("details", "Version") in front and front.index(("details", "Reference")) < front.index(("details", "Version"))
    h = data["history"]
    assert (h["place"], h["include"], h["entries_shown"]) == ("front", "own", 1) and h["entries_left_out"] > 0
    assert h["columns"][:3] == ["Version", "Date", "Author"] and "willowbank" in h["place_set_by"]
    text = run("explain", "willowbank-primary-school", "social-media").output
    assert "Numbering: flat (set by willowbank-primary-school" in text
    assert "  level 2          1              a reference reads 1\n" in text
    assert "  history    Version history: Version | Date | Author" in text
    assert "Version history: place front (set by willowbank-primary-school" in text and "1 entry shown;" in text
    council = run("explain", "porthaven-city-council", "social-media").output
    assert "place appendix (set by default), include inherited (set by default)" in council
    # none is set: the defaults show, the title and the reference with the version
    assert "Running header: Social networking protocol for schools and academies\n" in council
    assert "Running footer: HR-P12  \u00b7  Version 6.0\n" in council


def test_the_county_family_has_its_own_numbering_cover_and_running_text():
    """Thornvale County Council's family (the shape of a county text a school adopts as its own):
    a scheme defined in its YAML, cover rows edited by the county and filled by each school,
    the running header and footer, and each school's own choices."""
    from policypack.errors import Report
    from policypack.load import load_project
    from policypack.resolve import resolve

    report = Report()
    project = load_project(ROOT, report)
    county, quill, marrow = (resolve(project, o, "acceptable-use", report) for o in (
        "thornvale-county-council", "quillfield-primary-school", "marrowbeck-junior-school"))
    assert not report.errors, report.errors
    by = quill.by_id()
    assert [by[i].label for i in ("aup-introduction", "aup-purpose", "monitoring-safeguarding-alerts")] == \
        ["1.", "1.1", "4.2.1"]  # monitoring moved up by the county
    assert by["aup-introduction"].ref == "1"
    assert [by[i].label for i in ("aup-user-declaration", "thornvale-visitor-checklist")] == \
        ["Appendix A", "Appendix B"]
    assert [(r.label, r.text) for r in quill.front.adoption] == [
        ("Approved by", "Governing Board of Quillfield Primary School"), ("Date adopted", "20 January 2026"),
        ("In force from", "23 February 2026"), ("Chair of Governors", "Imogen Tallis-Reeve")]
    assert [r.label for r in county.front.adoption] == ["Approved by", "Date adopted"]  # no date of its own
    details = [r.label for r in marrow.front.details]
    assert details[:4] == ["Reference", "Type", "Applies to", "Read alongside"] and "Policy owner" in details
    assert "Maintained by" not in details and "Address" not in details
    assert quill.front.running_footer.startswith("Check the staff shared drive")
    assert "Quillfield" not in quill.front.running_header  # the organisation is printed beside it
    assert by["personal-phones"].blocks and "monitoring-la-broadband" in by
    assert "monitoring-la-broadband" not in marrow.by_id() and "quillfield-holiday-laptops" not in marrow.by_id()


@pytest.mark.parametrize("org,owner", [("kestrel-park-academy", "Kestrel Learning Trust"),
                                       ("willowbank-primary-school", "Willowbank Primary School")])
def test_a_logo_is_described_as_the_logo_of_the_organisation_it_belongs_to(org, owner):
    """An academy showing its trust's logo must not tell a screen-reader user it is the academy's."""
    import io
    import re

    import docx

    from policypack.errors import Report
    from policypack.load import load_project
    from policypack.render import RenderContext
    from policypack.render.docx import render_docx
    from policypack.render.html import render_html
    from policypack.resolve import resolve

    report = Report()
    doc = resolve(load_project(ROOT, report), org, "social-media", report)
    ctx = RenderContext(dt.date(2026, 11, 24), ROOT, ROOT / "templates")
    assert re.search(r'<img class="logo" src="data:[^"]+" alt="([^"]+)"', render_html(doc, ctx).decode()).group(1) \
        == f"{owner} logo"
    d = docx.Document(io.BytesIO(render_docx(doc, ctx, page_numbers=False)))
    assert [i.docPr.get("descr") for i in d.inline_shapes._inline_lst] == [f"{owner} logo"]
