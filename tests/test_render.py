"""The build: HTML and PDF writers, pack pages, template overrides, the PDF's fetch restrictions.

Everything is checked on real output: files written by the `build` command, read back with
html.parser, poppler's pdftotext and pypdf.
"""
from __future__ import annotations

import html

import datetime as dt
import http.server
import re
import shutil
import threading
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from markupsafe import escape
from pypdf import PdfReader

from tests.helpers import expected_margin_labels, html_files, pdf_pages, pdf_paragraph_numbers
from policypack.build import template_dir
from policypack.cli import main
from policypack.errors import Report
from policypack.load import load_project
from policypack.render import RenderContext
from policypack.render.html import render_html
from policypack.render.pdf import ProjectFetcher, render_pdf
from policypack.resolve import resolve

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
AS_OF = "2026-06-01"  # after demo-school's next review (16 May 2026)

RICH_SCHOOL = """\
organisation:
  id: demo-school
  name: Demo Primary School
  kind: school
  extends: demo-la
  numbering: decimal
  branding:
    logo: assets/logo.svg
    colour: "#2a5d3c"
    font: Liberation Serif
    templates: templates/demo
  adoption:
    body: Governing Board
    date: 2025-05-16
    chairs: [Ann Chair, Bob Chair]
    chair_title: Co-chairs of Governors
    written_by: C Writer
    written_date: 2025-04-01
    agreed_by: Full Governing Board
    agreed_date: 2025-05-16
  approvals:
    - label: CEO approval
      name: Dr A Example
      date: 2025-05-20
    - label: JNC consultation
  review_history: [2019-09-01, 2023-09-01]
  policies:
    demo:
      variants: {phones: never}
      enable: [optional-thing]
      fill:
        local-contacts: Ask Mrs Example in the office.
      insert:
        - after: intro-purpose
          clause: {id: local-extra, text: "A local clause for {{ organisation }}."}
      changes:
        - date: 2025-06-01
          summary: Added a local clause.
          clauses: [local-extra]
"""
OVERRIDE = """\
{% extends "base/_policy.html.j2" %}
{% block adoption %}<p class="local-adoption">Adopted locally by {{ doc.org.name }}.</p>{% endblock %}
"""
LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" width="80" height="40">'
        '<rect width="80" height="40" fill="#2a5d3c"/></svg>')


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def build(root: Path, out: Path, *extra):
    """`build` as a user runs it; HTML and PDF only unless asked (the DOCX writer has its own tests)."""
    formats = () if "--format" in extra else ("--format", "html,pdf")
    return run("build", "--root", root, "--out", out, "--as-of", AS_OF, *formats, *extra)


def rich_project(tmp_path: Path, template: str = OVERRIDE) -> Path:
    """The mini fixture with branding, a logo, a template override, approvals and a review history."""
    root = tmp_path / "rich"
    shutil.copytree(MINI, root)
    (root / "schools" / "demo-school.yaml").write_text(RICH_SCHOOL)
    (root / "schools" / "assets").mkdir()
    (root / "schools" / "assets" / "logo.svg").write_text(LOGO)
    (root / "schools" / "templates" / "demo").mkdir(parents=True)
    (root / "schools" / "templates" / "demo" / "policy.html.j2").write_text(template)
    policy = root / "policy_src" / "demo.yaml"
    reviews = "    - id: app-reviews\n      title: Review history\n      generated: review-history\n"
    policy.write_text(policy.read_text().replace("      generated: changes\n", "      generated: changes\n" + reviews))
    return root


def resolved(root: Path, org: str, policy: str):
    report = Report()
    doc = resolve(load_project(root, Report()), org, policy, report)
    assert not report.errors, [p.format() for p in report.errors]
    return doc


def norm(s: str) -> str:
    return " ".join(s.split())


# --------------------------------------------------------------------------------------------
# What is built
# --------------------------------------------------------------------------------------------


def _real_project_ok() -> bool:
    return run("check", "--root", ROOT).exit_code == 0 and (ROOT / "schools").is_dir()


@pytest.fixture(scope="module", params=["mini", "rich", "shipped"])
def built(request, tmp_path_factory):
    """(root, out, docs): a project built into a temporary folder, and its resolved documents."""
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "mini":
        root = MINI
    elif request.param == "rich":
        root = rich_project(tmp)
    else:
        if not _real_project_ok():
            pytest.skip("`python build.py check` does not pass on the shipped examples yet")
        root = ROOT
    out = tmp / "out"
    result = build(root, out)
    assert result.exit_code == 0, result.output
    project = load_project(root, Report())
    docs = {(o, p): resolved(root, o, p) for o in project.organisations for p in project.published(o)}
    return root, out, docs


def test_every_document_and_page_is_written(built):
    root, out, docs = built
    assert 'href="review.html"' in (out / "index.html").read_text(encoding="utf-8")
    schedule = (out / "review.html").read_text(encoding="utf-8")
    for doc in docs.values():
        assert html.escape(doc.org.name) in schedule
    for (org, policy) in docs:
        for ext in ("html", "pdf"):
            assert (out / org / f"{policy}.{ext}").stat().st_size > 1000
        assert (out / org / "index.html").is_file()


def test_pdf_shows_every_heading_on_the_page_its_contents_entry_gives(built):
    root, out, docs = built
    for (org, policy), doc in docs.items():
        pages = pdf_pages(out / org / f"{policy}.pdf")
        contents = {}
        toc_pages = set()
        for number, page in enumerate(pages, 1):
            for line in page.splitlines():
                m = re.match(r"\s*(.*?)\s*(?:\. ?){4,}\s*(\d+)\s*$", line)
                if m:
                    contents[norm(m.group(1))] = int(m.group(2))
                    toc_pages.add(number)
        headings = [norm(n.heading) for n in doc.sections + doc.appendices]
        assert list(contents) == headings, f"{org}/{policy}: contents differ from the sections"
        for heading, page in contents.items():
            assert heading in norm(pages[page - 1]), f"{org}/{policy}: '{heading}' is not on page {page}"
            for earlier in range(max(toc_pages) + 1, page):
                lines = {norm(line) for line in pages[earlier - 1].splitlines()}
                assert heading not in lines, f"{org}/{policy}: '{heading}' is on page {earlier}, not {page}"


def test_pdf_is_tagged_with_language_title_and_bookmarks(built):
    root, out, docs = built
    for (org, policy), doc in docs.items():
        reader = PdfReader(out / org / f"{policy}.pdf")
        catalog = reader.trailer["/Root"]
        assert catalog["/Lang"] == "en-GB"
        assert catalog["/MarkInfo"]["/Marked"]
        assert "/StructTreeRoot" in catalog
        assert reader.metadata.title == f"{doc.title} – {doc.org.name}"
        assert "/CreationDate" not in reader.metadata
        top = [norm(item.title) for item in reader.outline if not isinstance(item, list)]
        assert top == [norm(n.heading) for n in doc.sections + doc.appendices]
        footer = pdf_pages(out / org / f"{policy}.pdf")[1]
        assert f"Page 2 of {len(reader.pages)}" in footer


def test_pdf_margin_numbers_are_the_organisations_numbers(built):
    root, out, docs = built
    for (org, policy), doc in docs.items():
        # from the contents (a version history at the front) to the table of changes (version cells)
        stop = next((n.heading for n in doc.appendices if n.generated), "")
        assert pdf_paragraph_numbers(out / org / f"{policy}.pdf", stop, start_at="Contents") == \
            expected_margin_labels(doc), f"{org}/{policy}"


class Page(HTMLParser):
    """What the accessibility and link checks need from one HTML file."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.ids, self.hrefs, self.srcs, self.headings, self.lang = set(), [], [], [], None
        self.tables = self.captions = 0
        self.th_without_scope = 0
        self.first_link = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
            self.first_link = self.first_link or a
        if tag == "img":
            self.srcs.append(a.get("src", ""))
            assert "alt" in a
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        self.tables += tag == "table"
        self.captions += tag == "caption"
        self.th_without_scope += tag == "th" and "scope" not in a


def test_html_is_accessible_and_every_link_resolves(built):
    root, out, docs = built
    files = html_files(out)
    assert len(files) == len(docs) + len({org for org, _ in docs}) + 2  # + index.html, review.html
    for path in files:
        page = Page(path.read_text(encoding="utf-8"))
        text = path.read_text(encoding="utf-8")
        assert text.startswith("<!doctype html>")
        assert page.lang == "en-GB"
        assert page.headings.count(1) == 1 and page.headings[0] == 1, path
        for before, after in zip(page.headings, page.headings[1:]):
            assert after <= before + 1, f"{path}: h{before} is followed by h{after}"
        assert page.first_link == {"class": "skip-link", "href": "#main"} and "main" in page.ids
        assert page.tables == page.captions and page.th_without_scope == 0, path
        for href in page.hrefs:
            if href.startswith("#"):
                assert href[1:] in page.ids, f"{path}: no id for {href}"
            elif not urlsplit(href).scheme:
                assert (path.parent / href).is_file(), f"{path}: {href} does not exist"
            else:
                assert href.startswith(("https:", "mailto:", "tel:")), href
        assert all(src.startswith("data:image/") for src in page.srcs), "images must be embedded"


def test_policy_html_has_the_front_matter_contents_and_numbered_text(built):
    root, out, docs = built
    for (org, policy), doc in docs.items():
        text = (out / org / f"{policy}.html").read_text(encoding="utf-8")
        page = Page(text)
        for n in doc.sections + doc.appendices:
            assert f'<a href="#{n.anchor}">' in text
        for n in doc.walk():
            assert n.anchor in page.ids
            if n.label and n.kind == "clause":
                assert f'<span class="num">{n.label}</span>' in text
        assert f"<h1>{escape(doc.title)}</h1>" in text
        assert ('class="key-message" role="note" aria-label="Key message"' in text) == bool(doc.key_message)


def test_two_builds_are_byte_identical(built, tmp_path):
    root, out, docs = built
    if root == ROOT:
        pytest.skip("the shipped examples take long to build twice; the fixtures cover this")
    again = tmp_path / "again"
    assert build(root, again, "--jobs", "1").exit_code == 0  # the first build ran in parallel
    first = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert first == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in first:
        if rel.suffix in (".html", ".pdf"):
            assert (out / rel).read_bytes() == (again / rel).read_bytes(), rel


# --------------------------------------------------------------------------------------------
# The mini fixture in detail
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    out = tmp_path_factory.mktemp("mini") / "out"
    result = build(MINI, out)
    assert result.exit_code == 0, result.output
    return out


def test_lists_cross_references_and_changes_table(mini):
    html = (mini / "demo-school" / "demo.html").read_text(encoding="utf-8")
    assert 'See paragraph\u00a0\u2060<a class="xref" href="#c-phones">1.3</a>' in html
    assert '<a class="xref" href="#c-app-help">Appendix 1</a>' in html
    assert '<a href="https://saferinternet.org.uk">Safer internet</a>' in html
    for marker in ("(a)", "(b)", "(i)", "(ii)"):
        assert f'<span class="marker">{marker}</span>' in html
    assert '<th scope="col">Changed by</th>' in html
    assert "<tr><th scope=\"row\">1 June 2025</th><td>1.2</td><td>Added a local clause.</td>" \
           "<td>Demo Primary School</td></tr>" in html
    text = norm("".join(pdf_pages(mini / "demo-school" / "demo.pdf")))
    assert "1.1.1 Staff must: (a) think; (b) act: (i) calmly; (ii) quickly." in text


def test_review_overdue_only_after_the_next_review(mini, tmp_path):
    html = (mini / "demo-school" / "demo.html").read_text(encoding="utf-8")
    assert "Review overdue." in html and "due for review on 16 May 2026" in html
    assert "Review overdue" in "".join(pdf_pages(mini / "demo-school" / "demo.pdf"))
    assert '<span class="status overdue">Review overdue</span>' in (mini / "demo-school" / "index.html").read_text()
    result = run("build", "--root", MINI, "--out", tmp_path, "--as-of", "2025-12-01", "--format", "html")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "demo-school" / "demo.html").read_text(encoding="utf-8")
    assert "Review overdue" not in html and "Review due soon" not in html
    result = run("build", "--root", MINI, "--out", tmp_path, "--as-of", "2026-04-01", "--format", "html")
    assert "Review due soon." in (tmp_path / "demo-school" / "demo.html").read_text(encoding="utf-8")


def test_pack_pages_link_every_format_and_the_index_is_a_tree(mini):
    pack = (mini / "demo-school" / "index.html").read_text(encoding="utf-8")
    for ext in ("html", "pdf"):
        assert f'href="demo.{ext}"' in pack
    assert "16 May 2025" in pack and "16 May 2026" in pack
    index = (mini / "index.html").read_text(encoding="utf-8")
    la, school = index.index('href="demo-la/index.html"'), index.index('href="demo-school/index.html"')
    assert la < school and "<ul>" in index[la:school]


# --------------------------------------------------------------------------------------------
# Organisation templates, branding, front matter
# --------------------------------------------------------------------------------------------


def test_override_template_branding_and_front_matter(tmp_path):
    root = rich_project(tmp_path)
    out = tmp_path / "out"
    assert build(root, out).exit_code == 0
    html = (out / "demo-school" / "demo.html").read_text(encoding="utf-8")
    assert '<p class="local-adoption">Adopted locally by Demo Primary School.</p>' in html
    assert "Formally adopted" not in html
    assert '<img class="logo" src="data:image/svg+xml;base64,' in html
    assert "--brand: #2a5d3c" in html and '"Liberation Serif"' in html
    for text in ("Written by", "C Writer, 1 April 2025", "Agreed by", "Full Governing Board, 16 May 2025",
                 "CEO approval", "Dr A Example", "20 May 2025", "JNC consultation",
                 "<th scope=\"row\">Review 2</th><td>1 September 2023</td>"):
        assert text in html, text
    assert "Adopted locally by Demo Primary School." in "".join(pdf_pages(out / "demo-school" / "demo.pdf"))
    la = (out / "demo-la" / "demo.html").read_text(encoding="utf-8")  # the override is demo-school's only
    assert "local-adoption" not in la and "data:image" not in la
    doc = resolved(root, "demo-school", "demo")
    doc.branding.template_dirs = []
    default = render_html(doc, RenderContext(dt.date(2026, 6, 1), root, template_dir(root))).decode()
    assert "<th scope=\"row\">Co-chairs of Governors</th><td>Ann Chair &amp; Bob Chair</td>" in default


def test_default_front_matter_prints_only_what_is_given(mini):
    html = (mini / "demo-school" / "demo.html").read_text(encoding="utf-8")
    assert "<th scope=\"row\">Formally adopted by</th><td>Governing Board</td>" in html
    assert "<th scope=\"row\">Date adopted</th><td>16 May 2025</td>" in html and "<th scope=\"row\">Chair</th><td>Ann Chair</td>" in html
    for absent in ("Written by", "Agreed by", "Approval and consultation", "Author", "<img"):
        assert absent not in html
    la = (mini / "demo-la" / "demo.html").read_text(encoding="utf-8")
    for absent in ("adopted", "Last reviewed", "Review overdue", "<td></td>", "<dd></dd>"):
        assert absent not in la


@pytest.mark.parametrize("block", [
    "{{ doc.__class__.__mro__ }}",
    "{{ doc.title.__class__.__subclasses__() }}",
    "{{ doc.branding.logo.read_text() }}",
    "{{ range(3)|list }}",
    '{% include "/etc/passwd" %}',
    '{% include "../../../../../../../../etc/passwd" %}',
    '{% include "escape.txt" %}',
])
def test_a_template_cannot_escape_and_fails_only_its_document(tmp_path, block):
    (tmp_path / "outside.txt").write_text("secret outside the project")
    root = rich_project(tmp_path, '{% extends "base/_policy.html.j2" %}{% block adoption %}' + block + "{% endblock %}")
    (root / "schools" / "templates" / "demo" / "escape.txt").symlink_to(tmp_path / "outside.txt")
    out = tmp_path / "out"
    result = build(root, out)
    assert result.exit_code == 1, result.output
    assert "schools/templates/demo/policy.html.j2:1: error: template error while building demo-school/demo" \
        in result.output
    assert "secret" not in result.output and "root:" not in result.output
    assert not list((out / "demo-school").glob("demo.*"))
    assert (out / "demo-la" / "demo.pdf").exists()
    assert "Not built: problems found" in (out / "demo-school" / "index.html").read_text()


# --------------------------------------------------------------------------------------------
# What WeasyPrint may read
# --------------------------------------------------------------------------------------------


def test_url_fetcher_serves_only_project_files_and_data(tmp_path):
    root = rich_project(tmp_path)
    logo = root / "schools" / "assets" / "logo.svg"
    fetcher = ProjectFetcher(root, files=[logo])
    assert fetcher.fetch(logo.as_uri()).read() == logo.read_bytes()
    other = root / "schools" / "assets" / "other.svg"
    other.write_bytes(logo.read_bytes())
    (root / ".git").mkdir(exist_ok=True)
    (root / ".git" / "config").write_text("[credential] token=secret")
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    (tmp_path / "secret.txt").write_text("secret")
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.org/x.css",
                "ftp://example.org/x", (tmp_path / "secret.txt").as_uri(),
                root.as_uri() + "/schools/../../secret.txt", "file://otherhost" + logo.as_posix(),
                other.as_uri(), (root / ".git" / "config").as_uri()):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_pdf_render_reads_nothing_outside_the_project(tmp_path):
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        template = ('{% extends "base/_policy.html.j2" %}{% block styles %}'
                    f'@font-face {{ font-family: Remote; src: url("{url}/f.woff"); }} h1 {{ font-family: Remote; }}'
                    f'body {{ background: url("{url}/bg.png"); }}'
                    '{% endblock %}{% block adoption %}'
                    f'<img src="{url}/x.png" alt=""><img src="file:///etc/passwd" alt="">{{% endblock %}}')
        root = rich_project(tmp_path, template)
        doc = resolved(root, "demo-school", "demo")
        ctx = RenderContext(dt.date(2026, 6, 1), root, template_dir(root))
        html = render_html(doc, ctx).decode()
        assert "x.png" not in html and "127.0.0.1" not in html and "/etc/passwd" not in html
        pdf = render_pdf(doc, ctx)
        assert pdf.startswith(b"%PDF-1.7")
        requests = len(hits)
        # control: the same server is reachable, so zero requests above means they were refused
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url + "/control")
        assert requests == 0 and hits == ["/control"]
    finally:
        server.shutdown()


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (("--format", "html,odt"), "unknown format 'odt'"),
    (("--as-of", "1 June 2026"), "is not a date"),
    (("--school", "nowhere"), "no organisation 'nowhere'"),
    (("--policy", "demoo"), "no policy 'demoo'"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    result = run("build", "--root", MINI, "--out", tmp_path / "out", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_resolve_problems_skip_that_document_and_exit_1(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(MINI, root)
    school = root / "schools" / "demo-school.yaml"
    text = school.read_text()
    slot = "      fill:\n        local-contacts: Ask Mrs Example in the office.\n"
    assert slot in text
    school.write_text(text.replace(slot, ""))
    result = build(root, tmp_path / "out", "--format", "html", "--format", "pdf")
    assert result.exit_code == 1, result.output
    assert "local-contacts" in result.output and "not built" in result.output and "demo-school/demo" in result.output
    assert not list((tmp_path / "out" / "demo-school").glob("demo.*"))
    assert (tmp_path / "out" / "demo-la" / "demo.html").exists()
    assert (tmp_path / "out" / "demo-la" / "demo.pdf").exists()
    assert "built 1 of 2 documents" in result.output


def test_only_the_formats_asked_for(tmp_path):
    result = build(MINI, tmp_path, "--school", "demo-school", "--format", "pdf")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "demo-school").iterdir()) == ["demo.pdf", "index.html"]
    assert not (tmp_path / "demo-la").exists()
    pack = (tmp_path / "demo-school" / "index.html").read_text()
    assert 'href="demo.pdf"' in pack and 'href="demo.html"' not in pack


def test_default_build_writes_all_formats_into_outputs(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(MINI, root)
    result = run("build", "--root", root)
    assert result.exit_code == 0, result.output
    names = {p.name for p in (root / "outputs" / "demo-school").iterdir()}
    assert {"demo.html", "demo.pdf", "index.html"} <= names
    assert ("demo.docx" in names) == ("skipping docx" not in result.output)
    assert re.search(r"built 2 of 2 documents \(\d+ files written\) into .* in [\d.]+ s; 0 unchanged, 0 failed\.", result.output)


def test_a_failed_or_interrupted_build_leaves_earlier_outputs_intact(tmp_path, monkeypatch):
    root, out = tmp_path / "p", tmp_path / "out"
    shutil.copytree(MINI, root)
    assert build(root, out).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    school = root / "schools" / "demo-school.yaml"
    school.write_text(school.read_text().replace("Ask Mrs Example in the office.", "'Ask {{ undefined_thing }}'"))
    failed = build(root, out)
    assert failed.exit_code == 1 and "undefined_thing" in failed.output
    for path in (out / "demo-school" / "demo.html", out / "demo-school" / "demo.pdf"):
        assert path.read_bytes() == before[path], "a failed document must keep its earlier files"

    import policypack.render.pdf as pdf_writer

    def interrupted(doc, ctx):
        raise KeyboardInterrupt
    monkeypatch.setattr(pdf_writer, "render_pdf", interrupted)
    shutil.copy(MINI / "schools" / "demo-school.yaml", school)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(KeyboardInterrupt):
        from policypack.build import build as build_pack
        project = load_project(root, Report())
        build_pack(project, [("demo-la", "demo"), ("demo-school", "demo")], ("html", "pdf"), out,
                   dt.date.fromisoformat(AS_OF), Report(), jobs=1)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before, "an interrupted build must leave every earlier file as it was, and no temporary files"


def test_hostile_text_is_shown_as_text_in_every_format(tmp_path):
    import zipfile
    root, out = tmp_path / "p", tmp_path / "out"
    shutil.copytree(MINI, root)
    school = root / "schools" / "demo-school.yaml"
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    school.write_text(school.read_text()
                      .replace("  numbering: decimal\n", f"  numbering: decimal\n  variables:\n    head: '{hostile}'\n")
                      .replace("Ask Mrs Example in the office.", f"'Ask {hostile} [x](javascript:alert(3))'"))
    policy = root / "policy_src" / "demo.yaml"
    policy.write_text(policy.read_text().replace("text: An optional clause.", "text: 'Ask the {{ head }}.'"))
    result = build(root, out, "--format", "html,pdf,docx")
    assert result.exit_code == 1 and "javascript:alert(3)" in result.output  # the link is refused, by name
    school.write_text(school.read_text().replace(" [x](javascript:alert(3))", ""))
    result = build(root, out, "--format", "html,pdf,docx")
    assert result.exit_code == 0, result.output
    page = (out / "demo-school" / "demo.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<img src=x" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2
    assert "<script>alert(1)</script>" in "\n".join(pdf_pages(out / "demo-school" / "demo.pdf", layout=False))
    with zipfile.ZipFile(out / "demo-school" / "demo.docx") as z:
        body = z.read("word/document.xml").decode("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script" not in body
