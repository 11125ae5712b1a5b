"""Stage 4, render: one writer per format, all reading the same `ResolvedPolicy`.

Each writer is a function `(doc: ResolvedPolicy, ctx: RenderContext) -> bytes`. Writers never
read YAML or layers; they read the resolved model only (policypack.model's resolved side).
"""
from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RenderContext:
    as_of: dt.date  # "today" for review status; passed in so output is reproducible
    project_root: Path  # the only folder writers may read assets from
    template_dir: Path  # the project's templates/ folder
    # links from a document to its siblings (other formats), relative to the document
    siblings: dict = field(default_factory=dict)  # format -> relative href
    # the format a cross-reference to another policy of the pack links to (its file beside this one):
    # the PDF writer prints the HTML with "pdf", so its links open the other PDF
    link_format: str = "html"


def schools_dir(ctx: RenderContext) -> Path:
    """The folder an organisation's assets and template overrides must lie in."""
    return (Path(ctx.project_root) / "schools").resolve()


def format_date(value) -> str:
    """'2025-09-01' or a date -> '1 September 2025' (how English policies write dates)."""
    if value is None or value == "":
        return ""
    d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return f"{d.day} {d.strftime('%B')} {d.year}"


# The writers, by format: imported only when their format is built, so an HTML build never loads
# WeasyPrint or python-docx. A new format is a new entry here.
WRITERS = {
    "html": "policypack.render.html:render_html",
    "pdf": "policypack.render.pdf:render_pdf",
    "docx": "policypack.render.docx:render_docx",
}


def prepare(spec) -> None:
    """Let the module of a WRITERS entry get ready for a document (its `prepare()`, if it has one:
    the DOCX writer starts LibreOffice), before any format is rendered."""
    if not callable(spec):
        ready = getattr(importlib.import_module(spec.split(":")[0]), "prepare", None)
        if ready is not None:
            ready()


def writer(spec):
    """The function `(doc, ctx) -> bytes` a WRITERS entry names (or `spec` itself if a function)."""
    if callable(spec):
        return spec
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)
