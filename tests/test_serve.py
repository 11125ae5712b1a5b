"""The web editor (`policypack serve`, issue 11) through Starlette's test client: access, CSRF,
limits, the preview, messages on fields, validation before saving, the written layer and its
commit, and conflicts. The real-browser flow is in test_serve_browser.py."""
from __future__ import annotations

import difflib
import re
import time

import pytest
from click.testing import CliRunner

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from policypack.cli import main  # noqa: E402
from policypack.errors import Loc, Problem, Report  # noqa: E402
from policypack.load import load_project  # noqa: E402
from policypack.resolve import resolve  # noqa: E402
from policypack.web.access import Keys  # noqa: E402
from policypack.web.app import MAX_BODY, create_app  # noqa: E402
from policypack.web.fields import field_of, line_paths  # noqa: E402
from tests.serve_helpers import OTHER, POLICY, SCHOOL, form_values, git, project_copy  # noqa: E402

EDIT = f"/o/{SCHOOL}/p/{POLICY}"


@pytest.fixture
def project(tmp_path):
    return project_copy(tmp_path / "project")


@pytest.fixture
def keys(project):
    return Keys(project, "adviser-token-for-tests")


def client(project, keys) -> TestClient:
    return TestClient(create_app(project, keys), raise_server_exceptions=False)


def school_client(project, keys, oid=SCHOOL) -> TestClient:
    c = client(project, keys)
    r = c.get("/link/" + keys.issue(oid, 7), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/o/{oid}"
    return c


def editor_form(c: TestClient, url: str = EDIT) -> dict:
    r = c.get(url)
    assert r.status_code == 200, r.text
    return form_values(r.text)


# ---- access ------------------------------------------------------------------------------------


def test_nothing_is_shown_without_a_token_or_link(project, keys):
    c = client(project, keys)
    for url in ("/", f"/o/{SCHOOL}", EDIT, f"{EDIT}/view", f"{EDIT}/download.pdf"):
        r = c.get(url)
        assert r.status_code == 401 and "Sign in" in r.text, url
    assert c.get("/?token=wrong").status_code == 403


def test_the_adviser_token_sees_every_organisation(project, keys):
    c = client(project, keys)
    r = c.get("/?token=adviser-token-for-tests", follow_redirects=False)
    assert r.status_code == 303 and "policypack_session" in r.headers["set-cookie"]
    assert "HttpOnly" in r.headers["set-cookie"] and "samesite=lax" in r.headers["set-cookie"].lower()
    home = c.get("/")
    assert home.status_code == 200 and "Review schedule" in home.text
    for oid in load_project(project).organisations:
        assert f'href="/o/{oid}"' in home.text
        assert c.get(f"/o/{oid}").status_code == 200, oid
    assert c.get(f"/o/{OTHER}/p/{POLICY}").status_code == 200


def test_a_link_opens_its_own_organisation_only(project, keys):
    c = school_client(project, keys)
    assert c.get(f"/o/{SCHOOL}").status_code == 200
    assert c.get("/", follow_redirects=False).headers["location"] == f"/o/{SCHOOL}"
    form = editor_form(c)
    for url in (f"/o/{OTHER}", f"/o/{OTHER}/p/{POLICY}", f"/o/{OTHER}/p/{POLICY}/view",
                f"/o/{OTHER}/p/{POLICY}/departures", f"/o/{OTHER}/p/{POLICY}/download.pdf"):
        r = c.get(url)
        assert r.status_code == 403 and "own organisation" in r.text, url
    before = (project / "schools" / f"{OTHER}.yaml").read_bytes()
    for url in (f"/o/{OTHER}/p/{POLICY}", f"/o/{OTHER}/p/{POLICY}/preview"):
        r = c.post(url, data={**form, "editor": "Mallory", "var:head": "Boss"})
        assert r.status_code == 403, url
    assert (project / "schools" / f"{OTHER}.yaml").read_bytes() == before
    assert c.post("/links", data={"csrf": form["csrf"], "organisation": OTHER, "days": "9"}).status_code == 403


def test_links_are_signed_expire_and_can_be_withdrawn(project, keys):
    token = keys.issue(SCHOOL, 7)
    link, expires, oid, sig = token.split(".")
    assert keys.check_link(token).org == SCHOOL
    assert keys.check_link(f"{link}.{expires}.{OTHER}.{sig}") is None  # another organisation: bad signature
    assert keys.check_link(f"{link}.{int(expires) + 86400}.{oid}.{sig}") is None  # a longer life: bad signature
    assert keys.check_link(token, now=int(expires) + 1) is None  # expired
    assert Keys(project, "other").check_link(token) is not None  # the secret is the project's, kept on disk
    secret = project / ".policypack" / "serve-secret"
    assert secret.stat().st_mode & 0o077 == 0
    assert "policypack" not in git(project, "status", "--porcelain")  # git-ignored
    c = school_client(project, keys)
    c.get("/?token=adviser-token-for-tests")  # the adviser withdraws the school's links from the page
    school = school_client(project, keys)
    assert school.get(f"/o/{SCHOOL}").status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/").text)[1]
    for link_id, entry in keys.links().items():
        assert c.post(f"/links/{link_id}/revoke", data={"csrf": csrf}).status_code == 200
    assert all(e["revoked"] for e in keys.links().values())
    assert school.get(f"/o/{SCHOOL}").status_code == 401  # the open session ends with its link
    assert school.get("/link/" + token).status_code == 403


def test_the_adviser_makes_a_link_on_the_page(project, keys):
    c = client(project, keys)
    c.get("/?token=adviser-token-for-tests")
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/").text)[1]
    assert c.post("/links", data={"organisation": SCHOOL, "days": "5"}).status_code == 403  # no CSRF token
    r = c.post("/links", data={"csrf": csrf, "organisation": SCHOOL, "days": "5"})
    url = re.search(r'value="http://testserver(/link/[^"]+)"', r.text)[1]
    assert TestClient(create_app(project, keys)).get(url).status_code == 200
    assert c.post("/links", data={"csrf": csrf, "organisation": "../etc", "days": "5"}).status_code == 404
    assert c.post("/links", data={"csrf": csrf, "organisation": SCHOOL, "days": "9999"}).status_code == 400


def test_serve_link_prints_a_working_link(project, keys):
    result = CliRunner().invoke(main, ["serve", "--root", str(project), "--link", SCHOOL, "--days", "3",
                                       "--base-url", "https://policies.example"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith("https://policies.example/link/")
    assert Keys(project).check_link(url.rsplit("/", 1)[1]).org == SCHOOL
    bad = CliRunner().invoke(main, ["serve", "--root", str(project), "--link", "no-such-school"])
    assert bad.exit_code == 2 and "no organisation" in bad.output


def test_ids_in_addresses_are_checked(project, keys):
    c = client(project, keys)
    c.get("/?token=adviser-token-for-tests")
    for url in ("/o/..%2F..%2Fetc", "/o/Brookfield", f"/o/{SCHOOL}/p/..%2Fschools", f"/o/{SCHOOL}/p/social-media",
                f"/o/{SCHOOL}/p/{POLICY}/download.exe", "/static/..%2Fapp.py", "/static/app.py", "/preview/x"):
        assert c.get(url).status_code == 404, url


def test_every_form_needs_its_csrf_token(project, keys):
    c = school_client(project, keys)
    form = editor_form(c)
    path = project / "schools" / f"{SCHOOL}.yaml"
    before = path.read_bytes()
    for data in ({"hash": form["hash"]}, {"hash": form["hash"], "csrf": "x" * 43}):
        r = c.post(EDIT, data={**data, "editor": "Jo", "var:head": "Boss"})
        assert r.status_code == 403 and "expired" in r.text
        assert c.post(f"{EDIT}/preview", data=data).status_code == 403
    assert c.post("/sign-out", data={}).status_code == 403
    assert path.read_bytes() == before
    other = school_client(project, keys)  # another session's token does not do either
    r = other.post(EDIT, data={**editor_form(c), "csrf": form["csrf"] + "x", "editor": "Jo", "var:head": "Boss"})
    assert r.status_code == 403
    cross = c.post(EDIT, data={**form, "editor": "Jo", "var:head": "Boss"}, headers={"origin": "https://evil.example"})
    assert cross.status_code == 403 and path.read_bytes() == before


def test_pages_carry_security_headers(project, keys):
    c = school_client(project, keys)
    page = c.get(EDIT)
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    view = c.get(f"{EDIT}/view")
    assert view.status_code == 200 and "script-src" not in view.headers["content-security-policy"]
    assert "<script" not in page.text.replace('<script src="/static/editor.js"></script>', "")


# ---- limits --------------------------------------------------------------------------------------


def test_sizes_and_fields_are_bounded(project, keys):
    c = school_client(project, keys)
    form = editor_form(c)
    path = project / "schools" / f"{SCHOOL}.yaml"
    before = path.read_bytes()
    big = c.post(f"{EDIT}/preview", data={**form, "fill:local-it-contacts": "x" * (MAX_BODY + 1)})
    assert big.status_code == 413
    long = c.post(f"{EDIT}/preview", data={**form, "fill:local-it-contacts": "x" * 20_001})
    assert long.status_code == 422 and "longer than 20,000" in long.json()["general"][0][1]
    line = c.post(EDIT, data={**form, "editor": "Jo", "var:head": "a" * 301})
    assert line.status_code == 422 and "longer than 300" in line.text
    two = c.post(EDIT, data={**form, "editor": "Jo", "var:head": "one\ntwo"})
    assert two.status_code == 422 and "one line" in two.text
    for name in ("var:../../x", "organisation", "fill:not-a-slot", "variant:personal-phones"):
        value = "not-a-variant" if name.startswith("variant") else "x"
        r = c.post(EDIT, data={**form, "editor": "Jo", name: value})
        assert r.status_code == 422, name
    files = c.post(EDIT, files={"f": ("a.txt", b"x")}, data=form)
    assert files.status_code in (400, 403)
    nolen = c.post(f"{EDIT}/preview", content=iter([b"a=b"]), headers={"content-type": "application/x-www-form-urlencoded"})
    assert nolen.status_code == 411
    assert path.read_bytes() == before


# ---- preview, messages, consultation -----------------------------------------------------------


def test_the_preview_is_the_real_policy_with_the_unsaved_edits(project, keys):
    c = school_client(project, keys)
    form = editor_form(c)
    r = c.post(f"{EDIT}/preview", data={**form, "fill:local-it-contacts": "Ring Sam Example on 01632 960999.",
                                        "variant:personal-phones": "not-on-site"})
    assert r.status_code == 200, r.text
    reply = r.json()
    assert sorted(reply["changed"]) == ["fill:local-it-contacts", "variant:personal-phones"]
    assert reply["messages"] == {} and reply["consultation"] == []
    html = c.get(reply["preview"]).text
    assert "Ring Sam Example on 01632 960999." in html
    doc = resolve(load_project(project), SCHOOL, POLICY, Report())
    assert html.count('class="clause') >= sum(1 for n in doc.walk() if n.kind == "clause") - 1
    saved = c.get(f"{EDIT}/view").text
    assert "Ring Sam Example" not in saved  # nothing was written
    assert school_client(project, keys).get(reply["preview"]).status_code == 404  # another session's preview


def test_messages_sit_beside_the_field_that_caused_them(project, keys):
    c = school_client(project, keys)
    form = editor_form(c)
    r = c.post(f"{EDIT}/preview", data={**form, "fill:local-it-contacts": "Ask {{ nobody_defined }}."}).json()
    assert set(r["messages"]) == {"f-fill--local-it-contacts"}, r  # a problem of resolving
    assert "nobody_defined" in r["messages"]["f-fill--local-it-contacts"][0][1]
    r = c.post(f"{EDIT}/preview", data={**form, "adoption:date": "2025-13-40"}).json()
    assert set(r["messages"]) == {"f-adoption--date"}, r  # a problem of loading
    assert r["messages"]["f-adoption--date"][0][0] == "error" and "not a date" in r["messages"]["f-adoption--date"][0][1]
    assert r["preview"] is None  # the preview keeps the last version that loaded


def test_field_of_maps_lines_and_paths():
    from ruamel.yaml import YAML

    text = ("organisation:\n  id: x\n  variables:\n    head: Head\n  fill:\n    slot-a: |\n      line one\n"
            "      line two\n  policies:\n    p:\n      enable: [c-1, c-2]\n      adoption:\n        date: 2025-01-01\n")
    paths = line_paths(YAML().load(text))
    at = {line: field_of(Problem(Loc("schools/x.yaml", line), "m"), "schools/x.yaml", paths) for line in range(1, 14)}
    assert at[4] == "var:head" and at[6] == at[7] == at[8] == "fill:slot-a"
    assert at[11] == "optional:c-1"  # a flow list on one line: its first item
    assert at[13] == "adoption:date" and at[1] is None and at[2] is None
    assert field_of(Problem(Loc("schools/other.yaml", 4), "m"), "schools/x.yaml", paths) is None
    # the field path the loader gives wins over the line; a path in another organisation's file
    # (its own fill of a slot with the same id) is not about this layer's field
    fill = ("organisation", "fill", "slot-a")
    assert field_of(Problem(Loc("schools/x.yaml", 1, fill), "m"), "schools/x.yaml", paths) == "fill:slot-a"
    assert field_of(Problem(Loc("schools/parent.yaml", 6, fill), "m"), "schools/x.yaml", paths) is None
    from policypack.web.fields import field_of_path
    for path in ("organisation.policies.p.fill.slot-a", "/organisation/policies/p/fill/slot-a",
                 ("organisation", "fill", "slot-a")):
        assert field_of_path(path) == "fill:slot-a", path
    assert field_of_path("organisation.policies.p.review.next_review") == "review:next_review"
    assert field_of_path("organisation.adoption.chairs[1]") == "adoption:chairs"
    assert field_of_path("organisation.branding.logo") is None
    assert field_of_path("organisation.policies.p.insert.our-rota.clause.text") == "inserted-text:our-rota"
    assert field_of_path("organisation.policies.p.insert.our-rota.after") == "inserted:our-rota"
    assert field_of_path("organisation.policies.p.remove.x-1") == "remove:x-1"
    assert field_of_path("organisation.policies.p.retitle.x-1") == "retitle:x-1"


def test_a_change_outside_the_slots_says_it_needs_consultation(project, keys):
    c = school_client(project, keys)
    r = c.get(EDIT)
    form = form_values(r.text)
    clause = re.search(r'<option value="([a-z0-9-]+)">', r.text.split('id="new-replace-id"')[1])[1]
    reply = c.post(f"{EDIT}/preview", data={**form, "new-replace-id": clause,
                                            "new-replace-text": "Our own words for this clause."}).json()
    assert ["replace", clause] in [c_[:2] for c_ in reply["consultation"]]
    assert "Our own words for this clause." in c.get(reply["preview"]).text
    plain = c.post(f"{EDIT}/preview", data={**form, "fill:local-it-contacts": "Ring us."}).json()
    assert plain["consultation"] == []  # filling a slot needs none


# ---- saving ------------------------------------------------------------------------------------


def test_saving_changes_only_the_edited_values_and_commits(project, keys):
    c = school_client(project, keys)
    path = project / "schools" / f"{SCHOOL}.yaml"
    before = path.read_text(encoding="utf-8")
    r = c.post(EDIT, data={**editor_form(c), "editor": "Jo Example", "message": "Phones off site; new helpdesk",
                           "variant:personal-phones": "not-on-site", "var:dpo": "Sam Example, our DPO",
                           "fill:local-it-contacts": "Ring the office on 01632 960111.\n\nOr email us.",
                           "optional:messaging-video-calls": "off"}, follow_redirects=False)
    assert r.status_code == 303 and "saved=" in r.headers["location"], r.text
    after = path.read_text(encoding="utf-8")
    removed = [l[1:] for l in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
               if l.startswith("-") and not l.startswith("---")]
    added = [l[1:] for l in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
             if l.startswith("+") and not l.startswith("+++")]
    old_fill = before.split("local-it-contacts: |\n")[1].split("  policies:")[0].splitlines()
    assert removed == ["        personal-phones: with-permission", *old_fill] or \
        sorted(removed) == sorted(["        personal-phones: with-permission", *old_fill]), removed
    assert sorted(added) == sorted(["    dpo: Sam Example, our DPO", "      Ring the office on 01632 960111.", "",
                                    "      Or email us.", "        personal-phones: not-on-site",
                                    "      disable: [messaging-video-calls]"]), added
    assert [l for l in before.splitlines() if l.lstrip().startswith("#")] == \
        [l for l in after.splitlines() if l.lstrip().startswith("#")]  # every comment kept
    log = git(project, "log", "-1", "--format=%an%n%s%n%b", "--name-only")
    assert log.startswith("Jo Example\nPhones off site; new helpdesk\n") and f"schools/{SCHOOL}.yaml" in log
    assert git(project, "status", "--porcelain") == ""
    doc = resolve(load_project(project), SCHOOL, POLICY, Report())
    by_id = doc.by_id()
    assert by_id["personal-phones"].variant == "not-on-site" and "messaging-video-calls" not in by_id
    # back to what the layers above give: the lines go again
    c.post(EDIT, data={**editor_form(c), "editor": "Jo Example", "optional:messaging-video-calls": "on",
                       "var:dpo": ""})
    again = path.read_text(encoding="utf-8")
    assert "messaging-video-calls" not in again and "dpo:" not in again


def test_an_invalid_layer_is_never_written(project, keys):
    c = school_client(project, keys)
    path = project / "schools" / f"{SCHOOL}.yaml"
    before, head = path.read_bytes(), git(project, "rev-parse", "HEAD")
    r = c.post(EDIT, data={**editor_form(c), "editor": "Jo", "adoption:date": "2025-13-40",
                           "var:head": "Head of School"})
    assert r.status_code == 422 and "Nothing was saved" in r.text
    field = r.text.split('id="f-adoption--date-msg"')[1].split("</div>")[0]
    assert "msg-error" in field  # the problem is shown beside the date
    assert 'value="Head of School"' in r.text  # the user's edits are kept in the form
    assert path.read_bytes() == before and git(project, "rev-parse", "HEAD") == head
    assert c.post(EDIT, data={**editor_form(c), "var:head": "Boss"}).status_code == 422  # no name given
    assert path.read_bytes() == before


def test_two_editors_get_a_conflict_not_a_lost_update(project, keys):
    first, second = school_client(project, keys), school_client(project, keys)
    form1, form2 = editor_form(first), editor_form(second)
    path = project / "schools" / f"{SCHOOL}.yaml"
    assert first.post(EDIT, data={**form1, "editor": "Ann", "var:dpo": "Ann's DPO"}).status_code == 200
    r = second.post(EDIT, data={**form2, "editor": "Bob", "var:dpo": "Bob's DPO"})
    assert r.status_code == 409 and "changed by someone else" in r.text
    assert "Ann&#39;s DPO" in path.read_text(encoding="utf-8").replace("'", "&#39;")
    assert "Bob" not in path.read_text(encoding="utf-8")
    assert git(project, "log", "-1", "--format=%an").strip() == "Ann"


def test_saving_outside_git_writes_the_file_only(tmp_path, keys):
    project = project_copy(tmp_path / "plain", repo=False)
    keys = Keys(project, "t")
    c = school_client(project, keys)
    r = c.post(EDIT, data={**editor_form(c), "editor": "Jo", "var:dpo": "Our DPO"}, follow_redirects=False)
    assert r.status_code == 303
    assert "dpo: Our DPO" in (project / "schools" / f"{SCHOOL}.yaml").read_text(encoding="utf-8")
    assert not (project / ".git").exists()


# ---- dashboard, adviser, downloads -----------------------------------------------------------------


def test_the_dashboard_lists_policies_and_what_needs_doing(project, keys):
    proj = load_project(project)
    for oid in sorted(proj.organisations):
        c = school_client(project, keys, oid)
        page = c.get(f"/o/{oid}").text
        for pid in proj.published(oid):
            doc = resolve(proj, oid, pid, Report())
            assert f'href="/o/{oid}/p/{pid}"' in page and doc.title in page.replace("&#39;", "'")
            if doc.next_review:  # dates as the policies write them, never ISO
                from policypack.render import format_date
                assert format_date(doc.next_review) in page and doc.next_review.isoformat() not in page
            for n in doc.walk():
                if n.slot and n.provenance.action not in ("fill", "replace"):
                    assert f"/o/{oid}/p/{pid}#f-fill--{n.id}" in page, (oid, n.id)


def test_departures_and_downloads(project, keys):
    c = school_client(project, keys)
    r = c.get(f"{EDIT}/departures")
    assert r.status_code == 200 and "personal-phones" in r.text
    app = create_app(project, keys)
    busy = TestClient(app, raise_server_exceptions=False)
    busy.cookies = c.cookies
    pdf = busy.get(f"{EDIT}/download.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    assert app.state.building.acquire(blocking=False)  # a download being built: the next one waits its turn
    try:
        r = busy.get(f"{EDIT}/download.docx")
        assert r.status_code == 503 and "Try again" in r.text
    finally:
        app.state.building.release()


def test_the_preview_is_quick_enough_to_follow_typing(project, keys):
    """Not a speed test (benchmarks/bench_serve.py measures it); a guard against a preview that
    rebuilds far more than one policy."""
    c = school_client(project, keys)
    form = editor_form(c)
    start = time.monotonic()
    r = c.post(f"{EDIT}/preview", data={**form, "var:head": "Head of School"})
    assert r.status_code == 200 and time.monotonic() - start < 5


EDITS = [  # (what the edit is, old text, new text) on Brookfield's layer
    ("a name", "head: Headteacher", "head: Head of School"),
    ("a bad date", "date: 2025-12-10\n    chairs", "date: 2025-13-10\n    chairs"),
    ("an unknown parent", "extends: northshire-county-council", "extends: northshire-county"),
    ("another organisation's name", "name: Brookfield Primary School", "name: Quillfield Primary School"),
    ("a slot no policy has", "  fill:\n    local-it-contacts:", "  fill:\n    local-it-contact:"),
    ("an unknown variant", "personal-phones: with-permission", "personal-phones: whenever"),
]


@pytest.mark.parametrize("what,old,new", EDITS, ids=[e[0] for e in EDITS])
def test_the_preview_reloads_one_layer_as_a_full_load_would(project, what, old, new):
    """load.reload_layer (the preview's quick path) against load_project with the same text."""
    from policypack.errors import Failed
    from policypack.load import in_memory, reload_layer
    from policypack.render import RenderContext
    from policypack.render.html import render_html

    base = load_project(project)
    file = f"schools/{SCHOOL}.yaml"
    text = (project / file).read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new)
    results = []
    for quick in (True, False):
        report = Report()
        try:
            if quick:
                loaded = reload_layer(base, file, text, report)
            else:
                with in_memory({file: text}):
                    loaded = load_project(project, report)
        except Failed:
            loaded = None
        html = None
        if loaded is not None:
            ctx = RenderContext(as_of=__import__("datetime").date(2026, 1, 1), project_root=project,
                                template_dir=project / "templates")
            html = render_html(resolve(loaded, SCHOOL, POLICY, report), ctx)
        results.append((sorted(p.format() for p in report.errors), html))
    assert results[0] == results[1]
    assert bool(results[0][0]) == (what != "a name")  # every bad edit is caught


def test_the_dashboard_says_when_the_model_changed_since_the_review(project, keys):
    """The count is the review schedule's (policypack.review), for this organisation only: one more
    model clause changed, one more on the dashboard."""
    layer = project / "schools" / f"{SCHOOL}.yaml"
    head = git(project, "rev-parse", "HEAD").strip()
    text = layer.read_text(encoding="utf-8")
    layer.write_text(re.sub(r"model_revision: \S+", f"model_revision: {head[:12]}", text), encoding="utf-8")
    c = school_client(project, keys)

    def behind() -> int:
        found = re.search(r"(\d+) clauses? changed above yours since you last reviewed it", c.get(f"/o/{SCHOOL}").text)
        return int(found[1]) if found else 0

    before = behind()
    model = project / "policy_src" / f"{POLICY}.yaml"
    words = model.read_text(encoding="utf-8")
    assert "must lock a device whenever they leave it" in words
    model.write_text(words.replace("must lock a device whenever they leave it",
                                   "must lock a device every time they leave it"), encoding="utf-8")
    git(project, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-qam", "model change")
    assert behind() == before + 1


def test_policypack_serve_starts_on_the_examples(project):
    """The command itself: it prints the adviser's address, and that address signs in."""
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from tests.serve_helpers import ROOT

    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--root", str(project), "--port",
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        address = next(l.strip() for l in lines if "?token=" in l)
        assert address.startswith(f"http://localhost:{port}/?token=")
        deadline = time.monotonic() + 20
        while True:
            try:
                opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
                page = opener.open(address.replace("localhost", "127.0.0.1"), timeout=10).read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert "Review schedule" in page and "Brookfield Primary School" in page
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_review_dates_are_written_for_the_policy(project, keys):
    c = school_client(project, keys)
    path = project / "schools" / f"{SCHOOL}.yaml"
    r = c.post(EDIT, data={**editor_form(c), "editor": "Jo", "review:last_reviewed": "2026-03-01",
                           "review:next_review": "2027-03-01"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    text = path.read_text(encoding="utf-8")
    assert "      review:\n        last_reviewed: 2026-03-01\n        next_review: 2027-03-01\n" in text
    doc = resolve(load_project(project), SCHOOL, POLICY, Report())
    assert str(doc.next_review) == "2027-03-01"
    bad = c.post(f"{EDIT}/preview", data={**editor_form(c), "review:next_review": "next March"}).json()
    assert list(bad["messages"]) == ["f-review--next_review"]


def test_a_slot_filled_for_every_policy_says_so(project, keys):
    """Brookfield fills local-it-contacts beside `policies:` (for every policy with the slot), and
    northshire-support-contacts under the policy."""
    page = school_client(project, keys).get(EDIT).text
    hint = "a change here changes them all"
    assert page.split('id="f-fill--local-it-contacts"')[0].count(hint) == 1
    assert page.count(hint) == 1


def test_every_policy_page_of_every_organisation_opens_and_previews(project, keys):
    c = client(project, keys)
    c.get("/?token=adviser-token-for-tests")
    proj = load_project(project)
    for oid in sorted(proj.organisations):
        for pid in proj.published(oid):
            page = c.get(f"/o/{oid}/p/{pid}")
            assert page.status_code == 200, (oid, pid, page.text[:300])
            reply = c.post(f"/o/{oid}/p/{pid}/preview", data=form_values(page.text)).json()
            assert reply["preview"] and reply["changed"] == [] and not reply["messages"], (oid, pid, reply)


def test_saving_nothing_changes_nothing(project, keys):
    c = school_client(project, keys)
    path = project / "schools" / f"{SCHOOL}.yaml"
    before, head = path.read_bytes(), git(project, "rev-parse", "HEAD")
    r = c.post(EDIT, data={**editor_form(c), "editor": "Jo"})
    assert r.status_code == 200 and "Nothing had changed" in r.text
    assert path.read_bytes() == before and git(project, "rev-parse", "HEAD") == head


def test_a_layer_that_cannot_be_kept_as_written_is_left_alone(project, keys):
    """A layout ruamel.yaml cannot write back byte for byte: said on the page, file untouched."""
    path = project / "schools" / f"{SCHOOL}.yaml"
    text = path.read_text(encoding="utf-8").replace("    head: Headteacher", "    head:     Headteacher")
    path.write_text(text, encoding="utf-8")
    assert load_project(project)  # valid, only laid out its own way
    c = school_client(project, keys)
    form = editor_form(c)
    r = c.post(f"{EDIT}/preview", data={**form, "var:dpo": "Our DPO"})
    assert r.status_code == 422 and "layout" in r.json()["general"][0][1]
    r = c.post(EDIT, data={**form, "editor": "Jo", "var:dpo": "Our DPO"})
    assert r.status_code == 422 and "layout" in r.text
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("text,expect", [
    ("{{ 9 ** 99999999 }}", "message"),
    ("{{ head * 100000000 }}", "message"),
    ("<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>", "inert"),
    ("a\x00b", "refused"),
])
def test_hostile_wording_in_a_slot_is_bounded_and_inert(project, keys, text, expect):
    c = school_client(project, keys)
    form = editor_form(c)
    start = time.monotonic()
    r = c.post(f"{EDIT}/preview", data={**form, "fill:local-it-contacts": text})
    assert time.monotonic() - start < 10
    if expect == "refused":
        assert r.status_code == 422 and "cannot be saved" in r.json()["general"][0][1]
        return
    reply = r.json()
    if expect == "message":
        assert reply["messages"].get("f-fill--local-it-contacts"), reply
    else:
        html = c.get(reply["preview"]).text.lower()
        assert "&lt;script&gt;alert(1)" in html  # shown as the words typed ...
        assert not re.search(r"<script|<img[^>]*onerror|href=\"javascript", html)  # ... never as markup
    saved = c.post(EDIT, data={**form, "editor": "Jo", "fill:local-it-contacts": text})
    if expect == "message":
        assert saved.status_code == 422  # never written


def test_a_project_that_does_not_load_is_said_plainly_and_only_the_adviser_sees_where(project, keys):
    school = school_client(project, keys)
    adviser = client(project, keys)
    adviser.get("/?token=adviser-token-for-tests")
    broken = project / "schools" / f"{OTHER}.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("kind: local-authority", "kind: county"),
                      encoding="utf-8")
    r = school.get(EDIT)
    assert r.status_code == 500 and "does not load" in r.text and OTHER not in r.text
    assert "Ask your HR adviser" in r.text
    r = adviser.get("/")
    assert r.status_code == 500 and f"schools/{OTHER}.yaml:" in r.text and "Traceback" not in r.text


# ---- removing, retitling and inserting clauses (changes outside the slots) ------------------------


def _options(html: str, select: str) -> list:
    return re.findall(r'<option value="([a-z0-9-]+)"', html.split(f'id="{select}"')[1].split("</select>")[0])


def _locked(project) -> tuple:
    doc = resolve(load_project(project), SCHOOL, POLICY, Report())
    clauses = {n.id for n in doc.walk() if n.locked}
    holding = {n.id for n in doc.walk() if n.kind == "section" and any(m.locked for m in n.walk())}
    return clauses, holding


def _opened(project, keys) -> tuple:
    """A school's client, its layer's path and text, and its policy page."""
    c = school_client(project, keys)
    path = project / "schools" / f"{SCHOOL}.yaml"
    return c, path, path.read_text(encoding="utf-8"), c.get(EDIT).text


def _diff(before: str, after: str) -> tuple:
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0))
    return ([l[1:] for l in lines if l.startswith("-") and not l.startswith("---")],
            [l[1:] for l in lines if l.startswith("+") and not l.startswith("+++")])


def test_a_clause_is_removed_with_consultation_and_put_back_by_unticking(project, keys):
    c, path, before, page = _opened(project, keys)
    assert "Remove a clause or section" in page
    cid = "aup-related-documents"
    assert cid in _options(page, "new-remove-id")
    reply = c.post(f"{EDIT}/preview", data={**form_values(page), "new-remove-id": cid}).json()
    assert reply["changed"] == [f"remove:{cid}"] and ["remove", cid, "new-remove"] in reply["consultation"]
    assert f'id="c-{cid}"' not in c.get(reply["preview"]).text
    assert f'id="c-{cid}"' in c.get(f"{EDIT}/view").text  # not saved yet
    r = c.post(EDIT, data={**form_values(page), "editor": "Jo", "new-remove-id": cid}, follow_redirects=False)
    assert r.status_code == 303, r.text
    removed, added = _diff(before, path.read_text(encoding="utf-8"))
    assert removed == [] and added == [f"      remove: [{cid}]"], added
    assert f"remove:{cid}" in git(project, "log", "-1", "--format=%b")
    assert cid not in resolve(load_project(project), SCHOOL, POLICY, Report()).by_id()
    page = c.get(EDIT).text  # the removal is shown, ticked, with the consultation note beside it
    box = page.split(f'id="f-remove--{cid}"')[1].split("</div>")[0]
    assert "checked" in box.split(">")[0] and "needs union consultation" in page.split("Clauses removed")[1].lower()
    assert cid not in _options(page, "new-remove-id")
    second = "aup-definitions"  # a second removal joins the list; each is noted beside its own box
    assert c.post(EDIT, data={**form_values(page), "editor": "Jo", "new-remove-id": second},
                  follow_redirects=False).status_code == 303
    assert f"      remove: [{cid}, {second}]\n" in path.read_text(encoding="utf-8")
    page = c.get(EDIT).text
    reply = c.post(f"{EDIT}/preview", data=form_values(page)).json()
    assert sorted(reply["consultation"]) == sorted([["remove", cid, f"f-remove--{cid}"],
                                                    ["remove", second, f"f-remove--{second}"]]), reply
    c.post(EDIT, data={**form_values(page), "editor": "Jo", f"remove:{second}": "off"})
    page = c.get(EDIT).text
    r = c.post(EDIT, data={**form_values(page), "editor": "Jo", f"remove:{cid}": "off"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert path.read_text(encoding="utf-8") == before  # unticked: the entry goes, and nothing else changes


def test_a_title_is_changed_with_consultation_and_changed_back(project, keys):
    c, path, before, page = _opened(project, keys)
    section = "aup-introduction"
    assert section in _options(page, "new-retitle-id")
    data = {**form_values(page), "new-retitle-id": section, "new-retitle-title": "About this policy at Brookfield"}
    reply = c.post(f"{EDIT}/preview", data=data).json()
    assert ["retitle", section, "new-retitle"] in reply["consultation"]  # beside the form that makes it
    assert "About this policy at Brookfield" in c.get(reply["preview"]).text
    assert c.post(EDIT, data={**data, "editor": "Jo"}, follow_redirects=False).status_code == 303
    removed, added = _diff(before, path.read_text(encoding="utf-8"))
    assert removed == [] and added == ["      retitle:", f"        {section}: About this policy at Brookfield"]
    doc = resolve(load_project(project), SCHOOL, POLICY, Report())
    assert doc.by_id()[section].title == "About this policy at Brookfield"
    page = c.get(EDIT).text
    assert f'name="retitle:{section}" value="About this policy at Brookfield"' in page
    reply = c.post(f"{EDIT}/preview", data={**form_values(page), f"retitle:{section}": "Shorter"}).json()
    assert ["retitle", section, f"f-retitle--{section}"] in reply["consultation"]  # beside its field
    c.post(EDIT, data={**form_values(page), "editor": "Jo", f"retitle:{section}": ""})
    assert path.read_text(encoding="utf-8") == before  # emptied: back to the title above


def test_locked_clauses_are_not_offered_and_a_forged_form_is_refused(project, keys):
    clauses, holding = _locked(project)
    assert clauses and holding
    c = school_client(project, keys)
    path = project / "schools" / f"{SCHOOL}.yaml"
    before = path.read_bytes()
    page = c.get(EDIT).text
    removable, retitlable = set(_options(page, "new-remove-id")), set(_options(page, "new-retitle-id"))
    assert removable and retitlable and "aup-related-documents" in removable  # the lists are not empty
    doc = resolve(load_project(project), SCHOOL, POLICY, Report())
    appendices = {n.id for n in doc.walk() if n.kind == "appendix"}
    assert appendices and appendices <= removable and appendices <= retitlable  # appendices too
    assert not (clauses | holding) & removable
    assert not clauses & retitlable and holding <= retitlable  # a section holding a locked clause may be retitled
    assert not clauses & set(_options(page, "new-replace-id"))
    form = form_values(page)
    forged = [{"new-remove-id": cid} for cid in sorted(clauses | holding)] + \
             [{"new-retitle-id": cid, "new-retitle-title": "Ours"} for cid in sorted(clauses)] + \
             [{"new-remove-id": "no-such-clause"}, {"new-retitle-id": "../etc", "new-retitle-title": "x"}]
    for extra in forged:
        r = c.post(EDIT, data={**form, "editor": "Mallory", **extra})
        assert r.status_code == 422 and "locked" in r.text, extra
        assert c.post(f"{EDIT}/preview", data={**form, **extra}).status_code == 422, extra
    assert c.post(EDIT, data={**form, "editor": "Mallory", "remove:personal-devices-no-photos": "on"}).status_code == 422
    assert path.read_bytes() == before


def test_a_local_clause_is_inserted_after_a_chosen_clause(project, keys):
    c, path, before, page = _opened(project, keys)
    anchor = "aup-related-documents"
    assert anchor in _options(page, "new-insert-after")
    data = {**form_values(page), "new-insert-after": anchor, "new-insert-title": "Our email rota",
            "new-insert-text": "Staff answer parents' emails within **two** school days.\n\nThe office keeps the rota."}
    reply = c.post(f"{EDIT}/preview", data=data).json()
    assert reply["changed"] == ["insert:our-email-rota"] and not reply["messages"] and not reply["general"], reply
    assert ["insert", "our-email-rota", "new-insert"] in reply["consultation"]
    html = c.get(reply["preview"]).text
    assert "Our email rota" in html and "<strong>two</strong> school days" in html
    assert html.index(f'id="c-{anchor}"') < html.index('id="c-our-email-rota"')
    assert c.post(EDIT, data={**data, "editor": "Jo"}, follow_redirects=False).status_code == 303
    after = path.read_text(encoding="utf-8")
    removed, added = _diff(before, after)
    assert removed == [] and added == [
        "      insert:", f"        - after: {anchor}", "          clause:", "            id: our-email-rota",
        "            title: Our email rota", "            text: |",
        "              Staff answer parents' emails within **two** school days.", "",
        "              The office keeps the rota."], added
    doc = resolve(load_project(project), SCHOOL, POLICY, Report())
    ids = [n.id for n in doc.walk()]
    assert ids[ids.index(anchor) + 1] == "our-email-rota"
    assert ["insert", "our-email-rota"] in [[a, cid] for layer, a, cid, _ in doc.consultation if layer == SCHOOL]
    # the same title again: an id of its own
    page = c.get(EDIT).text
    assert "our-email-rota" in _options(page, "new-insert-after")
    data2 = {**form_values(page), "new-insert-after": "our-email-rota", "new-insert-title": "Our email rota",
             "new-insert-text": "A second rota."}
    assert c.post(EDIT, data={**data2, "editor": "Jo"}, follow_redirects=False).status_code == 303
    assert "            id: our-email-rota-2\n" in path.read_text(encoding="utf-8")
    # unticked: the insert: entry goes, the other stays; both gone: the file is as it was
    page = c.get(EDIT).text
    assert 'name="inserted:our-email-rota"' in page and 'name="inserted:our-email-rota-2"' in page
    assert c.post(EDIT, data={**form_values(page), "editor": "Jo", "inserted:our-email-rota-2": "off"},
                  follow_redirects=False).status_code == 303
    assert path.read_text(encoding="utf-8") == after
    page = c.get(EDIT).text
    assert c.post(EDIT, data={**form_values(page), "editor": "Jo", "inserted:our-email-rota": "off"},
                  follow_redirects=False).status_code == 303
    assert path.read_text(encoding="utf-8") == before


def test_a_local_clause_is_bounded(project, keys):
    c = school_client(project, keys)
    path = project / "schools" / f"{SCHOOL}.yaml"
    before = path.read_bytes()
    form = form_values(c.get(EDIT).text)
    good = {"new-insert-after": "aup-related-documents", "new-insert-title": "Ours", "new-insert-text": "Words."}
    for extra, said in ((dict(good, **{"new-insert-title": "t" * 301}), "longer than 300"),
                        (dict(good, **{"new-insert-text": "x" * 20_001}), "longer than 20,000"),
                        (dict(good, **{"new-insert-title": "two\nlines"}), "one line"),
                        (dict(good, **{"new-insert-title": ""}), "give it a title"),
                        (dict(good, **{"new-insert-after": "../../etc"}), "not a clause"),
                        (dict(good, **{"new-insert-after": "aup-introduction"}), "not a clause"),  # a section
                        (dict(good, **{"new-insert-text": "a\x00b"}), "cannot be saved"),
                        (dict(good, **{"new-insert-title": "a\u2028b"}), "one line"),
                        (dict(good, **{"new-insert-text": "a\ufeffb"}), "cannot be saved (U+FEFF)"),
                        (dict(good, **{"new-insert-text": "a\x1bb"}), "cannot be saved (U+001B)")):
        r = c.post(EDIT, data={**form, "editor": "Jo", **extra})
        assert r.status_code == 422 and said in r.text, (extra, r.text[:500])
    assert path.read_bytes() == before
    hostile = c.post(f"{EDIT}/preview", data={**form, **good, "new-insert-title": "<script>alert(1)</script>",
                                              "new-insert-text": "<img src=x onerror=alert(1)>"}).json()
    html = c.get(hostile["preview"]).text.lower()
    assert "&lt;script&gt;alert(1)" in html and not re.search(r"<script|<img[^>]*onerror", html)
    assert "script-alert-1-script" in [x[1] for x in hostile["consultation"]]


def test_a_local_clause_id_is_made_from_its_title():
    from policypack.load import ID_RE
    from policypack.layerwrite import NEW_ID_LENGTH as MAX_ID, new_id

    assert new_id("Our email rota", []) == "our-email-rota"
    assert new_id("Our email rota", ["our-email-rota", "our-email-rota-2"]) == "our-email-rota-3"
    assert new_id("Café & wellbeing: 2026!", []) == "cafe-wellbeing-2026"
    assert new_id("2026 plan", []) == "local-2026-plan" and new_id("!!!", []) == "local"
    for title in ("x" * 300, "word " * 80, "Ünïcödé ☃ only", "-- a --", "../../etc/passwd"):
        made = new_id(title, [])
        assert ID_RE.match(made) and len(made) <= MAX_ID, (title, made)


def test_the_word_download_is_the_organisations_policy(project, keys):
    import io

    import docx

    c = school_client(project, keys)
    r = c.get(f"{EDIT}/download.docx")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert r.headers["content-disposition"] == f'attachment; filename="{SCHOOL}-{POLICY}.docx"'
    document = docx.Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n".join(cell.text for t in document.tables for row in t.rows for cell in row.cells)
    for s in document.sections:
        text += "\n".join(p.text for p in s.header.paragraphs + s.footer.paragraphs)
    name = load_project(project).organisations[SCHOOL].name
    assert name in text
    other = load_project(project).organisations[OTHER].name
    assert other != name
    refused = c.get(f"/o/{OTHER}/p/{POLICY}/download.docx")
    assert refused.status_code == 403 and "own organisation" in refused.text
    assert not refused.content.startswith(b"PK")


def test_a_removal_that_breaks_a_reference_is_not_saved(project, keys):
    """Validation first, as for every save: another clause's ref() to the removed clause is an
    error, said on the page, and the layer is left as it was."""
    c, path, before, page = _opened(project, keys)
    head = git(project, "rev-parse", "HEAD")
    model = (project / "policy_src" / f"{POLICY}.yaml").read_text(encoding="utf-8")
    assert "ref('ai-tools-approved')" in model
    r = c.post(EDIT, data={**form_values(page), "editor": "Jo", "new-remove-id": "ai-tools-approved"})
    assert r.status_code == 422 and "Nothing was saved" in r.text
    assert "refers to &#39;ai-tools-approved&#39;" in r.text
    assert path.read_text(encoding="utf-8") == before and git(project, "rev-parse", "HEAD") == head
    assert '<option value="ai-tools-approved" selected>' in r.text  # the choice is kept in the form


def test_line_breaks_of_other_programs_are_saved_as_line_breaks(project, keys):
    """Word's line break (a vertical tab) and Unicode's line separator, pasted into a wording: saved
    as ordinary line breaks, so the layer stays one the editor can write again."""
    c, path, before, page = _opened(project, keys)
    data = {**form_values(page), "editor": "Jo", "new-insert-after": "aup-related-documents",
            "new-insert-title": "Pasted", "new-insert-text": "one\x0btwo\u2028three\u2029four\x85five"}
    assert c.post(EDIT, data=data, follow_redirects=False).status_code == 303
    text = path.read_text(encoding="utf-8")
    assert "              one\n              two\n              three\n              four\n              five\n" in text
    r = c.post(EDIT, data={**editor_form(c), "editor": "Jo", "var:dpo": "Our DPO"}, follow_redirects=False)
    assert r.status_code == 303 and "dpo: Our DPO" in path.read_text(encoding="utf-8")


def test_a_local_clause_is_corrected_in_place(project, keys):
    c, path, before, page = _opened(project, keys)
    new = {"new-insert-after": "aup-related-documents", "new-insert-title": "Our email rota",
           "new-insert-text": "Two school days."}
    assert c.post(EDIT, data={**form_values(page), "editor": "Jo", **new}, follow_redirects=False).status_code == 303
    saved = path.read_text(encoding="utf-8")
    page = c.get(EDIT).text
    assert 'name="inserted-title:our-email-rota" value="Our email rota"' in page
    assert re.search(r'name="inserted-text:our-email-rota"[^>]*>Two school days.</textarea>', page)
    form = form_values(page)
    reply = c.post(f"{EDIT}/preview", data={**form, "inserted-text:our-email-rota": "Ask {{ nobody_defined }}."}).json()
    assert list(reply["messages"]) == ["f-inserted-text--our-email-rota"], reply  # beside the clause's wording
    r = c.post(EDIT, data={**form, "editor": "Jo", "inserted-title:our-email-rota": "Answering emails",
                           "inserted-text:our-email-rota": "Three school days.\n\nAsk the office."},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    removed, added = _diff(saved, path.read_text(encoding="utf-8"))
    assert removed == ["            title: Our email rota", "              Two school days."]
    assert added == ["            title: Answering emails", "              Three school days.", "",
                     "              Ask the office."], added
    r = c.post(EDIT, data={**editor_form(c), "editor": "Jo", "inserted-text:our-email-rota": ""})
    assert r.status_code == 422 and "untick it" in r.text
    # unticked with its boxes still posted (as a browser does): the clause goes as a whole
    r = c.post(EDIT, data={**editor_form(c), "editor": "Jo", "inserted:our-email-rota": "off",
                           "inserted-text:our-email-rota": "Changed too."}, follow_redirects=False)
    assert r.status_code == 303 and path.read_text(encoding="utf-8") == before


def test_each_variable_is_explained_in_the_library_s_own_words(project, keys):
    """The library's `variable_notes` say what each variable names; the editor shows the note
    under the box's name and ties it to the box for screen readers."""
    import html as html_module

    page = html_module.unescape(school_client(project, keys).get(EDIT).text)
    notes = load_project(project).library.variable_notes
    assert "dpo" in notes
    for name, (note, _) in notes.items():
        block = re.search(rf'<p class="hint" id="f-var--{name}-note">(.*?)</p>\s*<input id="f-var--{name}"'
                          rf'[^>]*aria-describedby="f-var--{name}-note ', page)
        assert block and block[1] == note, name


def test_a_variable_note_must_name_a_library_variable_and_be_short_text(tmp_path):
    from tests.serve_helpers import project_copy as copy

    root = copy(tmp_path / "p", repo=False)
    shared = root / "policy_src" / "library" / "shared.yaml"
    text = shared.read_text(encoding="utf-8")
    shared.write_text(text.replace("  variable_notes:\n", "  variable_notes:\n    dpp: A typing slip.\n"
                                   "    lado_contact_x: 42\n"), encoding="utf-8")
    report = Report()
    try:
        load_project(root, report)
    except Exception:  # noqa: BLE001 - the loader may stop after errors; the report is what counts
        pass
    said = [p.format() for p in report.errors]
    assert any("the note is on variable 'dpp', which the library does not define" in m and "did you mean 'dpo'?" in m
               for m in said), said
    assert any("the note on variable 'lado_contact_x' must be text of at most 300 characters" in m for m in said), said
    assert all(m.startswith("policy_src/library/shared.yaml:") for m in said), said
