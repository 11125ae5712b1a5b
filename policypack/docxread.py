"""Reading a DOCX that comes back from a school: untrusted, read within bounds, as Word shows it.

The file is a zip of XML parts written by whoever last saved it, so it is read as hostile:
- the file, the number of entries, each part and the whole are bounded, by the sizes the zip
  declares and by the bytes actually inflated (a part that inflates past its bound, or far more
  than it was compressed, is a zip bomb);
- a macro project (vbaProject, a macro-enabled content type), a relationship to something outside
  the file other than a hyperlink (a template, an OLE object, a linked picture, a subdocument),
  and a DTD in any part are refused;
- XML is parsed by lxml without entities, DTDs or network access, and without its huge-tree mode.
Nothing in the file is ever run, fetched or written anywhere.

Text is read as Word shows it with every tracked change accepted: w:ins and w:moveTo kept,
w:del and w:moveFrom dropped, a paragraph whose mark was deleted joined to the next. Numbers that
Word's numbering draws are not text, so they are not read; field results (a REF's number) are.
"""
from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from lxml import etree

MAX_FILE = 25 * 1024 * 1024  # the .docx itself
MAX_ENTRIES = 1000
MAX_PART = 32 * 1024 * 1024  # one part, inflated
MAX_TOTAL = 128 * 1024 * 1024  # every part, inflated
MAX_RATIO = 200  # inflated / compressed, for parts above RATIO_FLOOR: XML compresses 5-30 times
RATIO_FLOOR = 1024 * 1024
MAX_PARAGRAPHS = 50_000

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def w(tag: str) -> str:
    return f"{{{W}}}{tag}"


class Refused(Exception):
    """The file cannot be read safely, or is not what it should be; the message says why and what to do."""


def _parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


class Package:
    """The parts of a DOCX, checked as the module docstring says. `part(name)` gives parsed XML."""

    def __init__(self, data: bytes):
        if len(data) > MAX_FILE:
            raise Refused(f"the file is {len(data) // (1024 * 1024)} MB; a policy's DOCX is far smaller "
                          f"(the limit is {MAX_FILE // (1024 * 1024)} MB)")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise Refused(f"it is not a Word (.docx) file: {exc}") from None
        if len(infos) > MAX_ENTRIES:
            raise Refused(f"it holds {len(infos)} parts; a policy's DOCX holds a few dozen (limit {MAX_ENTRIES})")
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise Refused("it holds two parts with the same name, which Word never writes")
        total = 0
        for info in infos:
            if info.file_size > MAX_PART:
                raise Refused(f"its part '{info.filename}' would inflate to {info.file_size // (1024 * 1024)} MB "
                              f"(limit {MAX_PART // (1024 * 1024)} MB)")
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise Refused(f"its part '{info.filename}' inflates {info.file_size // max(info.compress_size, 1)} "
                              "times: a zip bomb, not a document")
            total += info.file_size
            low = info.filename.lower()
            if "vbaproject" in low or low.endswith((".bin",)) and "vba" in low:
                raise Refused("it holds a macro project (vbaProject.bin); save it as a plain Word document "
                              "(.docx), not a macro-enabled one (.docm)")
        if total > MAX_TOTAL:
            raise Refused(f"its parts would inflate to {total // (1024 * 1024)} MB in all "
                          f"(limit {MAX_TOTAL // (1024 * 1024)} MB)")
        self.names = set(names)
        self.inflated = 0
        self._check_types()
        self._check_relationships()

    def raw(self, name: str) -> Optional[bytes]:
        if name not in self.names:
            return None
        out = bytearray()
        try:
            with self.zip.open(name) as f:
                while True:
                    chunk = f.read(65536)
                    if not chunk:
                        break
                    out += chunk
                    self.inflated += len(chunk)
                    if len(out) > MAX_PART or self.inflated > MAX_TOTAL:
                        raise Refused(f"its part '{name}' inflates past what its zip entry declares: a zip "
                                      "bomb, not a document")
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError,
                ValueError) as exc:  # damaged, encrypted, or compressed in a way Word never uses
            raise Refused(f"its part '{name}' cannot be read ({exc}); open the file in Word and save it "
                          "again") from None
        return bytes(out)

    def part(self, name: str):
        """The parsed root of part `name`, or None when the file has no such part."""
        data = self.raw(name)
        if data is None:
            return None
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise Refused(f"its part '{name}' declares a DTD or entities, which Word never writes (an XML "
                          "external-entity attack); it was not read")
        try:
            return etree.fromstring(data, _parser())
        except etree.XMLSyntaxError as exc:
            raise Refused(f"its part '{name}' is not well-formed XML ({exc})") from None

    def _check_types(self):
        types = self.part("[Content_Types].xml")
        if types is None:
            raise Refused("it has no [Content_Types].xml, so it is not a Word (.docx) file")
        main = None
        for el in types:
            ctype = (el.get("ContentType") or "").lower()
            if "macroenabled" in ctype or "vbaproject" in ctype or "activex" in ctype:
                raise Refused("it is a macro-enabled document (.docm) or holds active content; save it as a "
                              "plain Word document (.docx)")
            if el.get("PartName") == "/word/document.xml":
                main = el.get("ContentType")
        if main != MAIN_TYPE:
            raise Refused("it has no Word document part (word/document.xml); save it as a Word document (.docx)")

    def _check_relationships(self):
        self.hyperlinks = {}  # rId -> target of word/document.xml's external hyperlinks
        for name in sorted(self.names):
            if not name.endswith(".rels"):
                continue
            rels = self.part(name)
            for rel in rels if rels is not None else ():
                if (rel.get("TargetMode") or "").lower() != "external":
                    continue
                if rel.get("Type") != HYPERLINK:
                    kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
                    raise Refused(f"it links to something outside the file ({kind} -> "
                                  f"{(rel.get('Target') or '')[:80]}), which Word would fetch when opening it; "
                                  "save a copy without linked templates, pictures or objects")
                if name == "word/_rels/document.xml.rels":
                    self.hyperlinks[rel.get("Id")] = rel.get("Target") or ""

    def custom_properties(self) -> dict:
        root = self.part("docProps/custom.xml")
        out = {}
        for prop in root if root is not None else ():
            value = prop.find(f"{{{VT}}}lpwstr")
            if prop.get("name") and value is not None:
                out[prop.get("name")] = value.text or ""
        return out


# ---- paragraphs ---------------------------------------------------------------------------------
@dataclass
class Paragraph:
    text: str = ""  # as Word shows it, tracked changes accepted
    md: str = ""  # the same as Markdown: emphasis, links and cross-references as source writes them
    bookmarks: list = field(default_factory=list)
    comments: list = field(default_factory=list)  # comment ids anchored here
    style: str = ""
    num: Optional[tuple] = None  # (numId, ilvl) when Word numbers it (its own or its style's numbering)
    bullet: bool = False  # Word draws a bullet before it (else a number or letter, when `num`)
    mark_deleted: bool = False

    @property
    def empty(self) -> bool:
        return not self.text.strip()


_MD_SPECIAL = re.compile(r"([\\`*\[\]<>])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_UNDERSCORES = re.compile(r"(?<!_)_{1,2}(?!_)")


def md_escape(text: str) -> str:
    """Text as Markdown that prints it as it is (runs of three or more underscores are lines to
    write on, printed as they are, so they stay)."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _ENTITY.sub("&amp;", text)
    return _UNDERSCORES.sub(lambda m: "\\_" * len(m[0]), text)


class _Reader:
    def __init__(self, pkg: Package, refs: dict, links: dict):
        self.pkg = pkg
        self.refs = refs  # bookmark name -> clause id (REF fields)
        self.links = links  # (file, bookmark) -> "policy:clause" (links to another policy of the pack)
        self.style_num = {}
        self.bullets = set()  # (numId, ilvl) that Word draws as bullets
        numbering = pkg.part("word/numbering.xml")
        if numbering is not None:
            abstract = {a.get(w("abstractNumId")): {lvl.get(w("ilvl")) for lvl in a.iter(w("lvl"))
                                                    if lvl.find(w("numFmt")) is not None
                                                    and lvl.find(w("numFmt")).get(w("val")) == "bullet"}
                        for a in numbering.iter(w("abstractNum"))}
            for num in numbering.iter(w("num")):
                ref = num.find(w("abstractNumId"))
                for ilvl in abstract.get(ref.get(w("val")) if ref is not None else None, ()):
                    self.bullets.add((num.get(w("numId")), int(ilvl) if (ilvl or "").isdigit() else -1))
        styles = pkg.part("word/styles.xml")
        for st in styles.iter(w("style")) if styles is not None else ():
            num = st.find(f"{w('pPr')}/{w('numPr')}")
            if num is not None:
                self.style_num[st.get(w("styleId"))] = _num(num)

    def paragraphs(self, body) -> list:
        out, carry = [], None
        for p in _body_paragraphs(body):
            para = self.paragraph(p)
            if carry is not None:  # the previous paragraph's mark was deleted: it joins this one
                para.text, para.md = carry.text + para.text, carry.md + para.md
                para.bookmarks = carry.bookmarks + para.bookmarks
                para.comments = carry.comments + para.comments
                carry = None
            if para.mark_deleted:
                if para.empty:  # a whole paragraph deleted: nothing of it remains, not even its bookmarks
                    continue
                carry = para
                continue
            out.append(para)
            if len(out) > MAX_PARAGRAPHS:
                raise Refused(f"it has more than {MAX_PARAGRAPHS} paragraphs; a policy has a few hundred")
        if carry is not None:
            out.append(carry)
        return out

    def paragraph(self, p) -> Paragraph:
        para = Paragraph()
        ppr = p.find(w("pPr"))
        if ppr is not None:
            st = ppr.find(w("pStyle"))
            para.style = st.get(w("val"), "") if st is not None else ""
            num = ppr.find(w("numPr"))
            para.num = _num(num) if num is not None else self.style_num.get(para.style)
            mark = ppr.find(w("rPr"))
            if mark is not None and (mark.find(w("del")) is not None or mark.find(w("moveFrom")) is not None):
                para.mark_deleted = True
        if para.num is not None and para.num[0] == "0":
            para.num = None
        para.bullet = para.num is not None and para.num in self.bullets
        self.fields = []  # [instr, phase ("instr" | "result"), emitted]
        self.pieces = []  # (text, bold, italic, link) for Markdown
        self.link = None
        self._content(p, para)
        para.md = _markdown(self.pieces)
        return para

    def _content(self, el, para):
        for child in el:
            tag = child.tag
            if tag in (w("del"), w("moveFrom"), w("pPr"), w("rPr")):
                continue
            if tag == w("r"):
                self._run(child, para)
            elif tag == w("bookmarkStart"):
                para.bookmarks.append(child.get(w("name"), ""))
            elif tag == w("commentRangeStart"):
                para.comments.append(child.get(w("id")))
            elif tag == w("hyperlink"):
                before = self.link
                self.link = self._target(child)
                self._content(child, para)
                self.link = before
            elif tag == w("fldSimple"):
                self.fields.append([child.get(w("instr"), ""), "result", False])
                self._field_result()
                self._content(child, para)
                self.fields.pop()
            elif tag in (w("ins"), w("moveTo"), w("smartTag"), w("customXml"), w("sdt"), w("sdtContent"),
                         w("dir"), w("bdo")):
                self._content(child, para)

    def _target(self, link):
        """What a hyperlink points at, as Markdown: ("url", target), ("ref", "policy:clause") or None."""
        rid = link.get(f"{{{R}}}id")
        if rid is None:
            return None
        target = self.pkg.hyperlinks.get(rid, "")
        anchor = link.get(w("anchor"), "")
        if (target, anchor) in self.links:
            return ("ref", self.links[(target, anchor)])
        if re.match(r"(https|mailto|tel):", target, re.I):
            return ("url", target)
        return None

    def _field_result(self):
        """At a field's result: a REF to a clause of this document is written as ref() once."""
        f = self.fields[-1]
        words = f[0].split()
        if len(words) >= 2 and words[0].upper() == "REF" and words[1] in self.refs:
            f[2] = True
            self.pieces.append(("{{ ref('" + self.refs[words[1]] + "') }}", False, False, None, True))

    def _run(self, r, para):
        rpr = r.find(w("rPr"))
        bold = _on(rpr, "b")
        italic = _on(rpr, "i")
        for child in r:
            tag = child.tag
            if tag == w("fldChar"):
                kind = child.get(w("fldCharType"))
                if kind == "begin":
                    self.fields.append(["", "instr", False])
                elif kind == "separate" and self.fields:
                    self.fields[-1][1] = "result"
                    self._field_result()
                elif kind == "end" and self.fields:
                    self.fields.pop()
                continue
            if tag == w("instrText"):
                if self.fields and self.fields[-1][1] == "instr":
                    self.fields[-1][0] += child.text or ""
                continue
            if tag == w("commentReference"):
                if child.get(w("id")) not in para.comments:
                    para.comments.append(child.get(w("id")))
                continue
            text = {w("t"): None, w("tab"): "\t", w("cr"): "\n", w("noBreakHyphen"): "\u2011",
                    w("softHyphen"): ""}.get(tag, "")
            if tag == w("t"):
                text = child.text or ""
            elif tag == w("br"):
                text = "" if child.get(w("type")) in ("page", "column") else "\n"
            if not text:
                continue
            if any(f[1] == "instr" for f in self.fields):
                continue  # a field's instruction, not what it shows
            para.text += text
            hidden = any(f[2] for f in self.fields)  # the result of a REF, written as ref()
            if not hidden:
                self.pieces.append((text, bold, italic, self.link, False))


def _on(rpr, tag: str) -> bool:
    if rpr is None:
        return False
    el = rpr.find(w(tag))
    return el is not None and el.get(w("val"), "true") not in ("0", "false", "off")


def _num(num) -> tuple:
    nid, ilvl = num.find(w("numId")), num.find(w("ilvl"))
    return (nid.get(w("val"), "0") if nid is not None else "0", int(ilvl.get(w("val"), "0") or 0)
            if ilvl is not None and (ilvl.get(w("val"), "0") or "0").isdigit() else 0)


def _body_paragraphs(body):
    """The body's paragraphs in order, inside content controls too; tables (forms, the table of
    changes, the key message box) are not clause text and are skipped."""
    for child in body:
        if child.tag == w("p"):
            yield child
        elif child.tag in (w("sdt"), w("sdtContent"), w("customXml"), w("ins"), w("moveTo")):
            yield from _body_paragraphs(child)


def _markdown(pieces) -> str:
    """Markdown from (text, bold, italic, link, literal) pieces: neighbours with the same formatting
    joined, emphasis marks kept off the spaces at either end."""
    groups = []
    for text, bold, italic, link, literal in pieces:
        key = (bold, italic, link, literal)
        if groups and groups[-1][0] == key and not literal:
            groups[-1][1] += text
        else:
            groups.append([key, text])
    out = []
    for (bold, italic, link, literal), text in groups:
        if literal:
            out.append(text)
            continue
        if link is not None and link[0] == "ref":
            out.append("{{ ref('" + link[1] + "') }}")
            continue
        lead, core, trail = re.match(r"(\s*)(.*?)(\s*)$", text, re.S).groups()
        core = md_escape(core)
        if core and (bold or italic):
            mark = "***" if bold and italic else "**" if bold else "*"
            core = f"{mark}{core}{mark}"
        if core and link is not None:
            core = f"[{core}]({link[1].replace(')', '%29').replace(' ', '%20')})"
        out.append(lead + core + trail)
    return "".join(out)


def read(pkg: Package, refs: dict, links: dict) -> tuple:
    """(paragraphs of the body, comments {id: (author, text)})."""
    doc = pkg.part("word/document.xml")
    body = doc.find(w("body")) if doc is not None else None
    if body is None:
        raise Refused("its word/document.xml has no body")
    paras = _Reader(pkg, refs, links).paragraphs(body)
    comments = {}
    root = pkg.part("word/comments.xml")
    for c in root.iter(w("comment")) if root is not None else ():
        text = "\n".join("".join(t.text or "" for t in p.iter(w("t"))) for p in c.iter(w("p")))
        comments[c.get(w("id"))] = (c.get(w("author"), ""), text.strip())
    return paras, comments


def open_docx(path: Path) -> Package:
    """The file at `path` as a Package: a regular file, read no further than MAX_FILE bytes (a
    device or a pipe is refused rather than read for ever)."""
    import stat

    path = Path(path)
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise Refused("it is not a regular file")
            data = f.read(MAX_FILE + 1)
    except OSError as exc:
        raise Refused(f"cannot read it: {exc.strerror or exc}") from None
    return Package(data)
