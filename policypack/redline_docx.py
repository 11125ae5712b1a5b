"""The DOCX redline: the new version of a policy with native Word tracked changes.

Deleted words are `w:del` runs (their text in `w:delText`), inserted words `w:ins` runs; a whole
added clause is inserted paragraphs (paragraph mark inserted, `w:pPr/w:rPr/w:ins`), a removed one
deleted paragraphs (paragraph mark deleted). A clause that only moved (its text and title the same)
is a native tracked move: `w:moveFrom` where it was and `w:moveTo` where it is, each side's
paragraphs inside a move range (`w:moveFromRangeStart`/`w:moveToRangeStart`) of one name, so Word
shows the two as one move; a clause that moved and changed is deleted where it was and inserted
where it is. So Word's Accept All gives exactly the new version's paragraphs, Reject All exactly
the old. Numbers are literal text, so renumbering shows as tracked changes too (a moved clause's
new number is inserted, its old one deleted, outside the moved text).

Text keeps its formatting: the word-level diff runs on the plain text (the paragraphs above), then
deleted words take the old version's bold, italic, code and links, inserted and unchanged words the
new version's. Unchanged words whose bold, italic or code changed carry the old formatting in a
tracked formatting change (`w:rPrChange`), so Reject All restores it; unchanged words whose link
changed are deleted with the old link and inserted with the new (a link is no run property Word can
track). Cross-references link to a bookmark on the clause they point to.

Output is deterministic: revision dates come from the new version (not the clock), and the zip
entries carry a fixed timestamp. The page set-up and paragraph styles are the policy DOCX writer's
(`render/docx.py`) when it is usable, so a redline looks like the policy it marks up.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path
from typing import Optional

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm

from .diff import DELETE, EQUAL, INSERT, word_ops
from .model import (Break, Code, Emph, Link, ResolvedPolicy, RNode, Strong, Text, XRef, block_lines)
from .write import deterministic_zip

try:  # the policy writer's bookmark names, so a redline's bookmarks read like the policy's
    from .render.docx import bookmark_name
except Exception:  # noqa: BLE001 - without them cross-references are plain text
    bookmark_name = None

MAX_CLAUSE_STYLE = 4  # the policy writer styles clause levels 2..4 ("Clause 2" .. "Clause 4")

AUTHOR = "policypack"
MOVE_FROM, MOVE_TO = "<", ">"  # ops of a moved clause's text, where it was and where it is
TRACKED = {DELETE: "w:del", INSERT: "w:ins", MOVE_FROM: "w:moveFrom", MOVE_TO: "w:moveTo"}


def front_paragraphs(doc: ResolvedPolicy) -> list:
    return [doc.title, doc.org.name] + ([f"Version {doc.version}"] if doc.version else [])


def node_paragraphs(node: RNode) -> list:
    """The paragraphs a node prints as: number, tab and title (appendices: "Appendix 1 – Title"), or
    number, tab and the first line of text; then its text, line by line."""
    lines = node.text.split("\n") if node.text else []
    if node.kind in ("appendix", "part") and node.level <= 1:
        return [node.heading] + lines
    if node.title or not lines:
        return ["\t".join(x for x in (node.label, node.title) if x)] + lines
    return ["\t".join(x for x in (node.label, lines[0]) if x)] + lines[1:]


@dataclasses.dataclass(frozen=True)
class Fmt:
    """How a stretch of text is formatted: bold, italic, code, and the link it is in, if any
    (("href", url) or ("anchor", the target's anchor))."""

    bold: bool = False
    italic: bool = False
    code: bool = False
    link: Optional[tuple] = None


PLAIN = Fmt()


def _inline_runs(inlines, fmt: Fmt = PLAIN) -> list:
    """[(text, Fmt)] of inlines, the text exactly `model.inline_text`'s (links do not nest)."""
    out = []
    for i in inlines:
        if isinstance(i, Text):
            out.append((i.text, fmt))
        elif isinstance(i, Code):
            out.append((i.text, dataclasses.replace(fmt, code=True)))
        elif isinstance(i, Strong):
            out += _inline_runs(i.children, dataclasses.replace(fmt, bold=True))
        elif isinstance(i, Emph):
            out += _inline_runs(i.children, dataclasses.replace(fmt, italic=True))
        elif isinstance(i, Link):
            out += _inline_runs(i.children, fmt if fmt.link else dataclasses.replace(fmt, link=("href", i.href)))
        elif isinstance(i, XRef):
            to = ("href", f"{i.policy}.docx") if i.policy else ("anchor", i.anchor)
            out.append((i.label, fmt if fmt.link else dataclasses.replace(fmt, link=to)))
        elif isinstance(i, Break):
            out.append(("\n", fmt))
    return out


def _block_runs(blocks) -> list:
    """[(text, Fmt)] of blocks, the text exactly `model.blocks_text`'s."""
    def join(separator: list, pieces: list) -> list:
        return [r for k, piece in enumerate(pieces) for r in (separator if k else []) + piece]

    return block_lines(blocks, _inline_runs, lambda text: [(text, PLAIN)], join)


def node_runs(node: RNode) -> list:
    """[(text, Fmt)] of the node's paragraphs joined by line breaks: `node_paragraphs` formatted."""
    want = "\n".join(node_paragraphs(node))
    body = _block_runs(node.blocks)
    if node.kind in ("appendix", "part") and node.level <= 1:
        runs = [(node.heading, PLAIN)] + ([("\n", PLAIN)] + body if node.text else [])
    elif node.title or not node.text:
        runs = [("\t".join(x for x in (node.label, node.title) if x), PLAIN)] + (
            [("\n", PLAIN)] + body if node.text else [])
    else:
        runs = [(node.label + "\t" if node.label else "", PLAIN)] + body
    if "".join(t for t, _ in runs) != want:  # formatting never changes the text
        runs = [(want, PLAIN)]
    return runs


def version_paragraphs(doc: ResolvedPolicy) -> list:
    """Every paragraph of one version, as the redline's Accept All (new) or Reject All (old) gives them."""
    return front_paragraphs(doc) + [p for n in doc.walk_outline() for p in node_paragraphs(n)]


def revision_date(doc: ResolvedPolicy) -> str:
    """A fixed date from the new version for w:date: last reviewed, else adopted, else next review."""
    for value in (doc.last_reviewed, doc.adoption.get("date"), doc.next_review):
        if value:
            return f"{value}T00:00:00Z"
    return "2000-01-01T00:00:00Z"


class _Writer:
    """Streams (op, text, Fmt, old Fmt or None) pieces into paragraphs; '\n' ends a paragraph, its
    mark tracked by op."""

    def __init__(self, document, author: str, date: str, styled: bool, bookmarks: dict):
        self.document = document
        self.author, self.date = author, date
        self.styled = styled  # the policy writer's character styles (Hyperlink, Code) are there
        self.bookmarks = bookmarks  # anchor -> bookmark name, for the anchors bookmarked in this redline
        self.next_id = 1  # w:id of revisions and bookmarks: one sequence, unique in the document
        self.p = None
        self.link = None  # (Fmt.link, w:hyperlink) the current paragraph's runs are going into
        self.styles = ("Normal", "Normal")
        self.indent = 0.0
        self.bookmark = None  # bookmark name for the node's first paragraph
        self.open_bookmark = None  # w:id of the bookmark the current paragraph started
        self.made = []  # the node's paragraphs (w:p)

    def node(self, first_style: str, rest_style: str, indent: float, pieces: list,
             bookmark: Optional[str] = None, move: Optional[str] = None) -> None:
        """The node's paragraphs; `move`: the name of the move range they are one side of."""
        self.styles, self.indent, self.bookmark, self.made = (first_style, rest_style), indent, bookmark, []
        for op, text, fmt, was in pieces:
            parts = text.split("\n")
            for k, part in enumerate(parts):
                if part:
                    self._run(op, part, fmt, was)
                if k < len(parts) - 1:
                    self._end(op)
        if move:  # the range holds the node's paragraphs, paragraph marks and all
            side = "moveFrom" if any(op == MOVE_FROM for op, *_ in pieces) else "moveTo"
            start = self._tracked(f"w:{side}RangeStart")
            start.set(qn("w:name"), move)
            end = OxmlElement(f"w:{side}RangeEnd")
            end.set(qn("w:id"), start.get(qn("w:id")))
            self.made[0].addprevious(start)
            self.made[-1].addnext(end)

    def _para(self):
        if self.p is None:
            self.p = self.document.add_paragraph(style=self.styles[0])
            if self.indent:
                self.p.paragraph_format.left_indent = Cm(self.indent)
            self.styles = (self.styles[1], self.styles[1])
            self.made.append(self.p._p)
            if self.bookmark:
                self.open_bookmark = str(self._id())
                start = OxmlElement("w:bookmarkStart")
                start.set(qn("w:id"), self.open_bookmark)
                start.set(qn("w:name"), self.bookmark)
                self.p._p.append(start)
                self.bookmark = None
        return self.p

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def _tracked(self, tag: str):
        el = OxmlElement(tag)
        el.set(qn("w:id"), str(self._id()))
        el.set(qn("w:author"), self.author)
        el.set(qn("w:date"), self.date)
        return el

    def _rpr(self, fmt: Fmt):
        """Run properties for `fmt`, in schema order; None when there are none."""
        rpr = OxmlElement("w:rPr")
        link = fmt.link is not None
        style = "Code" if fmt.code else "Hyperlink" if link else None
        if style and self.styled:
            el = OxmlElement("w:rStyle")
            el.set(qn("w:val"), style)
            rpr.append(el)
        for on, tag in ((fmt.bold, "w:b"), (fmt.italic, "w:i")):
            if on:
                rpr.append(OxmlElement(tag))
        if link and not self.styled:  # python-docx's plain template has no Hyperlink style
            el = OxmlElement("w:color")
            el.set(qn("w:val"), "0563C1")
            rpr.append(el)
            el = OxmlElement("w:u")
            el.set(qn("w:val"), "single")
            rpr.append(el)
        return rpr if len(rpr) else None

    def _linkable(self, fmt: Optional[Fmt]) -> Optional[Fmt]:
        """`fmt` without a link to a bookmark this redline does not have (the text stays plain)."""
        if fmt is not None and fmt.link and fmt.link[0] == "anchor" and fmt.link[1] not in self.bookmarks:
            return dataclasses.replace(fmt, link=None)
        return fmt

    def _target(self, p, link: Optional[tuple]):
        """Where a run goes: the paragraph, or the hyperlink it shares with the runs before it."""
        if link is None:
            self.link = None
            return p._p
        if self.link is None or self.link[0] != link:
            el = OxmlElement("w:hyperlink")
            if link[0] == "anchor":
                el.set(qn("w:anchor"), self.bookmarks[link[1]])
            else:
                el.set(qn("r:id"), self.document.part.relate_to(link[1], RT.HYPERLINK, is_external=True))
            el.set(qn("w:history"), "1")
            p._p.append(el)
            self.link = (link, el)
        return self.link[1]

    def _run(self, op: str, text: str, fmt: Fmt = PLAIN, was: Optional[Fmt] = None) -> None:
        p = self._para()
        fmt, was = self._linkable(fmt), self._linkable(was)
        target = self._target(p, fmt.link)
        r = OxmlElement("w:r")
        rpr = self._rpr(fmt)
        if was is not None and was != fmt:  # a formatting change: the old properties, for Reject All
            rpr = rpr if rpr is not None else OxmlElement("w:rPr")
            change = self._tracked("w:rPrChange")
            old = self._rpr(was)
            change.append(old if old is not None else OxmlElement("w:rPr"))
            rpr.append(change)
        if rpr is not None:
            r.append(rpr)
        for k, piece in enumerate(text.split("\t")):
            if k:
                r.append(OxmlElement("w:tab"))
            if piece:
                t = OxmlElement("w:delText" if op == DELETE else "w:t")  # moved text: w:t, as Word writes it
                t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                t.text = piece
                r.append(t)
        if op == EQUAL:
            target.append(r)
        else:
            wrap = self._tracked(TRACKED[op])
            wrap.append(r)
            target.append(wrap)

    def _end(self, op: str) -> None:
        p = self._para()
        if op != EQUAL:
            rpr = OxmlElement("w:rPr")
            rpr.append(self._tracked(TRACKED[op]))
            p._p.get_or_add_pPr().append(rpr)
        if self.open_bookmark is not None:
            end = OxmlElement("w:bookmarkEnd")
            end.set(qn("w:id"), self.open_bookmark)
            p._p.append(end)
            self.open_bookmark = None
        self.p, self.link = None, None


def _ops(old_paras, new_paras) -> list:
    if old_paras is not None and new_paras is not None:
        return word_ops("\n".join(old_paras), "\n".join(new_paras)) + [(EQUAL, "\n")]
    if new_paras is not None:
        return [(INSERT, "\n".join(new_paras) + "\n")]
    return [(DELETE, "\n".join(old_paras) + "\n")]


def _formats(runs) -> list:
    """The Fmt of each character; line breaks (paragraph marks) are plain."""
    return [PLAIN if ch == "\n" else fmt for text, fmt in runs for ch in text]


def _pieces(old_runs: Optional[list], new_runs: Optional[list]) -> list:
    """[(op, text, Fmt, old Fmt or None)]: the word-level diff of the two texts, formatted. Deleted
    text has the old formatting, inserted and unchanged text the new; unchanged text whose formatting
    changed keeps the old Fmt too (a tracked formatting change) or, where its link changed, is
    deleted and inserted."""
    text = lambda runs: "".join(t for t, _ in runs).split("\n") if runs is not None else None  # noqa: E731
    ops = _ops(text(old_runs), text(new_runs))
    old_f, new_f = _formats(old_runs or []) + [PLAIN], _formats(new_runs or []) + [PLAIN]  # + the final mark
    out, i, j = [], 0, 0

    def emit(op, chunk, fmt, was=None):
        if out and out[-1][0] == op and out[-1][2:] == (fmt, was):
            out[-1] = (op, out[-1][1] + chunk, fmt, was)
        else:
            out.append((op, chunk, fmt, was))

    for op, chunk in ops:
        k = 0
        while k < len(chunk):  # stretches of one formatting (a pair of them for unchanged text)
            a = old_f[i] if op != INSERT else None
            b = new_f[j] if op != DELETE else None
            n = 1
            while (k + n < len(chunk) and (op == INSERT or old_f[i + n] == a)
                   and (op == DELETE or new_f[j + n] == b)):
                n += 1
            part = chunk[k:k + n]
            if op == DELETE:
                emit(DELETE, part, a)
            elif op == INSERT:
                emit(INSERT, part, b)
            elif a.link != b.link:
                emit(DELETE, part, a)
                emit(INSERT, part, b)
            else:
                emit(EQUAL, part, b, a if a != b else None)
            k += n
            i += n if op != INSERT else 0
            j += n if op != DELETE else 0
    return out


def _moved_pieces(old_runs: list, new_runs: list, side: str) -> list:
    """One side of a moved clause: where it was (MOVE_FROM), its text moved out and its old number
    deleted; where it is (MOVE_TO), its text moved in and its new number inserted. Each side's
    text has that version's formatting."""
    out = []
    for op, text, fmt, was in _pieces(old_runs, new_runs):
        if op == EQUAL:
            out.append((side, text, was or fmt if side == MOVE_FROM else fmt, None))
        elif op == (DELETE if side == MOVE_FROM else INSERT):
            out.append((op, text, fmt, None))
    return out


def moves(merged: list) -> set:
    """Ids of the clauses that only moved: deleted in one place and inserted in another of the
    merged sequence, with the same text and title (a new number is no change of their own)."""
    gone = {o.id: o for o, n in merged if n is None}
    came = {n.id: n for o, n in merged if o is None}
    return {i for i in gone.keys() & came.keys()
            if gone[i].text == came[i].text and (gone[i].title or None) == (came[i].title or None)}


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
    if node.level <= 1:  # a section, an appendix or a part
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
    merged = diff.merged()
    new_ids = {n.id for _, n in merged if n}
    # a bookmark where each clause is in the new version (a removed one: where it was in the old)
    marked = [n.anchor if n else o.anchor if o.id not in new_ids else None for o, n in merged]
    names = {a: bookmark_name(a) for a in marked if a} if bookmark_name else {}
    w = _Writer(document, author, date, styled, names)
    plain = lambda paras: [("\n".join(paras), PLAIN)]  # noqa: E731
    w.node("Title", "Subtitle", 0, _pieces(plain(front_paragraphs(old)), plain(front_paragraphs(new))))
    moved = moves(merged)
    old_of = {o.id: o for o, n in merged if n is None}
    new_of = {n.id: n for o, n in merged if o is None}
    order = [x.id for pair in merged for x in pair if x]
    move_names = {i: f"move{k}" for k, i in enumerate(sorted(moved, key=order.index), 1)}
    for (o, n), anchor in zip(merged, marked):
        node = n or o
        if node.id in moved:
            side = MOVE_TO if n else MOVE_FROM
            pieces = _moved_pieces(node_runs(old_of[node.id]), node_runs(new_of[node.id]), side)
            w.node(*_styles(node, styled), pieces, bookmark=names.get(anchor), move=move_names[node.id])
            continue
        w.node(*_styles(node, styled), _pieces(node_runs(o) if o else None, node_runs(n) if n else None),
               bookmark=names.get(anchor))
    buf = io.BytesIO()
    document.save(buf)
    return deterministic_zip(buf.getvalue())
