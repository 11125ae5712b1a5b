"""A PDF/UA-1 checker for the rules a machine can check, built on pikepdf.

`check(path)` returns messages such as "page 3: link annotation not inside a Link tag", one list
per rule (`RULES`); an empty list everywhere means the PDF passes. Run it on files:

    python tests/pdfua.py outputs/*/*.pdf

Text is decoded through the fonts' /ToUnicode maps (policypack.render.pdf_tags.page_texts) only
to tell leader dots from content.
"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from policypack.render.pdf_tags import LEADER, page_texts  # noqa: E402

HEADINGS = {"/H", "/H1", "/H2", "/H3", "/H4", "/H5", "/H6"}
TEXT_OPS = {"Tj", "TJ", "'", '"'}


# ---- reading the tree -------------------------------------------------------------------------
def _kids(elem) -> list:
    k = elem.get("/K")
    return [] if k is None else list(k) if isinstance(k, Array) else [k]


def _is_elem(k) -> bool:
    return isinstance(k, Dictionary) and "/S" in k


def _mcid(k):
    if isinstance(k, int):
        return int(k)
    if isinstance(k, Dictionary) and k.get("/Type") == "/MCR":
        return int(k.MCID)
    return None


class Doc:
    """A PDF and its structure tree, read once for all the rules."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf
        self.page_no = {p.objgen: i + 1 for i, p in enumerate(pdf.pages)}
        self.root = pdf.Root.get("/StructTreeRoot")
        self.elems: list[tuple[Dictionary, tuple[str, ...]]] = []  # (element, S of its ancestors)
        self.content: dict[tuple[int, int], Dictionary] = {}  # (page, mcid) -> element holding it
        if self.root is not None:
            self._walk(self.root, ())
        self._texts: dict[int, dict[int, str]] = {}

    def _walk(self, elem, above: tuple) -> None:
        for k in _kids(elem):
            if _is_elem(k):
                self.elems.append((k, above))
                self._walk(k, above + (str(k.S),))
            elif (m := _mcid(k)) is not None:
                pg = k.get("/Pg") if isinstance(k, Dictionary) else None
                pg = pg if pg is not None else elem.get("/Pg")
                if pg is not None:
                    self.content[(self.page_no.get(pg.objgen, 0), m)] = elem

    def page_of(self, elem) -> int:
        return self.page_no.get(elem.Pg.objgen, 0) if "/Pg" in elem else 0

    def where(self, elem) -> str:
        return f"page {self.page_of(elem)}"

    def text(self, page: int, mcid: int) -> str:
        if page not in self._texts:
            self._texts[page] = page_texts(self.pdf, self.pdf.pages[page - 1])
        return self._texts[page].get(mcid, "")

    def parent_tree(self) -> dict[int, object]:
        nums = {}
        stack = [self.root.ParentTree] if self.root is not None and "/ParentTree" in self.root else []
        while stack:
            node = stack.pop()
            n = list(node.get("/Nums", []))
            nums.update({int(n[i]): n[i + 1] for i in range(0, len(n) - 1, 2)})
            stack += list(node.get("/Kids", []))
        return nums


# ---- the rules: each returns messages ---------------------------------------------------------
def document(doc: Doc) -> list[str]:
    """Tagged (MarkInfo/Marked), a structure tree, a language, the title shown, PDF/UA-1 declared."""
    root, out = doc.pdf.Root, []
    if not bool(root.get("/MarkInfo", {}).get("/Marked", False)):
        out.append("document: MarkInfo /Marked is not true")
    if doc.root is None:
        out.append("document: no StructTreeRoot")
    if not str(root.get("/Lang", "")).strip():
        out.append("document: no /Lang")
    if not bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle", False)):
        out.append("document: ViewerPreferences /DisplayDocTitle is not true")
    meta = root.Metadata.read_bytes() if "/Metadata" in root else b""
    if b"pdfuaid" not in meta or b"<dc:title>" not in meta:
        out.append("document: XMP metadata lacks pdfuaid:part or dc:title")
    return out


def annotations(doc: Doc) -> list[str]:
    """Each annotation has a /StructParent whose element (Link for links, Annot or Form otherwise)
    holds an OBJR to it; links are described by /Contents that is not their target id."""
    out = []
    tree = doc.parent_tree()
    for n, page in enumerate(doc.pdf.pages, 1):
        for a in page.get("/Annots", []):
            kind = a.get("/Subtype")
            if kind == "/Popup":
                continue
            want = ("/Link",) if kind == "/Link" else ("/Annot", "/Form")
            elem = tree.get(int(a.StructParent)) if "/StructParent" in a else None
            ok = (isinstance(elem, Dictionary) and elem.get("/S") in want
                  and any(isinstance(k, Dictionary) and k.get("/Type") == "/OBJR" and k.Obj.objgen == a.objgen
                          for k in _kids(elem)))
            if not ok:
                out.append(f"page {n}: {str(kind)[1:].lower()} annotation not inside a {want[0][1:]} tag")
            if kind == "/Link":
                text = str(a.get("/Contents", "")).strip()
                target = str(a.get("/Dest", a.get("/A", {}).get("/URI", "")))
                if not text or (text == target and "/Dest" in a):
                    out.append(f"page {n}: link annotation described by {text or 'nothing'!r}, not by words")
    return out


def table_headers(doc: Doc) -> list[str]:
    """Each TH has /Scope (attribute owner Table)."""
    out = []
    for e, _ in doc.elems:
        if e.S == "/TH":
            attrs = e.get("/A")
            attrs = [attrs] if isinstance(attrs, Dictionary) else list(attrs or [])
            if not any(isinstance(a, Dictionary) and a.get("/O") == "/Table" and "/Scope" in a for a in attrs):
                out.append(f"{doc.where(e)}: table header cell without /Scope")
    return out


def list_items(doc: Doc) -> list[str]:
    """LI holds only Lbl and LBody."""
    return [f"{doc.where(e)}: list item holds {k.S}, not Lbl or LBody"
            for e, _ in doc.elems if e.S == "/LI" for k in _kids(e) if not (_is_elem(k) and k.S in ("/Lbl", "/LBody"))]


def headings(doc: Doc) -> list[str]:
    """No heading inside a heading."""
    return [f"{doc.where(e)}: {str(e.S)[1:]} inside {next(a for a in above if a in HEADINGS)[1:]}"
            for e, above in doc.elems if e.S in HEADINGS and HEADINGS.intersection(above)]


def links(doc: Doc) -> list[str]:
    """No link inside a link, and no leader dots tagged as a link's content."""
    out = [f"{doc.where(e)}: Link inside Link" for e, above in doc.elems if e.S == "/Link" and "/Link" in above]
    leaders = Counter(page for (page, mcid), e in doc.content.items()
                      if _in_link(e) and LEADER.fullmatch(doc.text(page, mcid) or "x"))
    return out + [f"page {page}: {n} runs of leader dots tagged as link text, not artifacts"
                  for page, n in sorted(leaders.items())]


def _in_link(elem) -> bool:
    while isinstance(elem, Dictionary) and "/S" in elem:
        if elem.S == "/Link":
            return True
        elem = elem.get("/P")
    return False


def figures(doc: Doc) -> list[str]:
    """Figures have /Alt or /ActualText."""
    return [f"{doc.where(e)}: Figure without alternative text"
            for e, _ in doc.elems if e.S == "/Figure" and not (str(e.get("/Alt", "")) or str(e.get("/ActualText", "")))]


def content(doc: Doc) -> list[str]:
    """Every marked-content sequence with an MCID is in the tree (the parent tree agreeing), all
    else is an /Artifact, and no text is drawn outside both."""
    out = []
    tree = doc.parent_tree()
    for n, page in enumerate(doc.pdf.pages, 1):
        mapping = tree.get(int(page.StructParents)) if "/StructParents" in page else None
        mapping = list(mapping) if isinstance(mapping, Array) else []
        stack: list[str] = []
        loose = orphans = 0
        for op in pikepdf.parse_content_stream(page):
            name = str(op.operator)
            if name in ("BDC", "BMC"):
                tag = str(op.operands[0])
                props = op.operands[1] if name == "BDC" else None
                if isinstance(props, Dictionary) and "/MCID" in props:
                    m = int(props.MCID)
                    elem = doc.content.get((n, m))
                    if elem is None or m >= len(mapping) or not isinstance(mapping[m], Dictionary) \
                            or mapping[m].objgen != elem.objgen:
                        orphans += 1
                    stack.append("tagged")
                else:
                    stack.append("artifact" if tag == "/Artifact" else "untagged")
            elif name == "EMC" and stack:
                stack.pop()
            elif name in TEXT_OPS and not ({"tagged", "artifact"} & set(stack)):
                loose += 1
        if orphans:
            out.append(f"page {n}: {orphans} marked-content sequences neither in the structure tree nor artifacts")
        if loose:
            out.append(f"page {n}: {loose} text operators outside any tag or artifact")
    return out


RULES = (document, annotations, table_headers, list_items, headings, links, figures, content)


def check(path) -> dict[str, list[str]]:
    """Each rule's messages for the PDF at `path` (empty lists when it passes)."""
    with pikepdf.open(path) as pdf:
        doc = Doc(pdf)
        return {rule.__name__: rule(doc) for rule in RULES}


def tables(path) -> int:
    """How many Table elements the PDF has (one per table of the page it was printed from)."""
    with pikepdf.open(path) as pdf:
        return sum(1 for e, _ in Doc(pdf).elems if e.S == "/Table")


def link_annotations(path, page: int) -> int:
    """How many link annotations page `page` (from 1) carries."""
    with pikepdf.open(path) as pdf:
        return sum(1 for a in pdf.pages[page - 1].get("/Annots", []) if a.get("/Subtype") == "/Link")


if __name__ == "__main__":
    totals: Counter = Counter()
    for arg in sys.argv[1:]:
        for rule, messages in check(arg).items():
            totals[rule] += len(messages)
            for m in messages:
                print(f"{arg}: {rule}: {m}")
    print(", ".join(f"{r.__name__}: {totals[r.__name__]}" for r in RULES))
