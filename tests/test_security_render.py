"""Issue 8, the output boundary: a template override cannot put active content in any page, read
a project file into a PDF, or rewrite the policy text; `check` finds what would break `build`.

Pages are rendered in-process from a copy of the mini fixture that has its own templates/ (so the
index and review schedule can be made hostile too) and a hostile override for demo-school.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from policypack.cli import main
from policypack.errors import Report
from policypack.load import load_project
from policypack.model import OrgInfo
from policypack.render import RenderContext
from policypack.render.html import (PolicyText, TemplateProblem, check_templates, render_html, render_index,
                                    render_pack, render_review)
from policypack.render.pdf import ProjectFetcher, document_fetcher, render_pdf
from policypack.resolve import resolve
from policypack.sanitize import CSP, clean_css, clean_html

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
AS_OF = dt.date(2026, 6, 1)
SECRET = "SECRET-TOKEN-5f1c"

ACTIVE = ('<img src=x onerror=alert(1)><a href="javascript:alert(2)">j</a><a href=" JaVa&#x09;script:alert(3)">k</a>'
          '<iframe src="https://evil.example/f"></iframe><object data="https://evil.example/o"></object>'
          '<embed src="https://evil.example/e"><meta http-equiv="refresh" content="0;url=https://evil.example/">'
          '<base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/s.css">'
          '<link rel="attachment" href=".git/config"><a rel="attachment" href=".git/config">config</a>'
          '<form action="https://evil.example/f"><input name="x"></form><svg><script>alert(4)</script></svg>'
          '<p style="background:url(https://evil.example/p.png)" onclick="alert(5)">text</p>'
          '<img src="https://evil.example/i.png" alt="remote">')
STYLES = ('</style><script>alert(document.domain)</script><style>'
          '@import url(https://evil.example/a.css); @import "https://evil.example/b.css";'
          'body { background: url(https://evil.example/bg.png); }'
          '@font-face { font-family: X; src: url("https://evil.example/f.woff"); }'
          'h1 { background-image: image-set("https://evil.example/1x.png" 1x); }'
          '</STYLE ><script>alert(6)</script>')


def hostile(entry: str, block: str) -> str:
    return (f'{{% extends "base/_{entry}.html.j2" %}}{{% block {block} %}}{ACTIVE}{{{{ super() }}}}{{% endblock %}}'
            f'{{% block styles %}}{STYLES}{{% endblock %}}')


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The mini fixture with its own templates/: hostile index and review entry points, and a
    hostile override (policy and pack page) for demo-school; a secret in .git/config."""
    root = tmp_path_factory.mktemp("sec") / "p"
    shutil.copytree(MINI, root)
    shutil.copytree(ROOT / "templates", root / "templates")
    (root / "templates" / "index.html.j2").write_text(hostile("index", "page"))
    (root / "templates" / "review.html.j2").write_text(hostile("review", "page"))
    override = root / "schools" / "templates" / "demo"
    override.mkdir(parents=True)
    (override / "policy.html.j2").write_text(hostile("policy", "heading"))
    (override / "pack.html.j2").write_text(hostile("pack", "page"))
    school = root / "schools" / "demo-school.yaml"
    school.write_text(school.read_text().replace("  numbering: decimal\n",
                                                 "  numbering: decimal\n  branding:\n    templates: templates/demo\n"))
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(f"[remote]\n  token = {SECRET}\n")
    return root


def ctx_for(root: Path, **kw) -> RenderContext:
    return RenderContext(AS_OF, root, root / "templates", **kw)


def resolved(root: Path, org: str = "demo-school"):
    report = Report()
    doc = resolve(load_project(root, Report()), org, "demo", report)
    assert not report.errors, [p.format() for p in report.errors]
    return doc


@pytest.fixture(scope="module")
def pages(project):
    """The four kinds of page, rendered from hostile templates."""
    doc = resolved(project)
    ctx = ctx_for(project)
    info = OrgInfo(doc.org.id, doc.org.name, doc.org.kind, doc.org.lineage)
    row = {"organisation_name": doc.org.name, "policy_title": doc.title, "status": "current", "adopted": None,
           "last_reviewed": None, "next_review": None, "model_revision": None, "latest_revision": "", "behind": 0,
           "readable": {"adopted": "", "reviewed_against": "", "latest_model": "", "behind": ""}}
    return {
        "policy": render_html(doc, ctx).decode(),
        "pack": render_pack(info, [], doc.branding, ctx).decode(),
        "index": render_index([{"name": "Demo", "kind": "school", "href": "", "children": []}], ctx).decode(),
        "review": render_review([row], ctx).decode(),
    }


class Head(HTMLParser):
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.in_head = [], False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.in_head = (self.in_head or tag == "head") and tag not in ("head", "body")
        self.tags.append((tag, dict(attrs), self.in_head))
        self.in_head = self.in_head or tag == "head"


@pytest.mark.parametrize("kind", ["policy", "pack", "index", "review"])
def test_no_page_carries_active_content(pages, kind):
    page = pages[kind]
    low = page.lower()
    assert "<h1>" in page, "the page itself is still there"
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "<object", "<embed", "<base", "<link",
                "<form", "<input", "<svg", "http-equiv=\"refresh\"", "rel=", "style=", "evil.example", "@import",
                "</style><"):
        assert bad not in low, f"{kind}: {bad}"
    assert low.count("<style>") == 1 and low.count("</style>") == 1
    tags = Head(page).tags
    head = [(t, a) for t, a, in_head in tags if in_head]
    assert head[0] == ("meta", {"http-equiv": "Content-Security-Policy", "content": CSP}), head[0]
    assert "script-src" not in CSP and "default-src 'none'" in CSP
    names = [t for t, _ in head]
    assert names[:4] == ["meta", "meta", "meta", "title"] and names[-1] == "style", names
    assert set(names[4:-1]) <= {"meta"}
    assert page.startswith('<!doctype html>\n<html lang="en-GB">\n<head>\n<meta http-equiv="Content-Security-Policy"')


def test_the_shell_keeps_title_meta_class_and_styles(pages):
    page = pages["policy"]
    assert "<title>Demo policy – Demo Primary School</title>" in page
    assert '<meta name="author" content="Demo Primary School">' in page
    assert '<body class="policy numbering-decimal">' in page
    assert "--brand:" in page and ".toc a::after" in page  # brand CSS and the stylesheet survive
    assert '<img alt="remote">' in page  # the element stays, its remote source does not
    assert re.search(r'<a class="skip-link" href="#main">', page)


def test_sanitised_pages_are_deterministic(project, pages):
    assert render_html(resolved(project), ctx_for(project)).decode() == pages["policy"]


def test_clean_css_fetches_nothing_and_cannot_close_style():
    css = clean_css(STYLES + 'a { background: url(data:image/png;base64,AAAA) } b { content: "<\\/style>" }'
                    '@\\69mport url(https://evil.example/c.css); c { background: u\\72l(https://evil.example/d) }'
                    '/* </style><script> */')
    assert "<" not in css and "evil.example" not in css and "import" not in css.lower()
    assert "url(data:image/png;base64,AAAA)" in css  # data: stays
    assert clean_css(".toc a::after { content: leader(\". \") target-counter(attr(href url), page); }") == \
        ".toc a::after { content: leader(\". \") target-counter(attr(href url), page); }"


def test_clean_html_keeps_our_markup_and_links():
    ours = ('<p>See paragraph\u00a0<a class="xref" href="#c-phones">1.3</a>, <a href="social-media.pdf">PDF</a>, '
            '<a href="../org/index.html">up</a>, <a href="mailto:hr@example.org">mail</a>, '
            '<a href="tel:+441632960000">call</a> &amp; &lt;x&gt; &#34;q&#34; &#39;s&#39;</p>\n'
            '<table class="t">\n<caption>C</caption>\n<thead><tr><th scope="col">H</th></tr></thead>\n'
            '<tbody>\n<tr><th scope="row">R</th><td colspan="2">D</td></tr>\n</tbody>\n</table>\n'
            '<nav aria-label="Other formats" role="navigation"><ol class="marked lower-alpha"><li>'
            '<span class="marker">(a)</span>x</li></ol></nav><br>'
            '<img class="logo" src="data:image/svg+xml;base64,PHN2Zz4=" alt="&lt;b&gt; logo">')
    assert clean_html(ours) == ours
    assert clean_html('<a href="data:text/html,<script>x</script>">d</a><img src="data:text/html,x" alt="">') == \
        '<a>d</a><img alt="">'


def test_policy_text_is_opaque_to_templates():
    text = PolicyText("<p>Staff must report it.</p>")
    env = jinja2.sandbox.SandboxedEnvironment(autoescape=True, undefined=jinja2.StrictUndefined)
    assert env.from_string("{{ body }}").render(body=text) == "<p>Staff must report it.</p>"
    assert env.from_string("{{ body|replace('must', 'need not') }}|{{ body|upper }}|{{ body|string }}").render(
        body=text) == "||"
    for expr in ("{{ body._markup }}", "{{ body.__html__() }}"):
        with pytest.raises(jinja2.TemplateError):
            env.from_string(expr).render(body=text)


def override(tmp_path: Path, template) -> Path:
    root = tmp_path / "p"
    shutil.copytree(MINI, root)
    folder = root / "schools" / "templates" / "demo"
    folder.mkdir(parents=True)
    data = template.encode() if isinstance(template, str) else template
    (folder / "policy.html.j2").write_bytes(data)
    school = root / "schools" / "demo-school.yaml"
    school.write_text(school.read_text().replace("  numbering: decimal\n",
                                                 "  numbering: decimal\n  branding:\n    templates: templates/demo\n"))
    return root


POLICY = '{% extends "base/_policy.html.j2" %}\n'


@pytest.mark.parametrize("template, message", [
    (POLICY + "{% block body %}<div>{{ body|replace('must', 'need not') }}</div>{% endblock %}",
     "the template override leaves out section 'intro' (show the policy text with {{ body }}, unchanged)"),
    (POLICY + "{% block body %}{% set b %}{{ body }}{% endset %}{{ b|replace('must', 'need not') }}{% endblock %}",
     "the template override leaves out or changes the policy text: show it with {{ body }}, unchanged"),
    (POLICY + "{% block body %}{{ ('' ~ body)|replace('must', 'need not') }}{% endblock %}",
     "the template override leaves out section 'intro'"),
    (POLICY + "{% block body %}{{ [body]|join|replace('must', 'need not') }}{% endblock %}",
     "the template override leaves out or changes the policy text: show it with {{ body }}, unchanged"),
    (POLICY + "{% block body %}{% endblock %}", "the template override leaves out section 'intro'"),
    (POLICY + "{% block body %}{{ super() }}{{ super() }}{% endblock %}",
     "the template override shows section 'intro' 2 times"),
    (POLICY + "{% block key_message %}{% endblock %}",
     "the template override leaves out or changes the key message: show it with {{ key_message }}, unchanged"),
    (POLICY + "{% block heading %}{{ doc.title|safe }}{% endblock %}", "No filter named 'safe'."),
    (POLICY + "{% block heading %}{{ body|e }}{% endblock %}", "No filter named 'e'."),
    (POLICY + "{% block heading %}{{ doc|pprint }}{% endblock %}", "No filter named 'pprint'."),
    (POLICY.encode() + b"{# caf\xe9 #}\n", "template 'policy.html.j2' is not UTF-8 text (byte 0xe9 on line 2)"),
])
def test_a_template_that_rewrites_or_drops_policy_text_fails(tmp_path, template, message):
    root = override(tmp_path, template)
    with pytest.raises(jinja2.TemplateError) as err:
        render_html(resolved(root), ctx_for(root, siblings={}) if (root / "templates").is_dir()
                    else RenderContext(AS_OF, root, ROOT / "templates"))
    assert message in err.value.message
    assert err.value.filename.endswith("schools/templates/demo/policy.html.j2") or "filter" in message


def test_check_reports_what_build_would_fail_on(tmp_path):
    root = override(tmp_path, POLICY + "{% block body %}{{ body|replace('must', 'need not') }}{% endblock %}")
    result = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert result.exit_code == 1
    assert ("schools/templates/demo/policy.html.j2: error: template error in the demo policy of demo-school: "
            "the template override leaves out section 'intro'") in result.output
    assert "Traceback" not in result.output
    report = Report()  # literal text around an unchanged body is presentation: allowed
    root = override(tmp_path / "2", (ROOT / "schools/templates/porthaven-city-council/policy.html.j2").read_bytes())
    check_templates(load_project(root, Report()), report)
    assert not report.problems, [p.format() for p in report.problems]


def test_template_files_must_be_regular_and_inside_their_folder(tmp_path):
    root = override(tmp_path, POLICY + '{% block heading %}{% include "fifo.j2" %}{% endblock %}')
    doc = resolved(root)  # the loader refuses special files too; this is what a race would meet
    os.mkfifo(root / "schools" / "templates" / "demo" / "fifo.j2")
    with pytest.raises(TemplateProblem, match="template 'fifo.j2' cannot be used: this is not a regular file"):
        render_html(doc, RenderContext(AS_OF, root, ROOT / "templates"))
    doc.branding.template_dirs = [root / "policy_src"]  # an organisation's folder outside schools/
    with pytest.raises(TemplateProblem, match="is not inside schools/"):
        render_html(doc, RenderContext(AS_OF, root, ROOT / "templates"))


# --------------------------------------------------------------------------------------------
# The PDF
# --------------------------------------------------------------------------------------------


def test_pdf_embeds_no_file_and_reads_no_project_file(project):
    doc = resolved(project)
    pdf = render_pdf(doc, ctx_for(project))
    reader = PdfReader(io.BytesIO(pdf))
    assert "/Names" not in reader.trailer["/Root"] or "/EmbeddedFiles" not in reader.trailer["/Root"]["/Names"]
    assert not reader.attachments
    assert SECRET.encode() not in pdf and b"EmbeddedFile" not in pdf
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Demo policy" in text and "alert" not in text


def test_pdf_drops_attachments_even_if_the_page_had_them(project, monkeypatch):
    """Belt and braces: were the sanitiser bypassed, WeasyPrint still embeds nothing."""
    import policypack.render.pdf as pdf_writer
    allowed = project / "templates" / "base" / "style.css"  # a file the fetcher would serve
    raw = (f'<!doctype html><html lang="en-GB"><head><title>t</title><link rel="attachment" href="{allowed.as_uri()}">'
           f'</head><body><p><a rel="attachment" href="{allowed.as_uri()}">file</a></p></body></html>')
    monkeypatch.setattr(pdf_writer, "render_html", lambda doc, ctx: raw.encode())
    pdf = render_pdf(resolved(project), ctx_for(project))
    assert not PdfReader(io.BytesIO(pdf)).attachments and b"EmbeddedFile" not in pdf


def test_fetcher_serves_only_the_documents_own_assets(project, tmp_path):
    project = shutil.copytree(project, tmp_path / "own", symlinks=True)  # this test adds a FIFO and a link
    doc = resolved(project)
    logo = project / "schools" / "assets" / "logo.svg"
    logo.parent.mkdir(exist_ok=True)
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')
    doc.branding.logo = logo
    fetcher = document_fetcher(doc, ctx_for(project))
    assert fetcher.fetch(logo.as_uri()).read() == logo.read_bytes()
    style = project / "templates" / "base" / "style.css"
    assert fetcher.fetch(style.as_uri()).read() == style.read_bytes()
    assert fetcher.fetch((project / "schools/templates/demo/policy.html.j2").as_uri()).read()
    other = project / "schools" / "assets" / "other-org.svg"
    other.write_text("<svg/>")
    folder = project / "schools" / "templates" / "demo"
    (tmp_path / "outside.css").write_text("secret")
    (folder / "link.css").symlink_to(tmp_path / "outside.css")
    os.mkfifo(folder / "pipe.css")
    (project / "outputs").mkdir(exist_ok=True)
    (project / "outputs" / "x.html").write_text("x")
    for path in (project / ".git" / "config", project / "outputs" / "x.html", other,
                 project / "schools" / "demo-school.yaml", folder / "link.css", folder / "pipe.css",
                 Path("/etc/passwd")):
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(path.as_uri())
    with pytest.raises(ValueError):
        ProjectFetcher(project).fetch((project / ".git" / "config").as_uri())  # no folders named: nothing


def test_a_lone_surrogate_or_control_character_from_a_template_is_not_a_crash(tmp_path):
    root = override(tmp_path, POLICY + '{% block heading %}<h1>{{ "A\\ud800B\\x01C" }}</h1>{% endblock %}')
    page = render_html(resolved(root), RenderContext(AS_OF, root, ROOT / "templates")).decode("utf-8")
    assert "<h1>A\ufffdBC</h1>" in page
