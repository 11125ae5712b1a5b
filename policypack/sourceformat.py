"""The YAML formats policypack reads, declared once.

Every file under `policy_src/` and `schools/` is one of three kinds: a policy (`policy_src/<id>.yaml`
and an organisation's own `schools/<org>/<id>.yaml`), a library of shared sections and clauses
(`policy_src/library/*.yaml`) and an organisation's layer (`schools/<org>.yaml`, which may define
numbering schemes of its own). This module declares each kind's mappings: their keys, what each
key holds and a sentence about it. Two things are made from the declaration:

* the key sets the loader checks (`load.py`, `numbering.py`): `CLAUSE.keys`, `ORGANISATION.required`...;
* the JSON Schema (draft 2020-12) files in `schemas/` (`python build.py schema`), which YAML
  editors use to check and complete a file as it is typed.

The loader still does the reading (with file and line, and checks no schema can express: what
ids refer to, Jinja, logos); the schema is the shape. tests/test_schema.py runs both over the
shipped files and the bad-input corpus and compares.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional

from . import numbering
from .model import (DOC_KINDS, FORM_LINES, GENERATED, HISTORY_INCLUDES, HISTORY_PLACES, OPTIONAL_VALUES,
                    ORG_KINDS)
from .names import RESERVED_IDS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PATTERN = r"[a-z][a-z0-9]*(-[a-z0-9]+)*"
VAR_PATTERN = r"[a-z][a-z0-9_]*"
COLOUR_PATTERN = r"#[0-9a-fA-F]{6}"
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
YEARS = (1900, 2199)  # dates outside these years are typing mistakes, and break date arithmetic
MAX_ID = 64
MAX_NAME = 200  # characters in an organisation's name
MAX_LABEL = 300  # characters in a form label
MAX_COLUMNS = 6  # entry columns of a form table
COVER_PLACES = ("banner", "adoption", "details")
MOVE_PLACES = ("before", "after", "into")
SCHOOLS_FOLDERS = {"assets": "the logos", "templates": "the template overrides"}  # not organisation ids


# ---- the vocabulary of the declaration ------------------------------------------------------


class Type:
    """What a value may be. `json()` is its JSON Schema; `defs` collects named records."""

    doc = ""

    def json(self, defs: dict) -> dict:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Type):
    """Text (Markdown with variables, unless `doc` says otherwise). A plain number is read as the
    text written (`version: 2`); true/false is not text."""

    doc: str = ""
    max_length: Optional[int] = None
    strict: bool = False  # a string only (the loader refuses a number here)
    min_length: int = 0
    pattern: str = ""  # a regular expression the text must match somewhere (an empty text is the default)

    def json(self, defs):
        out = {"type": "string" if self.strict else ["string", "number"]}
        if self.min_length:
            out["minLength"] = self.min_length
        if self.pattern:
            out["pattern"] = self.pattern
        if self.max_length:
            out["maxLength"] = self.max_length
        return out


@dataclass(frozen=True)
class Label(Type):
    """One line of text for a form: not empty, at most MAX_LABEL characters."""

    doc: str = ""

    def json(self, defs):
        return {"type": ["string", "integer"], "maxLength": MAX_LABEL,
                "allOf": [{"pattern": r"\S"}, {"pattern": r"^\s*[^\n]*\s*$"}]}


@dataclass(frozen=True)
class Id(Type):
    """An id: lower-case letters and digits joined by single hyphens."""

    doc: str = ""
    reserved: tuple = ()  # ids this one may not be
    examples: tuple = ()  # offered by editors as completions (any id is still allowed)

    def json(self, defs):
        out = {"type": "string", "pattern": f"^{ID_PATTERN}$", "maxLength": MAX_ID}
        if self.reserved:
            out["not"] = {"enum": sorted(self.reserved)}
        if self.examples:
            out["examples"] = list(self.examples)
        return out


@dataclass(frozen=True)
class Date(Type):
    doc: str = ""

    def json(self, defs):
        lo, hi = YEARS
        assert (lo, hi) == (1900, 2199), "the year pattern below is written for these years"
        return {"type": "string", "format": "date",
                "pattern": "^(19[0-9]{2}|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$"}


@dataclass(frozen=True)
class Int(Type):
    lo: int
    hi: int
    doc: str = ""

    def json(self, defs):
        return {"type": "integer", "minimum": self.lo, "maximum": self.hi}


@dataclass(frozen=True)
class Bool(Type):
    doc: str = ""

    def json(self, defs):
        return {"type": "boolean"}


@dataclass(frozen=True)
class Choice(Type):
    values: tuple
    doc: str = ""

    def json(self, defs):
        return {"type": "string", "enum": list(self.values)}


@dataclass(frozen=True)
class Pattern(Type):
    pattern: str
    doc: str = ""

    def json(self, defs):
        return {"type": "string", "pattern": f"^{self.pattern}$"}


@dataclass(frozen=True)
class Const(Type):
    value: object
    doc: str = ""

    def json(self, defs):
        return {"const": self.value}


@dataclass(frozen=True)
class OrNull(Type):
    """`value`, or nothing written after the key (e.g. `social-media:` with no settings)."""

    value: Type
    doc: str = ""

    def json(self, defs):
        return {"if": {"type": "null"}, "then": True, "else": _json(self.value, defs)}


@dataclass(frozen=True)
class Scalar(Type):
    """Any single value: text, a number or true/false."""

    doc: str = ""

    def json(self, defs):
        return {"type": ["string", "number", "boolean"]}


@dataclass(frozen=True)
class ListOf(Type):
    item: Type
    min_items: int = 0
    max_items: Optional[int] = None
    doc: str = ""

    def json(self, defs):
        out = {"type": "array", "items": _json(self.item, defs)}
        if self.min_items:
            out["minItems"] = self.min_items
        if self.max_items is not None:
            out["maxItems"] = self.max_items
        return out


@dataclass(frozen=True)
class MapOf(Type):
    """A mapping whose keys are names of the author's choosing (`keys`), each holding `value`."""

    keys: Type
    value: Type
    doc: str = ""

    def json(self, defs):
        return {"type": "object", "propertyNames": _json(self.keys, defs),
                "additionalProperties": _json(self.value, defs)}


@dataclass(frozen=True)
class AnyOf(Type):
    options: tuple
    doc: str = ""

    def json(self, defs):
        return {"anyOf": [_json(o, defs) for o in self.options]}


@dataclass(frozen=True)
class Switch(Type):
    """One of several records, told apart as the loader tells them: by the first key of `cases`
    present (e.g. `part:`, `include:`), else `default`. As JSON Schema, nested if/then/else, so an
    editor reports the mistake inside the record meant rather than "matches none of them"."""

    cases: tuple  # ((key, Type), ...)
    default: Type
    doc: str = ""

    def json(self, defs):
        out = _json(self.default, defs)
        for key, t in reversed(self.cases):
            out = {"if": {"required": [key]}, "then": _json(t, defs), "else": out}
        return out


@dataclass(frozen=True)
class Ref(Type):
    """A record declared by name elsewhere (so records can hold themselves)."""

    name: str
    doc: str = ""

    def json(self, defs):
        return RECORDS[self.name].json(defs)


RECORDS: dict = {}  # every record by name, for Ref


@dataclass(frozen=True)
class Key:
    type: Type
    doc: str = ""
    required: bool = False
    tags: tuple = ()  # groups the loader reads alike, e.g. "field" for a layer's policy fields


@dataclass(frozen=True)
class Record(Type):
    """A mapping with a fixed set of keys: `fields` in the order a file usually writes them. `rules`
    are JSON Schema that say what key sets cannot (e.g. "text or variants, not both")."""

    name: str
    fields: dict
    doc: str = ""
    rules: dict = field(default_factory=dict)

    def __post_init__(self):
        RECORDS[self.name] = self

    @property
    def keys(self) -> frozenset:
        return frozenset(self.fields)

    @property
    def required(self) -> frozenset:
        return frozenset(k for k, f in self.fields.items() if f.required)

    def tagged(self, tag: str) -> frozenset:
        return frozenset(k for k, f in self.fields.items() if tag in f.tags)

    def of_type(self, kind: type) -> frozenset:
        return frozenset(k for k, f in self.fields.items() if isinstance(f.type, kind))

    def json(self, defs):
        if self.name not in defs:
            defs[self.name] = None  # reserve the name first: a record may hold itself
            body = {"type": "object", "description": self.doc, "properties": {}}
            for key, f in self.fields.items():
                prop = _json(f.type, defs)
                doc = f.doc or f.type.doc
                if doc:
                    prop = {"description": doc, **prop}
                body["properties"][key] = prop
            if self.required:
                body["required"] = [k for k in self.fields if self.fields[k].required]
            body["additionalProperties"] = False
            body.update(self.rules)
            defs[self.name] = body
        return {"$ref": f"#/$defs/{self.name}"}


def _json(t: Type, defs: dict) -> dict:
    return t.json(defs)


# ---- clauses, sections, appendices and parts ------------------------------------------------

MARKDOWN = ("Markdown (CommonMark with tables), and variables such as {{ head }} and references such as "
            "{{ ref('clause-id') }}.")
TEXT = Text("Text in " + MARKDOWN)


def _has_content() -> dict:
    """A clause or appendix needs something to print (the loader: "has no text")."""
    return {"anyOf": [{"required": ["text"]},
                      {"required": ["variants"], "properties": {"variants": {"minProperties": 1}}},
                      {"required": ["clauses"], "properties": {"clauses": {"minItems": 1}}},
                      {"required": ["slot"], "properties": {"slot": {"const": True}}},
                      {"required": ["generated"]},
                      {"required": ["form"]}]}


FORM_ITEM_RECORDS = (
    Record("form-field", {
        "field": Key(Label("The label, with a line to write on under it."), required=True),
        "lines": Key(Int(*FORM_LINES, doc="A box this many lines high instead of one line.")),
    }, "A label and a line (or a box) to write on."),
    Record("form-signature", {
        "signature": Key(Label("Who signs, e.g. 'Signed by the member of staff'."), required=True),
        "date": Key(AnyOf((Label(), Const(False))), "The date line's label ('Date' when omitted), or false for none."),
    }, "A signature line with a date line beside it."),
    Record("form-tick", {
        "tick": Key(Label("The statement beside the box to tick."), required=True),
    }, "One box to tick and its statement."),
    Record("form-choices", {
        "choices": Key(ListOf(Label(), 2, 100), "The choices, a box to tick for each (at least two).",
                       required=True),
        "label": Key(Label(), "Optional words before the choices."),
    }, "A box to tick for each of two or more choices."),
    Record("form-table", {
        "table": Key(ListOf(Label(), 1, 100), "The rows' labels.", required=True),
        "columns": Key(ListOf(Label(), 1, MAX_COLUMNS), "Headings of the entry columns (then the table is headed)."),
        "lines": Key(Int(*FORM_LINES), "How many lines high each row is."),
    }, "A table of row labels and empty cells to fill in."),
)
# the kinds of form item, each named by its key, and the other keys each may have
FORM_ITEMS = {next(iter(r.fields)): set(r.fields) - {next(iter(r.fields))} for r in FORM_ITEM_RECORDS}
FORM = ListOf(Switch(tuple((next(iter(r.fields)), r) for r in FORM_ITEM_RECORDS), AnyOf(FORM_ITEM_RECORDS)), 1,
              doc="A form printed after the text, to fill in on paper: items such as '- field: Full name', "
                  "'- tick: ...', '- choices: [...]', '- table: [...]' and '- signature: ...'.")
INCLUDE = Record("include", {
    "include": Key(Id("The id of a library section or clause (policy_src/library/), copied here as it is."),
                   required=True),
}, "A library item, copied in place.")


def _node(kind: str, includes: bool) -> Record:
    """The record of a clause, section or appendix. `includes`: whether its clauses may be
    `- include:` items (not in the library, nor in what a layer inserts)."""
    suffix = "" if includes else "-plain"
    child = Switch((("include", INCLUDE),), Ref("clause")) if includes else Ref("clause-plain")
    fields = {
        "id": Key(Id("Stable id: it survives rewording and reordering; layers and ref() use it."), required=True),
        "title": Key(Text("The section's heading.", min_length=1) if kind == "section"
                     else Text("Heading shown before the text."), required=kind == "section"),
        "text": Key(TEXT),
        "clauses": Key(ListOf(child), "Sub-clauses, numbered under this one."),
        "optional": Key(Choice(OPTIONAL_VALUES), "Whether layers can switch it off (default-on) or on "
                        "(default-off); omit when it is always there."),
        "variants": Key(MapOf(Id(), Text(strict=True)), "Named alternative wordings, used instead of 'text'; "
                        "a layer chooses one."),
        "default_variant": Key(Text(), "The variant used when no layer chooses (needed with 'variants')."),
        "guidance": Key(Text(), "Notes for advisers and schools; never printed in the policy."),
        "slot": Key(Bool(), "true: each school writes this text itself ('fill:'); 'text' is the suggested wording."),
        "locked": Key(Bool(), "true: layers below must not change or remove it."),
        "form": Key(FORM),
    }
    if kind == "appendix":
        fields["generated"] = Key(Choice(GENERATED), "Made by policypack: the table of changes or the review history.")
    rules = {"not": {"required": ["text", "variants"]},
             "allOf": [{"if": {"required": [a]}, "then": {"required": [b]}}
                       for a, b in (("variants", "default_variant"), ("default_variant", "variants"))]}
    if kind != "section":
        rules["allOf"].append(_has_content())
    doc = {"clause": "A clause: numbered text, with sub-clauses if it has any.",
           "section": "A numbered section: a heading and its clauses.",
           "appendix": "An appendix, printed after the last section."}[kind]
    return Record(f"{kind}{suffix}", fields, doc, rules)


CLAUSE = _node("clause", includes=True)
SECTION = _node("section", includes=True)
APPENDIX = _node("appendix", includes=True)
CLAUSE_PLAIN, SECTION_PLAIN, APPENDIX_PLAIN = (_node(k, includes=False) for k in ("clause", "section", "appendix"))


PART = Record("part", {
    "part": Key(Id("The part's id: ref('this-id') prints 'Part 1'."), required=True),
    "title": Key(Text("The part's heading."), required=True),
    "optional": Key(Choice(OPTIONAL_VALUES), "Whether layers can switch the part off (default-on) or on (default-off)."),
    "guidance": Key(Text(), "Notes for advisers; never printed."),
    "sections": Key(ListOf(Switch((("include", INCLUDE),), SECTION), 1), "The part's sections.", required=True),
    "appendices": Key(ListOf(Switch((("include", INCLUDE),), APPENDIX)), "Appendices that print and vanish with the part."),
}, "A part: a titled group of sections, written among a policy's own sections.")

MAX_NOTE = 300  # characters in a variable's note
VARIABLES = MapOf(Pattern(VAR_PATTERN), AnyOf((Scalar(), ListOf(AnyOf((Text(), Bool()))),
                                              MapOf(Text(strict=True), AnyOf((Text(), Bool())))))
                  , doc="Variables: name: value. Names are lower-case letters, digits and underscores.")
CHANGE = Record("change", {
    "date": Key(Date(), "When the change was made (YYYY-MM-DD).", required=True),
    "summary": Key(Text(), "What changed, in a sentence.", required=True),
    "clauses": Key(AnyOf((Const("all"), ListOf(Id()))), "The ids of the clauses it changed, or 'all'."),
    "version": Key(Text(), "The version this change made."),
    "author": Key(Text(), "Who made the change."),
}, "A row of the table of changes.")
CHANGES = ListOf(CHANGE, doc="The table of changes, newest first.")

POLICY = Record("policy", {
    "id": Key(Id("The policy's id: also its file name.", reserved=tuple(RESERVED_IDS)), required=True),
    "title": Key(Text(), "The policy's title.", required=True),
    "reference": Key(Text(), "Its reference code, e.g. HR-P12.", required=True),
    "kind": Key(Choice(DOC_KINDS), "A policy or a protocol.", required=True),
    "version": Key(Text(), "The model's version, e.g. \"5.0\" (quoted).", required=True),
    "review_cycle_months": Key(Int(1, 120), "How often it is reviewed, in months.", required=True),
    "owner": Key(Text(), "Who maintains it.", required=True),
    "summary": Key(Text(), "One paragraph saying what the policy is for."),
    "key_message": Key(TEXT, "A callout shown before section 1."),
    "variables": Key(VARIABLES, "Defaults for this policy's variables."),
    "sections": Key(ListOf(Switch((("part", PART), ("include", INCLUDE)), SECTION)),
                    "The sections in order, and any parts grouping them.", required=True),
    "appendices": Key(ListOf(Switch((("include", INCLUDE),), APPENDIX)), "The appendices, in order."),
    "changes": Key(CHANGES),
}, "A policy: its details, sections and appendices.")
LIBRARY = Record("library", {
    "variables": Key(VARIABLES, "Defaults every organisation may override."),
    "variable_notes": Key(MapOf(Pattern(VAR_PATTERN), Text(strict=True, max_length=MAX_NOTE,
                                                         doc="plain text, one sentence")),
                          "What each variable names, in plain words: the web editor labels its box with this."),
    "sections": Key(ListOf(SECTION_PLAIN), "Whole sections a policy can include."),
    "clauses": Key(ListOf(CLAUSE_PLAIN), "Single clauses a section can include."),
}, "Sections, clauses and variables that several policies share.")


# ---- numbering schemes ----------------------------------------------------------------------

LEVEL = Record("numbering-level", {
    "format": Key(Choice(numbering.FORMATS), "The counter: decimal, lower-alpha ... or none."),
    "number": Key(Text(strict=True), "The number as printed, with its own counter: {n}, or {1} at level 1, {2} at "
                  "level 2..., e.g. \"{1}.{2}\" or \"({n})\"; empty with format none."),
    "label": Key(Text(), "What is printed before the text, e.g. \"{number}\"."),
    "ref": Key(Text(), "What ref() prints, e.g. \"paragraph {number}\"."),
    "pad": Key(Int(0, numbering.MAX_PAD), "Pad numbers with zeros to this many digits."),
    "continuous": Key(Bool(), "true: count on across the whole document instead of restarting."),
}, "One level of numbering: sections, clauses, sub-clauses...",
    {"if": {"required": ["format"], "properties": {"format": {"const": "none"}}},
     "then": {"properties": {"number": {"maxLength": 0}}},
     "else": {"properties": {"number": {"pattern": r"\{(n|path|[1-9])\}"}}}})
SCHEME_APPENDICES = Record("numbering-appendices", {
    "format": Key(Choice(numbering.FORMATS[:-1]), "The counter."),
    "label": Key(Text(strict=True, pattern=r"\{n\}|^$"), "The heading, with {n}, e.g. \"Annex {n}\"."),
    "prefix": Key(Text(), "What goes before an appendix's paragraph numbers."),
}, "How appendices are numbered.")
SCHEME_PARTS = Record("numbering-parts", {
    "format": Key(Choice(numbering.FORMATS[:-1]), "The counter."),
    "label": Key(Text(strict=True, pattern=r"\{n\}|^$"), "The label, with {n}, e.g. \"Section {n}\"."),
}, "How parts are labelled.")
SCHEME = Record("numbering-scheme", {
    "levels": Key(ListOf(LEVEL, 1), "The levels, outermost (sections) first.", required=True),
    "appendix_levels": Key(ListOf(LEVEL, 1), "Levels for appendices, when they differ."),
    "appendices": Key(AnyOf((Choice(tuple(numbering.APPENDIX_SCHEMES)), SCHEME_APPENDICES)),
                      "A built-in appendix style, or format, label and prefix."),
    "parts": Key(AnyOf((Choice(tuple(numbering.PART_SCHEMES)), SCHEME_PARTS)),
                 "A built-in part label, or format and label."),
    "lists": Key(ListOf(Choice(numbering.LIST_PREFERENCE), 1), "Formats for lists inside clause text, outermost first."),
    "summary": Key(Text(), "A sentence saying what the scheme is for."),
}, "A numbering scheme of the organisation's own.")
SCHEMES = MapOf(Id(reserved=tuple(numbering.SCHEMES)), SCHEME,
                doc="Numbering schemes of this organisation's own, by name (not a built-in scheme's name).")


# ---- organisation layers --------------------------------------------------------------------

_DATES = {"date": "The date it was adopted.", "written_date": "When it was written.",
          "agreed_date": "When it was agreed.", "created": "When it was first created."}
_TEXTS = {"body": "The body that adopted it, e.g. Governing Board.", "chair_title": "The chair's title.",
          "statement": "The adoption statement.", "written_by": "Who wrote it.", "version": "This copy's version.",
          "agreed_by": "Who agreed it.", "author": "The author shown in the front matter.",
          "address": "The address shown in the front matter."}
ADOPTION = Record("adoption", {
    **{k: Key(Date(), doc) for k, doc in _DATES.items()},
    **{k: Key(Text(), doc) for k, doc in _TEXTS.items()},
    "chairs": Key(ListOf(Text(strict=True)), "The names of the chairs who signed it."),
}, "The adoption record: inherited as a whole, so the nearest layer that has one wins.")
REVIEW = Record("review", {
    "last_reviewed": Key(Date(), "When it was last reviewed."),
    "next_review": Key(Date(), "When it is next due; omit to count on from the review cycle."),
    "cycle_months": Key(Int(1, 120), "The review cycle in months."),
}, "Review dates.")
BRANDING = Record("branding", {
    "logo": Key(Text(), "An SVG, PNG or JPEG file, relative to schools/ (e.g. assets/harbour.svg)."),
    "colour": Key(Pattern(COLOUR_PATTERN), "The main colour, \"#rrggbb\" (quoted)."),
    "accent": Key(Pattern(COLOUR_PATTERN), "The accent colour, \"#rrggbb\" (quoted)."),
    "font": Key(Text(), "The font's name."),
    "templates": Key(Text(), "A folder of template overrides, relative to schools/."),
}, "Logo, colours, font and templates: inherited key by key.")
COVER_ROW = Record("cover-row", {
    "label": Key(Text(), "The row's label: names the row to change, or the new row.", required=True),
    "value": Key(TEXT, "The row's value."),
    "relabel": Key(Text(), "A new label for the row."),
    "remove": Key(Bool(), "true: remove the row."),
    "before": Key(Text(), "Move it before the row with this label."),
    "after": Key(Text(), "Move it after the row with this label."),
    "place": Key(Choice(COVER_PLACES), "Which block of the front matter it goes in."),
}, "A change to a row of the front matter.",
    {"not": {"required": ["before", "after"]},
     "if": {"required": ["remove"], "properties": {"remove": {"const": True}}}, "then": {"maxProperties": 2}})
RUNNING = Record("running", {
    "header": Key(Text(), "The running header."),
    "footer": Key(Text(), "The running footer."),
}, "Text on every page after the first.")
HISTORY = Record("history", {
    "place": Key(Choice(HISTORY_PLACES), "Where the table of changes goes."),
    "include": Key(Choice(HISTORY_INCLUDES), "Whose changes it shows."),
}, "The table of changes: where it goes and whose entries it shows.")
APPROVAL = Record("approval", {
    "label": Key(Text(), "What was approved, e.g. CEO approval.", required=True),
    "name": Key(Text(), "Who approved it."),
    "date": Key(Date(), "When."),
}, "A row of the approval table.")
IDS = ListOf(Id())
TEXT_BY_ID = MapOf(Id(), Text(strict=True))


def _exactly_one(*keys) -> dict:
    return {"oneOf": [{"required": [k]} for k in keys]}


INSERT = Record("insert", {
    "before": Key(Id(), "Put it before the item with this id."),
    "after": Key(Id(), "Put it after the item with this id."),
    "clause": Key(CLAUSE_PLAIN, "A clause of this organisation's own."),
    "section": Key(SECTION_PLAIN, "A section of this organisation's own."),
    "appendix": Key(APPENDIX_PLAIN, "An appendix of this organisation's own."),
}, "Text of the organisation's own, put next to an item of the model.",
    {"allOf": [_exactly_one("before", "after"), _exactly_one("clause", "section", "appendix")]})
MOVE = Record("move", {
    "id": Key(Id(), "The id of the clause or section to move.", required=True),
    "before": Key(Id(), "Move it before this id."),
    "after": Key(Id(), "Move it after this id."),
    "into": Key(Id(), "Make it the last item of this section or clause."),
}, "A clause or section moved to another place.", _exactly_one(*MOVE_PLACES))

_SHARED = {  # what an organisation and one of its policies can both set
    "cover": Key(ListOf(COVER_ROW), "Changes to the front matter's rows."),
    "running": Key(RUNNING),
    "history": Key(HISTORY),
    "adoption": Key(ADOPTION),
    "approvals": Key(ListOf(APPROVAL), "Rows of an approval table."),
    "review": Key(REVIEW),
    "review_history": Key(ListOf(Date()), "Earlier review dates."),
}
_CHOICES = {
    "variants": Key(TEXT_BY_ID, "Wording choices: clause id: variant name."),
    "enable": Key(IDS, "Optional clauses or parts to switch on."),
    "disable": Key(IDS, "Optional clauses or parts to switch off."),
}
_FIELD = ("field",)
LAYER = Record("policy-layer", {
    "title": Key(Text(), "The policy's title as this organisation publishes it.", tags=_FIELD),
    "reference": Key(Text(), "Its reference code.", tags=_FIELD),
    "kind": Key(Choice(DOC_KINDS), "Publish it as a policy or a protocol.", tags=_FIELD),
    "version": Key(Text(), "This organisation's version.", tags=_FIELD),
    "key_message": Key(TEXT, "A callout shown before section 1.", tags=_FIELD),
    "numbering": Key(Id(examples=tuple(numbering.SCHEMES)), "The numbering scheme for this policy.", tags=_FIELD),
    "summary": Key(Text(), "One paragraph saying what the policy is for.", tags=_FIELD),
    "owner": Key(Text(), "Who maintains it.", tags=_FIELD),
    **_SHARED,
    **_CHOICES,
    "remove": Key(IDS, "Clauses, sections or parts to remove."),
    "replace": Key(TEXT_BY_ID, "New wording: clause id: text."),
    "fill": Key(TEXT_BY_ID, "The organisation's text for customisable slots: slot id: text."),
    "retitle": Key(TEXT_BY_ID, "New titles: id: title."),
    "insert": Key(ListOf(INSERT), "Clauses, sections or appendices of the organisation's own."),
    "move": Key(ListOf(MOVE), "Clauses or sections moved to other places."),
    "changes": Key(CHANGES, "This organisation's rows of the table of changes."),
}, "What this organisation publishes of the policy, and its changes to it.")
ORGANISATION = Record("organisation", {
    "id": Key(Id("The organisation's id: also its file name.", reserved=tuple(RESERVED_IDS) + tuple(SCHOOLS_FOLDERS)),
              required=True),
    "name": Key(Text(max_length=MAX_NAME), "Its name, as on its letterhead.", required=True),
    "kind": Key(Choice(ORG_KINDS), "What kind of organisation it is.", required=True),
    "extends": Key(Id(), "The id of the organisation above it (a local authority, trust or federation)."),
    "numbering": Key(Id(examples=tuple(numbering.SCHEMES)), "The numbering scheme (inherited)."),
    "numbering_schemes": Key(SCHEMES),
    "variables": Key(VARIABLES, "Variables, inherited; the nearest layer wins."),
    "branding": Key(BRANDING),
    **_SHARED,
    "model_revision": Key(Text(), "The model release (a git tag or commit) this layer was last reviewed against."),
    "fill": Key(TEXT_BY_ID, "Text for customisable slots, for every policy that has them."),
    **_CHOICES,
    "policies": Key(MapOf(Id(), OrNull(LAYER)), "The policies it publishes, each with its changes."),
}, "An organisation: its details, and its layer over the policies of the organisations above it.")


# ---- the files ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileKind:
    name: str  # the schema file is schemas/<name>.schema.json
    top: str  # the single top-level key
    record: Record
    title: str
    globs: tuple  # where such files are, relative to the project


FILES = (
    FileKind("organisation", "organisation", ORGANISATION, "policypack organisation layer", ("schools/*.yaml",)),
    FileKind("policy", "policy", POLICY, "policypack policy", ("policy_src/*.yaml", "schools/*/*.yaml")),
    FileKind("library", "library", LIBRARY, "policypack library of shared sections and clauses",
             ("policy_src/library/*.yaml",)),
)


def json_schema(kind: FileKind) -> dict:
    defs: dict = {}
    top = kind.record.json(defs)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": kind.title,
        "description": f"{kind.record.doc} Files: {', '.join(kind.globs)}. Generated from "
                       "policypack/sourceformat.py by `python build.py schema`: do not edit by hand.",
        "type": "object",
        "properties": {kind.top: top},
        "required": [kind.top],
        "additionalProperties": False,
        "$defs": {name: defs[name] for name in sorted(defs)},
    }


def schema_text(kind: FileKind) -> str:
    """The schema file's text: the same bytes for the same declaration."""
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"


def kind_of(rel: str) -> Optional[FileKind]:
    """Which kind of file `rel` (a path relative to the project, with /) is, or None."""
    from fnmatch import fnmatchcase
    parts = rel.split("/")
    for kind in FILES:
        for glob in kind.globs:
            if len(parts) == len(glob.split("/")) and fnmatchcase(rel, glob):
                return kind
    return None
