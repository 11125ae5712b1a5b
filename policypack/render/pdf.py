"""PDF writer: the HTML page and its print styles, laid out by WeasyPrint.

Tagged PDF/UA-1 with title and language (from <title> and <html lang>), bookmarks from the
headings, and no creation date, so the same input gives the same bytes. WeasyPrint's structure
tree is finished by pdf_tags (artifacts, one described link per <a>, scopes, lists, split tables;
docs/accessibility.md).

What WeasyPrint may read: data: URIs, and files in the folders and files this document's
organisation legitimately uses (the template folders in use, its logo); nothing else in the
project (`.git`, `.venv`, `outputs`, other organisations' files) and nothing outside it, no
network. The page it lays out has been rebuilt by policypack.sanitize (no <link>, no `rel`, CSS
fetching only data:), and the PDF never carries an attachment: WeasyPrint's attachment list and
any attachment link are emptied before the PDF is written.
"""
from __future__ import annotations

import mimetypes
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from ..model import ResolvedPolicy
from . import RenderContext, schools_dir
from ..load import MAX_LOGO, read_regular
from .html import render_html
from .pdf_tags import finish_tags

MAX_FETCH = MAX_LOGO


class ProjectFetcher(URLFetcher):
    """Serves data: URIs, files inside `folders` and the `files` named; refuses every other URL.

    A path is taken after resolving symlinks, so a link inside an allowed folder that points out
    of it is refused; only regular files (no FIFO, device or socket) of at most MAX_FETCH bytes
    are read."""

    def __init__(self, root: Path, folders=(), files=()):
        super().__init__(allowed_protocols=("data",))
        self.root = Path(root).resolve()
        self.folders = tuple(Path(f).resolve() for f in folders)
        self.files = frozenset(Path(f).resolve() for f in files)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"refused to fetch {url[:80]}: only the organisation's own assets may be read")
        path = Path(unquote(parts.path)).resolve()
        if path not in self.files and not any(path.is_relative_to(f) for f in self.folders):
            raise ValueError(f"refused to read {self._shown(path)}: not a template or asset of this organisation")
        data = read_regular(path, path.parent, MAX_FETCH)[0]
        if data is None:
            raise ValueError(f"refused to read {self._shown(path)}: not a regular file of at most {MAX_FETCH} bytes")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), data, headers={"Content-Type": mime})

    def _shown(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)


def document_fetcher(doc: ResolvedPolicy, ctx: RenderContext) -> ProjectFetcher:
    """What this document's PDF may read: the template folders in use and its logo."""
    schools = schools_dir(ctx)
    folders = [Path(ctx.template_dir)] + [Path(d) for d in doc.branding.template_dirs
                                          if Path(d).resolve().is_relative_to(schools)]
    files = [doc.branding.logo] if doc.branding.logo is not None else []
    return ProjectFetcher(ctx.project_root, folders, files)


def render_pdf(doc: ResolvedPolicy, ctx: RenderContext) -> bytes:
    root = Path(ctx.project_root).resolve()
    base = root.as_uri() + "/"
    page = HTML(string=render_html(doc, replace(ctx, link_format="pdf")).decode("utf-8"), base_url=base,
                url_fetcher=document_fetcher(doc, ctx))
    document = page.render(pdf_variant="pdf/ua-1")
    document.metadata.attachments = []  # <link rel="attachment"> (the sanitiser removes it already)
    for p in document.pages:  # <a rel="attachment"> (likewise)
        p.links = [_relative(link, base) for link in _one_per_link(p.links) if link[0] != "attachment"]
    headings = _headings(page.etree_element)
    descriptions = [[_describe(link, document.pages, headings) for link in p.links] for p in document.pages]
    return finish_tags(document.write_pdf(pdf_variant="pdf/ua-1", attachments=[]), descriptions)


def _one_per_link(links: list) -> list:
    """WeasyPrint makes a link annotation for every box inside an <a> (the number, the text, the
    leader, the page number), each in a tag of its own: keep the outermost one of each target, and
    drop those lying inside one kept already."""
    kept: list = []
    for link in links:
        kind, target, (x1, y1, x2, y2), _ = link[:4]
        if not any(k[1] == target and k[2][0] <= x1 and k[2][1] <= y1 and x2 <= k[2][2] and y2 <= k[2][3]
                   for k in kept):
            kept.append(link)
    return kept


def _text(element) -> str:
    return " ".join("".join(element.itertext()).split())


def _headings(root) -> dict:
    """The text of the heading that opens each element with an id (a section, a titled clause)."""
    return {e.get("id"): _text(h) for e in root.iter() if e.get("id")
            for h in e[:1] if h.tag in ("h1", "h2", "h3", "h4", "h5", "h6")}


def _describe(link: tuple, pages, headings: dict) -> str:
    """What a link annotation says to a screen reader: the link's text, and for a link inside the
    document the page it goes to ("5.2 Personal devices, page 7"). A link that is only a number
    ("see 5.2") is described by the heading it goes to, when there is one."""
    kind, target, _, box = link[:4]
    element = getattr(box, "element", None)
    text = _text(element) if element is not None else ""
    if kind == "internal" and not any(c.isalpha() for c in text):
        text = headings.get(target) or text
    if kind == "internal":
        page = next((i for i, p in enumerate(pages, 1) if target in p.anchors), None)
        return f"{text or target}, page {page}" if page else text or target
    return text or target


def _relative(link: tuple, base: str) -> tuple:
    """A link to another policy of the pack ('other.pdf#c-id'), which WeasyPrint made absolute
    against the project folder, made relative again: it opens the file beside this one, wherever
    the pack is published, and the PDF does not carry the builder's folder names."""
    kind, target, *rest = link
    if kind == "external" and isinstance(target, str) and target.startswith(base):
        return (kind, target[len(base):], *rest)
    return link
