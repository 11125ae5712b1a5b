"""Lint rules for what advisers and schools get wrong in clause text: warnings, never errors.

A rule table in the manner of markdown-it's: each rule is (name, pattern, message, hint, leaf only).
`lint_text` runs them over one text as written in the source (before variables and `ref()` are
rendered), so a number `ref()` prints is never mistaken for one typed by hand.
"""
from __future__ import annotations

import re
from typing import NamedTuple

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
    for rule in RULES:
        if rule.leaf_only and not leaf:
            continue
        m = rule.pattern.search(text)
        if m is None:
            continue
        line = loc.line + text.count("\n", 0, m.start()) if loc.line else 0
        report.warning(Loc(loc.file, line), f"{rule.message.format(found=m.group(0))} in {what}", rule.hint)
