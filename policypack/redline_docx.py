"""The DOCX redline: the new version of a policy with native Word tracked changes.

Deleted words are `w:del` runs (their text in `w:delText`), inserted words `w:ins` runs; a whole
added clause is inserted paragraphs (paragraph mark inserted, `w:pPr/w:rPr/w:ins`), a removed one
deleted paragraphs (paragraph mark deleted). A moved clause is deleted where it was and inserted
where it is. So Word's Accept All gives exactly the new version's paragraphs, Reject All exactly
the old. Numbers are literal text, so renumbering shows as tracked changes too.

Output is deterministic: revision dates come from the new version (not the clock), and the zip
entries carry a fixed timestamp. The page set-up and paragraph styles are the policy DOCX writer's
(`render/docx.py`) when it is usable, so a redline looks like the policy it marks up.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm

from .diff import DELETE, EQUAL, INSERT, word_ops
from .model import ResolvedPolicy, RNode

MAX_CLAUSE_STYLE = 4  # the policy writer styles clause levels 2..4 ("Clause 2" .. "Clause 4")

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
AUTHOR = "policypack"


def front_paragraphs(doc: ResolvedPolicy) -> list:
    return [doc.title, doc.org.name] + ([f"Version {doc.version}"] if doc.version else [])


def node_paragraphs(node: RNode) -> list:
    """The paragraphs a node prints as: number, tab and title (appendices: "Appendix 1 – Title"), or
    number, tab and the first line of text; then its text, line by line."""
    lines = node.text.split("\n") if node.text else []
    if node.kind == "appendix" and node.level == 1:
        return [node.heading] + lines
    if node.title or not lines:
        return ["\t".join(x for x in (node.label, node.title) if x)] + lines
    return ["\t".join(x for x in (node.label, lines[0]) if x)] + lines[1:]


def version_paragraphs(doc: ResolvedPolicy) -> list:
    """Every paragraph of one version, as the redline's Accept All (new) or Reject All (old) gives them."""
    return front_paragraphs(doc) + [p for n in doc.walk() for p in node_paragraphs(n)]


def revision_date(doc: ResolvedPolicy) -> str:
    """A fixed date from the new version for w:date: last reviewed, else adopted, else next review."""
    for value in (doc.last_reviewed, doc.adoption.get("date"), doc.next_review):
        if value:
            return f"{value}T00:00:00Z"
    return "2000-01-01T00:00:00Z"


class _Writer:
    """Streams (op, text) pieces into paragraphs; '\n' ends a paragraph, its mark tracked by op."""

    def __init__(self, document, author: str, date: str):
        self.document = document
        self.author, self.date = author, date
        self.next_id = 1
        self.p = None
        self.styles = ("Normal", "Normal")
        self.indent = 0.0

    def node(self, first_style: str, rest_style: str, indent: float, ops: list) -> None:
        self.styles, self.indent = (first_style, rest_style), indent
        for op, text in ops:
            pieces = text.split("\n")
            for k, piece in enumerate(pieces):
                if piece:
                    self._run(op, piece)
                if k < len(pieces) - 1:
                    self._end(op)

    def _para(self):
        if self.p is None:
            self.p = self.document.add_paragraph(style=self.styles[0])
            if self.indent:
                self.p.paragraph_format.left_indent = Cm(self.indent)
            self.styles = (self.styles[1], self.styles[1])
        return self.p

    def _tracked(self, tag: str):
        el = OxmlElement(tag)
        el.set(qn("w:id"), str(self.next_id))
        el.set(qn("w:author"), self.author)
        el.set(qn("w:date"), self.date)
        self.next_id += 1
        return el

    def _run(self, op: str, text: str) -> None:
        p = self._para()
        r = OxmlElement("w:r")
        for k, piece in enumerate(text.split("\t")):
            if k:
                r.append(OxmlElement("w:tab"))
            if piece:
                t = OxmlElement("w:delText" if op == DELETE else "w:t")
                t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                t.text = piece
                r.append(t)
        if op == EQUAL:
            p._p.append(r)
        else:
            wrap = self._tracked("w:del" if op == DELETE else "w:ins")
            wrap.append(r)
            p._p.append(wrap)

    def _end(self, op: str) -> None:
        p = self._para()
        if op != EQUAL:
            rpr = OxmlElement("w:rPr")
            rpr.append(self._tracked("w:del" if op == DELETE else "w:ins"))
            p._p.get_or_add_pPr().append(rpr)
        self.p = None


def _ops(old_paras, new_paras) -> list:
    if old_paras is not None and new_paras is not None:
        return word_ops("\n".join(old_paras), "\n".join(new_paras)) + [(EQUAL, "\n")]
    if new_paras is not None:
        return [(INSERT, "\n".join(new_paras) + "\n")]
    return [(DELETE, "\n".join(old_paras) + "\n")]


def _document(doc: ResolvedPolicy):
    """(document, styled): the policy DOCX writer's page set-up and styles, for the same look, when
    that writer is there and usable; otherwise python-docx's plain default document."""
    try:
        from .render import RenderContext
        from .render.docx import _Builder
        builder = _Builder(doc, RenderContext(as_of=dt.date(2000, 1, 1), project_root=Path("."),
                                              template_dir=Path(".")), None)
        builder._page_setup()
        builder._styles()
        return builder.d, True
    except Exception:  # noqa: BLE001 - an optional look: any failure falls back to plain styles
        return docx.Document(), False


def _styles(node: RNode, styled: bool) -> tuple:
    """(style of the first paragraph, style of the others, left indent in cm) for a node."""
    if node.level == 1:
        return "Heading 1", "Normal", 0
    if not styled:
        return "Normal", "Normal", 0.75 * (node.level - 2)
    home = min(node.level, MAX_CLAUSE_STYLE)
    if node.title:
        return ("Heading 2" if node.level == 2 else "Heading 3"), f"Clause Text {home}", 0
    return f"Clause {home}", f"Clause Text {home}", 0


def render_redline_docx(diff, subject: str = "", author: str = AUTHOR) -> bytes:
    old, new = diff.old, diff.new
    date = revision_date(new)
    document, styled = _document(new)
    props = document.core_properties
    fixed = dt.datetime.fromisoformat(date.replace("Z", ""))
    props.title, props.subject, props.author, props.last_modified_by = new.title, subject, author, author
    props.created = props.modified = props.last_printed = fixed
    props.revision = 1
    w = _Writer(document, author, date)
    w.node("Title", "Subtitle", 0, _ops(front_paragraphs(old), front_paragraphs(new)))
    for o, n in diff.merged():
        w.node(*_styles(n or o, styled), _ops(node_paragraphs(o) if o else None, node_paragraphs(n) if n else None))
    buf = io.BytesIO()
    document.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry dated ZIP_TIME, so equal documents give equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()
