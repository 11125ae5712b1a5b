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
OVERFLOW = """[document.documentElement.scrollWidth, window.innerWidth,
  [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1
     && !e.closest('.table-scroll')).slice(0, 3).map(e => e.tagName + ' ' + e.textContent.slice(0, 40))]"""


def test_every_page_reflows_at_320_px_without_scrolling_sideways(tmp_path):
    """WCAG 1.4.10: every shipped policy page, pack page, the index, the review schedule and a
    redline page fit a 320 px screen (and a 1,280 px one); a wide table scrolls inside its own
    focusable, labelled region instead of the page."""
    from tests.cdp import Browser

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--root", str(ROOT), "--out", str(out), "--format", "html"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["diff", "--root", str(ROOT), "--school", "kestrel-park-academy", "--policy",
                                       "social-media", "--against-parent", "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 30 and any("redline" in p.name or "diff" in p.name for p in pages), pages
    browser = Browser(CHROMIUM)
    try:
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
    finally:
        browser.close()
