"""HTML writer: a `ResolvedPolicy` -> one self-contained HTML page; also the pack and index pages.

Blocks and inlines become HTML here, in Python, with every piece of text escaped. The page around
them comes from Jinja templates: an organisation's template folders (nearest layer first), then the
project's `templates/`. Templates are untrusted, so:

- they run sandboxed, autoescaped and strict, with a short list of filters that only make text
  (`SAFE_FILTERS`: no `safe`, `escape`, `tojson`, `pprint`, `random` ...);
- they can be read only from their folders (no symlink out, no special file, at most 1 MB, UTF-8),
  and an organisation's folders must lie inside `schools/`;
- the policy text reaches them as `PolicyText`: `{{ body }}` shows it, but as a string it is
  empty, so a filter cannot rewrite it. Whatever a template does, `_verify_policy_text` checks
  the page afterwards: every section and clause once, and the text exactly as rendered here;
- what they produce is taken apart and rebuilt around policypack's own shell, with a strict
  Content-Security-Policy, cleaned CSS and a body cleaned by nh3 (see policypack.sanitize).
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import os
import re
import traceback
from pathlib import Path
from typing import Optional

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from ..errors import Loc, Report, describe_exception
from ..load import MAX_LOGO, MAX_TEMPLATE, read_regular
from ..model import (TICK_BOX, Branding, Break, Code, Emph, Form, FormChoices, FormField, FormSignature, FormTable,
                     FormTick, Link, ListBlock, OrgInfo, Para, ResolvedPolicy, RNode, Strong, Table, Text, XRef,
                     list_marker)
from ..sandbox import render_bounded
from ..sanitize import assemble, clean_html, take_apart
from . import RenderContext, format_date, schools_dir

IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
KIND_NAMES = {"local-authority": "Local authority", "trust": "Trust", "federation": "Federation",
              "school": "School", "academy": "Academy", "nursery": "Nursery"}
STATUS_TEXT = {"overdue": "Review overdue", "due-soon": "Review due soon", "current": "Current",
               "unknown": "No review date"}
FONT_RE = re.compile(r"[A-Za-z0-9 -]{1,64}\Z")


# --------------------------------------------------------------------------------------------
# Blocks, inlines and the clause tree -> HTML
# --------------------------------------------------------------------------------------------


class BodyRenderer:
    """One rule per model type, like markdown-it's renderer: `render_blocks` / `render_inlines`."""

    def __init__(self, link_format: str = "html"):
        self.link_format = link_format  # the file a reference to another policy of the pack opens
        self.rules = {
            Text: lambda i: escape(i.text),
            Strong: lambda i: f"<strong>{self.render_inlines(i.children)}</strong>",
            Emph: lambda i: f"<em>{self.render_inlines(i.children)}</em>",
            Code: lambda i: f"<code>{escape(i.text)}</code>",
            Link: lambda i: f'<a href="{escape(i.href)}">{self.render_inlines(i.children)}</a>',
            # U+2060 (word joiner) before the link: WeasyPrint cannot carry the no-break space that
            # glues "paragraph" to its number across the start of an element, and breaks the line
            # words too early ("removable media⏎holding ... paragraph 9.2"); the joiner keeps it
            XRef: lambda i: f'\u2060<a class="xref" href="{self.xref_href(i)}">{escape(i.label)}</a>',
            Break: lambda i: "<br>",
            Para: lambda b: f"<p>{self.render_inlines(b.inlines)}</p>\n",
            ListBlock: self.list_block,
            Table: self.table,
            Form: lambda b: f'<div class="form">\n{self.render_blocks(b.items)}</div>\n',
            FormField: self.form_field,
            FormSignature: lambda i: (f'<p class="form-signature">{self.form_line(i.label)}'
                                      f'{self.form_line(i.date, "date") if i.date else ""}</p>\n'),
            FormTick: lambda i: f'<p class="form-tick">{self.tick(i.label)}</p>\n',
            FormChoices: lambda i: (f'<div class="form-choices">{self.form_label(i.label)}<ul>'
                                    + "".join(f"<li>{self.tick(o)}</li>" for o in i.options) + "</ul></div>\n"),
            FormTable: self.form_table,
        }
        self.where = ""  # the clause being rendered, for table captions
        self.narrow = set()  # clause levels below 2 whose labels are all short ("(a)", "12"): less indent

    def xref_href(self, x: XRef) -> str:
        """'#anchor', or 'other-policy.html#anchor' for a clause of another policy of the pack."""
        if x.policy:
            return escape(f"{x.policy}.{self.link_format}" + (f"#{x.anchor}" if x.anchor else ""))
        return escape(f"#{x.anchor}")

    def render_inlines(self, inlines) -> str:
        return "".join(self.rules[type(i)](i) for i in inlines)

    def render_blocks(self, blocks) -> str:
        return "".join(self.rules[type(b)](b) for b in blocks)

    def list_block(self, b: ListBlock) -> str:
        if b.style == "bullet":
            return "<ul>\n" + "".join(f"<li>{self.render_blocks(item)}</li>\n" for item in b.items) + "</ul>\n"
        items = "".join(f'<li><span class="marker">{list_marker(b.style, n)}</span>{self.render_blocks(item)}</li>\n'
                        for n, item in enumerate(b.items, b.start))
        return f'<ol class="marked {b.style}">\n{items}</ol>\n'

    def table(self, t: Table) -> str:
        return data_table(f"Table in {self.where}", [self.render_inlines(c) for c in t.header],
                          [[self.render_inlines(c) for c in row] for row in t.rows], "text-table")

    # ---- forms: boxes and lines drawn by style.css, at their full height on paper --------------
    def form_label(self, label) -> str:
        return f'<span class="form-label">{self.render_inlines(label)}</span>' if label else ""

    def form_line(self, label, cls: str = "") -> str:
        """A label and a line to write on beside it."""
        return f'{self.form_label(label)}<span class="write-line{" " + cls if cls else ""}"></span>'

    def tick(self, label) -> str:
        return f'<span class="tick-box">{TICK_BOX}</span> {self.render_inlines(label)}'

    def form_field(self, f: FormField) -> str:
        if f.lines == 1:
            return f'<p class="form-field">{self.form_line(f.label)}</p>\n'
        return (f'<div class="form-field">{self.form_label(f.label)}<div class="write-box lines-{f.lines}">'
                + '<span class="write-row"></span>' * f.lines + "</div></div>\n")

    def form_table(self, t: FormTable) -> str:
        header = [""] + [self.render_inlines(c) for c in t.columns] if t.columns else []
        entry = '<span class="write-row"></span>' * t.lines
        return data_table(f"Form in {self.where}", header,
                          [[self.render_inlines(r)] + [entry] * max(1, len(t.columns)) for r in t.rows],
                          "form-table", row_headers=True)

    # ---- the clause tree -------------------------------------------------------------------
    def render_nodes(self, doc: ResolvedPolicy) -> str:
        widths = {}
        for n in doc.walk():
            if n.level > 2:
                widths[n.level] = max(widths.get(n.level, 0), len(n.label))
        self.narrow = {level for level, width in widths.items() if width <= 4}
        return "".join(self.part(n, doc) if n.kind == "part" else self.top(n, doc)
                       for n in doc.top_level() + doc.appendices)

    def part(self, n: RNode, doc: ResolvedPolicy) -> str:
        """A part: <section class="part"> with an <h2>, its sections inside it one heading level down."""
        return (f'<section class="part" id="{escape(n.anchor)}">\n<h2 class="part-title">{escape(n.heading)}</h2>\n'
                + "".join(self.top(s, doc, 3) for s in n.children) + "</section>\n")

    def top(self, n: RNode, doc: ResolvedPolicy, level: int = 2) -> str:
        """A section or appendix: <section>, an <h2> (<h3> in a part), its text, a generated table, its clauses."""
        if n.kind == "appendix":
            heading = escape(n.heading)
        elif n.label:
            heading = f'<span class="num">{escape(n.label)}</span> {escape(n.title or "")}'
        else:
            heading = escape(n.title or "")
        self.where = n.heading
        parts = [f'<section class="{n.kind}" id="{escape(n.anchor)}">\n',
                 f'<h{level} class="{"numbered" if n.label and n.kind != "appendix" else "plain"}">{heading}</h{level}>\n',
                 self.render_blocks(n.blocks)]
        if n.generated == "changes":
            parts.append(changes_table(doc))
        elif n.generated == "review-history":
            parts.append(review_table(doc))
        parts += [self.clause(c, level) for c in n.children]
        parts.append("</section>\n")
        return "".join(parts)

    def clause(self, n: RNode, above: int) -> str:
        """A clause with its number in the margin. `above` is the level of the nearest heading
        above it, so a titled clause gets the next one and no heading level is skipped."""
        num = f'<span class="num">{escape(n.label)}</span>' if n.label else ""
        self.where = f"paragraph {n.ref}" if n.ref else n.title or n.id
        if n.title:
            level = min(above + 1, 6)
            head = f'<h{level} class="clause-title">{num} {escape(n.title)}</h{level}>\n'
        else:
            level, head = above, num
        body = self.render_blocks(n.blocks) + "".join(self.clause(c, level) for c in n.children)
        return (f'<div class="clause level-{n.level}{" titled" if n.title else ""}'
                f'{" narrow" if n.level in self.narrow else ""}" id="{escape(n.anchor)}">'
                f'{head}<div class="text">\n{body}</div></div>\n')


def data_table(caption: str, header: list, rows: list, cls: str, row_headers: bool = False) -> str:
    """A table with a caption and <th scope> cells, in a region that scrolls on its own when the
    screen is narrower than the table (so the page reflows at 320 px). Cells are HTML already; the
    caption is text."""
    out = [f'<div class="table-scroll" role="region" tabindex="0" aria-label="{escape(caption)}">\n'
           f'<table class="{cls}">\n<caption>{escape(caption)}</caption>\n']
    if header:
        out.append("<thead><tr>" + "".join(f'<th scope="col">{h}</th>' for h in header) + "</tr></thead>\n")
    out.append("<tbody>\n")
    for row in rows:
        cells = [f'<th scope="row">{c}</th>' if row_headers and k == 0 else f"<td>{c}</td>" for k, c in enumerate(row)]
        out.append("<tr>" + "".join(cells) + "</tr>\n")
    out.append("</tbody>\n</table>\n</div>\n")
    return "".join(out)


def changes_table(doc: ResolvedPolicy) -> str:
    """The table of changes in its appendix."""
    if doc.history is None or not doc.history.rows:
        return "<p>No changes have been recorded.</p>\n"
    return history_table(doc.history)


def history_table(h) -> str:
    """A HistoryTable (columns, labels and cells computed by resolve) as an HTML table."""
    return data_table(h.caption, [escape(label) for _, label in h.columns],
                      [[escape(c) for c in row] for row in h.rows], f"changes history-{h.place}", row_headers=True)


def review_table(doc: ResolvedPolicy) -> str:
    if not doc.review_history:
        return "<p>No earlier reviews have been recorded.</p>\n"
    rows = [[f"Review {n}", escape(format_date(d))] for n, d in enumerate(doc.review_history, 1)]
    return data_table("Dates on which this " + doc.kind + " was reviewed", ["Review", "Date"], rows, "reviews",
                      row_headers=True)


# --------------------------------------------------------------------------------------------
# Front matter and page data (plain values: templates test them with `if`, never hit Undefined)
# --------------------------------------------------------------------------------------------


def front_matter(doc: ResolvedPolicy, ctx: RenderContext) -> dict:
    """The resolved front matter (`doc.front`, computed once) as template values: labels and order
    are resolve's; values are HTML made here from their inlines."""
    f = doc.front
    inl = BodyRenderer(ctx.link_format).render_inlines
    notice = f.notice(ctx.as_of, format_date)
    return {
        "parents": parents(doc.org),
        "banner": [(r.label, Markup(inl(r.value))) for r in f.banner],
        "summary": f.summary,
        "statement": PolicyText(BodyRenderer(ctx.link_format).render_blocks(f.statement)) if f.statement else "",
        "adoption": [(r.label, Markup(inl(r.value))) for r in f.adoption],
        "details": [(r.label, Markup(inl(r.value))) for r in f.details],
        "approvals": list(f.approvals),
        "status": f.status(ctx.as_of),
        "notice": {"status": notice[0], "heading": notice[1], "text": notice[2]} if notice else {},
        "next_review": format_date(f.next_review),
        "running_header": f.running_header,
        "running_footer": f.running_footer,
        "history": Markup(history_table(f.history)) if f.history else "",
    }


def parents(org) -> list:
    """[(kind, name)] of the organisations above `org` (an OrgInfo), root first."""
    return [(KIND_NAMES.get(kind, kind), name) for _, name, kind in org.lineage[:-1]]


def toc_entries(doc: ResolvedPolicy) -> list:
    """Contents entries; a part's entry holds its sections' entries under `sections`."""
    def entry(n):
        if n.kind == "part":
            return {"anchor": n.anchor, "num": "", "text": n.heading, "sections": [entry(c) for c in n.children]}
        return {"anchor": n.anchor, "num": n.label, "text": n.title or "", "sections": []}
    return ([entry(n) for n in doc.top_level()]
            + [{"anchor": n.anchor, "num": "", "text": n.heading, "sections": []} for n in doc.appendices])


def brand_css(branding) -> Markup:
    """The organisation's colours and font as CSS variables (values checked: they land in <style>)."""
    colour = lambda v, d: v if re.fullmatch(r"#[0-9a-fA-F]{6}", v or "") else d  # noqa: E731
    font = f'"{branding.font}", ' if FONT_RE.match(branding.font or "") else ""
    return Markup(f":root {{ --brand: {colour(branding.colour, '#1f3a5f')}; "
                  f"--accent: {colour(branding.accent, '#c8102e')}; "
                  f'--font: {font}"DejaVu Sans", sans-serif; }}')


def logo_uri(branding, ctx: RenderContext) -> str:
    """The logo as a data: URI, so the HTML file stands alone: a regular file (no FIFO or device)
    of at most MAX_LOGO bytes, inside the project's `schools/` folder."""
    if branding.logo is None:
        return ""
    path = Path(branding.logo).resolve()
    mime = IMAGE_TYPES.get(path.suffix.lower())
    data = read_regular(path, schools_dir(ctx), MAX_LOGO)[0] if mime else None
    return "" if data is None else f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------


class TemplateProblem(jinja2.TemplateError):
    """A problem with a template file or with what it produced, with the file and line to show
    (build and check read `filename` and `lineno`, as they do for a TemplateSyntaxError)."""

    def __init__(self, message: str, filename=None, lineno: int = 0):
        super().__init__(message)
        self.filename, self.lineno = (str(filename) if filename else None), lineno


class PolicyText:
    """Policy text (the numbered body, the key message) handed to a template, opaque: `{{ body }}`
    prints it (`__html__`), but it has no string methods and as a string it is empty, so
    `body|replace(...)`, `body|upper` and the like have nothing to change. The sandbox refuses the
    underscore attributes. Routes that reach the markup anyway (`body ~ ''`, `{% set %}` blocks,
    `|join`) are caught after rendering by `_verify_policy_text`."""

    __slots__ = ("_markup",)

    def __init__(self, markup: str):
        self._markup = markup

    def __html__(self) -> str:
        return self._markup

    def __str__(self) -> str:
        return ""

    def __repr__(self) -> str:
        return "PolicyText()"

    def __bool__(self) -> bool:
        return bool(self._markup)


# Filters that make text from text (or numbers, lists) and cannot turn text into markup: no
# `safe`, `escape`/`e`/`forceescape` (they hand back the markup of a PolicyText), `tojson`,
# `xmlattr`, `urlize`, `indent`; no `pprint`/`random` (reprs with addresses, randomness: not
# reproducible); no `attr`, `format`.
SAFE_FILTERS = frozenset({
    "abs", "batch", "capitalize", "center", "count", "d", "date", "default", "dictsort", "filesizeformat", "first",
    "float", "groupby", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject",
    "rejectattr", "replace", "reverse", "round", "select", "selectattr", "slice", "sort", "string", "striptags",
    "sum", "title", "trim", "truncate", "unique", "upper", "urlencode", "wordcount", "wordwrap",
})


def restrict_filters(env: jinja2.Environment) -> jinja2.Environment:
    """Keep only SAFE_FILTERS in `env` (idempotent; before any template is compiled with it)."""
    for name in [n for n in env.filters if n not in SAFE_FILTERS]:
        del env.filters[name]
    return env


class ProjectLoader(jinja2.FileSystemLoader):
    """Loads templates from its folders only: not through symlinks out of them, only regular
    files (a FIFO would hang, /dev/zero never end) of at most MAX_TEMPLATE bytes, and only UTF-8
    text; each refusal is a TemplateProblem naming the file and, for bad bytes, the line."""

    def get_source(self, environment, template):
        pieces = split_template_path(template)  # refuses '..'
        for folder in self.searchpath:
            base = Path(folder).resolve()
            path = base.joinpath(*pieces)
            if not os.path.lexists(path):
                continue
            data, problem = read_regular(path, base, MAX_TEMPLATE)  # links out, loops, FIFOs ...
            if data is None:  # reported where the template is named (the traceback's template line)
                raise TemplateProblem(f"template '{template}' cannot be used: {problem[0]}")
            try:
                source = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = data[:exc.start].count(b"\n") + 1
                raise TemplateProblem(f"template '{template}' is not UTF-8 text (byte 0x{data[exc.start]:02x} "
                                      f"on line {line}); save it as UTF-8", path, line) from None
            return source, str(path), lambda: False
        raise jinja2.TemplateNotFound(template)


@functools.lru_cache(maxsize=32)
def environment(search_path: tuple) -> SandboxedEnvironment:
    """The page templates' environment: sandboxed and bounded (policypack.sandbox: no huge numbers
    or repetition, macros and includes nest at most so deep, at most 20 MB of page), autoescaped,
    strict, no globals; cached per template search path."""
    from ..sandbox import PAGE_OUTPUT, PAGE_STEPS, BoundedEnvironment, bounded_filter
    env = BoundedEnvironment(loader=ProjectLoader([str(p) for p in search_path]),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, auto_reload=False,
                             output_limit=PAGE_OUTPUT, step_limit=PAGE_STEPS)
    env.globals.clear()
    env.filters["date"] = bounded_filter("date", format_date)
    return env


def template_search(branding, ctx: RenderContext) -> tuple:
    """The template folders, nearest layer first, then the project's. An organisation's folders
    must lie inside `schools/` (they are written relative to it): never the project itself,
    `.git`, `.venv` or `outputs`."""
    schools = schools_dir(ctx)
    for d in branding.template_dirs:
        if not Path(d).resolve().is_relative_to(schools):
            raise TemplateProblem(f"the template folder {d} is not inside schools/", d)
    return tuple(Path(d) for d in branding.template_dirs) + (Path(ctx.template_dir),)


def render_page(template: str, branding, ctx: RenderContext, verify=None, **values) -> bytes:
    """Render one of the page templates (policy, pack, index, review) with the organisation's
    overrides, then rebuild it in policypack's shell (policypack.sanitize). `verify(body, filename)`,
    if given, checks the cleaned body and raises TemplateProblem."""
    env = restrict_filters(environment(template_search(branding, ctx)))
    tpl = env.get_template(template)
    html = render_bounded(tpl, brand_css=brand_css(branding), logo=logo_uri(branding, ctx),
                          logo_alt=f"{branding.logo_owner} logo" if branding.logo_owner else "", status_text=STATUS_TEXT,
                   as_of=format_date(ctx.as_of), **values)
    parts = take_apart(html)
    if verify is not None:
        verify(parts.body, tpl.filename)
    return assemble(parts).encode("utf-8")


def doc_values(doc: ResolvedPolicy) -> dict:
    """What templates read about the document: plain strings, never objects (a Path's read_text()
    would let a template read files)."""
    return {"id": doc.policy_id, "title": doc.title, "reference": doc.reference, "kind": doc.kind,
            "version": doc.version, "owner": doc.owner, "summary": doc.summary or "", "numbering": doc.numbering,
            "org": {"id": doc.org.id, "name": doc.org.name, "kind": doc.org.kind},
            "last_reviewed": doc.last_reviewed.isoformat() if doc.last_reviewed else "",
            "next_review": doc.next_review.isoformat() if doc.next_review else ""}


def render_html(doc: ResolvedPolicy, ctx: RenderContext) -> bytes:
    body = BodyRenderer(ctx.link_format).render_nodes(doc)
    key_message = BodyRenderer(ctx.link_format).render_blocks(doc.key_message)

    def verify(page_body: str, filename: str) -> None:
        _verify_policy_text(doc, page_body, body, key_message, filename)

    return render_page("policy.html.j2", doc.branding, ctx, verify=verify, doc=doc_values(doc),
                       front=front_matter(doc, ctx), toc=toc_entries(doc), key_message=PolicyText(key_message),
                       body=PolicyText(body), siblings=dict(ctx.siblings))


def _verify_policy_text(doc: ResolvedPolicy, page_body: str, body: str, key_message: str, filename: str) -> None:
    """The policy text is the organisation's resolved policy, not the template's: every section
    and clause is on the page once, and the text is exactly as policypack rendered it (so HTML
    and PDF say what the DOCX, `explain` and the provenance say). Literal text a template adds
    around it is presentation and allowed."""
    for n in doc.walk():
        found = page_body.count(f' id="{escape(n.anchor)}"')
        if found == 0:
            raise TemplateProblem(f"the template override leaves out {n.kind} '{n.id}' (show the policy text "
                                  "with {{ body }}, unchanged)", filename)
        if found > 1:
            raise TemplateProblem(f"the template override shows {n.kind} '{n.id}' {found} times", filename)
    for text, name in ((body, "body"), (key_message, "key_message")):
        if text.strip() and page_body.count(clean_html(text).strip()) != 1:
            what = "policy text" if name == "body" else "key message"
            raise TemplateProblem(f"the template override leaves out or changes the {what}: show it with "
                                  f"{{{{ {name} }}}}, unchanged", filename)


def render_pack(org, rows: list, branding, ctx: RenderContext) -> bytes:
    """An organisation's pack page. `org` is an OrgInfo; each row a dict: title, reference, status,
    last_reviewed, next_review, failed, links [(label, href)]."""
    return render_page("pack.html.j2", branding, ctx, org={"name": org.name, "parents": parents(org)}, rows=rows)


def render_review(rows: list, ctx: RenderContext) -> bytes:
    """The review schedule; `rows` as `review.review_rows` gives them."""
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUS_TEXT}
    summary = ", ".join(f"{n} {STATUS_TEXT[s].lower()}" for s, n in counts.items() if n)
    cells = [{"organisation": r["organisation_name"], "policy": r["policy_title"], "status": r["status"],
              "last_reviewed": format_date(r["last_reviewed"]), "next_review": format_date(r["next_review"]),
              **r["readable"]} for r in rows]
    return render_page("review.html.j2", Branding(), ctx, rows=cells, summary=summary)


def render_index(tree: list, ctx: RenderContext, review_href: str = "") -> bytes:
    """The index of all organisations; `tree` holds dicts: name, kind, href, children."""
    return render_page("index.html.j2", Branding(), ctx, tree=tree, review_href=review_href)


# --------------------------------------------------------------------------------------------
# `check`: every template override renders, before `build` finds out
# --------------------------------------------------------------------------------------------

TEMPLATE_HINT = "Fix the organisation's template override, or remove it to use the default."


def template_loc(exc: BaseException, root: Path, default: Optional[str] = "templates") -> Optional[Loc]:
    """Where in which template an error is: syntax errors and TemplateProblem say so, runtime
    errors are in the traceback (the innermost frame of a compiled template). None, with no
    `default`, when the error did not come from a template."""
    filename, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    if not filename:
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename.endswith(".j2"):  # Jinja names compiled code after its template
                filename, line = frame.f_code.co_filename, lineno
    if not filename and default is None:
        return None
    path = Path(filename or default)
    root = Path(root).resolve()
    return Loc(str(path.relative_to(root)) if path.is_absolute() and path.is_relative_to(root) else str(path),
               line or 0)


def check_templates(project, report: Report, todo=None, as_of=None) -> None:
    """Render, as `build` would, the pages of every organisation that has a template override
    (each policy it publishes, with its real resolved document, and its pack page), those of one
    organisation without (the project's own templates), and the index and review schedule with a
    small stand-in; report what fails as `file:line: error:`.
    Documents whose sources have errors are skipped: `check` reports those already."""
    from ..build import FORMATS, template_dir  # at call time: build imports this module
    from ..resolve import resolve
    root = Path(project.root).resolve()
    ctx = RenderContext(as_of or dt.date.today(), root, template_dir(root))
    todo = list(todo) if todo is not None else [(o, p) for o in sorted(project.organisations)
                                                for p in project.published(o)]

    def attempt(render, what: str) -> bool:
        try:
            render()
            return True
        except Exception as exc:  # noqa: BLE001 - any failure of an untrusted template is reported
            report.error(template_loc(exc, root), f"template error in {what}: {describe_exception(exc)}", TEMPLATE_HINT)
            return False

    plain = False  # the project's own templates, rendered for the first organisation without overrides
    for oid in dict.fromkeys(o for o, _ in todo):
        chain = project.chain(oid)
        if not any("templates" in o.branding for o in chain):
            if plain:
                continue
            plain = True
        rows, branding = [], None
        for pid in (p for o, p in todo if o == oid):
            quiet = Report()
            doc = resolve(project, oid, pid, quiet)
            if quiet.errors:
                continue
            branding = doc.branding
            siblings = {f: f"{pid}.{f}" for f in FORMATS if f != "html"}
            attempt(lambda: render_html(doc, RenderContext(ctx.as_of, root, ctx.template_dir, siblings)),
                    f"the {pid} policy of {oid}")
            rows.append({"title": doc.title, "reference": doc.reference, "failed": False,
                         "status": doc.review_status(ctx.as_of), "last_reviewed": format_date(doc.last_reviewed),
                         "next_review": format_date(doc.next_review), "links": [("Web page", f"{pid}.html")]})
        if branding is not None:
            org = project.organisations[oid]
            info = OrgInfo(org.id, org.name, org.kind, [(o.id, o.name, o.kind) for o in chain])
            attempt(lambda: render_pack(info, rows, branding, ctx), f"the pack page of {oid}")
    stand_in = [{"organisation_name": "Organisation", "policy_title": "Policy", "status": "current",
                 "adopted": None, "last_reviewed": None, "next_review": None, "model_revision": None,
                 "latest_revision": "", "behind": 0,
                 "readable": {"adopted": "", "reviewed_against": "", "latest_model": "", "behind": "None: up to date"}}]
    attempt(lambda: render_review(stand_in, ctx), "the review schedule")
    attempt(lambda: render_index([{"name": "Organisation", "kind": "school", "href": "", "children": []}], ctx,
                                 "review.html"), "the index")
