"""PDF writer: the HTML page and its print styles, laid out by WeasyPrint.

Tagged PDF/UA-1 with title and language (from <title> and <html lang>), bookmarks from the
headings, and no creation date, so the same input gives the same bytes. WeasyPrint may read only
files inside the project (and data: URIs); everything else, the network included, is refused.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from ..model import ResolvedPolicy
from . import RenderContext
from .html import render_html


class ProjectFetcher(URLFetcher):
    """Serves data: URIs and files inside `root`; refuses every other URL."""

    def __init__(self, root: Path):
        super().__init__(allowed_protocols=("data",))
        self.root = Path(root).resolve()

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"refused to fetch {url[:80]}: only files inside the project may be read")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ValueError(f"refused to read {path}: not a file inside the project")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), headers={"Content-Type": mime})


def render_pdf(doc: ResolvedPolicy, ctx: RenderContext) -> bytes:
    root = Path(ctx.project_root).resolve()
    page = HTML(string=render_html(doc, ctx).decode("utf-8"), base_url=root.as_uri() + "/",
                url_fetcher=ProjectFetcher(root))
    return page.write_pdf(pdf_variant="pdf/ua-1")
