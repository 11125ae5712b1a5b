"""The PDF's structure tree, finished after WeasyPrint: what its tagger cannot express for PDF/UA-1.

WeasyPrint (70) tags each page's boxes as it lays them out. These gaps are left, each fixed here
over the written PDF with pikepdf, in one pass with no clock or randomness (same input, same bytes;
docs/accessibility.md says why each is needed and where upstream stands):

- running headers and footers (@page margin boxes) are marked content whose tags hang outside the
  tree: they become /Artifact (pagination);
- contents leaders (`leader()`) are text inside the link: marked content made only of leader
  characters inside a Link becomes /Artifact (layout);
- a box placed first and absolutely (the hanging numbers) makes WeasyPrint wrap the rest of its
  element in an anonymous box of the same element, so a heading holds a heading and a link a link:
  such a nested H, Hn or Link gives its kids to its parent;
- a list item whose content is a paragraph holds Lbl + P: what is not Lbl or LBody is wrapped in
  an LBody;
- header cells carry no /Scope: a TH in a THead heads its column, any other its row;
- a table broken over pages is one Table element per page, the header repeated on the next page
  tagged as content: the part on the next page joins the first, its repeated header becomes an
  artifact and its cells point at the first part's header cells;
- link annotations are described by their target id: each gets the text its writer gives
  (`descriptions`, see pdf.render_pdf).

The parent tree is rebuilt from the finished tree. Empty elements are removed.
"""
from __future__ import annotations

import io
import re

import pikepdf
from pikepdf import Array, Dictionary, Name

HEADINGS = frozenset(["/H", "/H1", "/H2", "/H3", "/H4", "/H5", "/H6"])
LEADER = re.compile(r"[\s.·…_\-‧•]+")
PAGINATION = Dictionary(Type=Name.Pagination)
LAYOUT = Dictionary(Type=Name.Layout)


def finish_tags(data: bytes, descriptions: list[list[str]] | None = None) -> bytes:
    """The PDF `data` with its structure tree made PDF/UA-1 conformant (see the module docstring).
    `descriptions[i]` are the /Contents of page i's link annotations, in the order WeasyPrint
    wrote them."""
    pdf = pikepdf.open(io.BytesIO(data))
    if "/StructTreeRoot" not in pdf.Root:
        return data
    tree = _Tree(pdf)
    tree.flatten_nested()
    tree.wrap_list_bodies()
    tree.scope_headers()
    tree.join_split_tables()
    tree.leaders_to_artifacts()
    tree.prune()
    tree.rewrite_content()
    tree.rebuild_parent_tree()
    if descriptions:
        _describe_links(pdf, descriptions)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def kids(elem) -> Array:
    """An element's /K as an array (made one in place when it was a single kid)."""
    k = elem.get("/K")
    if k is None:
        elem.K = Array()
    elif not isinstance(k, Array):
        elem.K = Array([k])
    return elem.K


def is_elem(k) -> bool:
    return isinstance(k, Dictionary) and "/S" in k


def mcid_of(k) -> int | None:
    """The MCID a kid of a structure element marks (an integer or an /MCR), else None."""
    if isinstance(k, int):
        return int(k)
    if isinstance(k, Dictionary) and k.get("/Type") == "/MCR":
        return int(k.MCID)
    return None


def page_texts(pdf: pikepdf.Pdf, page) -> dict[int, str]:
    """The text of each marked-content sequence (by MCID) of a page, decoded through the fonts'
    /ToUnicode maps (WeasyPrint writes two-byte Identity-H fonts)."""
    fonts = page.Resources.get("/Font", Dictionary())
    maps: dict[str, dict[int, str]] = {}
    texts: dict[int, list[str]] = {}
    stack: list[int | None] = []
    font = None
    for op in pikepdf.parse_content_stream(page):
        name = str(op.operator)
        if name in ("BDC", "BMC"):
            props = op.operands[1] if name == "BDC" and len(op.operands) > 1 else None
            stack.append(int(props.MCID) if isinstance(props, Dictionary) and "/MCID" in props else None)
        elif name == "EMC" and stack:
            stack.pop()
        elif name == "Tf":
            key = str(op.operands[0])
            if key not in maps:
                maps[key] = _unicode_map(fonts.get(key))
            font = maps[key]
        elif name in ("Tj", "TJ", "'", '"') and stack and stack[-1] is not None and font is not None:
            parts = op.operands[-1]
            strings = [p for p in parts if isinstance(p, pikepdf.String)] if isinstance(parts, Array) else [parts]
            for s in strings:
                raw = bytes(s)
                texts.setdefault(stack[-1], []).append(
                    "".join(font.get(int.from_bytes(raw[i:i + 2], "big"), "") for i in range(0, len(raw) - 1, 2)))
    return {m: "".join(t) for m, t in texts.items()}


def _unicode_map(font) -> dict[int, str]:
    if font is None or "/ToUnicode" not in font:
        return {}
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    out: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            out[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be", "replace")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            start = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = chr(start + i)
    return out


class _Tree:
    """The structure tree of one PDF, with the MCIDs turned into artifacts page by page."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf
        self.root = pdf.Root.StructTreeRoot
        self.page_index = {p.objgen: i for i, p in enumerate(pdf.pages)}
        self.artifacts: dict[int, dict[int, Dictionary]] = {}  # page -> mcid -> artifact properties
        self._texts: dict[int, dict[int, str]] = {}

    # -- walking --------------------------------------------------------------------------------
    def walk(self, elem=None):
        """Every structure element under `elem` (the root by default), parents first."""
        for k in list(kids(elem if elem is not None else self.root)):
            if is_elem(k):
                yield k
                yield from self.walk(k)

    def page_of(self, elem, kid) -> int | None:
        pg = kid.get("/Pg") if isinstance(kid, Dictionary) else None
        pg = pg if pg is not None else elem.get("/Pg")
        return None if pg is None else self.page_index.get(pg.objgen)

    def contents(self, elem):
        """(page, mcid) of every marked-content kid under `elem`, in order."""
        for k in kids(elem):
            if is_elem(k):
                yield from self.contents(k)
            elif (m := mcid_of(k)) is not None:
                yield self.page_of(elem, k), m

    def text(self, page: int, mcid: int) -> str:
        if page not in self._texts:
            self._texts[page] = page_texts(self.pdf, self.pdf.pages[page])
        return self._texts[page].get(mcid, "")

    # -- moving kids ----------------------------------------------------------------------------
    def _movable(self, kid, src, dst):
        """`kid` of `src` as a kid of `dst`: a bare MCID becomes an /MCR when the pages differ."""
        if isinstance(kid, int) and src.get("/Pg") is not None and (
                dst.get("/Pg") is None or src.Pg.objgen != dst.Pg.objgen):
            return Dictionary(Type=Name.MCR, Pg=src.Pg, MCID=kid)
        return kid

    def splice(self, parent, index: int, child) -> None:
        """Put `child`'s kids in its place among `parent`'s kids."""
        moved = [self._movable(k, child, parent) for k in kids(child)]
        k = kids(parent)
        parent.K = Array(list(k[:index]) + moved + list(k[index + 1:]))

    def to_artifact(self, elem, props: Dictionary) -> None:
        """Every marked-content sequence under `elem` becomes an artifact."""
        for page, mcid in self.contents(elem):
            if page is not None:
                self.artifacts.setdefault(page, {})[mcid] = props
        elem.K = Array()

    # -- the fixes ------------------------------------------------------------------------------
    def flatten_nested(self) -> None:
        """A heading inside a heading, or a link inside a link, gives its kids to its parent."""
        def visit(elem, heading: bool, link: bool) -> None:
            i = 0
            while i < len(kids(elem)):
                k = elem.K[i]
                if is_elem(k) and ((heading and k.S in HEADINGS) or (link and k.S == "/Link")):
                    self.splice(elem, i, k)
                    continue
                if is_elem(k):
                    visit(k, heading or k.S in HEADINGS, link or k.S == "/Link")
                i += 1
        visit(self.root, False, False)

    def wrap_list_bodies(self) -> None:
        """A list item's kids other than Lbl and LBody go into an LBody."""
        for li in list(self.walk()):
            if li.S != "/LI":
                continue
            out, run = [], []
            for k in list(kids(li)) + [None]:
                if k is None or (is_elem(k) and k.S in ("/Lbl", "/LBody")):
                    if run:
                        body = self.pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.LBody, P=li,
                                                                 K=Array(run)))
                        if "/Pg" in li:
                            body.Pg = li.Pg
                        out.append(body)
                        run = []
                    if k is not None:
                        out.append(k)
                else:
                    run.append(k)
            li.K = Array(out)

    def scope_headers(self) -> None:
        """TH gets /Scope: /Column in a THead, /Row elsewhere (the table's first cells of its rows)."""
        def visit(elem, in_head: bool) -> None:
            for k in kids(elem):
                if not is_elem(k):
                    continue
                if k.S == "/TH":
                    attrs = k.get("/A")
                    if not isinstance(attrs, Dictionary) or attrs.get("/O") != "/Table":
                        attrs = k.A = Dictionary(O=Name.Table)
                    if "/Scope" not in attrs:
                        attrs.Scope = Name.Column if in_head else Name.Row
                visit(k, in_head or k.S == "/THead")
        visit(self.root, False)

    def join_split_tables(self) -> None:
        """A Table that holds a page's last content, followed by a captionless Table opening with
        a THead that holds the next page's first content, is one table broken by the page: the
        second joins the first and its repeated header becomes an artifact."""
        first: dict[int, object] = {}
        last: dict[int, object] = {}
        tables = []
        for elem in self.walk():
            if elem.S == "/Table":
                tables.append(elem)
            for k in kids(elem):
                if (m := mcid_of(k)) is not None and (page := self.page_of(elem, k)) is not None:
                    first.setdefault(page, elem)
                    last[page] = elem
        def inside(elem, table) -> bool:
            return any(e.objgen == elem.objgen for e in self.walk(table))
        previous = None
        for table in tables:
            t_kids = [k for k in kids(table) if is_elem(k)]
            pages = {p for p, _ in self.contents(table)}
            if (previous is not None and t_kids and t_kids[0].S == "/THead"
                    and not any(k.S == "/Caption" for k in t_kids) and len(pages) == 1):
                page = pages.pop()
                prev_pages = {p for p, _ in self.contents(previous)}
                if (page - 1 in prev_pages and last.get(page - 1) is not None and first.get(page) is not None
                        and inside(last[page - 1], previous) and inside(first[page], table)):
                    self._join(previous, table, t_kids[0])
                    continue
            previous = table

    def _join(self, table, rest, head) -> None:
        heads = [k for k in kids(table) if is_elem(k) and k.S == "/THead"]
        ids = {}
        if heads:
            old = [str(c.ID) for c in self.walk(head) if c.S == "/TH" and "/ID" in c]
            new = [str(c.ID) for c in self.walk(heads[0]) if c.S == "/TH" and "/ID" in c]
            ids = dict(zip(old, new))
        self.to_artifact(head, PAGINATION)
        for cell in self.walk(rest):
            attrs = cell.get("/A")
            if isinstance(attrs, Dictionary) and "/Headers" in attrs:
                attrs.Headers = Array([pikepdf.String(ids.get(str(h), str(h))) for h in attrs.Headers])
        bodies = [k for k in kids(table) if is_elem(k) and k.S == "/TBody"]
        for k in kids(rest):
            if k.objgen == head.objgen:
                continue
            if bodies and is_elem(k) and k.S == "/TBody":
                bodies[-1].K = Array(list(kids(bodies[-1])) + list(kids(k)))
            else:
                table.K = Array(list(kids(table)) + [k])
        rest.K = Array()

    def leaders_to_artifacts(self) -> None:
        """Marked content inside a Link made only of leader characters (dots, spaces) is layout."""
        def visit(elem, link: bool) -> None:
            keep = []
            for k in kids(elem):
                m = mcid_of(k)
                page = self.page_of(elem, k) if m is not None else None
                if m is not None and link and page is not None and LEADER.fullmatch(self.text(page, m) or "x"):
                    self.artifacts.setdefault(page, {})[m] = LAYOUT
                    continue
                if is_elem(k):
                    visit(k, link or k.S == "/Link")
                keep.append(k)
            elem.K = Array(keep)
        visit(self.root, False)

    def prune(self) -> None:
        """Remove elements with no kids (emptied by the fixes above), but not a table's rows and
        cells, which stay in their grid however empty."""
        def visit(elem) -> bool:
            keep = []
            for k in kids(elem):
                if is_elem(k) and not visit(k) and k.S not in ("/TR", "/TH", "/TD"):
                    continue
                keep.append(k)
            elem.K = Array(keep)
            return bool(keep)
        visit(self.root)
        for elem in self.walk():
            for k in kids(elem):
                if is_elem(k):
                    k.P = elem
        for k in kids(self.root):
            if is_elem(k):
                k.P = self.root

    def rewrite_content(self) -> None:
        """Turn the marked content of every MCID not in the tree into an artifact: the margin boxes'
        (WeasyPrint tags them outside the tree), and those the fixes above chose."""
        in_tree: dict[int, set[int]] = {}
        for elem in self.walk():
            for k in kids(elem):
                if (m := mcid_of(k)) is not None and (page := self.page_of(elem, k)) is not None:
                    in_tree.setdefault(page, set()).add(m)
        for i, page in enumerate(self.pdf.pages):
            ops = pikepdf.parse_content_stream(page)
            changed = False
            out = []
            for op in ops:
                if str(op.operator) == "BDC" and isinstance(op.operands[1], Dictionary) and "/MCID" in op.operands[1]:
                    m = int(op.operands[1].MCID)
                    if m not in in_tree.get(i, ()):
                        props = self.artifacts.get(i, {}).get(m, PAGINATION)
                        op = pikepdf.ContentStreamInstruction([Name.Artifact, Dictionary(props)], pikepdf.Operator("BDC"))
                        changed = True
                out.append(op)
            if changed:
                page.Contents = self.pdf.make_stream(pikepdf.unparse_content_stream(out))

    def rebuild_parent_tree(self) -> None:
        """The parent tree from the finished tree: each page's MCIDs and each annotation's
        /StructParent to the element holding it."""
        per_page: dict[int, dict[int, object]] = {}
        annots: dict[int, object] = {}
        for elem in self.walk():
            for k in kids(elem):
                if (m := mcid_of(k)) is not None and (page := self.page_of(elem, k)) is not None:
                    per_page.setdefault(page, {})[m] = elem
                elif isinstance(k, Dictionary) and k.get("/Type") == "/OBJR" and "/StructParent" in k.Obj:
                    annots[int(k.Obj.StructParent)] = elem
        nums = Array()
        for i, page in enumerate(self.pdf.pages):
            if "/StructParents" not in page:
                continue
            found = per_page.get(i, {})
            size = max(found, default=-1) + 1
            nums.extend([int(page.StructParents),
                         Array([found.get(m, None) for m in range(size)])])
        for key in sorted(annots):
            nums.extend([key, annots[key]])
        # Annotations whose element was removed lose their /StructParent (the checker reports them).
        self.root.ParentTree = self.pdf.make_indirect(Dictionary(Nums=nums))
        self.root.ParentTreeNextKey = max([len(self.pdf.pages)] + [k + 1 for k in annots])


def _describe_links(pdf: pikepdf.Pdf, descriptions: list[list[str]]) -> None:
    for page, texts in zip(pdf.pages, descriptions):
        links = [a for a in page.get("/Annots", Array()) if a.get("/Subtype") == "/Link"]
        if len(links) == len(texts):
            for annot, text in zip(links, texts):
                annot.Contents = pikepdf.String(text)
