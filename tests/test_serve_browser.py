"""The web editor in a real browser (Debian's Chromium, driven over the DevTools pipe by tests/cdp.py):
a school opens its link, chooses a wording option and fills a slot with the keyboard, sees the
preview change, saves, and the YAML is changed with its comments kept and a commit made; the link
reaches no other organisation; axe-core finds no WCAG 2.2 AA violation on any page at 1,280 and
390 px, no page scrolls sideways at 390 px, and every control can be reached with the Tab key."""
from __future__ import annotations

import difflib
import os
import shutil
import socket
import threading
import time

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from policypack.errors import Report  # noqa: E402
from policypack.load import load_project  # noqa: E402
from policypack.resolve import resolve  # noqa: E402
from policypack.web.access import Keys  # noqa: E402
from policypack.web.app import create_app  # noqa: E402
from tests.serve_helpers import OTHER, POLICY, SCHOOL, git, project_copy  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed (scripts/install-system-deps --test installs it)", allow_module_level=True)

from tests.test_browser import AXE, AXE_RUN  # noqa: E402

SLOT_TEXT = "Ring the school office on 01632 960555 for help with any device."
KEYS = {"Tab": 9, "Enter": 13, "Space": 32, "ArrowUp": 38, "ArrowDown": 40}
# every control a keyboard user must reach: one per radio group (arrow keys move within it)
CONTROLS = """(() => {
  const seen = new Set();
  return [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, iframe')]
    .filter(e => e.checkVisibility() && !e.disabled)
    .filter(e => e.type !== 'radio' || (!seen.has(e.name) && seen.add(e.name)))
    .map((e, i) => { e.dataset.kb = String(i); return e.type === 'radio' ? 'radio:' + e.name : (e.id || e.name || e.tagName + ':' + (e.textContent || '').trim().slice(0, 30)); });
})()"""
FOCUSED = """(() => { const e = document.activeElement;
  if (!e || e === document.body) return null;
  return e.type === 'radio' ? 'radio:' + e.name : (e.dataset.kb === undefined ? null : e.dataset.kb); })()"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    project = project_copy(tmp_path_factory.mktemp("serve") / "project")
    keys = Keys(project, "adviser-token-for-browser-tests")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(project, keys), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield project, keys, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from tests.cdp import Browser

    browser = Browser(CHROMIUM)
    yield browser
    browser.close()


def wait(tab, expression: str, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = tab.evaluate(expression)
        except RuntimeError:  # the frame is between two documents
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {expression}")


def key(tab, name: str, shift: bool = False) -> None:
    code = KEYS[name]
    for kind in ("rawKeyDown", "keyUp"):
        tab.send("Input.dispatchKeyEvent", type=kind, key=" " if name == "Space" else name, code=name,
                 windowsVirtualKeyCode=code, modifiers=8 if shift else 0)
    if name == "Enter":  # a key press that makes a character: what submits a form
        tab.send("Input.dispatchKeyEvent", type="char", text="\r", key="Enter", windowsVirtualKeyCode=13)


def frame_text(tab, element: str = "") -> str:
    """The text of the preview, or of one element of it, once the frame holds a document."""
    node = f"getElementById('{element}')" if element else "body"
    return wait(tab, f"document.getElementById('preview').contentDocument?.{node}?.innerText")


def check_page(browser, url: str, problems: list) -> None:
    """axe-core at 1,280 and 390 px, no sideways scrolling at 390 px, every control reached by Tab."""
    for width in (1280, 390):
        tab = browser.open(url, width)
        tab.evaluate(AXE.read_text(encoding="utf-8"))
        violations, passes = tab.evaluate(AXE_RUN, wait=True)
        assert passes > 10, "axe-core ran its rules"
        problems += [(url, width, *v) for v in violations]
        if width == 390:
            wide = tab.evaluate("document.documentElement.scrollWidth > window.innerWidth")
            if wide:
                problems.append((url, width, "scrolls sideways"))
        else:
            controls = tab.evaluate(CONTROLS)
            reached = set()
            for _ in range(len(controls) + 400):
                key(tab, "Tab")
                at = tab.evaluate(FOCUSED)
                if at is not None:
                    reached.add(controls[int(at)] if not str(at).startswith("radio:") else at)
                if len(reached) == len(set(controls)):
                    break
            missed = sorted(set(controls) - reached)
            if missed:
                problems.append((url, width, "not reached by Tab", missed[:10]))
        tab.send("Page.close")


def test_a_school_edits_its_policy_in_a_browser(server, browser):
    project, keys, base = server
    path = project / "schools" / f"{SCHOOL}.yaml"
    before = path.read_text(encoding="utf-8")
    doc = resolve(load_project(project), SCHOOL, POLICY, Report())
    phones = doc.by_id()["personal-phones"].anchor

    tab = browser.open(f"{base}/link/{keys.issue(SCHOOL, 1)}", 1280)
    assert tab.evaluate("location.pathname") == f"/o/{SCHOOL}"
    tab.send("Page.navigate", url=f"{base}/o/{SCHOOL}/p/{POLICY}")
    browser.wait_for("Page.loadEventFired")
    wait(tab, "document.getElementById('preview').contentDocument.readyState === 'complete' && "
              "document.getElementById('preview').contentDocument.body.innerText.length > 1000")
    phones_before = frame_text(tab, phones)
    assert SLOT_TEXT not in frame_text(tab)

    # choose a wording option with the arrow keys: from "with permission" up to "not on site"
    tab.evaluate("document.getElementById('f-variant--personal-phones-with-permission').focus()")
    key(tab, "ArrowUp")
    assert tab.evaluate("document.querySelector('input[name=\"variant:personal-phones\"]:checked').value") == "not-on-site"
    # switch an optional clause off with the space bar
    video = doc.by_id()["messaging-video-calls"]
    assert video.title in frame_text(tab)
    tab.evaluate("document.getElementById('f-optional--messaging-video-calls').focus()")
    key(tab, "Space")
    assert tab.evaluate("document.getElementById('f-optional--messaging-video-calls').checked") is False
    wait(tab, f"(t => t.length > 1000 && !t.includes({video.title!r}))"
              "(document.getElementById('preview').contentDocument?.body?.innerText || '')")
    # fill a slot by typing
    tab.evaluate("(t => { t.focus(); t.select(); })(document.getElementById('f-fill--local-it-contacts'))")
    tab.send("Input.insertText", text=SLOT_TEXT)
    wait(tab, f"document.getElementById('preview').contentDocument.body.innerText.includes({SLOT_TEXT!r})")
    assert tab.evaluate("window.policypackPreviews") >= 1
    phones_after = frame_text(tab, phones)
    assert phones_after != phones_before  # the chosen option is in the preview too
    assert video.title not in frame_text(tab)
    assert path.read_text(encoding="utf-8") == before  # nothing saved yet

    # a message beside its field, as the user types
    tab.evaluate("(t => { t.focus(); t.select(); })(document.getElementById('f-adoption--date'))")
    tab.send("Input.insertText", text="2025-02-31")
    wait(tab, "document.getElementById('f-adoption--date-msg').textContent.includes('not a date')")
    assert tab.evaluate("document.getElementById('f-adoption--date').getAttribute('aria-invalid')") == "true"
    tab.evaluate("(t => { t.focus(); t.select(); })(document.getElementById('f-adoption--date'))")
    tab.send("Input.insertText", text="2025-12-10")
    wait(tab, "document.getElementById('f-adoption--date-msg').textContent === ''")

    # save with the keyboard
    tab.evaluate("document.getElementById('editor-name').focus()")
    tab.send("Input.insertText", text="Jo Example")
    tab.evaluate("document.querySelector('#editor button[type=submit]').focus()")
    key(tab, "Enter")
    browser.wait_for("Page.loadEventFired")
    wait(tab, "location.search.includes('saved=')")
    assert "Saved." in tab.evaluate("document.body.innerText")

    after = path.read_text(encoding="utf-8")
    changed = [l for l in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
               if l[:1] in "+-" and l[:3] not in ("+++", "---")]
    assert "+        personal-phones: not-on-site" in changed and "-        personal-phones: with-permission" in changed
    assert f"+      {SLOT_TEXT}" in changed and "+      disable: [messaging-video-calls]" in changed
    assert len([l for l in changed if l.startswith("+")]) == 3, changed  # nothing else written
    assert not [l for l in changed if l.lstrip("+-").lstrip().startswith("#")]  # comments untouched
    assert [l for l in before.splitlines() if "#" in l] == [l for l in after.splitlines() if "#" in l]
    assert git(project, "log", "-1", "--format=%an").strip() == "Jo Example"
    assert git(project, "show", "--name-only", "--format=", "HEAD").split() == [f"schools/{SCHOOL}.yaml"]

    # a clause of the school's own, shown in the preview and marked for consultation (not saved)
    tab.evaluate("document.querySelector('#new-insert-title').closest('details').open = true")
    tab.evaluate("(s => { s.value = s.options[3].value; s.dispatchEvent(new Event('change', {bubbles: true})); })"
                 "(document.getElementById('new-insert-after'))")
    tab.evaluate("document.getElementById('new-insert-title').focus()")
    tab.send("Input.insertText", text="Our email rota")
    tab.evaluate("document.getElementById('new-insert-text').focus()")
    tab.send("Input.insertText", text="Parents hear back within two school days.")
    wait(tab, "document.getElementById('preview').contentDocument.body.innerText.includes('within two school days')")
    wait(tab, "document.getElementById('consultation').textContent.includes('our-email-rota')")
    assert "union consultation" in tab.evaluate("document.getElementById('new-insert-msg').textContent")
    assert path.read_text(encoding="utf-8") == after

    # the link reaches no other organisation, by address or by a forged request
    other = (project / "schools" / f"{OTHER}.yaml").read_bytes()
    tab.send("Page.navigate", url=f"{base}/o/{OTHER}/p/{POLICY}")
    browser.wait_for("Page.loadEventFired")
    assert "own organisation" in tab.evaluate("document.body.innerText")
    tab.send("Page.navigate", url=f"{base}/o/{SCHOOL}/p/{POLICY}")
    browser.wait_for("Page.loadEventFired")
    status = tab.evaluate(f"""fetch('/o/{OTHER}/p/{POLICY}', {{method: 'POST', body: new URLSearchParams({{
        csrf: document.querySelector('[name=csrf]').value, hash: 'x', editor: 'M', 'var:head': 'Boss'}})}})
        .then(r => r.status)""", wait=True)
    assert status == 403 and (project / "schools" / f"{OTHER}.yaml").read_bytes() == other
    tab.send("Page.close")


def test_every_editor_page_is_accessible_at_desktop_and_phone_width(server, browser):
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci --prefix tests/js` (make test does)")
    project, keys, base = server
    problems = []
    tab = browser.open(f"{base}/link/{keys.issue(SCHOOL, 1)}", 1280)
    tab.send("Page.close")
    for url in (f"{base}/o/{SCHOOL}", f"{base}/o/{SCHOOL}/p/{POLICY}"):
        check_page(browser, url, problems)
    tab = browser.open(f"{base}/?token={keys.adviser_token}", 1280)  # the adviser's session
    tab.send("Page.close")
    for url in (f"{base}/", f"{base}/o/saltmarsh-infant-school/p/social-media", f"{base}/link/not-a-link"):
        check_page(browser, url, problems)
    assert not problems, "\n".join(map(str, problems))
