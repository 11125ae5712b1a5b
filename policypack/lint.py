"""Lint rules for what advisers and schools get wrong: warnings, never errors.

Two rule tables in the manner of markdown-it's. RULES are about clause text, each (name, pattern,
message, hint, leaf only): `lint_text` runs them over one text as written in the source (before
variables and `ref()` are rendered), so a number `ref()` prints is never mistaken for one typed by
hand. COPY_RULES are about one organisation's layered copy of a policy (`layer.Layered`), each
(name, finder, message, hint): `lint_copy` runs them once per copy.
"""
from __future__ import annotations

import functools
import re
from typing import Callable, NamedTuple

from .errors import Loc, Report


class Rule(NamedTuple):
    name: str
    pattern: re.Pattern
    message: str  # {found} is the matched text
    hint: str
    leaf_only: bool  # a model or a trust may leave these for its schools; a school's copy may not


RULES = (
    Rule("placeholder",
         re.compile(r"\[(?:insert|enter|add|name of|school name|date of|to be completed)\b[^\]\n]{0,80}\]"
                    r"|<<[^>\n]{1,80}>>|\bX{3,}\b|\[\s*\.\.\.\s*\]", re.IGNORECASE),
         "'{found}' is a placeholder left in the text",
         "Replace it with this organisation's own wording, or use a variable such as {{ organisation }}.",
         True),
    Rule("model-leftover",
         re.compile(r"\bmodel (?:policy|protocol|document)\b|(?-i:\bDRAFT\b)|\bdraft (?:policy|protocol|version)\b",
                    re.IGNORECASE),
         "'{found}' is left over from the model or a draft",
         "A school's copy is its own adopted policy: reword it, or remove the words.",
         True),
    Rule("typed-number",
         # a statute's "section 170 of the Data Protection Act" is not a cross-reference
         re.compile(r"\b(?:paragraphs?|paras?\.?|clauses?|sub-clauses?)\s+\d+(?:\.\d+)*(?:\([a-z0-9]+\))?"
                    r"|\bsections?\s+\d+\.\d+(?:\.\d+)*|\bappendix\s+(?:\d+|[A-Z])\b(?!\s+of\b)", re.IGNORECASE),
         "'{found}' is a paragraph number typed by hand",
         "Numbers change when clauses move: write {{ ref('clause-id') }} so it renumbers itself.",
         False),
)


def lint_text(text: str, loc: Loc, what: str, leaf: bool, report: Report) -> None:
    """Warn about each rule's first match in `text` (written at `loc`: its first line is loc.line)."""
    for rule, lines_down, found in _findings(text, leaf):
        line = loc.line + lines_down if loc.line else 0
        report.warning(Loc(loc.file, line, loc.path), f"{rule.message.format(found=found)} in {what}", rule.hint)


@functools.lru_cache(maxsize=65536)
def _findings(text: str, leaf: bool) -> tuple:
    """(rule, lines below the first, matched text) of each rule's first match: the same model text
    is linted in every school's copy, so each text is searched once per process."""
    out = []
    for rule in RULES:
        if rule.leaf_only and not leaf:
            continue
        m = rule.pattern.search(text)
        if m is not None:
            out.append((rule, text.count("\n", 0, m.start()), m.group(0)))
    return tuple(out)


# ---- rules about a whole copy -------------------------------------------------------------------
class CopyRule(NamedTuple):
    name: str
    find: Callable  # layer.Layered -> iterable of (Loc, values for message and hint)
    message: str
    hint: str


# the authorship keys of an adoption block (inherited key by key, layer._records) and the cover row
# each prints as
AUTHORSHIP = {"version": "Version", "written_by": "Written by", "written_date": "Written by", "author": "Author",
              "address": "Address", "created": "Created"}


def _ancestors_authorship(copy):
    """A copy whose own organisation wrote its adoption record, showing an authorship value an
    organisation above it wrote. The model's own `version:` numbers the shared text and is left alone."""
    record = copy.adoption_from.get("record")
    if record is None or record[0] != copy.org.id:
        return
    names = {o.id: o.name for o in copy.chain}
    found = [(key, copy.adoption[key], copy.adoption_from[key]) for key in AUTHORSHIP if key in copy.adoption]
    value, loc, layer = copy.fields.get("version", (None, None, "model"))
    if "version" not in copy.adoption and layer != "model":
        found.append(("version", value, (layer, loc)))
    for key, value, (layer, loc) in found:
        if layer != copy.org.id:
            yield record[1], {"key": key, "label": AUTHORSHIP[key], "value": str(value),
                              "who": names.get(layer, layer), "at": loc}


COPY_RULES = (
    CopyRule("ancestor-authorship", _ancestors_authorship,
             "this organisation records its own adoption, but its copy shows {label} '{value}' from {who} ({at})",
             "Add '{key}:' to this adoption block with this organisation's own value (or the same value, "
             "to keep it on purpose)."),
)


def lint_copy(copy, report: Report) -> None:
    """Warn about what each copy rule finds in one organisation's layered copy of a policy."""
    for rule in COPY_RULES:
        for loc, values in rule.find(copy):
            report.warning(loc, rule.message.format(**values), rule.hint.format(**values))
