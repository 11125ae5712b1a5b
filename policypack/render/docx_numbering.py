"""Word numbering for the DOCX writer: the resolved numbering scheme as w:abstractNum levels.

resolve.py computes every label once (numbering.Numberer); this module only says how Word can
show the same labels itself, so a school that edits its copy in Word gets renumbering:

- the body's sections and clauses: one abstractNum, level k (w:ilvl k-1) per clause level k, its
  w:lvlText built from the scheme's `number` and `label` patterns ("{path}" -> "%1.%2",
  "({n})" -> "(%3)"), its w:numFmt from the level's format (zero padding of 2 -> decimalZero),
  w:lvlRestart 0 for a `continuous` level (counts on through the body);
- the appendices: an abstractNum of their own (the appendix label at level 1, e.g. "Appendix %1",
  and the appendix levels under it, "A%1.%2"), so their clauses restart in each appendix;
- the parts: an abstractNum of one level ("Part %1"); sections number on across parts.

Where a pattern has no lvlText form ({parent} or {title} in a label, padding beyond 2 digits, a
literal "%"), `plan` returns None and the writer keeps the literal labels for that document. The
plan is then checked: `simulate` numbers the document's paragraphs as Word does, and any label that
differs from the resolved one makes the writer fall back too, so Word's numbers are never other
than the resolved ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .. import numbering
from ..numbering import PLACEHOLDER, Scheme

WORD_FORMATS = {"decimal": "decimal", "lower-alpha": "lowerLetter", "upper-alpha": "upperLetter",
                "lower-roman": "lowerRoman", "upper-roman": "upperRoman", "none": "none"}
MAX_LEVELS = 9  # Word's levels: w:ilvl 0..8
BODY, APPENDIX, PART = 1, 2, 3  # the abstractNum (and num) ids of the three families


@dataclass(frozen=True)
class WordLevel:
    fmt: str  # a scheme format ("decimal", "lower-alpha", ..., "none")
    text: str  # w:lvlText, e.g. "%1.%2"
    pad: int = 0
    restart: Optional[int] = None  # w:lvlRestart (0: never restart), None: after any higher level
    tab: bool = True  # w:suff tab (the text follows at the hanging indent), else nothing

    @property
    def num_fmt(self) -> str:
        return "decimalZero" if self.fmt == "decimal" and self.pad == 2 else WORD_FORMATS[self.fmt]


@dataclass
class Plan:
    """Word's levels for one document: family id -> [WordLevel] (index: w:ilvl); `unnumbered`:
    (family, ilvl) of the levels whose paragraphs carry no number at all."""
    families: dict = field(default_factory=dict)
    unnumbered: frozenset = frozenset()


def _lvl_text(pattern: str, values: dict) -> Optional[str]:
    """A scheme pattern with Word's %N in place of counters, or None when it has no such form."""
    names = PLACEHOLDER.findall(pattern)
    if any(name not in values for name in names):
        return None
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], pattern)


def _level_texts(scheme: Scheme, depth: int, appendix: bool) -> Optional[WordLevel]:
    """Word's form of clause level `depth` (2.., or 1 for a section) of the body or an appendix."""
    lv = scheme.level(depth, appendix)
    if lv.pad > 2 or "%" in lv.number + lv.label:
        return None
    counters = []
    for d in range(1, depth + 1):
        if appendix and d == 1:
            counters.append(scheme.appendices.prefix + "%1")
        else:
            counters.append("" if scheme.level(d, appendix).format == "none" else f"%{d}")
    if any(scheme.level(d, appendix).pad > 2 for d in range(1 if not appendix else 2, depth + 1)):
        return None
    values = {str(i): v for i, v in enumerate(counters, 1)}
    values.update(n=counters[-1], path=".".join(v for v in counters if v))
    number = _lvl_text(lv.number, values)
    if number is None:
        return None
    values["number"] = number
    label = _lvl_text(lv.label, values) if number else ""
    if label is None:
        return None
    restart = 0 if lv.continuous and not appendix and depth > 1 else None
    return WordLevel(lv.format, label, lv.pad, restart, tab=bool(label))


def plan(scheme: Optional[Scheme]) -> Optional[Plan]:
    """Word's levels for a document in this scheme (all nine, deeper levels repeating the scheme's
    last), or None where the scheme cannot be shown by Word's numbering (the writer then keeps the
    literal labels)."""
    if scheme is None:
        return None
    body = [_level_texts(scheme, d, False) for d in range(1, MAX_LEVELS + 1)]
    app_label = _lvl_text(scheme.appendices.label, {"n": "%1"})
    apps = [WordLevel(scheme.appendices.format, app_label or "", tab=False)]
    apps += [_level_texts(scheme, d, True) for d in range(2, MAX_LEVELS + 1)]
    part_label = _lvl_text(scheme.parts.label, {"n": "%1"})
    if None in body or None in apps or "%" in scheme.appendices.label + scheme.parts.label:
        return None
    # A level that counts on through the body (`continuous`) must never meet a numbered paragraph
    # of a higher level: LibreOffice ignores w:lvlRestart 0 and would restart it. The levels above
    # it may only be unnumbered ones (format none, as `flat` headings): those paragraphs are left
    # out of the numbering, so nothing restarts the count, in Word or LibreOffice.
    unnumbered = set()
    for k, lv in enumerate(body):
        if lv.restart == 0:
            if any(body[j].fmt != "none" or body[j].text for j in range(k)):
                return None
            unnumbered |= {(BODY, j) for j in range(k)}
    return Plan({BODY: body, APPENDIX: apps, PART: [WordLevel(scheme.parts.format, part_label, tab=False)]},
                frozenset(unnumbered))


def _format(level: WordLevel, n: int) -> str:
    return numbering.counter(level.fmt, n, level.pad if level.pad == 2 else 0)


def simulate(p: Plan, paragraphs: list) -> list:
    """The label Word shows on each numbered paragraph, given as (family, ilvl) in document order:
    each level counts from 1 and restarts after any higher level of its family (unless its
    w:lvlRestart is 0); %N shows level N's counter in level N's format."""
    counts = {fam: [0] * len(levels) for fam, levels in p.families.items()}
    out = []
    for fam, ilvl in paragraphs:
        if (fam, ilvl) in p.unnumbered:
            out.append("")
            continue
        levels, c = p.families[fam], counts[fam]
        c[ilvl] += 1
        for deeper in range(ilvl + 1, len(levels)):
            if levels[deeper].restart != 0:
                c[deeper] = 0
        text = levels[ilvl].text
        for d in range(len(levels), 0, -1):  # %10 never occurs (nine levels); replace %9 .. %1
            text = text.replace(f"%{d}", _format(levels[d - 1], max(c[d - 1], 1)))
        out.append(text)
    return out


def abstract_num_xml(family: int, levels: list, indents: list, styles: dict) -> str:
    """A w:abstractNum: one w:lvl per level, with its indents (left, hanging in twips) and the
    paragraph style linked to it (styles: ilvl -> style id)."""
    out = [f'<w:abstractNum w:abstractNumId="{family}"><w:multiLevelType w:val="multilevel"/>']
    for i in range(MAX_LEVELS):
        lv = levels[min(i, len(levels) - 1)]
        left, hanging = indents[min(i, len(indents) - 1)]
        restart = f'<w:lvlRestart w:val="{lv.restart}"/>' if lv.restart is not None else ""
        style = f'<w:pStyle w:val="{styles[i]}"/>' if i in styles else ""
        text = lv.text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        out.append(f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{lv.num_fmt}"/>{restart}{style}'
                   f'<w:suff w:val="{"tab" if lv.tab else "nothing"}"/><w:lvlText w:val="{text}"/>'
                   f'<w:lvlJc w:val="left"/><w:pPr><w:ind w:left="{left}" w:hanging="{hanging}"/></w:pPr></w:lvl>')
    out.append("</w:abstractNum>")
    return "".join(out)


# ---- lists inside clause text --------------------------------------------------------------------
LIST_FORMATS = {"bullet": "bullet", "alpha": "lowerLetter", "roman": "lowerRoman"}


def list_num_fmt(style: str) -> str:
    """Word's w:numFmt for an in-text list style (markup's names or a numbering format)."""
    return LIST_FORMATS.get(style) or WORD_FORMATS[style]


def list_abstract_xml(abstract_id: int, style: str, indents: list) -> str:
    """A list's abstractNum: every level in the list's style ("(%1)" or a bullet)."""
    out = [f'<w:abstractNum w:abstractNumId="{abstract_id}"><w:multiLevelType w:val="hybridMultilevel"/>']
    for i in range(MAX_LEVELS):
        left, hanging = indents[min(i, len(indents) - 1)]
        fmt = list_num_fmt(style)
        text = "\u2022" if fmt == "bullet" else f"(%{i + 1})"
        out.append(f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:suff w:val="tab"/>'
                   f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
                   f'<w:pPr><w:ind w:left="{left}" w:hanging="{hanging}"/></w:pPr></w:lvl>')
    out.append("</w:abstractNum>")
    return "".join(out)
