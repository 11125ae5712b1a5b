"""The data model shared by the pipeline's stages.

Source side (built by `load`, changed by `layer`):  `Node`, `Policy`, `Library`, `Organisation`.
Resolved side (built by `resolve`, read by writers and `diff`): `RNode`, `ResolvedPolicy` and the
block/inline types. Writers import only the resolved side; they never see YAML or layers.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional, Union

from . import numbering
from .errors import Loc

ORG_KINDS = ("local-authority", "trust", "federation", "school", "academy", "nursery")
DOC_KINDS = ("policy", "protocol")
NUMBERING_STYLES = ("decimal", "decimal-dot", "decimal-alpha", "flat")  # the shipped examples' schemes;
# numbering.SCHEMES holds every built-in scheme, and organisations may define their own
OPTIONAL_VALUES = ("default-on", "default-off")
GENERATED = ("changes", "review-history")

# --------------------------------------------------------------------------------------------
# Source side
# --------------------------------------------------------------------------------------------


def _copied(obj, **changes):
    """A shallow copy of a dataclass instance with `changes`: what dataclasses.replace does, without
    calling __init__ again (a policy's tree is copied for every organisation and policy resolved)."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new


@dataclass
class Provenance:
    """Which layer supplied a node's text, and how."""

    layer: str = "model"  # organisation id, or "model"
    loc: Optional[Loc] = None  # where that text is written
    action: str = "model"  # model | variant | fill | replace | insert
    outside_slots: bool = False  # a layer changed text it was not invited to change
    edits: list = field(default_factory=list)  # [(layer, action, Loc)] oldest first


@dataclass
class Node:
    """A section, clause (any depth) or appendix in the source tree."""

    id: str
    kind: str  # section | clause | appendix | part (children: its sections, then its appendices)
    loc: Loc
    title: Optional[str] = None
    text: Optional[str] = None
    text_loc: Optional[Loc] = None
    children: list["Node"] = field(default_factory=list)
    optional: Optional[str] = None  # default-on | default-off
    enabled: bool = True
    variants: dict = field(default_factory=dict)  # name -> (text, Loc)
    variant: Optional[str] = None  # chosen (default_variant until a layer chooses)
    guidance: Optional[str] = None
    slot: bool = False
    filled: bool = False
    locked: bool = False
    generated: Optional[str] = None  # changes | review-history (appendices only)
    provenance: Provenance = field(default_factory=Provenance)
    form: tuple = ()  # FormItem: a form to fill in, after the text

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def clone(self) -> "Node":
        """A copy that layers may change without touching the original (faster than deepcopy:
        everything but the children, the variants and the provenance is immutable)."""
        p = self.provenance
        return _copied(self, children=[c.clone() for c in self.children], variants=dict(self.variants),
                       provenance=_copied(p, edits=list(p.edits)))

    def current_text(self) -> tuple[Optional[str], Optional[Loc]]:
        if self.variants and self.variant and self.provenance.action not in ("replace", "fill"):
            text, loc = self.variants[self.variant]
            return text, loc
        return self.text, self.text_loc


@dataclass(frozen=True)
class FormItem:
    """One item of a node's `form:` as written: `label` is Markdown with variables (for choices,
    the optional lead-in), `options` the choices' or a table's row labels, `columns` the headings
    of a table's entry columns, `date` the label of the date line beside a signature (None: none)."""

    kind: str  # field | signature | tick | choices | table
    label: str
    loc: Loc
    lines: int = 1
    options: tuple = ()
    columns: tuple = ()
    date: Optional[str] = None


@dataclass
class Change:
    """One row of a table of changes: clause ids are turned into numbers per school."""

    date: str
    summary: str
    clauses: Union[list, str]  # ids, or "all"
    loc: Loc
    layer: str = "model"
    version: Optional[str] = None  # the version this entry made, as written ("1.10", never 1.1)
    author: Optional[str] = None


@dataclass
class Policy:
    id: str
    file: str
    loc: Loc
    title: str
    reference: str
    kind: str
    version: str
    review_cycle_months: int
    owner: str
    summary: Optional[str] = None
    key_message: Optional[str] = None
    variables: dict = field(default_factory=dict)
    sections: list[Node] = field(default_factory=list)
    appendices: list[Node] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    org: Optional[str] = None  # the organisation whose own policy this is (schools/<org>/); None: the model's

    def walk(self):
        for top in self.sections + self.appendices:
            yield from top.walk()

    def clone(self) -> "Policy":
        return replace(self, sections=[n.clone() for n in self.sections],
                       appendices=[n.clone() for n in self.appendices], changes=list(self.changes),
                       variables=dict(self.variables))


@dataclass
class Library:
    variables: dict = field(default_factory=dict)  # name -> (value, Loc)
    sections: dict = field(default_factory=dict)  # id -> Node
    clauses: dict = field(default_factory=dict)  # id -> Node
    variable_notes: dict = field(default_factory=dict)  # name -> (what it names, in plain words; Loc)


@dataclass
class Insert:
    where: str  # before | after
    anchor: str
    node: Node
    loc: Loc


@dataclass
class Move:
    """A layer's `move:` item: put section, clause or appendix `id` before/after `anchor`, or into it
    (as its last clause)."""

    id: str
    where: str  # before | after | into
    anchor: str
    loc: Loc


@dataclass
class PolicyLayer:
    """What one organisation says about one policy."""

    loc: Loc
    fields: dict = field(default_factory=dict)  # title, reference, kind, version, key_message, numbering
    adoption: dict = field(default_factory=dict)
    approvals: Optional[list] = None
    review: dict = field(default_factory=dict)
    review_history: Optional[list] = None
    variants: dict = field(default_factory=dict)  # clause id -> (variant, Loc)
    enable: list = field(default_factory=list)  # [(id, Loc)]
    disable: list = field(default_factory=list)
    remove: list = field(default_factory=list)
    replace: dict = field(default_factory=dict)  # id -> (text, Loc)
    fill: dict = field(default_factory=dict)
    retitle: dict = field(default_factory=dict)
    insert: list[Insert] = field(default_factory=list)
    move: list[Move] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    cover: list = field(default_factory=list)  # [{label, value, relabel, remove, before, after, loc}]
    running: dict = field(default_factory=dict)  # header, footer -> (text, Loc)
    history: dict = field(default_factory=dict)  # place, include -> (value, Loc): the version history
    adoption_loc: Optional[Loc] = None  # where `adoption:` is written


@dataclass
class Organisation:
    id: str
    name: str
    kind: str
    file: str
    loc: Loc
    extends: Optional[str] = None
    extends_loc: Optional[Loc] = None
    name_loc: Optional[Loc] = None
    numbering: Optional[str] = None
    numbering_loc: Optional[Loc] = None
    numbering_schemes: dict = field(default_factory=dict)  # name -> numbering.Scheme, its own
    variables: dict = field(default_factory=dict)  # name -> (value, Loc)
    branding: dict = field(default_factory=dict)  # key -> (value, Loc)
    adoption: dict = field(default_factory=dict)
    approvals: Optional[list] = None
    review: dict = field(default_factory=dict)
    review_history: Optional[list] = None
    model_revision: Optional[str] = None
    fill: dict = field(default_factory=dict)  # slot id -> (text, Loc), for every policy that has the slot
    variants: dict = field(default_factory=dict)  # clause id -> (variant, Loc), likewise
    enable: list = field(default_factory=list)  # [(id, Loc)], likewise
    disable: list = field(default_factory=list)
    policies: dict = field(default_factory=dict)  # policy id -> PolicyLayer
    cover: list = field(default_factory=list)  # cover-row edits for every policy (as PolicyLayer.cover)
    running: dict = field(default_factory=dict)  # header, footer -> (text, Loc), for every policy
    history: dict = field(default_factory=dict)  # place, include -> (value, Loc), for every policy
    adoption_loc: Optional[Loc] = None  # where `adoption:` is written
    own_policies: dict = field(default_factory=dict)  # policy id -> Policy: its own (schools/<id>/<policy>.yaml)
    policy_locs: dict = field(default_factory=dict)  # policy id -> Loc of its key under `policies:`


@dataclass
class Project:
    """Everything the loader read."""

    root: Path
    library: Library
    policies: dict  # id -> Policy
    organisations: dict  # id -> Organisation

    def chain(self, org_id: str) -> list[Organisation]:
        """The organisation and its ancestors, root first (the loader has rejected cycles)."""
        out = []
        org = self.organisations.get(org_id)
        while org is not None:
            out.append(org)
            org = self.organisations.get(org.extends) if org.extends else None
        return list(reversed(out))

    def children(self, org_id: Optional[str]) -> list[Organisation]:
        return sorted((o for o in self.organisations.values() if o.extends == org_id), key=lambda o: o.id)

    def published(self, org_id: str) -> list[str]:
        """The model policies the organisation or an ancestor names under `policies:`, and the own
        policies of the organisation and its ancestors."""
        ids = set()
        for org in self.chain(org_id):
            ids.update(org.policies)
            ids.update(org.own_policies)
        return sorted(i for i in ids if self.policy(org_id, i) is not None)

    def policy(self, org_id: str, policy_id: str) -> Optional[Policy]:
        """The policy `policy_id` as `org_id` sees it: the own policy of the nearest organisation
        of its chain that has one by that id, else the model's (None: it sees no such policy)."""
        for org in reversed(self.chain(org_id)):
            if policy_id in org.own_policies:
                return org.own_policies[policy_id]
        return self.policies.get(policy_id)

    def policy_ids(self) -> set:
        """Every policy id some organisation can see: the model's and every own policy's."""
        return set(self.policies).union(*(o.own_policies for o in self.organisations.values()))


# --------------------------------------------------------------------------------------------
# Resolved side: what writers and diff read
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Strong:
    children: tuple


@dataclass(frozen=True)
class Emph:
    children: tuple


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Link:
    href: str  # https:, mailto:, tel: only
    children: tuple


@dataclass(frozen=True)
class XRef:
    target: str  # clause id ("policy-id:clause-id" for a clause of another policy of the pack)
    anchor: str  # anchor of the target
    label: str  # the target's number as shown in running text ("3.2", "12(a)", "Appendix 2"); in another
    # policy, with that policy's title: "5.2 of the Social media policy"
    policy: str = ""  # the other policy's id (its file in the same pack folder), or "" for this document


@dataclass(frozen=True)
class Break:
    pass


Inline = Union[Text, Strong, Emph, Code, Link, XRef, Break]


@dataclass(frozen=True)
class Para:
    inlines: tuple


@dataclass(frozen=True)
class ListBlock:
    style: str  # bullet | alpha | roman
    items: tuple  # tuple of tuples of blocks
    start: int = 1


@dataclass(frozen=True)
class Table:
    header: tuple  # cells: tuples of inlines
    rows: tuple  # rows: tuples of cells


# ---- forms: declarations and approval forms, filled in on paper --------------------------------
# Labels are runs of inlines. Space to write is measured in lines of LINE_MM millimetres, the same
# in the PDF (print CSS) and the DOCX (exact row heights).
FORM_LINES = (1, 30)  # the writing space a field or table row may have, in lines
LINE_MM = 8  # one line of writing space on paper
BLANK = "__________"  # a space to write, as plain text shows it (diff, redline)
TICK_BOX = "\u2610"  # a box to tick, in every format


@dataclass(frozen=True)
class FormField:
    """A label and space to write: a line (`lines` 1) or a box `lines` lines high. With no label,
    a bare writing line (what a line of underscores in clause text becomes)."""

    label: tuple
    lines: int = 1


@dataclass(frozen=True)
class FormSignature:
    """A signature line and, beside it, a date line (`date` is its label; () for none)."""

    label: tuple
    date: tuple = ()


@dataclass(frozen=True)
class FormTick:
    """A statement with a box to tick."""

    label: tuple


@dataclass(frozen=True)
class FormChoices:
    """A lead-in (may be empty) and choices, each with a box to tick."""

    label: tuple
    options: tuple  # runs of inlines


@dataclass(frozen=True)
class FormTable:
    """Rows of a label and empty entry cells, `lines` lines high. `columns` heads the entry
    columns; with none, one entry column and no header row."""

    rows: tuple  # runs of inlines
    columns: tuple = ()
    lines: int = 1


@dataclass(frozen=True)
class Form:
    items: tuple


Block = Union[Para, ListBlock, Table, Form]


def inline_text(inlines) -> str:
    out = []
    for i in inlines:
        if isinstance(i, (Text, Code)):
            out.append(i.text)
        elif isinstance(i, (Strong, Emph, Link)):
            out.append(inline_text(i.children))
        elif isinstance(i, XRef):
            out.append(i.label)
        elif isinstance(i, Break):
            out.append("\n")
    return "".join(out)


def block_lines(blocks, inlines, literal, join):
    """Lay blocks out as the lines a reader sees, list markers included, with the pieces made by
    the caller: `inlines(inlines)` renders a run of inlines, `literal(str)` a marker or separator,
    `join(separator, pieces)` joins pieces. Plain text and the redline's formatted runs both use
    it, so the redline's text is the plain text to the character."""
    lines = []
    for b in blocks:
        if isinstance(b, Para):
            lines.append(inlines(b.inlines))
        elif isinstance(b, ListBlock):
            for n, item in enumerate(b.items, b.start):
                lines.append(literal(list_marker(b.style, n) + " ") + block_lines(item, inlines, literal, join))
        elif isinstance(b, Table):
            for row in (b.header,) + tuple(b.rows):
                lines.append(join(literal(" | "), [inlines(c) for c in row]))
        elif isinstance(b, Form):
            lines += form_lines(b, inlines, literal, join)
    return join(literal("\n"), lines)


def form_lines(form: Form, inlines, literal, join) -> list:
    """A form as plain-text lines (pieces made as `block_lines` makes them): "Label: ____", a
    box of several lines "Label: ____ (4 lines)", "☐ Statement", "Decision: ☐ Yes  ☐ No", a
    table's rows "Name | ____", a signature "Signed: ____  Date: ____"."""
    def blank(label, lines=1):
        space = literal(BLANK + (f" ({lines} lines)" if lines > 1 else ""))
        return join(literal(""), [inlines(label), literal(": "), space]) if label else space

    def box(label):
        return join(literal(""), [literal(TICK_BOX + " "), inlines(label)])

    out = []
    for item in form.items:
        if isinstance(item, FormField):
            out.append(blank(item.label, item.lines))
        elif isinstance(item, FormSignature):
            out.append(join(literal("  "), [blank(item.label)] + ([blank(item.date)] if item.date else [])))
        elif isinstance(item, FormTick):
            out.append(box(item.label))
        elif isinstance(item, FormChoices):
            choices = join(literal("  "), [box(o) for o in item.options])
            out.append(join(literal(": "), [inlines(item.label), choices]) if item.label else choices)
        elif isinstance(item, FormTable):
            cells = [literal(BLANK + (f" ({item.lines} lines)" if item.lines > 1 else ""))] * max(1, len(item.columns))
            if item.columns:
                out.append(join(literal(" | "), [literal("")] + [inlines(c) for c in item.columns]))
            out += [join(literal(" | "), [inlines(r)] + cells) for r in item.rows]
    return out


def blocks_text(blocks) -> str:
    """Plain text of blocks: what a reader sees, list markers included."""
    return block_lines(blocks, inline_text, str, str.join)


def list_marker(style: str, n: int) -> str:
    """The marker of an in-text list item: style "alpha"/"roman" (markup's names) or a numbering
    format such as "decimal" or "upper-alpha" (numbering.list_styles), or "bullet"."""
    if style == "bullet":
        return "\u2022"
    return numbering.marker(_LIST_FORMATS.get(style, style), n)


_LIST_FORMATS = {"alpha": "lower-alpha", "roman": "lower-roman"}


def _alpha(n: int) -> str:
    return numbering.alpha(n)


def _roman(n: int) -> str:
    return numbering.roman(n)


@dataclass
class RNode:
    """A resolved section, clause or appendix, numbered in this organisation's style."""

    id: str
    kind: str  # section | clause | appendix
    level: int  # 1 for sections and appendices, 2 for their clauses, ...
    number: str  # "3.2", "17", "(a)", "1" ("" when the style leaves it unnumbered)
    label: str  # the number as printed in the margin: "3.2", "3.2.", "17", "(a)", "Appendix 1"
    ref: str  # the number as a cross-reference shows it: "3.2", "12(a)", "Appendix 1"
    anchor: str  # id for HTML anchors / DOCX bookmarks
    title: Optional[str]
    blocks: list
    children: list["RNode"]
    provenance: Provenance
    slot: bool = False
    locked: bool = False
    variant: Optional[str] = None  # the variant chosen, if the clause has variants
    variants: tuple = ()  # the variants on offer
    generated: Optional[str] = None
    guidance: Optional[str] = None

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def text(self) -> str:
        return blocks_text(self.blocks)

    @property
    def heading(self) -> str:
        """The heading as contents and bookmarks show it."""
        if self.kind in ("appendix", "part"):
            return f"{self.label} \u2013 {self.title}" if self.title else self.label
        return f"{self.label} {self.title}".strip() if self.title else self.label


@dataclass(frozen=True)
class ChangeRow:
    date: str
    summary: str
    affected: str  # "All", "3.2, 4.1", or "" (numbers in this organisation's version)
    layer: str  # organisation id, or "model"
    layer_name: str
    version: str = ""
    author: str = ""


HISTORY_PLACES = ("appendix", "front")  # where the table of changes goes; the first is the default
HISTORY_INCLUDES = ("inherited", "own")  # whose entries it shows; the first is the default


@dataclass(frozen=True)
class HistoryTable:
    """The table of changes (version history) as every writer lays it out, computed once by resolve
    (policypack.history): the columns some row uses, labelled, and each row's cells as printed."""

    place: str  # front | appendix
    include: str  # inherited | own
    caption: str  # "Version history" at the front; "Changes to this policy, newest first" in an appendix
    columns: tuple  # ((key, label), ...): key is a ChangeRow field, so a writer may size a column by it
    rows: tuple  # (cells, ...) one tuple of strings per row, in the order of `columns`
    left_out: int = 0  # entries of the organisations above that this copy does not show


@dataclass(frozen=True)
class Approval:
    label: str
    name: str
    date: str


@dataclass(frozen=True)
class FrontRow:
    """One labelled row of the front matter; `value` is a run of inlines (Markdown, variables done)."""

    label: str
    value: tuple

    @property
    def text(self) -> str:
        return " ".join(inline_text(self.value).split())


def review_status(next_review: Optional[dt.date], as_of: dt.date) -> str:
    """overdue | due-soon (within 90 days) | current | unknown"""
    if next_review is None:
        return "unknown"
    if as_of > next_review:
        return "overdue"
    if (next_review - as_of).days <= 90:
        return "due-soon"
    return "current"


REVIEW_NOTICES = {  # status -> (heading, wording with {kind} and {date})
    "overdue": ("Review overdue.", "This {kind} was due for review on {date}"),
    "due-soon": ("Review due soon.", "This {kind} is due for review on {date}"),
}


@dataclass
class FrontMatter:
    """Everything before the contents, computed once by resolve (policypack.frontmatter) and laid
    out by every writer in this order: banner (above the title), summary, review notice, statement,
    adoption rows, detail rows, approvals, version history (when a layer places it at the front).
    Only the review notice depends on the as-of date, a render-time input: the dates are stored
    here and `notice(as_of)` words it, the same for every writer."""

    summary: str
    statement: list  # blocks
    banner: list  # [FrontRow] shown on one line above the title
    adoption: list  # [FrontRow]
    details: list  # [FrontRow]
    approvals: list  # [(stage, name, date as printed)]
    kind: str
    next_review: Optional[dt.date] = None
    running_header: str = ""  # in the header of every page after the first (by default the title)
    running_footer: str = ""  # in the footer of every page (by default the reference and version)
    history: Optional[HistoryTable] = None  # the version history, when a layer puts it at the front (last)

    def status(self, as_of: dt.date) -> str:
        return review_status(self.next_review, as_of)

    def notice(self, as_of: dt.date, date_text) -> Optional[tuple]:
        """(status, heading, sentence) of the review notice on `as_of`, or None; `date_text`
        formats a date as the document prints it."""
        status = self.status(as_of)
        if status not in REVIEW_NOTICES:
            return None
        heading, words = REVIEW_NOTICES[status]
        return (status, heading, words.format(kind=self.kind, date=date_text(self.next_review))
                + f" (status on {date_text(as_of)}).")


@dataclass
class Branding:
    logo: Optional[Path] = None
    logo_owner: str = ""  # the name of the organisation whose logo it is (a school may show its trust's)
    colour: str = "#1f3a5f"
    accent: str = "#c8102e"
    font: str = "DejaVu Sans"
    template_dirs: list = field(default_factory=list)  # nearest layer first


@dataclass
class OrgInfo:
    id: str
    name: str
    kind: str
    lineage: list  # [(id, name, kind)] root first, self last


@dataclass
class ResolvedPolicy:
    policy_id: str
    title: str
    reference: str
    kind: str  # policy | protocol
    version: str
    owner: str
    summary: Optional[str]
    key_message: list  # blocks
    org: OrgInfo
    numbering: str
    sections: list[RNode]
    appendices: list[RNode]
    changes: list[ChangeRow]
    review_history: list[str]
    adoption: dict  # body, date, chairs (list), chair_title, written_by, version, agreed_by, ...
    approvals: list[Approval]
    last_reviewed: Optional[dt.date]
    next_review: Optional[dt.date]
    review_cycle_months: int
    branding: Branding
    consultation: list  # [(layer, action, clause id, Loc)]: edits outside customisable slots
    model_revision: Optional[str] = None
    front: Optional[FrontMatter] = None  # computed once by resolve; every writer lays it out
    # The body's top level in order when the policy has parts: section RNodes and part RNodes
    # (kind "part", level 0, label "Part B", children: its sections, the same objects as in
    # `sections`). `sections` stays the flat list and `walk()` never visits parts; a part's
    # appendices are in `appendices`, numbered with the others. Empty when there are no parts.
    outline: list = field(default_factory=list)

    @property
    def parts(self) -> list:
        return [n for n in self.outline if n.kind == "part"]

    def top_level(self) -> list:
        """What the body shows at its top level, in order: sections, and parts holding sections."""
        return self.outline or self.sections
    history: Optional[HistoryTable] = None  # the table of changes, at the front or in its appendix
    numbering_from: str = ""  # where the numbering scheme was chosen: "organisation-id (file:line)" or "default"
    scheme: Optional[object] = None  # the numbering.Scheme the labels were computed with (DOCX: Word's numbering)

    def walk(self):
        for top in self.sections + self.appendices:
            yield from top.walk()

    def walk_outline(self):
        """As `walk()`, with each part just before its sections."""
        for top in self.top_level() + self.appendices:
            yield from top.walk()

    def by_id(self) -> dict:
        return {n.id: n for n in self.walk_outline()}

    def review_status(self, as_of: dt.date) -> str:
        return review_status(self.next_review, as_of)

    def brief(self) -> "Brief":
        return Brief(self.title, self.reference, dict(self.adoption), self.last_reviewed, self.next_review,
                     self.branding)


@dataclass(frozen=True)
class Brief:
    """What pack pages and the review schedule read of a resolved policy. The build keeps this for
    every document instead of the whole resolved policy, so its memory does not grow with the
    documents' text."""

    title: str
    reference: str
    adoption: dict
    last_reviewed: Optional[dt.date]
    next_review: Optional[dt.date]
    branding: Branding

    def review_status(self, as_of: dt.date) -> str:
        return review_status(self.next_review, as_of)
