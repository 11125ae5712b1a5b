"""A real browser renders the HTML: Chromium (headless) prints each kind of page, and every
heading, number and table the policy has is on the printed page."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from policypack.cli import main
from policypack.errors import Report
from policypack.load import load_project
from policypack.resolve import resolve
from tests.helpers import pdf_pages

MINI = Path(__file__).parent / "fixtures" / "mini"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed (scripts/install-system-deps --test installs it)", allow_module_level=True)


def chromium_print(html: Path, tmp: Path) -> str:
    pdf = tmp / (html.stem + ".chromium.pdf")
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp / 'profile'}", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", html.as_uri()],
                   check=True, capture_output=True, timeout=120)
    return "\n".join(pdf_pages(pdf, layout=False))


def norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser")
    result = CliRunner().invoke(main, ["build", "--root", str(MINI), "--out", str(out), "--format", "html"])
    assert result.exit_code == 0, result.output
    return out


def test_chromium_shows_the_whole_policy(built, tmp_path):
    doc = resolve(load_project(MINI), "demo-school", "demo", Report())
    text = norm(chromium_print(built / "demo-school" / "demo.html", tmp_path))
    assert norm(doc.title) in text and doc.org.name in text
    for node in doc.walk():
        if node.title:
            assert norm(node.title) in text, node.id
        if node.label:
            assert node.label in text, node.id
        if node.blocks:
            assert norm(node.text.splitlines()[0])[:40] in text, node.id
    for row in doc.changes:
        assert norm(row.summary) in text


def test_chromium_shows_the_pack_index_and_schedule(built, tmp_path):
    assert "Demo policy" in norm(chromium_print(built / "demo-school" / "index.html", tmp_path))
    index = norm(chromium_print(built / "index.html", tmp_path))
    assert "Demo County Council" in index and "Demo Primary School" in index and "Review schedule" in index
    schedule = norm(chromium_print(built / "review.html", tmp_path))  # table cells wrap: check words
    assert "Policy review schedule" in schedule and "Demo Primary" in schedule and "overdue" in schedule


ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
OVERFLOW = """[document.documentElement.scrollWidth, window.innerWidth,
  [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1
     && !e.closest('.table-scroll')).slice(0, 3).map(e => e.tagName + ' ' + e.textContent.slice(0, 40))]"""
# WCAG 2.0, 2.1 and 2.2, levels A and AA: what GOV.UK's monitoring tests public sector sites against
AXE_RUN = """axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
  'wcag22aa']}, resultTypes: ['violations']}).then(r => [r.violations.map(v => [v.id, v.impact,
  v.nodes.length, v.nodes[0].target.join(' ')]), r.passes.length])"""


@pytest.fixture(scope="module")
def shipped_pages(tmp_path_factory):
    """Every shipped HTML page (policies, pack pages, the index, the review schedule) and a redline."""
    out = tmp_path_factory.mktemp("pages")
    result = CliRunner().invoke(main, ["build", "--root", str(ROOT), "--out", str(out), "--format", "html"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["diff", "--root", str(ROOT), "--school", "kestrel-park-academy", "--policy",
                                       "social-media", "--against-parent", "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 30 and any("redline" in p.name or "diff" in p.name for p in pages), pages
    return out, pages


@pytest.fixture(scope="module")
def browser():
    from tests.cdp import Browser

    browser = Browser(CHROMIUM)
    yield browser
    browser.close()


def test_every_page_reflows_at_320_px_without_scrolling_sideways(shipped_pages, browser):
    """WCAG 1.4.10: every shipped policy page, pack page, the index, the review schedule and a
    redline page fit a 320 px screen (and a 1,280 px one); a wide table scrolls inside its own
    focusable, labelled region instead of the page."""
    out, pages = shipped_pages
    wide = []
    for page in pages:
        for width in (320, 1280):
            scroll, inner, culprits = browser.open(page.as_uri(), width).evaluate(OVERFLOW)
            if scroll > inner:
                wide.append((page.relative_to(out).as_posix(), width, scroll, culprits))
    assert not wide, wide
    tab = browser.open((out / "review.html").as_uri(), 320)
    region = tab.evaluate("(r => [r.getAttribute('role'), r.tabIndex, r.getAttribute('aria-label'), "
                          "r.scrollWidth > r.clientWidth])(document.querySelector('.table-scroll'))")
    assert region[:2] == ["region", 0] and region[2] and region[3], "the schedule scrolls in its own region"


def axe(browser, url: str, width: int):
    tab = browser.open(url, width)
    tab.evaluate(AXE.read_text(encoding="utf-8"))  # DevTools evaluation is outside the page's CSP
    violations, passes = tab.evaluate(AXE_RUN, wait=True)
    tab.send("Page.close")
    return violations, passes


def test_axe_core_finds_no_wcag_22_aa_violation_on_any_page_at_desktop_or_phone_width(shipped_pages, browser):
    """axe-core (npm, tests/js) on every shipped page at 1,280 px and 390 px: 0 violations."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci --prefix tests/js` (make test does)")
    out, pages = shipped_pages
    found = []
    for page in pages:
        for width in (1280, 390):
            violations, passes = axe(browser, page.as_uri(), width)
            assert passes > 10, "axe-core ran its rules"
            found += [(page.relative_to(out).as_posix(), width, *v) for v in violations]
    assert not found, found


def test_axe_core_reports_a_violation_it_is_shown(browser, tmp_path):
    """The check can fail: an image without a text alternative and text with too little contrast."""
    page = tmp_path / "bad.html"
    page.write_text('<!doctype html><html lang="en"><title>t</title><main><img src="data:image/png;base64,AA==">'
                    '<p style="color:#bbb;background:#fff">faint</p></main></html>', encoding="utf-8")
    violations, _ = axe(browser, page.as_uri(), 1280)
    assert {"image-alt", "color-contrast"} <= {v[0] for v in violations}
