"""HTML writer: a `ResolvedPolicy` -> one self-contained HTML page; also the pack and index pages.

Blocks and inlines become HTML here, in Python, with every piece of text escaped. The page around
them comes from Jinja templates: an organisation's template folders (nearest layer first), then the
project's `templates/`. Templates are untrusted, so they run sandboxed, autoescaped and strict.
"""
from __future__ import annotations

import base64
import functools
import re
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from ..model import (Branding, Break, Code, Emph, Link, ListBlock, Para, ResolvedPolicy, RNode, Strong, Table,
                     Text, XRef, list_marker)
from . import RenderContext, format_date

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

    def __init__(self):
        self.rules = {
            Text: lambda i: escape(i.text),
            Strong: lambda i: f"<strong>{self.render_inlines(i.children)}</strong>",
            Emph: lambda i: f"<em>{self.render_inlines(i.children)}</em>",
            Code: lambda i: f"<code>{escape(i.text)}</code>",
            Link: lambda i: f'<a href="{escape(i.href)}">{self.render_inlines(i.children)}</a>',
            XRef: lambda i: f'<a class="xref" href="#{escape(i.anchor)}">{escape(i.label)}</a>',
            Break: lambda i: "<br>",
            Para: lambda b: f"<p>{self.render_inlines(b.inlines)}</p>\n",
            ListBlock: self.list_block,
            Table: self.table,
        }
        self.where = ""  # the clause being rendered, for table captions

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

    # ---- the clause tree -------------------------------------------------------------------
    def render_nodes(self, doc: ResolvedPolicy) -> str:
        return "".join(self.top(n, doc) for n in doc.sections + doc.appendices)

    def top(self, n: RNode, doc: ResolvedPolicy) -> str:
        """A section or appendix: <section>, an <h2>, its text, a generated table, its clauses."""
        if n.kind == "appendix":
            heading = escape(n.heading)
        elif n.label:
            heading = f'<span class="num">{escape(n.label)}</span> {escape(n.title or "")}'
        else:
            heading = escape(n.title or "")
        self.where = n.heading
        parts = [f'<section class="{n.kind}" id="{escape(n.anchor)}">\n',
                 f'<h2 class="{"numbered" if n.label and n.kind != "appendix" else "plain"}">{heading}</h2>\n',
                 self.render_blocks(n.blocks)]
        if n.generated == "changes":
            parts.append(changes_table(doc))
        elif n.generated == "review-history":
            parts.append(review_table(doc))
        parts += [self.clause(c, 2) for c in n.children]
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
        return (f'<div class="clause level-{n.level}{" titled" if n.title else ""}" id="{escape(n.anchor)}">'
                f'{head}<div class="text">\n{body}</div></div>\n')


def data_table(caption: str, header: list, rows: list, cls: str, row_headers: bool = False) -> str:
    """A table with a caption and <th scope> cells. Cells are HTML already; the caption is text."""
    out = [f'<table class="{cls}">\n<caption>{escape(caption)}</caption>\n']
    if header:
        out.append("<thead><tr>" + "".join(f'<th scope="col">{h}</th>' for h in header) + "</tr></thead>\n")
    out.append("<tbody>\n")
    for row in rows:
        cells = [f'<th scope="row">{c}</th>' if row_headers and k == 0 else f"<td>{c}</td>" for k, c in enumerate(row)]
        out.append("<tr>" + "".join(cells) + "</tr>\n")
    out.append("</tbody>\n</table>\n")
    return "".join(out)


def changes_table(doc: ResolvedPolicy) -> str:
    if not doc.changes:
        return "<p>No changes have been recorded.</p>\n"
    header = ["Date", "Paragraphs affected", "Summary"]
    by_layer = any(c.layer != "model" for c in doc.changes)
    if by_layer:
        header.append("Changed by")
    rows = []
    for c in doc.changes:
        row = [escape(format_date(c.date)), escape(c.affected), escape(c.summary)]
        rows.append(row + [escape(c.layer_name)] if by_layer else row)
    return data_table("Changes to this " + doc.kind + ", newest first", header, rows, "changes", row_headers=True)


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
    a = doc.adoption
    chairs = a.get("chairs") or []
    chair_title = a.get("chair_title") or ("Co-chairs" if len(chairs) > 1 else "Chair")
    adoption = [("Formally adopted by", a.get("body")), ("Date adopted", format_date(a.get("date"))),
                (chair_title, " & ".join(chairs))]

    def who(name_key, date_key):
        return ", ".join(v for v in (a.get(name_key), format_date(a.get(date_key))) if v)

    details = [
        ("Reference", doc.reference),
        ("Type", doc.kind.capitalize()),
        ("Version", doc.version),
        ("Maintained by", doc.owner),
        ("Written by", who("written_by", "written_date")),
        ("Agreed by", who("agreed_by", "agreed_date")),
        ("Author", a.get("author") or ""),
        ("Address", a.get("address") or ""),
        ("Created", format_date(a.get("created"))),
        ("Last reviewed", format_date(doc.last_reviewed)),
        ("Next review due", format_date(doc.next_review)),
    ]
    return {
        "parents": parents(doc.org),
        "statement": a.get("statement") or "",
        "adoption": [(k, v) for k, v in adoption if v],
        "details": [(k, v) for k, v in details if v],
        "approvals": [(p.label, p.name, format_date(p.date)) for p in doc.approvals],
        "status": doc.review_status(ctx.as_of),
        "next_review": format_date(doc.next_review),
    }


def parents(org) -> list:
    """[(kind, name)] of the organisations above `org` (an OrgInfo), root first."""
    return [(KIND_NAMES.get(kind, kind), name) for _, name, kind in org.lineage[:-1]]


def toc_entries(doc: ResolvedPolicy) -> list:
    return ([{"anchor": n.anchor, "num": n.label, "text": n.title or ""} for n in doc.sections]
            + [{"anchor": n.anchor, "num": "", "text": n.heading} for n in doc.appendices])


def brand_css(branding) -> Markup:
    """The organisation's colours and font as CSS variables (values checked: they land in <style>)."""
    colour = lambda v, d: v if re.fullmatch(r"#[0-9a-fA-F]{6}", v or "") else d  # noqa: E731
    font = f'"{branding.font}", ' if FONT_RE.match(branding.font or "") else ""
    return Markup(f":root {{ --brand: {colour(branding.colour, '#1f3a5f')}; "
                  f"--accent: {colour(branding.accent, '#c8102e')}; "
                  f'--font: {font}"DejaVu Sans", sans-serif; }}')


def logo_uri(branding, ctx: RenderContext) -> str:
    """The logo as a data: URI, so the HTML file stands alone; only files inside the project."""
    if branding.logo is None:
        return ""
    path = Path(branding.logo).resolve()
    mime = IMAGE_TYPES.get(path.suffix.lower())
    if mime is None or not path.is_file() or not path.is_relative_to(Path(ctx.project_root).resolve()):
        return ""
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------


class ProjectLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that also refuses files reached through symlinks out of its folders."""

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        if not any(Path(filename).resolve().is_relative_to(Path(d).resolve()) for d in self.searchpath):
            raise jinja2.TemplateNotFound(template)
        return source, filename, uptodate


@functools.lru_cache(maxsize=32)
def environment(search_path: tuple) -> SandboxedEnvironment:
    env = SandboxedEnvironment(loader=ProjectLoader([str(p) for p in search_path]),
                               autoescape=True, undefined=jinja2.StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.globals.clear()
    env.filters["date"] = format_date
    return env


def render_page(template: str, branding, ctx: RenderContext, **values) -> bytes:
    """Render one of the page templates (policy, pack, index) with the organisation's overrides."""
    search = tuple(Path(d) for d in branding.template_dirs) + (Path(ctx.template_dir),)
    html = environment(search).get_template(template).render(
        brand_css=brand_css(branding), logo=logo_uri(branding, ctx), status_text=STATUS_TEXT,
        as_of=format_date(ctx.as_of), **values)
    return html.encode("utf-8")


def doc_values(doc: ResolvedPolicy) -> dict:
    """What templates read about the document: plain strings, never objects (a Path's read_text()
    would let a template read files)."""
    return {"id": doc.policy_id, "title": doc.title, "reference": doc.reference, "kind": doc.kind,
            "version": doc.version, "owner": doc.owner, "summary": doc.summary or "", "numbering": doc.numbering,
            "org": {"id": doc.org.id, "name": doc.org.name, "kind": doc.org.kind},
            "last_reviewed": doc.last_reviewed.isoformat() if doc.last_reviewed else "",
            "next_review": doc.next_review.isoformat() if doc.next_review else ""}


def render_html(doc: ResolvedPolicy, ctx: RenderContext) -> bytes:
    return render_page("policy.html.j2", doc.branding, ctx, doc=doc_values(doc), front=front_matter(doc, ctx),
                       toc=toc_entries(doc), key_message=Markup(BodyRenderer().render_blocks(doc.key_message)),
                       body=Markup(BodyRenderer().render_nodes(doc)), siblings=dict(ctx.siblings))


def render_pack(org, rows: list, branding, ctx: RenderContext) -> bytes:
    """An organisation's pack page. `org` is an OrgInfo; each row a dict: title, reference, status,
    last_reviewed, next_review, failed, links [(label, href)]."""
    return render_page("pack.html.j2", branding, ctx, org={"name": org.name, "parents": parents(org)}, rows=rows)


def render_review(rows: list, ctx: RenderContext) -> bytes:
    """The review schedule; `rows` as `review.review_rows` gives them."""
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUS_TEXT}
    summary = ", ".join(f"{n} {STATUS_TEXT[s].lower()}" for s, n in counts.items() if n)
    cells = [{"organisation": r["organisation_name"], "policy": r["policy_title"], "status": r["status"],
              "adopted": format_date(r["adopted"]), "last_reviewed": format_date(r["last_reviewed"]),
              "next_review": format_date(r["next_review"]), "model_revision": r["model_revision"] or "",
              "latest_revision": r["latest_revision"], "behind": str(r["behind"])} for r in rows]
    return render_page("review.html.j2", Branding(), ctx, rows=cells, summary=summary)


def render_index(tree: list, ctx: RenderContext, review_href: str = "") -> bytes:
    """The index of all organisations; `tree` holds dicts: name, kind, href, children."""
    return render_page("index.html.j2", Branding(), ctx, tree=tree, review_href=review_href)
