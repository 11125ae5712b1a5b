"""Compare two resolved versions of one policy clause by clause, matching clauses by stable id.

Pure: no files, no git, no clock. `diff_policies(old, new)` -> `PolicyDiff`:

* added / removed: ids only in the new / old version (removed ones keep their old numbers);
* changed: the clause's text differs; `ops` is a word-level diff (difflib on word tokens, one clause
  at a time, so the cost grows linearly with the policy); `refs_only` when the only difference is
  a cross-reference number that followed a renumbering;
* moved: the parent changed, or the order among siblings present in both versions changed;
* renumbered: the number (as a cross-reference shows it: "3.2", "12(a)", "Appendix 1") changed;
* retitled: the title changed;
* front: title, reference, kind or version of the document changed.

`merged()` gives both versions as one sequence in document order (what a redline prints), and
`proposed_change()` the entry for the organisation's table of changes.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Optional

from .model import ResolvedPolicy, RNode, XRef

_TOKEN = re.compile(r"\n|[^\S\n]+|\S+")
EQUAL, DELETE, INSERT = "=", "-", "+"
OP_NAMES = {EQUAL: "equal", DELETE: "delete", INSERT: "insert"}
FRONT_FIELDS = ("title", "reference", "kind", "version")
SUMMARY_PLACEHOLDER = "[Say what changed and why]"
APPENDICES = "#appendices"  # parent key of appendices (sections have parent None)


def word_ops(old: str, new: str) -> list:
    """[(op, text)] with op "=", "-" or "+": the "=" and "-" texts joined give `old`, "=" and "+" `new`.

    Tokens are words (runs of non-space), runs of spaces, and line breaks. Like diff-match-patch's
    semantic clean-up, an unchanged stretch between two changes that is no longer than the changes
    on either side (e.g. "the" inside a rewritten sentence) is folded into them, so a rewrite reads
    as one replacement rather than a patchwork. Stretches holding a line break are kept.
    """
    if old == new:
        return [(EQUAL, old)] if old else []
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    items: list = []  # (EQUAL, text) or (None, deleted, inserted)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            items.append((EQUAL, "".join(a[i1:i2])))
            continue
        items.append((None, "".join(a[i1:i2]), "".join(b[j1:j2])))
        while len(items) >= 3 and items[-3][0] is None and items[-2][0] == EQUAL:
            (_, d1, n1), (_, same), (_, d2, n2) = items[-3:]
            if "\n" in same or len(same) > max(len(d1), len(n1)) or len(same) > max(len(d2), len(n2)):
                break
            items[-3:] = [(None, d1 + same + d2, n1 + same + n2)]
    ops = []
    for item in items:
        if item[0] == EQUAL:
            ops.append(item)
        else:
            ops.extend((op, text) for op, text in ((DELETE, item[1]), (INSERT, item[2])) if text)
    return ops


def apply_ops(ops: list, side: str) -> str:
    """The old (side="-") or new (side="+") text back from ops."""
    return "".join(t for o, t in ops if o in (EQUAL, side))


# --------------------------------------------------------------------------------------------


@dataclass
class Clause:
    """An added or removed node (numbers are in the version it exists in)."""

    id: str
    kind: str
    number: str
    title: Optional[str]
    text: str
    parent: Optional[str]


@dataclass
class Changed:
    id: str
    old_number: str
    new_number: str
    ops: list
    refs_only: bool  # only cross-reference numbers differ (they followed a renumbering)


@dataclass
class Moved:
    id: str
    old_number: str
    new_number: str
    old_parent: Optional[str]
    new_parent: Optional[str]


@dataclass
class Renumbered:
    id: str
    old_number: str
    new_number: str


@dataclass
class Retitled:
    id: str
    number: str
    old_title: Optional[str]
    new_title: Optional[str]


@dataclass
class FrontChange:
    field: str
    old: str
    new: str


@dataclass
class PolicyDiff:
    old: ResolvedPolicy
    new: ResolvedPolicy
    added: list = field(default_factory=list)  # [Clause], new numbers
    removed: list = field(default_factory=list)  # [Clause], old numbers
    changed: list = field(default_factory=list)  # [Changed]
    moved: list = field(default_factory=list)  # [Moved]
    renumbered: list = field(default_factory=list)  # [Renumbered]
    retitled: list = field(default_factory=list)  # [Retitled]
    front: list = field(default_factory=list)  # [FrontChange]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.moved or self.renumbered
                    or self.retitled or self.front)

    def counts(self) -> dict:
        return {k: len(getattr(self, k)) for k in ("added", "removed", "changed", "moved", "renumbered", "retitled")}

    def substantive_ids(self) -> set:
        """Ids whose content changed: added, removed, changed (beyond cross-reference numbers), retitled."""
        return ({c.id for c in self.added} | {c.id for c in self.removed} | {c.id for c in self.retitled}
                | {c.id for c in self.changed if not c.refs_only})

    def affected(self) -> tuple:
        """(ids in the new version in document order, old numbers of removed clauses)."""
        touched = self.substantive_ids() | {m.id for m in self.moved}
        ids = [n.id for n in self.new.walk_outline() if n.id in touched]
        return ids, [c.number for c in self.removed]

    def proposed_change(self, as_of: dt.date, summary: Optional[str] = None) -> dict:
        """The entry for the table of changes: dated the new version's review date if this version
        records a new review, else `as_of`; paragraphs affected are numbers in the new version."""
        ids, removed = self.affected()
        new_date = self.new.last_reviewed
        date = new_date if new_date and new_date != self.old.last_reviewed else as_of
        numbers = self.new.by_id()
        parts = [", ".join(numbers[i].ref for i in ids)] if ids else []
        if removed:
            parts.append("removed: " + ", ".join(removed))
        return {"date": date.isoformat(), "summary": summary or SUMMARY_PLACEHOLDER, "clauses": ids,
                "removed": removed, "affected": "; ".join(parts)}

    def merged(self) -> list:
        """Both versions in one document order: [(old RNode or None, new RNode or None)].

        Nodes matched in place come once with both sides; a node that moved comes twice, deleted
        where it was and inserted where it is. Keeping the "=" and "+" entries gives the new version
        node for node, keeping "=" and "-" the old one.
        """
        old, new = list(self.old.walk_outline()), list(self.new.walk_outline())
        a, b = [n.id for n in old], [n.id for n in new]
        out = []
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag == "equal":
                out.extend(zip(old[i1:i2], new[j1:j2]))
            else:
                out.extend((n, None) for n in old[i1:i2])
                out.extend((None, n) for n in new[j1:j2])
        return out


def _places(doc: ResolvedPolicy) -> dict:
    """id -> (RNode, parent id, siblings' ids)"""
    out = {}

    def visit(nodes: list, parent: Optional[str]) -> None:
        ids = [n.id for n in nodes]
        for n in nodes:
            out[n.id] = (n, parent, ids)
            visit(n.children, n.id)

    visit(doc.top_level(), None)  # a section in a part has the part as its parent
    visit(doc.appendices, APPENDICES)
    return out


def _key(value):
    """Structure of blocks with cross-references reduced to their targets (numbers ignored)."""
    if isinstance(value, XRef):  # another policy's number is text of this clause: its change shows
        return ("xref", value.target, value.label if value.policy else "")
    if isinstance(value, (tuple, list)):
        return tuple(_key(v) for v in value)
    if dataclasses.is_dataclass(value):
        return (type(value).__name__,) + tuple(_key(getattr(value, f.name)) for f in dataclasses.fields(value))
    return value


def _clause(node: RNode, parent: Optional[str]) -> Clause:
    return Clause(node.id, node.kind, node.ref, node.title, node.text, parent)


def diff_policies(old: ResolvedPolicy, new: ResolvedPolicy) -> PolicyDiff:
    d = PolicyDiff(old=old, new=new)
    po, pn = _places(old), _places(new)
    for f in FRONT_FIELDS:
        if getattr(old, f) != getattr(new, f):
            d.front.append(FrontChange(f, getattr(old, f), getattr(new, f)))
    d.removed = [_clause(n, po[n.id][1]) for n in old.walk_outline() if n.id not in pn]
    d.added = [_clause(n, pn[n.id][1]) for n in new.walk_outline() if n.id not in po]
    moved_in_order = set()
    for parent_key, siblings in {(p, tuple(s)) for _, p, s in pn.values()}:
        common_new = [i for i in siblings if i in po and po[i][1] == parent_key]
        if not common_new:
            continue
        common_old = [i for i in po[common_new[0]][2] if i in pn and pn[i][1] == parent_key]
        sm = difflib.SequenceMatcher(None, common_old, common_new, autojunk=False)
        kept = {common_new[j] for blk in sm.get_matching_blocks() for j in range(blk.b, blk.b + blk.size)}
        moved_in_order.update(i for i in common_new if i not in kept)
    for n in new.walk_outline():
        if n.id not in po:
            continue
        o, old_parent, _ = po[n.id]
        new_parent = pn[n.id][1]
        if old_parent != new_parent or n.id in moved_in_order:
            d.moved.append(Moved(n.id, o.ref, n.ref, old_parent, new_parent))
        if o.ref != n.ref:
            d.renumbered.append(Renumbered(n.id, o.ref, n.ref))
        if (o.title or None) != (n.title or None):
            d.retitled.append(Retitled(n.id, n.ref, o.title, n.title))
        old_text, new_text = o.text, n.text
        if old_text != new_text:
            d.changed.append(Changed(n.id, o.ref, n.ref, word_ops(old_text, new_text),
                                     refs_only=_key(o.blocks) == _key(n.blocks)))
    return d
