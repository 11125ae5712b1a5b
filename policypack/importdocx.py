"""A school's edited DOCX back as proposed operations on its layer (`policypack import-docx`).

The DOCX writer bookmarks every part, section, clause and appendix (`c_<id>`) and names the
organisation, the policy and a digest of the text in custom document properties. So a file the
school returns is read (policypack.docxread: bounded, no macros, no outside links, no DTDs,
tracked changes accepted), its paragraphs fall to the clause whose bookmark comes before them,
and each clause's text is compared with what the sources give now, ignoring what Word changes
by itself: runs, styles, its own numbering, curly or straight quotes and dashes, empty paragraphs.

Each difference becomes an operation of the layer format, never a blob of text:
- a slot's text changed: `fill`;
- one variable's value replaced by the same words everywhere it is printed: `variables:`;
- wording that is another variant of the clause: `variants:`;
- an optional clause deleted: `disable`; another deleted: `remove` (needs consultation);
- a switched-off optional clause typed or pasted back word for word: `enable`;
- a new numbered paragraph: `insert` after the clause before it (needs consultation);
- a clause moved, among its neighbours or under another section: `move`;
- any other edit: `replace`, flagged as needing consultation with the unions;
- an edit to a locked clause is refused, with the reason.
Comments are listed for the adviser. `apply` writes the operations into the school's file with the
round-trip writer (policypack.layerwrite) and keeps them only when `check` passes afterwards.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from . import docxread
from .docxread import Refused
from .errors import Failed, Report
from .layer import apply_layers
from .layerwrite import new_id
from .load import load_project
from .model import Form, ListBlock, Para, RNode, Table, XRef, inline_text
from .render.docx import LIST_NUM0  # Word numbering ids of in-text lists start here
from .resolve import resolve

LOCKED_REASON = "the model locks this clause (it is required by law or by agreement), so a school cannot change it"
CONSULT = "needs union consultation: it changes text outside the customisable slots"
_LABEL = re.compile(r"^\s*(?:Appendix\s+|Part\s+)?\(?[0-9A-Za-z]{1,6}(?:[.)][0-9A-Za-z]{1,6})*[.)]?\)?\t")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
                         "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
                         "\u2212": "-", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u00ad": None,
                         "\u2026": "..."})


def canon(text: str) -> str:
    """Text as compared: quotes, dashes and spaces as plain characters, one space between words, no
    number Word or a writer put before the tab."""
    text = _LABEL.sub("", text)
    return " ".join(text.translate(_QUOTES).split())


@dataclass
class Operation:
    op: str  # fill | variables | variants | disable | enable | remove | insert | move | replace | retitle
    id: str  # clause id (the variable's name for `variables`)
    value: object = None  # text, variant name, anchor ...
    where: str = ""  # insert/move: after | before
    consultation: bool = False
    refused: str = ""  # why it cannot be applied
    was: str = ""  # the text before, for the report
    note: str = ""
    anchor: str = ""  # insert: the clause it goes after or before
    kind: str = ""  # insert: clause | section | appendix
    now: str = ""  # the edited text as the file shows it, for the report
    label: str = ""  # the clause's number and title in the school's copy, for the report

    def __post_init__(self):  # plain strings: ids from the loader carry their source lines
        self.id, self.anchor, self.where = str(self.id), str(self.anchor), str(self.where)
        if isinstance(self.value, str):
            self.value = str(self.value)
        elif isinstance(self.value, dict):
            self.value = {str(k): str(v) for k, v in self.value.items()}

    def as_json(self) -> dict:
        out = {"op": self.op, "id": self.id, "value": self.value, "consultation": self.consultation}
        out.update((key, getattr(self, key)) for key in ("where", "anchor", "kind", "refused", "note", "label")
                   if getattr(self, key))
        return out


@dataclass
class Result:
    file: str
    organisation: str
    policy: str
    operations: list = field(default_factory=list)
    comments: list = field(default_factory=list)  # {"id", "author", "clause", "text"}
    warnings: list = field(default_factory=list)

    def __post_init__(self):
        self.organisation, self.policy = str(self.organisation), str(self.policy)

    @property
    def refused(self) -> list:
        return [o for o in self.operations if o.refused]

    def as_json(self) -> dict:
        return {"file": self.file, "organisation": self.organisation, "policy": self.policy,
                "operations": [o.as_json() for o in self.operations], "comments": self.comments,
                "warnings": self.warnings}


# ---- the clauses as the sources give them ------------------------------------------------------
def expected_paragraphs(node: RNode) -> list:
    """The node's text as the DOCX writer lays it out, one string per paragraph (list markers that
    Word draws are not text; tables and forms are not read)."""
    out = []

    def blocks(bs):
        for b in bs:
            if isinstance(b, Para):
                out.append(inline_text(b.inlines))
            elif isinstance(b, ListBlock):
                for item in b.items:
                    blocks(item)

    blocks(node.blocks)
    return out


def _has_table(node: RNode) -> bool:
    def walk(bs):
        for b in bs:
            if isinstance(b, (Table, Form)):
                return True
            if isinstance(b, ListBlock) and any(walk(i) for i in b.items):
                return True
        return False
    return walk(node.blocks)


def _canon_paras(paras) -> list:
    return [c for c in (canon(p) for p in paras) if c]


@dataclass
class _Clause:
    id: str
    head: Optional[object] = None  # the bookmarked paragraph
    paras: list = field(default_factory=list)  # docxread.Paragraph, after the head
    new: bool = False
    level: int = 0
    after: Optional[str] = None  # for a new clause: the id read before it


def _segment(paras, bookmarks: dict, plan_ids: set) -> tuple:
    """Paragraphs grouped by clause, in document order. A paragraph Word numbers with a clause
    numbering but no bookmark starts a new clause; any other follows the clause before it."""
    order, seen = [], {}
    current = None
    for p in paras:
        own = [bookmarks[b] for b in p.bookmarks if b in bookmarks and bookmarks[b] not in seen]
        if own:
            cid = own[0]
            current = seen[cid] = _Clause(cid, head=p)
            order.append(current)
            for other in own[1:]:  # bookmarks of clauses deleted into this paragraph
                seen[other] = _Clause(other)
            continue
        if current is None:
            continue  # the cover, the contents
        if p.num is not None and p.num[0] in plan_ids and not p.empty:
            current = _Clause(f"new-{len(order)}", head=p, new=True, level=p.num[1] + 1, after=current.id)
            order.append(current)
            continue
        current.paras.append(p)
    return order, seen


def _body(clause: _Clause, titled: bool) -> list:
    """The docxread paragraphs that hold a clause's text (its title paragraph left out)."""
    paras = ([] if titled or clause.head is None else [clause.head]) + clause.paras
    return [p for p in paras if not p.empty]


# ---- Markdown of edited text -------------------------------------------------------------------
def _markdown(paras, list_style: str, label: str = "") -> str:
    """Paragraphs as Markdown: a paragraph Word numbers as a list item becomes a list item, a
    bullet or a number as Word draws it (`list_style` for a marker written as text)."""
    lines, prev_list = [], None
    for i, p in enumerate(paras):
        md = p.md.strip()
        if i == 0 and label and md.startswith(label):
            md = md[len(label):].lstrip()
        listed, kind = None, list_style
        m = re.match(r"^\\?\(?([a-z]{1,4}|[0-9]{1,3})\\?[.)]\t\s*", md)
        if p.num is not None and p.num[0].isdigit() and int(p.num[0]) >= LIST_NUM0:
            listed = p.num[1]
            kind = "bullet" if p.bullet else "ordered"
        elif m and m.end() < len(md):
            listed, md = 0, md[m.end():]
        md = md.replace("\t", " ")
        md = "\n".join(_line_start(s.strip()) for s in md.split("\n"))
        if listed is not None:
            marker = "-" if kind == "bullet" else "1."
            block = "    " * listed + marker + " " + md.replace("\n", "\n" + "    " * (listed + 1))
            lines.append(("" if prev_list is not None else "\n") + block)
            prev_list = listed
        else:
            lines.append("\n" + md)
            prev_list = None
    text = "\n".join(lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text) + "\n"


_LIST_LINE = re.compile(r"^(-|\d+\.) ")
_STARTS_BLOCK = re.compile(r"^([-+*>#=]+|\d+[.)]|\\?\(?[a-z0-9]+\)|_+)$")


def _wrap(line: str, width: int = 96) -> str:
    """A paragraph's line wrapped for the layer file, never so that a line starts with a word
    Markdown would read as a list marker, a heading, a quote or a rule (a soft break is a space)."""
    if not line or line[0].isspace() or _LIST_LINE.match(line):
        return line
    # a variable, a ref() or a link is never broken across lines
    words, out, cur = re.findall(r"\{\{.*?\}\}\S*|\[(?:\\.|[^\]\\])*\]\([^)\s]*\)\S*|\S+", line), [], ""
    for word in words:
        if cur and len(cur) + 1 + len(word) > width and not _STARTS_BLOCK.match(word) and word:
            out.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    out.append(cur)
    return "\n".join(out)


def wrap(md: str) -> str:
    """Markdown with its paragraphs' lines wrapped (list items are left as they are)."""
    return "\n".join(_wrap(line) for line in md.split("\n"))


_BLOCK_START = re.compile(r"^(#{1,6}(?=\s|$)|>|[-+*](?=\s|$)|[-=*]{2,}\s*$|=+\s*$)")
_NUMBER_START = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")


def _line_start(line: str) -> str:
    """A line of the school's text that Markdown would read as a heading, quote, list item or rule,
    escaped so it prints as typed."""
    if _BLOCK_START.match(line):
        return "\\" + line
    return _NUMBER_START.sub(lambda m: m[1] + "\\" + m[2], line)


def _list_style(node: RNode) -> str:
    for b in node.blocks:
        if isinstance(b, ListBlock):
            return "bullet" if b.style == "bullet" else "ordered"
    return "bullet"


_VAR = re.compile(r"\{\{-?\s*([a-z_][a-z0-9_]*)\s*(\|\s*capitalize\s*)?-?\}\}")


def _revariable(md: str, source: str, values: dict) -> str:
    """Put the source's variables back where their values are printed, so the school's text keeps
    following them."""
    used = {}
    for m in _VAR.finditer(source or ""):
        name = m[1]
        if name in values and isinstance(values[name], str) and len(values[name].strip()) >= 3:
            used[(name, bool(m[2]))] = values[name] if not m[2] else values[name][:1].upper() + values[name][1:]
    for (name, cap), value in sorted(used.items(), key=lambda kv: -len(kv[1])):
        expr = "{{ " + name + (" | capitalize" if cap else "") + " }}"
        md = re.sub(r"(?<![\w{])" + re.escape(docxread.md_escape(value)) + r"(?![\w}])", lambda _: expr, md)
    return md


# ---- the import ---------------------------------------------------------------------------------
def import_docx(root: Path, path: Path, school: str, policy: str) -> Result:
    """Read `path` and propose operations on `school`'s layer for `policy`. Raises Refused (the
    file) or Failed (the sources)."""
    report = Report()
    project = load_project(root, report)
    doc = resolve(project, school, policy, report)
    if report.errors:
        raise Failed(report)
    from .render.docx import ORG_PROPERTY, POLICY_PROPERTY, SOURCE_PROPERTY, bookmark_name, source_digest
    from .render import docx_numbering as wn

    pkg = docxread.open_docx(path)
    props = pkg.custom_properties()
    if ORG_PROPERTY not in props or POLICY_PROPERTY not in props:
        raise Refused("it does not say which organisation and policy it was built for (no policypack "
                      "properties): only a DOCX that policypack built can be read back. Build the policy "
                      "again and send the school that file")
    if (props[ORG_PROPERTY], props[POLICY_PROPERTY]) != (school, policy):
        raise Refused(f"it was built for {props[ORG_PROPERTY]}'s '{props[POLICY_PROPERTY]}', not for "
                      f"{school}'s '{policy}'; import it with --school {props[ORG_PROPERTY]} "
                      f"--policy {props[POLICY_PROPERTY]}, or choose the right file")
    result = Result(str(path), school, policy)
    if props.get(SOURCE_PROPERTY) != source_digest(doc):
        result.warnings.append("the sources have changed since this file was built, so some differences may be "
                               "changes to the model or the layers, not the school's edits: check each one")

    nodes = {n.id: n for n in doc.walk_outline()}
    bookmarks = {bookmark_name(n.anchor): n.id for n in nodes.values()}
    links = {}
    for n in doc.walk():
        for x in _xrefs(n.blocks):
            if x.policy:
                links[(f"{x.policy}.docx", bookmark_name(x.anchor) if x.anchor else "")] = x.target
    paras, comments = docxread.read(pkg, bookmarks, links)
    plan_ids = {str(wn.BODY), str(wn.APPENDIX), str(wn.PART)}
    order, found = _segment(paras, bookmarks, plan_ids)

    layered = apply_layers(project, school, policy, Report())
    sources = {n.id: n for n in layered.policy.walk()}
    values = {k: v[0] for k, v in layered.variables.items()}
    values["organisation"] = doc.org.name

    def titled(n: RNode) -> bool:
        return n.kind in ("section", "appendix", "part") or bool(n.title)

    # what changed, clause by clause: its heading (retitle) and its text
    changed, retitled = {}, []  # id -> (old paragraphs, new docxread paragraphs); [(node, heading)]
    before, after = {}, {}  # id -> heading and text as compared, for the variables
    for cid, n in nodes.items():
        if n.generated:
            continue
        old = expected_paragraphs(n)
        before[cid] = "\n".join([canon(n.title or "")] + _canon_paras(old))
        if cid not in found:
            continue
        c = found[cid]
        new = _body(c, titled(n))
        heading = canon(_bare_title(n, c.head.text)) if n.title and c.head is not None else canon(n.title or "")
        after[cid] = "\n".join([heading] + _canon_paras([p.text for p in new]))
        if _canon_paras(old) != _canon_paras([p.text for p in new]):
            changed[cid] = (old, new)
        if heading != canon(n.title or ""):
            retitled.append((n, c.head))
    # a clause is deleted when its bookmark is gone, or when only its heading is left (its text and
    # any clauses under it deleted): a clause without text is not something a layer can say
    deleted = [cid for cid, n in nodes.items() if not n.generated and n.kind != "part" and
               (cid not in found or (found[cid].head is None and not found[cid].paras) or
                (n.kind == "clause" and cid in changed and not changed[cid][1] and
                 not any(c.id in found for c in n.children)))]
    deleted_set = set(deleted)

    variables = _variables(before, after, values, layered)
    done = set()
    for name, (new_value, ids) in sorted(variables.items()):
        result.operations.append(Operation("variables", name, new_value, was=values[name],
                                           note=f"the {'same words' if len(ids) > 1 else 'words'} in "
                                                f"{', '.join(sorted(ids))}; applies to every policy of "
                                                f"{school} and the organisations below it"))
        done.update(ids)
    for n, head in retitled:
        if n.id not in done and n.id not in deleted_set:
            _retitle(result, n, head)

    for cid in deleted:
        if any(a in deleted_set for a in _ancestors(cid, doc)):
            continue  # removed with its parent
        n = nodes[cid]
        src = sources.get(cid)
        if src is not None and src.optional:
            result.operations.append(Operation("disable", cid))
        else:
            locked = [m.id for m in n.walk() if m.locked]
            result.operations.append(Operation("remove", cid, consultation=True,
                                               refused=f"'{locked[0]}' is locked: {LOCKED_REASON}" if locked else ""))

    for cid, (old, new) in changed.items():
        if cid in done or cid in deleted_set:
            continue
        n, src = nodes[cid], sources.get(cid)
        label = n.label + "\t" if n.label and not titled(n) else ""
        md = wrap(_revariable(_markdown(new, _list_style(n), label), src.current_text()[0] if src else "", values))
        was, now = "\n".join(old), "\n".join(p.text for p in new)
        variant = _variant(project, school, policy, n, new)
        if variant:
            result.operations.append(Operation("variants", cid, variant, was=was, now=now))
        elif n.locked:
            result.operations.append(Operation("replace", cid, md, consultation=True, was=was, now=now,
                                               refused=f"'{cid}' is locked: {LOCKED_REASON}"))
        elif _has_table(n):
            result.operations.append(Operation("replace", cid, md, consultation=not n.slot, was=was, now=now,
                                               refused=f"'{cid}' holds a table or form, which a text edit cannot "
                                                       "carry over: make this change in the layer by hand"))
        elif n.slot:
            result.operations.append(Operation("fill", cid, md, was=was, now=now))
        else:
            result.operations.append(Operation("replace", cid, md, consultation=True, was=was, now=now, note=CONSULT))

    off = [n.id for n in layered.policy.walk() if n.optional and not n.enabled and n.id not in nodes]
    off_texts = _switched_off_texts(project, school, policy, off) if any(c.new for c in order) else {}

    def switched_on(c: _Clause) -> Optional[str]:
        """A switched-off optional clause whose heading and text the school typed or pasted back."""
        typed = _canon_paras([c.head.text] + [p.text for p in c.paras])
        return next((cid for cid, text in off_texts.items() if text == typed), None)

    _new_clauses(result, order, nodes, doc, values, switched_on)
    _moves(result, order, nodes, doc)
    for op in result.operations:
        n = nodes.get(op.id)
        if n is not None:
            op.label = " ".join(x for x in (n.label, n.title or "") if x)
        texts = list(op.value.values()) if isinstance(op.value, dict) else [op.value]
        if op.op in ("fill", "replace", "retitle", "insert") and not op.refused and \
                any(isinstance(t, str) and _TEMPLATE.search(t) for t in texts):
            op.refused = "the new text holds '{{', '{%' or '{#', which policy text reads as a template: edit it by hand"

    for cid_comment, (author, text) in sorted(comments.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
        where = ""
        for c in order:
            if any(cid_comment in p.comments for p in ([c.head] if c.head else []) + c.paras):
                where = c.id if not c.new else f"new text after {c.after}"
                break
        result.comments.append({"id": cid_comment, "author": author, "clause": where, "text": text})
    return result


# '{{', '{%' or '{#' anywhere, except the ref()s and variables the import itself writes
_TEMPLATE = re.compile(r"\{[%#]|\{\{(?! (ref\('[a-z0-9:-]*'\)|[a-z_][a-z0-9_]*( \| capitalize)?) \}\})")


def _xrefs(blocks):
    def inl(xs):
        for x in xs:
            if isinstance(x, XRef):
                yield x
            elif hasattr(x, "children"):
                yield from inl(x.children)
    for b in blocks:
        if isinstance(b, Para):
            yield from inl(b.inlines)
        elif isinstance(b, ListBlock):
            for item in b.items:
                yield from _xrefs(item)


def _bare_title(n: RNode, text: str) -> str:
    """A heading's text without the number Word or the writer put before it ("3.2\t", "Appendix 2 – ")."""
    if n.kind in ("appendix", "part"):
        text = re.sub(r"^\s*(Appendix|Part)?\s*[0-9A-Za-z]*\s*[\u2013\-]\s*", "", text)
    return _LABEL.sub("", text).strip()


def _retitle(result: Result, n: RNode, head) -> None:
    """A heading the school changed: `retitle`, with the new heading as Markdown."""
    result.operations.append(Operation("retitle", n.id, " ".join(_bare_title(n, head.md).split()),
                                       consultation=True, was=n.title or "", now=_bare_title(n, head.text),
                                       refused=f"'{n.id}' is locked: {LOCKED_REASON}" if n.locked else ""))


def _ancestors(cid: str, doc) -> list:
    parents = {c.id: n.id for n in doc.walk_outline() for c in n.children}
    out = []
    while cid in parents:
        cid = parents[cid]
        out.append(cid)
    return out


def _variables(before: dict, after: dict, values: dict, layered) -> dict:
    """{name: (new value, clause ids)} for each variable whose value the school replaced by the same
    words in every heading and text that prints it, and made no other change in those clauses.
    `before` and `after`: each clause's heading and text as compared (missing: the clause is gone)."""
    out = {}
    for name, value in values.items():
        if name == "organisation" or name not in layered.variables or not isinstance(value, str):
            continue
        v = canon(value)
        if len(v) < 3:
            continue
        holders = [cid for cid, t in before.items() if _has(t, v)]
        if not holders or any(after.get(cid) in (None, before[cid]) for cid in holders):
            continue
        found = None
        for cid in holders:
            w = _replacement(before[cid], after[cid], v)
            if w is None or (found is not None and w != found):
                found = None
                break
            found = w
        if found and found != v:
            out[name] = (found, holders)
    return out


def _has(text: str, v: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(v) + r"(?!\w)", text, re.I) is not None


def _replacement(old: str, new: str, v: str) -> Optional[str]:
    """W when `new` is `old` with every `v` replaced by W (a capitalised `v` by W capitalised)."""
    pattern = r"(?<!\w)" + re.escape(v) + r"(?!\w)"
    hits = list(re.finditer(pattern, old, re.I))
    if not hits:
        return None
    grow, rest = divmod(len(new) - len(old), len(hits))
    if rest or len(v) + grow <= 0:
        return None
    start = hits[0].start()
    w = new[start:start + len(v) + grow]
    if old[start].isupper() and not v[:1].isupper():
        w = w[:1].lower() + w[1:]
    return w if _swap(old, v, w) == new else None


def _swap(text: str, v: str, w: str) -> str:
    def repl(m):
        return w[:1].upper() + w[1:] if m[0][:1].isupper() and not v[:1].isupper() else w
    return re.sub(r"(?<!\w)" + re.escape(v) + r"(?!\w)", repl, text, flags=re.I)


def _resolved_with(project, school: str, policy: str, key: str, cid: str, value=None):
    """The school's copy of the policy as it would be with one more choice in its layer: `variants`
    (clause `cid`, variant `value`) or `enable` (clause `cid`); None if it does not resolve. The
    loaded project is put back as it was."""
    from .errors import Loc
    from .model import PolicyLayer

    org = project.organisations[school]
    made = policy not in org.policies
    pl = org.policies.setdefault(policy, PolicyLayer(loc=Loc("import")))
    saved = (dict(pl.variants), list(pl.enable))
    try:
        if key == "variants":
            pl.variants[cid] = (value, Loc("import"))
        else:
            pl.enable.append((cid, Loc("import")))
        report = Report()
        doc = resolve(project, school, policy, report)
        return None if report.errors else doc
    except Exception:  # noqa: BLE001 - a choice that does not resolve is simply not a match
        return None
    finally:
        pl.variants, pl.enable = saved
        if made:
            del org.policies[policy]


def _variant(project, school: str, policy: str, n: RNode, new) -> Optional[str]:
    """The name of another variant of clause `n` whose text is the edited text, if one is."""
    target = _canon_paras([p.text for p in new])
    for name in n.variants if len(n.variants) > 1 else ():
        other = _resolved_with(project, school, policy, "variants", n.id, name) if name != n.variant else None
        node = other.by_id().get(n.id) if other is not None else None
        if node is not None and _canon_paras(expected_paragraphs(node)) == target:
            return name
    return None


def _switched_off_texts(project, school: str, policy: str, off: list) -> dict:
    """{id: heading and text} of each switched-off optional clause as it would print if switched on
    (one resolve each, however many new paragraphs the file has)."""
    out = {}
    for cid in off:
        doc = _resolved_with(project, school, policy, "enable", cid)
        node = doc.by_id().get(cid) if doc is not None else None
        if node is not None:
            out[cid] = _canon_paras([node.title or ""] + expected_paragraphs(node))
    return out


def _new_clauses(result: Result, order: list, nodes: dict, doc, values: dict, switch_on=None) -> None:
    from .render import docx_numbering as wn

    """A numbered paragraph without a bookmark: a clause the school added, inserted after the
    clause of its level before it (or before the first clause of its parent)."""
    taken = set(nodes)
    levels = {cid: n.level for cid, n in nodes.items()}
    seq = []  # (id, level) in the order read
    for c in order:
        if not c.new:
            seq.append((c.id, levels.get(c.id, 0)))
            continue
        back = switch_on(c) if switch_on else None
        if back:  # a switched-off optional clause, typed or pasted back
            result.operations.append(Operation("enable", back))
            seq.append((back, c.level))
            continue
        family = {str(wn.APPENDIX): "appendix", str(wn.PART): "part"}.get(c.head.num[0], "section")
        kind = family if c.level == 1 else "clause"
        heading = kind != "clause" or c.head.style.lower().startswith("heading")
        paras = c.paras if heading else [c.head] + c.paras
        text_md = _markdown([p for p in paras if not p.empty], "bullet")
        cid = new_id(canon(c.head.text), taken, max_words=6)
        taken.add(cid)
        # the names and roles among the variables (a one-word lower-case value such as "included"
        # is a setting, not a name, and stays as the school wrote it)
        names = {k: v for k, v in values.items() if isinstance(v, str) and (" " in v.strip() or v != v.lower())}
        text_md = wrap(_revariable(text_md, " ".join("{{ %s }}" % k for k in names), names))
        item = {"id": cid, "title": " ".join(_LABEL.sub("", c.head.md).split())} if heading else {"id": cid}
        if text_md.strip():
            item["text"] = text_md
        anchor, where = None, "after"
        for prev, lvl in reversed(seq):
            if lvl == c.level:
                anchor = prev
                break
            if lvl < c.level:  # its parent: before the parent's first child
                kids = nodes[prev].children if prev in nodes else []
                if kids:
                    anchor, where = kids[0].id, "before"
                break
        op = Operation("insert", cid, item, where=where, consultation=True, note=CONSULT, anchor=anchor or "",
                       kind=kind)
        if anchor is None:
            op.refused = f"there is no {kind} of its level next to it to insert it beside: add it in the layer by hand"
        elif kind == "part":
            op.refused = "a new part cannot be made from a Word file: add it in the layer by hand"
        elif "text" not in item and kind == "clause":
            op.refused = "the new clause has a heading but no text: add its text, or add it in the layer by hand"
        result.operations.append(op)
        seq.append((cid, c.level))


def _moves(result: Result, order: list, nodes: dict, doc) -> None:
    """Clauses that stand elsewhere than the sources put them, among their siblings or under another
    section or clause: `move` after the clause now before them (before the one after, or into the
    new parent when they are alone there)."""
    parents = {c.id: n.id for n in doc.walk_outline() for c in n.children}
    read = [c.id for c in order if not c.new and c.id in nodes]
    # where each clause stands now: under the nearest node before it of a level above its own
    # (sections keep their place in the outline: parts make their level ambiguous)
    now, stack = {}, []
    for cid in read:
        level = nodes[cid].level
        while stack and stack[-1][0] >= level:
            stack.pop()
        now[cid] = (stack[-1][1] if stack else None) if level >= 2 else parents.get(cid)
        stack.append((level, cid))
    groups = {}
    for cid in read:
        groups.setdefault(now[cid], []).append(cid)
    for parent, kids in groups.items():
        siblings = nodes[parent].children if parent in nodes else doc.top_level() + doc.appendices
        stayed = [k for k in kids if parents.get(k) == parent]
        expected = [c.id for c in siblings if c.id in stayed]
        sm = difflib.SequenceMatcher(None, expected, stayed, autojunk=False)
        keep = {stayed[j] for block in sm.get_matching_blocks() for j in range(block.b, block.b + block.size)}
        for k, cid in enumerate(kids):
            if cid in keep:
                continue
            if k > 0:
                op = Operation("move", cid, kids[k - 1], where="after")
            elif len(kids) > 1:
                op = Operation("move", cid, kids[1], where="before")
            else:
                op = Operation("move", cid, parent or "", where="into")
            result.operations.append(op)


# ---- applying ---------------------------------------------------------------------------------
class ApplyError(Exception):
    pass


def apply(root: Path, result: Result) -> Path:
    """Write the operations into schools/<school>.yaml with the round-trip writer; the file is kept
    only if every policy of the school and the organisations below it still resolves."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import LiteralScalarString

    from . import layerwrite
    from .versions import still_resolves

    if result.refused:
        raise ApplyError(f"{len(result.refused)} edit(s) cannot be applied (listed above), so nothing was written; "
                         "undo them in the Word file, or make the change in the layer by hand")
    school, policy = result.organisation, result.policy
    path = Path(root) / "schools" / f"{school}.yaml"
    report = Report()
    project = load_project(root, report)
    org = project.organisations[school]
    if Path(org.file).name != path.name or not path.exists():
        path = Path(root) / org.file if not Path(org.file).is_absolute() else Path(org.file)

    def text(value: str):
        return LiteralScalarString(value.rstrip("\n") + "\n")

    def seq(mapping, key):
        s = mapping.get(key)
        if not isinstance(s, list):
            s = mapping[key] = CommentedSeq()
        return s

    def edit(layer):
        o = layer.data.get("organisation") if isinstance(layer.data, dict) else None
        if not isinstance(o, dict):
            raise layerwrite.LayoutError(f"{path.name} has no 'organisation:' mapping")
        for op in result.operations:
            if op.op == "variables":
                layer.mapping("organisation", "variables")[op.id] = op.value
                continue
            if op.op == "fill" and op.id in org.fill and op.id not in (org.policies.get(policy).fill
                                                                     if policy in org.policies else {}):
                layer.mapping("organisation", "fill")[op.id] = text(op.value)
                continue
            pl = layer.mapping("organisation", "policies", policy)
            if op.op in ("fill", "replace"):
                layer.mapping("organisation", "policies", policy, op.op)[op.id] = text(op.value)
            elif op.op == "retitle":
                layer.mapping("organisation", "policies", policy, op.op)[op.id] = op.value
            elif op.op == "variants":
                layer.mapping("organisation", "policies", policy, "variants")[op.id] = op.value
            elif op.op in ("disable", "enable", "remove"):
                s = seq(pl, op.op)
                if op.id not in s:
                    s.append(op.id)
                other = pl.get({"disable": "enable", "enable": "disable"}.get(op.op, ""))
                if isinstance(other, list) and op.id in other:  # the opposite switch in this layer goes
                    other.remove(op.id)
            elif op.op == "insert":
                clause = CommentedMap()
                for k, v in op.value.items():
                    clause[k] = text(v) if k == "text" else v
                item = CommentedMap()
                item[op.where] = op.anchor
                item[op.kind or "clause"] = clause
                seq(pl, "insert").append(item)
            elif op.op == "move":
                item = CommentedMap()
                item["id"] = op.id
                item[op.where] = op.value
                seq(pl, "move").append(item)

    def below(project):  # the school and every organisation whose layers sit on it
        return [(oid, pid) for oid in sorted(project.organisations)
                if school in [c.id for c in project.chain(oid)] for pid in project.published(oid)]

    def validate():
        return still_resolves(root, below, "the changes did not pass check, so the file was left as it was")

    try:
        layerwrite.save(path, edit, validate)
    except layerwrite.LayoutError as exc:
        raise ApplyError(str(exc)) from None
    return path


def word_changes(was: str, now: str, context: int = 4) -> list:
    """The words that changed, each with a few words either side: "... as phones [-under-] {+and
    tablets under+} this ..." (quotes and dashes compared plainly)."""
    a, b = canon(was).split(), canon(now).split()
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        before = a[max(0, i1 - context):i1]
        after = a[i2:i2 + context]
        piece = (["..."] if i1 - context > 0 else []) + before
        piece += [f"[-{' '.join(a[i1:i2])}-]"] if i2 > i1 else []
        piece += [f"{{+{' '.join(b[j1:j2])}+}}"] if j2 > j1 else []
        out.append(" ".join(piece + after + (["..."] if i2 + context < len(a) else [])))
    return out


def describe(result: Result) -> list:

    """The report as lines of text for the adviser."""
    out = [f"{result.file}: {result.organisation} / {result.policy}"]
    for wng in result.warnings:
        out.append(f"warning: {wng}")
    if not result.operations:
        out.append("No edits to the policy's text were found.")
    for op in result.operations:
        flag = " [REFUSED]" if op.refused else " [needs union consultation]" if op.consultation else ""
        if op.op == "variables":
            head = f"variables: {op.id}: {op.was!r} -> {op.value!r}"
        elif op.op == "variants":
            head = f"variants: {op.id}: {op.value}"
        elif op.op in ("disable", "enable", "remove"):
            head = f"{op.op}: {op.id}"
        elif op.op == "insert":
            head = f"insert {op.where} {op.anchor or '?'}: {op.kind or 'clause'} {op.id}"
        elif op.op == "move":
            head = f"move: {op.id} {op.where} {op.value}"
        else:
            head = f"{op.op}: {op.id}"
        out.append(f"- {head}{flag}" + (f"  ({op.label})" if op.label else ""))
        if op.refused:
            out.append(f"    refused: {op.refused}")
        if op.note and not op.refused:
            out.append(f"    {op.note}")
        if op.op in ("fill", "replace", "retitle") and op.was:
            out += ["    changed: " + c for c in word_changes(op.was, op.now or str(op.value))[:6]]
        if op.op in ("fill", "replace", "retitle"):
            out.append("    new text:")
            out += ["      " + line for line in str(op.value).rstrip("\n").split("\n")]
        if op.op == "insert":
            out += ["    " + line for line in str(op.value.get("text", "")).rstrip("\n").split("\n")]
    if result.comments:
        out.append("Comments in the file:")
        for c in result.comments:
            out.append(f"- {c['author'] or 'someone'} on {c['clause'] or 'the front matter'}: {c['text']}")
    return out
