"""DOCX writer: the resolved policy as a Word document people can keep editing.

Real styles throughout (Title, Heading 1-3, a custom paragraph style per clause level and per list
level), so Word's navigation pane, style gallery and accessibility checker work. Sections, clauses,
appendices and parts are numbered by Word's own multilevel numbering, built from the resolved
scheme (docx_numbering.py) and linked to the heading and clause styles, so a school that inserts
or deletes a clause in Word gets the clauses renumbered; the numbers are checked against the
resolved labels before they are used, and a scheme Word cannot show keeps its labels as text
(number, tab, hanging indent). Lists inside clause text are Word lists, each restarting.

Every section, clause and appendix carries a bookmark named after its anchor (stable across
builds); a cross-reference is a REF field to it whose result is the resolved reference. The
contents is a real TOC field whose result is already filled in. Its page numbers come from laying
the document out with LibreOffice, when it is installed: render with placeholder numbers, convert
to PDF, read the page of each heading from the PDF outline, and render again with those numbers.
Contents entries wrap before a band kept for the page number, so the numbers never change the
layout and one pass is enough. w:updateFields stays off: the results are right as saved, and Word
would otherwise ask on every opening whether to update fields "that may refer to other files".

Fonts are ones Word has (Arial, Times New Roman, Courier New) where the branding names their
metric-compatible Liberation twins, which fontTable.xml names as their stand-ins.

Output is deterministic: the same policy gives the same bytes.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Optional

import docx
from docx.blkcntnr import BlockItemContainer
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor
from lxml import etree

from ..model import (LINE_MM, TICK_BOX, Break, Code, Emph, Form, FormChoices, FormField, FormSignature, FormTable,
                     FormTick, Link, ListBlock, Para, ResolvedPolicy, RNode, Strong, Table, Text, XRef, list_marker)
from ..load import MAX_LOGO, read_regular
from ..write import deterministic_zip
from . import RenderContext, format_date, schools_dir
from . import docx_numbering as wn

# ---- geometry (A4) -------------------------------------------------------------------------
PAGE_WIDTH, PAGE_HEIGHT = Cm(21.0), Cm(29.7)
MARGIN_X, MARGIN_Y = Cm(2.2), Cm(2.4)
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
NUMBER_COLUMN = Cm(1.75)  # width of the clause-number column; a clause of level L is numbered at (L-2) columns
LIST_INSET = Cm(0.5)  # list markers sit this far inside the text of their clause
LIST_STEP = Cm(0.75)  # width of a list marker column
MAX_CLAUSE_STYLE = 4  # clause levels with a style of their own; deeper levels shift Clause 4
MAX_LIST_STYLE = 3
BODY_SIZE = Pt(10.5)
LOGO_HEIGHT = Cm(2.2)
KEY_PADDING_X, KEY_PADDING_Y = Pt(7), Pt(5)  # inside the key message box: text to border
PAGE_NUMBER_BAND = Cm(1.2)  # right indent of contents entries; the page number sits in it
EPOCH = dt.datetime(1980, 1, 1, tzinfo=dt.timezone.utc)
STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
SOFFICE_TIMEOUT = 180  # seconds for one conversion

LIST_NUM0 = 10  # num and abstractNum ids of in-text lists start here (1-3: docx_numbering's families)
# fonts Word users have, for the metric-compatible fonts the PDF uses; LibreOffice shows the
# Liberation font in their place, so the layout is the same
WORD_FONTS = {"Liberation Sans": "Arial", "Liberation Serif": "Times New Roman", "Liberation Mono": "Courier New"}
CODE_FONT = "Courier New"
# fontTable.xml facts: name -> (the font standing in for it, PANOSE, family, pitch)
FONT_FACTS = {
    "Arial": ("Liberation Sans", "020B0604020202020204", "swiss", "variable"),
    "Times New Roman": ("Liberation Serif", "02020603050405020304", "roman", "variable"),
    "Courier New": ("Liberation Mono", "02070309020205020404", "modern", "fixed"),
    "DejaVu Sans": ("", "020B0603030804020204", "swiss", "variable"),
    "DejaVu Serif": ("", "02060603050605020204", "roman", "variable"),
}


def word_font(font: str) -> str:
    """The font the DOCX names for the branding's font: Word's own where it has a metric twin."""
    return WORD_FONTS.get(font, font)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


GREY = "555555"
RULE = "A6A6A6"

# the table of changes: a width (cm, scaled to the page) for each column resolve may give it
HISTORY_WIDTHS = {"version": 1.8, "date": 3.4, "author": 3.4, "affected": 3.0, "summary": 6.8, "layer_name": 3.4}
TEMPLATE_STYLES = {"Normal", "Title", "Subtitle", "heading 1", "heading 2", "heading 3", "TOC Heading", "header",
                   "footer"}  # python-docx template styles this writer redefines; the rest are removed


def render_docx(doc: ResolvedPolicy, ctx: RenderContext, page_numbers: Optional[bool] = None) -> bytes:
    """The policy as DOCX bytes. `page_numbers`: lay the document out with LibreOffice to put page
    numbers in the contents (default: when `soffice` is installed). Without them the contents
    entries are still hyperlinked; Word fills the numbers in when the user updates the field."""
    if page_numbers is None:
        page_numbers = can_lay_out()
    if not page_numbers:
        return _Builder(doc, ctx, None).build()
    # contents titles wrap before the page-number band, so placeholder numbers lay out exactly as the
    # real ones will: one layout pass finds every page, and the numbers are then written into the
    # same document (built once, saved twice)
    tops = contents_nodes(doc)
    builder = _Builder(doc, ctx, ["0"] * len(tops))
    try:
        pages = heading_pages(builder.build(), strict=True)
        if len(pages) != len(tops):
            raise LayoutFailed(f"its layout has {len(pages)} headings in the outline where the document has {len(tops)}")
    except LayoutFailed as exc:
        # the build turns this into a warning on the organisation's file (errors.LayoutWarning)
        from ..errors import LayoutWarning
        warnings.warn(LayoutWarning(str(exc)))
        return _Builder(doc, ctx, None).build()
    for run, page in zip(builder.page_runs, pages):
        run.text = page
    return builder.save()


# ---- layout with LibreOffice -----------------------------------------------------------------
SOFFICE_ENV = "POLICYPACK_SOFFICE"  # the LibreOffice program to run; set but empty: do not lay out


class LayoutFailed(Exception):
    """LibreOffice could not lay a DOCX out; the message says why."""


def soffice() -> Optional[str]:
    """The LibreOffice program: $POLICYPACK_SOFFICE if set (empty: none), else `soffice` on the PATH."""
    import os
    if SOFFICE_ENV in os.environ:
        return os.environ[SOFFICE_ENV] or None
    return shutil.which("soffice")


def can_lay_out() -> bool:
    if not soffice():
        return False
    try:
        import pypdf  # noqa: F401
    except ImportError:
        return False
    return True


def prepare() -> None:
    """Called by the build before it renders a document: start the office that will lay the DOCX
    out, so that it gets ready while the other formats render."""
    if can_lay_out():
        from . import office
        office.start(soffice())


def convert_to_pdf(data: bytes, folder: Path) -> Path:
    """Convert DOCX bytes to PDF with headless LibreOffice in `folder`: with this process's running
    office (policypack.render.office) where there is one, else with a cold `soffice` and a private
    profile, so parallel conversions never share (and lock) one."""
    from . import office

    try:
        return office.convert(data, folder, soffice() or "soffice")
    except office.Unavailable:
        pass
    src = folder / "policy.docx"
    src.write_bytes(data)
    profile = folder / "lo-profile"
    subprocess.run([soffice() or "soffice", f"-env:UserInstallation={profile.as_uri()}",
                    "--headless", "--norestore", "--convert-to", "pdf", "--outdir", str(folder), str(src)],
                   check=True, capture_output=True, timeout=SOFFICE_TIMEOUT, stdin=subprocess.DEVNULL)
    pdf = folder / "policy.pdf"
    if not pdf.exists():
        raise RuntimeError("LibreOffice wrote no PDF")
    return pdf


def _why(exc: BaseException) -> str:
    """Why LibreOffice's layout failed, in a line."""
    if isinstance(exc, subprocess.CalledProcessError):
        said = (exc.stderr or exc.stdout or b"").decode("utf-8", "replace").strip().splitlines()
        return f"{Path(str(exc.cmd[0])).name} exited with status {exc.returncode}" + (f": {said[-1][:200]}" if said else "")
    if isinstance(exc, subprocess.TimeoutExpired):
        return f"LibreOffice did not finish within {SOFFICE_TIMEOUT} s"
    if isinstance(exc, OSError) and exc.filename in (soffice(), "soffice"):
        return f"cannot run {exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror + (f": {exc.filename}" if exc.filename else "")
    return str(exc) or type(exc).__name__


def outline_pages(pdf: Path) -> list:
    """Page number (1-based, as a string) of each top-level entry of the PDF outline: LibreOffice
    writes one per Heading 1, in document order."""
    import pypdf

    reader = pypdf.PdfReader(str(pdf))
    return [str(reader.get_destination_page_number(item) + 1) for item in reader.outline
            if not isinstance(item, list)]


def heading_pages(data: bytes, strict: bool = False) -> Optional[list]:
    """Where each section and appendix heading lands when LibreOffice lays the DOCX out. When it
    cannot: None, or with `strict` LayoutFailed saying why."""
    from pypdf.errors import PyPdfError

    try:
        with tempfile.TemporaryDirectory(prefix="policypack-docx-") as tmp:
            return outline_pages(convert_to_pdf(data, Path(tmp)))
    except (OSError, subprocess.SubprocessError, RuntimeError, ValueError, PyPdfError) as exc:
        if strict:
            raise LayoutFailed(_why(exc)) from None
        return None


# ---- names -----------------------------------------------------------------------------------
ORG_PROPERTY, POLICY_PROPERTY, SOURCE_PROPERTY = "policypack-organisation", "policypack-policy", "policypack-source"


def source_digest(doc: ResolvedPolicy) -> str:
    """A short digest of the text a document is built from: every part, section, clause and
    appendix by id, with its title and plain text (numbers and layout are left out)."""
    h = hashlib.sha256()
    for n in doc.walk_outline():
        h.update(f"{n.id}\0{n.title or ''}\0{n.text}\0".encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def identity(doc: ResolvedPolicy) -> dict:
    """The custom document properties naming what a DOCX was built for (policypack.importdocx reads them)."""
    return {ORG_PROPERTY: doc.org.id, POLICY_PROPERTY: doc.policy_id, SOURCE_PROPERTY: source_digest(doc)}


def bookmark_name(anchor: str) -> str:
    """A Word bookmark name for an anchor: starts with a letter, letters/digits/underscores, at most
    40 characters; long anchors keep a prefix and a short hash so names stay unique."""
    name = re.sub(r"[^A-Za-z0-9]", "_", anchor)
    if not name[:1].isalpha():
        name = "b" + name
    if len(name) > 40:
        name = name[:31] + "_" + hashlib.sha1(anchor.encode()).hexdigest()[:8]
    return name


def contents_nodes(doc: ResolvedPolicy) -> list:
    """The headings at the top of the outline, in document order: each part followed by its
    sections, the sections outside parts, the appendices (what the contents lists)."""
    out = []
    for n in doc.top_level():
        out += [n] + n.children if n.kind == "part" else [n]
    return out + doc.appendices


def heading_text(node: RNode) -> str:
    """The heading as printed: number, tab, title (appendices: "Appendix 1 – Title", parts "Part 1 – Title")."""
    if node.kind in ("appendix", "part"):
        return node.heading
    if node.label and node.title:
        return f"{node.label}\t{node.title}"
    return node.title or node.label


def numbered_nodes(doc: ResolvedPolicy) -> list:
    """(node, family, ilvl) of every part, section, clause and appendix, in document order: the
    paragraphs Word numbers (docx_numbering's families)."""
    in_appendix = {n.anchor for a in doc.appendices for n in a.walk()}
    out = []
    for n in doc.walk_outline():
        family = wn.PART if n.kind == "part" else wn.APPENDIX if n.anchor in in_appendix else wn.BODY
        out.append((n, family, max(n.level - 1, 0)))
    return out


def word_numbering(doc: ResolvedPolicy) -> Optional[wn.Plan]:
    """Word's numbering for the document when it shows exactly the resolved labels, else None (the
    writer keeps literal labels): the scheme must have a lvlText form and Word's count, simulated
    over the document's paragraphs, must give every node its resolved label."""
    plan = wn.plan(doc.scheme)
    nodes = numbered_nodes(doc)
    if plan is None or any(ilvl >= wn.MAX_LEVELS for _, _, ilvl in nodes):
        return None
    if wn.simulate(plan, [(f, i) for _, f, i in nodes]) != [n.label for n, _, _ in nodes]:
        return None
    return plan


def _hex(colour: str) -> str:
    return colour.lstrip("#").upper()


def _tint(colour: str, amount: float = 0.9) -> str:
    """`colour` mixed with white (0.9: a light background tint)."""
    rgb = bytes.fromhex(_hex(colour))
    return "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb)


# ---- the document ----------------------------------------------------------------------------
class _Builder:
    def __init__(self, doc: ResolvedPolicy, ctx: RenderContext, pages: Optional[list]):
        self.doc = doc
        self.ctx = ctx
        self.pages = pages  # page of each section and appendix heading, or None
        self.d = docx.Document()
        self.next_bookmark = 0
        self.colour = _hex(doc.branding.colour)
        self.known_anchors = {n.anchor for n in doc.walk()} | {n.anchor for n in doc.parts}
        self.body = self.d._body  # where paragraphs and tables go: the document, or the key message box
        self.width = TEXT_WIDTH  # the width of `body`
        self.word = word_numbering(doc)  # Word's numbering for the clauses, or None: literal labels
        self.lists: list = []  # (style, ilvl, start) of each in-text list, its num id LIST_NUM0 + index
        self.nodes = {n.anchor: n for n in doc.walk_outline()}
        self.parents = {c.anchor: n for n in doc.walk_outline() for c in n.children}
        self.style_indents: dict = {}  # _pin_indent's cache
        self.page_runs: list = []  # the run holding each contents entry's page number

    def build(self) -> bytes:
        self._page_setup()
        self._styles()
        self._cover()
        self._contents()
        self._key_message()
        for n in self.doc.top_level() + self.doc.appendices:
            self._part(n) if n.kind == "part" else self._node(n)
        self._running_header_footer()
        self._properties()
        self._drop_template_parts()
        self._numbering_part()
        self._font_table()
        return self.save()

    def save(self) -> bytes:
        out = io.BytesIO()
        self.d.save(out)
        return deterministic_zip(out.getvalue())

    # ---- page and styles ----------------------------------------------------------------
    def _page_setup(self):
        s = self.d.sections[0]
        s.page_width, s.page_height = PAGE_WIDTH, PAGE_HEIGHT
        s.left_margin = s.right_margin = MARGIN_X
        s.top_margin = s.bottom_margin = MARGIN_Y
        s.header_distance = s.footer_distance = Cm(1.1)
        s.different_first_page_header_footer = True  # the cover has no running header or footer

    def _styles(self):
        b = self.doc.branding
        styles = self.d.styles
        for st in styles.element.findall(qn("w:style")):  # the template's other 150 styles: unused clutter
            if st.get(qn("w:default")) != "1" and st.find(qn("w:name")).get(qn("w:val")) not in TEMPLATE_STYLES:
                styles.element.remove(st)
        defaults = styles.element.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        _set_fonts(rpr, word_font(b.font))
        rpr.find(qn("w:lang")).set(qn("w:val"), "en-GB")
        for el in rpr.findall(qn("w:sz")) + rpr.findall(qn("w:szCs")):
            el.set(qn("w:val"), str(int(BODY_SIZE.pt * 2)))
        ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
        spacing = ppr.find(qn("w:spacing"))
        spacing.set(qn("w:after"), "120")
        spacing.set(qn("w:line"), "264")
        lang = self.d.settings.element.find(qn("w:themeFontLang"))
        if lang is not None:
            lang.set(qn("w:val"), "en-GB")

        S = NUMBER_COLUMN
        self._pstyle("Normal", None)
        self._pstyle("Title", "Normal", size=24, bold=True, colour=self.colour, after=12)
        self._pstyle("Subtitle", "Normal", size=12, colour=GREY, after=18)  # the redline's version line
        self._pstyle("Organisation Name", "Normal", size=14, bold=True, colour=self.colour, before=12, after=2)
        self._pstyle("Summary", "Normal", size=11, colour=GREY, after=10)
        self._pstyle("Banner", "Normal", after=8, box=(self.colour, "FFFFFF"))
        self._pstyle("Cover Detail", "Normal", left=Cm(4.5), hanging=Cm(4.5), after=2)
        self._pstyle("Cover Heading", "Normal", bold=True, colour=self.colour, before=12, after=4, keep=True)
        self._pstyle("Heading 1", "Normal", size=14, bold=True, colour=self.colour, before=16, after=6,
                     left=S, hanging=S, keep=True, outline=0)
        self._pstyle("Heading 2", "Normal", size=BODY_SIZE.pt, bold=True, colour=self.colour, before=8, after=4,
                     left=S, hanging=S, keep=True, outline=1)
        self._pstyle("Heading 3", "Normal", size=BODY_SIZE.pt, bold=True, before=6, after=3,
                     left=2 * S, hanging=S, keep=True, outline=2)
        self._pstyle("Part Heading", "Normal", size=17, bold=True, colour=self.colour, after=10, keep=True,
                     outline=0)
        self._pstyle("TOC Heading", "Normal", size=14, bold=True, colour=self.colour, after=10, outline=9)
        # titles wrap before a band kept for the page number, so numbers of any width lay out alike
        self._pstyle("toc 1", "Normal", left=S, hanging=S, right=PAGE_NUMBER_BAND, after=4,
                     tabs=[(TEXT_WIDTH, "right", "dot")])
        self._pstyle("toc 2", "Normal", left=2 * S, hanging=S, right=PAGE_NUMBER_BAND, after=4,
                     tabs=[(TEXT_WIDTH, "right", "dot")])  # a section inside a part
        for level in range(2, MAX_CLAUSE_STYLE + 1):
            self._pstyle(f"Clause {level}", "Normal", left=(level - 1) * S, hanging=S)
            self._pstyle(f"Clause Text {level}", "Normal", left=(level - 1) * S)
        for depth in range(1, MAX_LIST_STYLE + 1):
            text = S + LIST_INSET + depth * LIST_STEP  # lists are styled for a level-2 clause
            self._pstyle(f"List Item {depth}", "Normal", left=text, hanging=LIST_STEP, after=3)
            self._pstyle(f"List Text {depth}", "Normal", left=text, after=3)
        self._pstyle("Table Text", "Normal", before=2, after=2)
        self._form_styles()
        self._pstyle("Key Message", "Normal", after=4)
        self._pstyle("Notice", "Normal", bold=True, before=10, after=10, box=(_hex(b.accent), _tint(b.accent, 0.92)))
        for name in ("Header", "Footer"):
            self._pstyle(name, "Normal", size=8.5, colour=GREY, after=0,
                              tabs=[(TEXT_WIDTH, "right", None)])
        st = styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER, builtin=True)
        st.font.color.rgb = RGBColor.from_string(self.colour)
        st.font.underline = True
        st = styles.add_style("Code", WD_STYLE_TYPE.CHARACTER)
        st.font.name = CODE_FONT
        st.font.size = Pt(BODY_SIZE.pt - 1)
        self._table_style()
        self._key_message_style()

    def _pstyle(self, name, base, *, size=None, bold=None, colour=None, before=None, after=None, left=None,
                hanging=None, right=None, keep=False, outline=None, tabs=(), box=None):
        """Get or add a paragraph style and give it exactly these properties (built-in styles lose the
        theme fonts and colours of python-docx's template)."""
        styles = self.d.styles
        try:
            st = styles[name]
        except KeyError:
            builtin = name.startswith("toc ")  # Word's own contents styles: "toc 1", id TOC1
            st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH, builtin=builtin)
            st.quick_style = True
            if builtin:
                st.style_id = name.upper().replace(" ", "")
        el = st.element
        for tag in ("w:pPr", "w:rPr", "w:rsid", "w:link"):
            for child in el.findall(qn(tag)):
                el.remove(child)
        if base:
            st.base_style = styles[base]
        pf, font = st.paragraph_format, st.font
        if size is not None:
            font.size = Pt(size)
        if bold is not None:
            font.bold = bold
        if colour:
            font.color.rgb = RGBColor.from_string(colour)
        if before is not None:
            pf.space_before = Pt(before)
        if after is not None:
            pf.space_after = Pt(after)
        if left is not None:
            pf.left_indent = left
        if right is not None:
            pf.right_indent = right
        if hanging:
            pf.first_line_indent = -hanging
            pf.tab_stops.add_tab_stop(left)  # the number's tab lands on the text
        for pos, align, leader in tabs:
            pf.tab_stops.add_tab_stop(pos, WD_TAB_ALIGNMENT.RIGHT if align == "right" else WD_TAB_ALIGNMENT.LEFT,
                                      WD_TAB_LEADER.DOTS if leader == "dot" else WD_TAB_LEADER.SPACES)
        if keep:
            pf.keep_with_next = True
            pf.keep_together = True
        ppr = el.get_or_add_pPr()
        if box:
            line, fill = box
            ppr.append(parse_xml(
                f'<w:pBdr {nsdecls("w")}>' + "".join(
                    f'<w:{side} w:val="single" w:sz="8" w:space="6" w:color="{line}"/>'
                    for side in ("top", "left", "bottom", "right")) + "</w:pBdr>"))
            ppr.append(parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="{fill}"/>'))
            pf.left_indent = pf.right_indent = Pt(7)
        if outline is not None:
            ppr.append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="{outline}"/>'))
        _order_ppr(ppr)
        return st

    def _table_style(self):
        st = self.d.styles.add_style("Policy Table", WD_STYLE_TYPE.TABLE)
        borders = "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="{RULE}"/>'
                          for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
        st.element.append(parse_xml(
            f'<w:pPr {nsdecls("w")}><w:spacing w:before="40" w:after="40"/></w:pPr>'))
        st.element.append(parse_xml(
            f'<w:tblPr {nsdecls("w")}><w:tblBorders>{borders}</w:tblBorders>'
            '<w:tblCellMar><w:top w:w="40" w:type="dxa"/><w:left w:w="100" w:type="dxa"/>'
            '<w:bottom w:w="40" w:type="dxa"/><w:right w:w="100" w:type="dxa"/></w:tblCellMar></w:tblPr>'))
        st.element.append(parse_xml(
            f'<w:tblStylePr {nsdecls("w")} w:type="firstRow"><w:rPr><w:b/></w:rPr>'
            f'<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{_tint(self.doc.branding.colour, 0.85)}"/></w:tcPr>'
            '</w:tblStylePr>'))

    def _key_message_style(self):
        """The key message box: a one-cell table with the brand's border and tint. Paragraph borders
        cannot hold a list: Word and LibreOffice draw one box per run of paragraphs with equal
        indents, so every hanging list item would get a box of its own."""
        st = self.d.styles.add_style("Key Message Box", WD_STYLE_TYPE.TABLE)
        borders = "".join(f'<w:{side} w:val="single" w:sz="8" w:space="0" w:color="{self.colour}"/>'
                          for side in ("top", "left", "bottom", "right"))
        x, y = int(KEY_PADDING_X / 635), int(KEY_PADDING_Y / 635)
        st.element.append(parse_xml(
            f'<w:tblPr {nsdecls("w")}><w:tblBorders>{borders}</w:tblBorders>'
            f'<w:tblCellMar><w:top w:w="{y}" w:type="dxa"/><w:left w:w="{x}" w:type="dxa"/>'
            f'<w:bottom w:w="{y}" w:type="dxa"/><w:right w:w="{x}" w:type="dxa"/></w:tblCellMar></w:tblPr>'))
        st.element.append(parse_xml(
            f'<w:tcPr {nsdecls("w")}><w:shd w:val="clear" w:color="auto" w:fill="{_tint(self.doc.branding.colour)}"/>'
            '</w:tcPr>'))

    # ---- paragraphs and runs ---------------------------------------------------------------
    def _para(self, style: str, text: str = "", shift=0):
        """A body paragraph; `shift` moves a style's indents right (a level deeper than it is made for)."""
        p = self.body.add_paragraph(text, style=style)
        if shift:
            pf = p.paragraph_format
            st = p.style.paragraph_format
            pf.left_indent = (st.left_indent or 0) + shift
            if st.first_line_indent:  # keep the hanging indent; move the tab stop with the text
                pf.tab_stops.add_tab_stop(pf.left_indent)
        return p

    def _inlines(self, p, inlines, into=None, bold=False, italic=False):
        """Runs for inlines, appended to the paragraph or, inside a link, to the `into` hyperlink
        (links do not nest: a link inside a link keeps only the outer one)."""
        text_style = "Hyperlink" if into is not None else None
        for x in inlines:
            if isinstance(x, Text):
                self._run(p, x.text, into, bold, italic, text_style)
            elif isinstance(x, Strong):
                self._inlines(p, x.children, into, True, italic)
            elif isinstance(x, Emph):
                self._inlines(p, x.children, into, bold, True)
            elif isinstance(x, Code):
                self._run(p, x.text, into, bold, italic, "Code")
            elif isinstance(x, Break):
                self._run(p, "\n", into)
            elif isinstance(x, Link):
                link = into
                if link is None:
                    link = self._hyperlink(p, **{"r:id": p.part.relate_to(x.href, RT.HYPERLINK, is_external=True)})
                self._inlines(p, x.children, link, bold, italic)
            elif isinstance(x, XRef) and x.policy and into is None:  # the other policy's file, beside this one
                at = {"w:anchor": bookmark_name(x.anchor)} if x.anchor else {}
                link = self._hyperlink(p, **{"r:id": p.part.relate_to(f"{x.policy}.docx", RT.HYPERLINK,
                                                                      is_external=True), **at})
                self._run(p, x.label, link, bold, italic, "Hyperlink")
            elif isinstance(x, XRef) and x.anchor in self.known_anchors and into is None:
                self._ref(p, x, bold, italic)
            elif isinstance(x, XRef):
                self._run(p, x.label, into, bold, italic, text_style)

    def _run(self, p, text, into=None, bold=False, italic=False, style=None):
        run = p.add_run(text, style=style)
        if bold:
            run.bold = True
        if italic:
            run.italic = True
        if into is not None:
            into.append(run._r)
        return run

    def _hyperlink(self, p, **attrs):
        link = OxmlElement("w:hyperlink")
        for key, value in attrs.items():
            link.set(qn(key), value)
        link.set(qn("w:history"), "1")
        p._p.append(link)
        return link

    def _bookmark(self, p, anchor: str):
        """Bookmark the paragraph, from its start to what it holds so far (a heading, a clause number)."""
        n = str(self.next_bookmark)
        self.next_bookmark += 1
        start = parse_xml(f'<w:bookmarkStart {nsdecls("w")} w:id="{n}" w:name="{bookmark_name(anchor)}"/>')
        ppr = p._p.pPr
        if ppr is not None:
            ppr.addnext(start)
        else:
            p._p.insert(0, start)
        end = parse_xml(f'<w:bookmarkEnd {nsdecls("w")} w:id="{n}"/>')
        p._p.append(end)
        return end

    # ---- Word numbering, cross-references, fonts (docx_numbering.py has the levels) -------------
    def _heading_body(self, n: RNode) -> str:
        """A heading's text: with Word numbering, what follows the number Word shows (the title, or
        " – title" after "Appendix 1"); without, the number as text too."""
        if not self.word:
            return heading_text(n)
        if n.kind in ("appendix", "part"):
            return f" \u2013 {n.title}" if n.title else ""
        return n.title or ""

    def _number(self, p, n: RNode):
        """Number the paragraph of node `n` with Word's numbering (nothing when it is literal)."""
        if self.word:
            family, ilvl = self.where[n.anchor]
            if (family, ilvl) not in self.word.unnumbered:  # (whose style is not linked either)
                _num_pr(p, family, ilvl)
            _pin_indent(p, self.style_indents)

    @property
    def where(self) -> dict:
        if not hasattr(self, "_where"):
            self._where = {n.anchor: (family, ilvl) for n, family, ilvl in numbered_nodes(self.doc)}
        return self._where

    def _list_num(self, style: str, depth: int, start: int) -> int:
        """A Word list of its own (a w:num restarting at `start`) for an in-text list."""
        self.lists.append((style, min(depth, wn.MAX_LEVELS) - 1, start))
        return LIST_NUM0 + len(self.lists) - 1

    def _numbering_part(self):
        """numbering.xml: the clause families (when Word numbers the clauses) and one list per
        in-text list; the heading and clause styles linked to their levels."""
        twips = lambda length: int(length / 635)  # noqa: E731
        S = NUMBER_COLUMN
        abstract, nums = [], []
        if self.word:
            style_id = lambda name: self.d.styles[name].style_id  # noqa: E731
            clause = [(twips(max(i, 1) * S), twips(S)) for i in range(wn.MAX_LEVELS)]
            links = {0: style_id("Heading 1"), **{k - 1: style_id(f"Clause {k}") for k in range(2, MAX_CLAUSE_STYLE + 1)}}
            links = {i: style for i, style in links.items() if (wn.BODY, i) not in self.word.unnumbered}
            for family, levels in sorted(self.word.families.items()):
                indents = [(0, 0)] if family == wn.PART else clause
                abstract.append(wn.abstract_num_xml(family, levels, indents, links if family == wn.BODY else {}))
                nums.append(f'<w:num w:numId="{family}"><w:abstractNumId w:val="{family}"/></w:num>')
            for name, family, ilvl in ([("Heading 1", wn.BODY, 0), ("Heading 2", wn.BODY, 1), ("Heading 3", wn.BODY, 2),
                                        ("Part Heading", wn.PART, 0)]
                                       + [(f"Clause {k}", wn.BODY, k - 1) for k in range(2, MAX_CLAUSE_STYLE + 1)]):
                if (family, ilvl) in self.word.unnumbered:
                    continue
                ppr = self.d.styles[name].element.get_or_add_pPr()
                ppr.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{family}"/>'
                                     '</w:numPr>'))
                _order_ppr(ppr)
        styles = sorted({style for style, _, _ in self.lists})
        items = [(twips(S + LIST_INSET + (i + 1) * LIST_STEP), twips(LIST_STEP)) for i in range(wn.MAX_LEVELS)]
        for k, style in enumerate(styles):
            abstract.append(wn.list_abstract_xml(LIST_NUM0 + k, style, items))
        for k, (style, ilvl, start) in enumerate(self.lists):
            nums.append(f'<w:num w:numId="{LIST_NUM0 + k}"><w:abstractNumId w:val="{LIST_NUM0 + styles.index(style)}"/>'
                        f'<w:lvlOverride w:ilvl="{ilvl}"><w:startOverride w:val="{start}"/></w:lvlOverride></w:num>')
        part = self.d.part.numbering_part
        el = part.element
        for child in list(el):
            el.remove(child)
        for xml in abstract + nums:
            el.append(parse_xml(xml.replace("<w:abstractNum ", f"<w:abstractNum {nsdecls('w')} ", 1)
                                .replace("<w:num ", f"<w:num {nsdecls('w')} ", 1)))

    def _ref(self, p, x: XRef, bold: bool, italic: bool):
        """A cross-reference in this document: a REF field to the target's bookmark whose result is
        the resolved reference. The words around the number ("paragraph ", quotes) stay text; the
        field gives the number (\\r, or \\w where the reference shows the parent's number too, "12(a)")
        or, for an unnumbered heading, the title the bookmark holds."""
        prefix, core, switch, suffix = self._ref_parts(x, self.nodes.get(x.anchor))
        if prefix:
            self._run(p, prefix, None, bold, italic)
        _field_begin(p, f" REF {bookmark_name(x.anchor)}{switch} \\h ")
        self._run(p, core, None, bold, italic, "Hyperlink")
        _field_end(p)
        if suffix:
            self._run(p, suffix, None, bold, italic)

    def _ref_parts(self, x: XRef, target: Optional[RNode]) -> tuple:
        """(text before, field result, field switch, text after) of a reference to `target`."""
        label = x.label
        if self.word and target is not None:
            # the number alone last: a label with a full stop ("5.") referred to as "section 5"
            for core, switch in ((target.label, " \\r"), (self._full_context(target), " \\w"),
                                 (target.number, " \\r")):
                if core and label.endswith(core):
                    return label[:-len(core)], core, switch, ""
        if target is not None and target.title and not target.label and target.title in label:
            at = label.index(target.title)
            return label[:at], target.title, "", label[at + len(target.title):]
        return "", label, " \\r" if self.word else "", ""

    def _full_context(self, n: RNode) -> str:
        """The number as Word's REF \\w shows it: a level whose text lacks its parent's counter
        ("(%3)") is preceded by the parent's full number ("12(a)")."""
        family, ilvl = self.where[n.anchor]
        parent = self.parents.get(n.anchor)
        if ilvl and parent is not None and f"%{ilvl}" not in self.word.families[family][ilvl].text:
            return self._full_context(parent) + n.label
        return n.label

    def _font_table(self):
        """fontTable.xml names the fonts the document uses, with the metric-compatible font that
        stands in for each where it is not installed (LibreOffice: Liberation for Arial)."""
        used = sorted({word_font(self.doc.branding.font), CODE_FONT})
        xml = [f'<w:fonts {nsdecls("w")}>']
        for name in used:
            alt, panose, family, pitch = FONT_FACTS.get(name, ("", "", "auto", "variable"))
            xml.append(f'<w:font w:name="{_attr(name)}">' + (f'<w:altName w:val="{alt}"/>' if alt else "")
                       + (f'<w:panose1 w:val="{panose}"/>' if panose else "")
                       + f'<w:family w:val="{family}"/><w:pitch w:val="{pitch}"/></w:font>')
        xml.append("</w:fonts>")
        blob = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + "".join(xml)).encode("utf-8")
        for rel in self.d.part.rels.values():
            if rel.reltype == RT.FONT_TABLE:
                rel.target_part._blob = blob

    # ---- front matter -------------------------------------------------------------------------
    def _cover(self):
        doc = self.doc
        logo = self._logo()
        if logo:
            shape = self.d.add_paragraph().add_run().add_picture(io.BytesIO(logo), height=LOGO_HEIGHT)
            shape._inline.docPr.set("descr", f"{doc.branding.logo_owner or doc.org.name} logo")
        self._para("Organisation Name", doc.org.name)
        if doc.front.banner:
            p = self._para("Banner")
            for i, row in enumerate(doc.front.banner):
                self._run(p, (" \u00b7 " if i else "") + row.label + ": ")
                self._inlines(p, row.value, bold=True)
        self._para("Title", doc.title)

        # the front matter as resolve computed it, in the HTML's order (policypack.frontmatter)
        f = doc.front
        if f.summary:
            self._para("Summary", f.summary)
        notice = f.notice(self.ctx.as_of, format_date)
        if notice:
            p = self._para("Notice")
            self._run(p, notice[1] + " ", bold=True)
            self._run(p, notice[2])
        for b in f.statement:
            if isinstance(b, Para):
                p = self._para("Normal")
                p.paragraph_format.space_before = Pt(6)
                self._inlines(p, b.inlines, italic=True)
            elif isinstance(b, ListBlock):
                self._list(b, 1, 0)
            elif isinstance(b, Table):
                self._table(b.header, b.rows)
            elif isinstance(b, Form):
                self._form(b)
        for row in f.adoption + f.details:
            self._detail(row.label, row.value)
        if f.approvals:
            self._table(("Stage", "Name", "Date"), f.approvals, widths=(7, 5.6, 4))
        if f.history:
            self._para("Cover Heading", f.history.caption)
            self._history(f.history)

    def _detail(self, label: str, value):
        """A cover row: its label, a tab, its value (a string or a run of inlines)."""
        if value:
            p = self._para("Cover Detail")
            self._run(p, label, bold=True)
            self._run(p, "\t")
            if isinstance(value, str):
                self._run(p, value)
            else:
                self._inlines(p, value)

    def _logo(self) -> Optional[bytes]:
        """The logo as PNG or JPEG bytes: a regular file inside `schools/` (as the HTML's logo).
        python-docx cannot embed SVG, so an SVG logo is rasterised (or left out where poppler is
        not installed)."""
        if not self.doc.branding.logo:
            return None
        path = Path(self.doc.branding.logo).resolve()
        data = read_regular(path, schools_dir(self.ctx), MAX_LOGO)[0]
        if data is None:
            return None
        return _svg_to_png(data, self.ctx.project_root) if path.suffix.lower() == ".svg" else data

    def _contents(self):
        tops = contents_nodes(self.doc)
        if not tops:
            return
        in_part = {c.id for part in self.doc.parts for c in part.children}
        self._para("TOC Heading", "Contents").paragraph_format.page_break_before = True
        for i, n in enumerate(tops):
            p = self._para("toc 2" if n.id in in_part else "toc 1")
            if "\t" not in heading_text(n):
                _no_number_column(p)
            if i == 0:
                _field_begin(p, ' TOC \\o "1-1" \\h \\z \\u ')
            link = self._hyperlink(p, **{"w:anchor": bookmark_name(n.anchor)})
            self._run(p, heading_text(n), link)
            if self.pages:
                self._run(p, "\t", link)
                _field_begin(p, f" PAGEREF {bookmark_name(n.anchor)} \\h ", into=link)
                self.page_runs.append(self._run(p, self.pages[i], link))
                _field_end(p, into=link)
            if i == len(tops) - 1:
                _field_end(p)

    def _key_message(self):
        """The key message in one box, its blocks written as a clause's are: paragraphs keep their
        formatting and links, lists their markers and hanging indents, tables their borders."""
        if not self.doc.key_message:
            return
        box = BlockItemContainer.add_table(self.body, 1, 1, self.width)
        box.style = self.d.styles["Key Message Box"]
        tbl_pr = box._tbl.tblPr
        tbl_pr.append(parse_xml(f'<w:tblCaption {nsdecls("w")} w:val="Key message"/>'))
        cell = box.cell(0, 0)
        placeholder = cell.paragraphs[0]._p
        self.body, self.width = cell, self.width - 2 * KEY_PADDING_X
        try:
            for b in self.doc.key_message:
                if isinstance(b, Para):
                    self._inlines(self._para("Key Message"), b.inlines)
                elif isinstance(b, ListBlock):  # markers at the box's text edge, as in the HTML
                    self._list(b, 1, -(NUMBER_COLUMN + LIST_INSET))
                elif isinstance(b, Table):
                    self._table(b.header, b.rows)
                elif isinstance(b, Form):
                    self._form(b)
        finally:
            self.body, self.width = self.d._body, TEXT_WIDTH
        cell._tc.remove(placeholder)
        first, last = cell.paragraphs[0], cell.paragraphs[-1]
        first.paragraph_format.page_break_before = True  # the box opens the page after the contents
        last.paragraph_format.space_after = Pt(0)

    # ---- body ---------------------------------------------------------------------------------
    def _node(self, n: RNode):
        if n.level == 1:
            p = self._para("Heading 1", self._heading_body(n))
            if "\t" not in heading_text(n):
                _no_number_column(p)
            self._number(p, n)
            if n.kind == "appendix" or (n is self.doc.top_level()[0] and not self.doc.key_message):
                p.paragraph_format.page_break_before = True
            self._bookmark(p, n.anchor)
            self._blocks(n.blocks, 1)
            if n.generated == "changes":
                self._changes()
            elif n.generated == "review-history":
                self._review_history()
        elif n.title:
            style, shift = ("Heading 2", 0) if n.level == 2 else ("Heading 3", (n.level - 3) * NUMBER_COLUMN)
            p = self._para(style, self._heading_body(n), shift)
            self._number(p, n)
            self._bookmark(p, n.anchor)
            self._blocks(n.blocks, n.level)
        elif n.blocks and isinstance(n.blocks[0], ListBlock):  # the number leads the first list item's line
            self._list(n.blocks[0], 1, (n.level - 2) * NUMBER_COLUMN, lead=n)
            self._blocks(n.blocks[1:], n.level)
        else:
            home = min(n.level, MAX_CLAUSE_STYLE)
            literal = n.label + "\t" if n.label and not self.word else ""
            p = self._para(f"Clause {home}", literal, (n.level - home) * NUMBER_COLUMN)
            self._number(p, n)
            end = self._bookmark(p, n.anchor)
            rest = n.blocks
            if rest and isinstance(rest[0], Para):
                self._inlines(p, rest[0].inlines)
                rest = rest[1:]
            if self.word:
                p._p.append(end)  # the bookmark holds the clause's first paragraph: REF \r finds its number
            self._blocks(rest, n.level)
        for child in n.children:
            self._node(child)

    def _part(self, n: RNode):
        """A part: its heading on a new page (in the outline beside the sections), then its sections."""
        p = self._para("Part Heading", self._heading_body(n))
        p.paragraph_format.page_break_before = True
        self._number(p, n)
        self._bookmark(p, n.anchor)
        for child in n.children:
            self._node(child)

    def _blocks(self, blocks, level: int):
        """Blocks that continue a clause of this level (level 1: lead-in text of a section or appendix)."""
        home = min(level, MAX_CLAUSE_STYLE)
        for b in blocks:
            if isinstance(b, Para):
                if level == 1:
                    p = self._para("Normal")
                else:
                    p = self._para(f"Clause Text {home}", shift=(level - home) * NUMBER_COLUMN)
                self._inlines(p, b.inlines)
            elif isinstance(b, ListBlock):
                self._list(b, 1, (level - 2) * NUMBER_COLUMN)
            elif isinstance(b, Table):
                self._table(b.header, b.rows, indent=(level - 1) * NUMBER_COLUMN)
            elif isinstance(b, Form):
                self._form(b, indent=(level - 1) * NUMBER_COLUMN)

    def _list(self, lst: ListBlock, depth: int, shift, lead: Optional[RNode] = None):
        """A list; `lead`: the clause the list opens, whose number starts the first item's line."""
        home = min(depth, MAX_LIST_STYLE)
        shift += (depth - home) * LIST_STEP
        num = None
        for number, item in enumerate(lst.items, lst.start):
            if lead is None:  # a Word list item; its own list, counting from lst.start
                if num is None:
                    num = self._list_num(lst.style, depth, number)
                p = self._para(f"List Item {home}", "", shift)
                _num_pr(p, num, min(depth, wn.MAX_LEVELS) - 1)
                _pin_indent(p, self.style_indents)
            else:  # the marker as text: no Word numbering, or a clause's number leads this line
                p = self._para(f"List Item {home}", list_marker(lst.style, number) + "\t", shift)
            if lead is not None:
                self._lead(p, lead, shift)
                lead = None
            for i, b in enumerate(item):
                if isinstance(b, Para):
                    if i:
                        p = self._para(f"List Text {home}", shift=shift)
                    self._inlines(p, b.inlines)
                elif isinstance(b, ListBlock):
                    self._list(b, depth + 1, shift)
                elif isinstance(b, Table):
                    self._table(b.header, b.rows, indent=NUMBER_COLUMN + LIST_INSET + depth * LIST_STEP + shift)
                elif isinstance(b, Form):
                    self._form(b, indent=NUMBER_COLUMN + LIST_INSET + depth * LIST_STEP + shift)

    def _lead(self, p, n: RNode, shift):
        """Put clause `n`'s number and bookmark at the start of list item `p` (a level-1 list item
        `shift`ed for the clause's level): the first line hangs out to the number column, then tabs
        to the marker and on to the text, as a clause's number and its first line of text do."""
        if n.label or self.word:
            text = (p.style.paragraph_format.left_indent or 0) + shift
            pf = p.paragraph_format
            pf.left_indent = text
            pf.first_line_indent = -(text - (n.level - 2) * NUMBER_COLUMN)
            wanted = (int(text - LIST_STEP), int(text))  # the marker, the text
            for t in p.style.paragraph_format.tab_stops:  # the style's stop is for an unshifted list
                if int(t.position) not in wanted:
                    pf.tab_stops.add_tab_stop(t.position, WD_TAB_ALIGNMENT.CLEAR)
            stops = {int(t.position) for t in pf.tab_stops}
            for pos in wanted:
                if pos not in stops:
                    pf.tab_stops.add_tab_stop(pos)
            if self.word:
                self._number(p, n)  # the clause's number; the list marker stays text
            else:
                marker = p.runs[0]._r
                marker.addprevious(p.add_run(n.label + "\t")._r)
        self._bookmark(p, n.anchor)

    # ---- tables -----------------------------------------------------------------------------
    def _changes(self):
        """The table of changes in its appendix."""
        if self.doc.history is None or not self.doc.history.rows:
            self._para("Normal", "No changes have been recorded.")
            return
        self._history(self.doc.history)

    def _history(self, h):
        """A HistoryTable (columns, labels and cells computed by resolve), its columns sized by field."""
        self._table([label for _, label in h.columns], h.rows, widths=[HISTORY_WIDTHS[key] for key, _ in h.columns])

    def _review_history(self):
        if not self.doc.review_history:
            self._para("Normal", "No reviews have been recorded.")
            return
        self._table(("Review", "Date"), [(str(i), format_date(d)) for i, d in enumerate(self.doc.review_history, 1)],
                    widths=(3.2, 6))

    def _table(self, header, rows, widths=None, indent=0):
        """A bordered table whose first row is a header repeated on every page. Cells are strings or
        tuples of inlines."""
        ncols = len(header)
        available = self.width - indent
        table = BlockItemContainer.add_table(self.body, 1 + len(rows), ncols, available)
        table.style = self.d.styles["Policy Table"]
        if widths:
            scale = available / sum(Cm(w) for w in widths)
            cols = [int(Cm(w) * scale) for w in widths]
        else:
            cols = [int(available / ncols)] * ncols
        tbl_pr = table._tbl.tblPr
        width = tbl_pr.find(qn("w:tblW"))
        width.set(qn("w:w"), str(int(available / 635)))
        width.set(qn("w:type"), "dxa")
        if indent:
            width.addnext(parse_xml(f'<w:tblInd {nsdecls("w")} w:w="{int(indent / 635)}" w:type="dxa"/>'))
        look = tbl_pr.find(qn("w:tblLook"))  # the style's header-row formatting applies; no banding
        for key, value in (("val", "0420"), ("firstRow", "1"), ("lastRow", "0"), ("firstColumn", "0"),
                           ("lastColumn", "0"), ("noHBand", "1"), ("noVBand", "1")):
            look.set(qn("w:" + key), value)
        for gc, w in zip(table._tbl.tblGrid.gridCol_lst, cols):
            gc.w = w
        for r, cells in enumerate([header] + list(rows)):
            row = table.rows[r]
            trpr = row._tr.get_or_add_trPr()
            trpr.append(parse_xml(f'<w:cantSplit {nsdecls("w")}/>'))
            if r == 0:
                trpr.append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))
            for c, value in enumerate(cells):
                cell = row.cells[c]
                cell.width = cols[c]
                p = cell.paragraphs[0]
                p.style = self.d.styles["Table Text"]
                if isinstance(value, str):
                    self._run(p, value, bold=(r == 0))
                else:
                    self._inlines(p, value, bold=(r == 0))
        self._para("Table Text")  # Word needs a paragraph between a table and what follows

    # ---- forms: label cells and empty entry cells, one line LINE_MM high -----------------------
    def _form_styles(self):
        self._pstyle("Form Label", "Normal", bold=True, before=6, after=2, keep=True)
        self._pstyle("Form Cell", "Normal", before=0, after=2)
        self._pstyle("Form Tick", "Normal", left=FORM_TICK, hanging=FORM_TICK, before=4, after=4)
        self._pstyle("Form Choices", "Normal", before=4, after=4)
        self._pstyle("Form Space", "Normal", size=6, before=0, after=0)

    def _form(self, form: Form, indent=0):
        layout = {FormField: self._form_field, FormSignature: self._form_signature, FormTick: self._form_tick,
                  FormChoices: self._form_choices, FormTable: self._form_table}
        for item in form.items:
            layout[type(item)](item, indent)

    def _form_field(self, f: FormField, indent):
        if f.lines > 1:  # the label above a box of the exact height
            if f.label:
                self._inlines(self._form_para("Form Label", indent), f.label)
            box = self._form_grid([[None]], [1], indent, f.lines, exact=True)
            _cell_borders(box.cell(0, 0), ("top", "left", "bottom", "right"))
        elif f.label:
            grid = self._form_grid([[f.label, None]], [FORM_LABEL_CM, TEXT_WIDTH / Cm(1) - FORM_LABEL_CM], indent, 1)
            _cell_borders(grid.cell(0, 1), ("bottom",))
        else:  # a bare writing line (a line of underscores in the text)
            _cell_borders(self._form_grid([[None]], [1], indent, 1).cell(0, 0), ("bottom",))

    def _form_signature(self, f: FormSignature, indent):
        cells, widths = [f.label, None], [FORM_LABEL_CM, 7.0]
        if f.date:
            cells, widths = cells + [f.date, None], widths + [1.6, 3.6]
        grid = self._form_grid([cells], widths, indent, 1)
        for k in range(1, len(cells), 2):
            _cell_borders(grid.cell(0, k), ("bottom",))

    def _form_tick(self, f: FormTick, indent):
        p = self._form_para("Form Tick", indent)
        self._run(p, TICK_BOX + "\t")
        self._inlines(p, f.label)

    def _form_choices(self, f: FormChoices, indent):
        p = self._form_para("Form Choices", indent)
        if f.label:
            self._inlines(p, f.label, bold=True)
        for k, option in enumerate(f.options):
            self._run(p, ("\u2003" if k or f.label else "") + TICK_BOX + " ")
            self._inlines(p, option)

    def _form_table(self, t: FormTable, indent):
        entries = max(1, len(t.columns))
        rows = ([[()] + list(t.columns)] if t.columns else []) + [[r] + [None] * entries for r in t.rows]
        grid = self._form_grid(rows, [6.0] + [10.6 / entries] * entries, indent, t.lines, header=bool(t.columns),
                               align="top")
        for row in grid.rows:
            for cell in row.cells:
                _cell_borders(cell, ("top", "left", "bottom", "right"))

    def _form_para(self, style: str, indent):
        p = self._para(style)
        if indent:
            pf = p.paragraph_format
            pf.left_indent = (p.style.paragraph_format.left_indent or 0) + indent
        return p

    def _form_grid(self, rows, widths, indent, lines: int, exact: bool = False, header: bool = False,
                   align: str = "bottom"):
        """A borderless table for a form item: `rows` of cells (runs of inlines, or None for an
        entry cell), columns in proportion to `widths`, rows `lines` lines high (at least, or
        `exact`ly: a box to write in), labels `align`ed on the line or at the top; then a small paragraph, so two tables never merge."""
        available = self.width - indent
        table = BlockItemContainer.add_table(self.body, len(rows), len(widths), available)
        cols = [int(available * w / sum(widths)) for w in widths]
        tbl_pr = table._tbl.tblPr
        width = tbl_pr.find(qn("w:tblW"))
        width.set(qn("w:w"), str(int(available / 635)))
        width.set(qn("w:type"), "dxa")
        look = tbl_pr.find(qn("w:tblLook"))
        if indent:
            look.addprevious(parse_xml(f'<w:tblInd {nsdecls("w")} w:w="{int(indent / 635)}" w:type="dxa"/>'))
        look.addprevious(parse_xml(f'<w:tblBorders {nsdecls("w")}>' + "".join(
            f'<w:{side} w:val="nil"/>' for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
            + "</w:tblBorders>"))
        look.addprevious(parse_xml(f'<w:tblLayout {nsdecls("w")} w:type="fixed"/>'))
        for gc, w in zip(table._tbl.tblGrid.gridCol_lst, cols):
            gc.w = w
        height = form_height(lines)
        for r, cells in enumerate(rows):
            row = table.rows[r]
            trpr = row._tr.get_or_add_trPr()
            trpr.append(parse_xml(f'<w:cantSplit {nsdecls("w")}/>'))
            if header and r == 0:
                trpr.append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))
            else:
                trpr.append(parse_xml(f'<w:trHeight {nsdecls("w")} w:val="{height}" '
                                      f'w:hRule="{"exact" if exact else "atLeast"}"/>'))
            for c, value in enumerate(cells):
                cell = row.cells[c]
                cell.width = cols[c]
                p = cell.paragraphs[0]
                p.style = self.d.styles["Form Cell"]
                if value:
                    self._inlines(p, value, bold=True)
                if not (header and r == 0):
                    cell._tc.get_or_add_tcPr().append(parse_xml(f'<w:vAlign {nsdecls("w")} w:val="{align}"/>'))
        self._para("Form Space")
        return table

    # ---- header, footer, properties ----------------------------------------------------------
    def _running_header_footer(self):
        s = self.d.sections[0]
        p = s.header.paragraphs[0]
        p.style = self.d.styles["Header"]
        p.add_run(f"{self.doc.front.running_header}\t{self.doc.org.name}")
        p = s.footer.paragraphs[0]
        p.style = self.d.styles["Footer"]
        p.add_run(self.doc.front.running_footer + "\tPage ")
        _field_begin(p, " PAGE ")
        p.add_run("1")
        _field_end(p)
        p.add_run(" of ")
        _field_begin(p, " NUMPAGES ")
        p.add_run("1")
        _field_end(p)

    def _properties(self):
        doc = self.doc
        cp = self.d.core_properties
        cp.title = doc.title
        cp.subject = f"{doc.kind.capitalize()} {doc.reference}".strip()
        cp.author = cp.last_modified_by = doc.org.name
        cp.keywords = doc.reference
        cp.category = doc.kind
        cp.language = "en-GB"
        cp.revision = 1
        when = (dt.datetime.combine(doc.last_reviewed, dt.time(), dt.timezone.utc) if doc.last_reviewed else EPOCH)
        cp.created = cp.modified = cp.last_printed = when
        self._custom_properties()

    def _custom_properties(self):
        """docProps/custom.xml: which organisation and policy the file was built for, and a digest of
        the text it was built from, so `import-docx` can refuse a file meant for someone else and say
        when the sources have changed since. Word shows them under File > Properties > Custom, and
        Word and LibreOffice keep them when they save."""
        from docx.opc.constants import CONTENT_TYPE as CT
        from docx.opc.packuri import PackURI
        from docx.opc.part import Part

        rows = "".join(
            f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" name="{name}">'
            f"<vt:lpwstr>{_attr(value)}</vt:lpwstr></property>"
            for pid, (name, value) in enumerate(identity(self.doc).items(), 2))
        blob = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
                'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
                f"{rows}</Properties>").encode("utf-8")
        package = self.d.part.package
        package.relate_to(Part(PackURI("/docProps/custom.xml"), CT.OFC_CUSTOM_PROPERTIES, blob, package),
                          RT.CUSTOM_PROPERTIES)

    def _drop_template_parts(self):
        """Drop what python-docx's template carries and no policy uses: its thumbnail (a picture of
        another document), Word 2010's duplicate styles part and bibliography data."""
        for rels, kinds in ((self.d.part.package.rels, (RT.THUMBNAIL,)),
                            (self.d.part.rels, (RT.CUSTOM_XML, STYLES_WITH_EFFECTS))):
            for rid in [rid for rid, rel in rels.items() if rel.reltype in kinds]:
                rels.pop(rid)


_RASTERISED: dict = {}  # sha256 of an SVG logo -> its PNG: a logo is drawn once per process, not per document


def _svg_to_png(svg: bytes, root: Path) -> Optional[bytes]:
    key = hashlib.sha256(svg).hexdigest()
    if key not in _RASTERISED:
        if len(_RASTERISED) >= 64:
            _RASTERISED.clear()
        _RASTERISED[key] = _rasterise(svg, root)
    return _RASTERISED[key]


def _rasterise(svg: bytes, root: Path) -> Optional[bytes]:
    """WeasyPrint draws the SVG (checked at load: no DTD, entities or outside references) on a page
    of its own size from a data: URI, so it reads no file; poppler's pdftoppm rasterises the page."""
    if not shutil.which("pdftoppm"):
        return None
    try:
        el = etree.fromstring(svg, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
        box = el.get("viewBox")
        w, h = ([float(v) for v in re.split(r"[\s,]+", box.strip())][2:] if box else
                [float(re.match(r"[\d.]+", el.get(k)).group()) for k in ("width", "height")])
    except (etree.XMLSyntaxError, TypeError, AttributeError, ValueError):
        return None
    from weasyprint import HTML

    from .pdf import ProjectFetcher

    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    html = (f"<style>@page {{ size: {w}px {h}px; margin: 0 }} body {{ margin: 0 }} "
            f"img {{ display: block; width: {w}px; height: {h}px }}</style><img src='{uri}'>")
    pdf = HTML(string=html, url_fetcher=ProjectFetcher(root)).write_pdf()
    try:
        return subprocess.run(["pdftoppm", "-png", "-singlefile", "-scale-to-y", "360", "-scale-to-x", "-1", "-"],
                              input=pdf, capture_output=True, check=True, timeout=60).stdout
    except subprocess.SubprocessError:
        return None


FORM_LABEL_CM = 5.0  # the label column of a form's fields and signatures
FORM_TICK = Cm(0.7)  # a tick box, then the statement


def form_height(lines: int) -> int:
    """The height of `lines` lines of writing space in twips (model.LINE_MM each)."""
    return round(lines * LINE_MM / 25.4 * 1440)


def _cell_borders(cell, sides):
    """Draw these sides of a cell: the line to write on, or the box."""
    tcpr = cell._tc.get_or_add_tcPr()
    borders = parse_xml(f'<w:tcBorders {nsdecls("w")}>' + "".join(
        f'<w:{side} w:val="single" w:sz="6" w:space="0" w:color="000000"/>' for side in sides) + "</w:tcBorders>")
    width = tcpr.find(qn("w:tcW"))
    if width is not None:
        width.addnext(borders)  # tcBorders follows tcW (and gridSpan) in the schema
    else:
        tcpr.insert(0, borders)


def _no_number_column(p):
    """An unnumbered heading or contents entry: it starts, and wraps, at the margin, and its first tab
    goes to the page number, not to the number column."""
    pf = p.paragraph_format
    pf.left_indent = pf.first_line_indent = 0
    pf.tab_stops.add_tab_stop(NUMBER_COLUMN, WD_TAB_ALIGNMENT.CLEAR)


# ---- XML helpers -------------------------------------------------------------------------------
def _num_pr(p, num_id: int, ilvl: int):
    """Number the paragraph with Word list `num_id` at level `ilvl`."""
    ppr = p._p.get_or_add_pPr()
    ppr.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'))
    _order_ppr(ppr)


def _pin_indent(p, styles: dict):
    """Give a numbered paragraph its style's indents as its own: a numbering level's indents would
    otherwise win over the style's, and Word and LibreOffice would lay it out differently.
    `styles`: a cache, style id -> the style's (left, first line) through its base styles."""
    pf = p.paragraph_format
    left, first = pf.left_indent, pf.first_line_indent
    if left is None or first is None:
        sid = p._p.style
        if sid not in styles:
            st, sl, sf = p.style, None, None
            while st is not None and (sl is None or sf is None):
                sl = st.paragraph_format.left_indent if sl is None else sl
                sf = st.paragraph_format.first_line_indent if sf is None else sf
                st = st.base_style
            styles[sid] = (sl, sf)
        left = styles[sid][0] if left is None else left
        first = styles[sid][1] if first is None else first
    pf.left_indent, pf.first_line_indent = left or 0, first or 0


def _fld_run(kind: str):
    r = OxmlElement("w:r")
    r.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="{kind}"/>'))
    return r


def _field_begin(p, instr: str, into=None):
    """Begin a complex field: begin, instruction, separate; the caller adds the result runs."""
    target = into if into is not None else p._p
    target.append(_fld_run("begin"))
    r = OxmlElement("w:r")
    r.append(parse_xml(f'<w:instrText {nsdecls("w")} xml:space="preserve">{instr}</w:instrText>'))
    target.append(r)
    target.append(_fld_run("separate"))


def _field_end(p, into=None):
    (into if into is not None else p._p).append(_fld_run("end"))


def _set_fonts(rpr, font: str):
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for key in list(fonts.attrib):
        del fonts.attrib[key]
    for key in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(key), font)


# element order required by the schema (Word refuses out-of-order properties)
_PPR_ORDER = ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
              "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
              "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
              "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
              "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr",
              "sectPr", "pPrChange"]


_PPR_RANK = {qn("w:" + name): i for i, name in enumerate(_PPR_ORDER)}


def _order_ppr(ppr):
    rank = _PPR_RANK
    for child in sorted(ppr, key=lambda c: rank.get(c.tag, len(_PPR_ORDER))):
        ppr.append(child)  # appending an element moves it
