"""Numbering as data: named schemes that say how sections, clauses and appendices are numbered.

A scheme gives, per level, a counter format, a pattern for the number (which may combine the
counters of the ancestors, like Word's multilevel list "%1.%2"), zero padding, the label printed in
the margin and the form a cross-reference takes; and how appendices are labelled. The built-in
schemes are in SCHEMES; an organisation may define its own under `numbering_schemes:` (read by
`read_schemes`, checked by `problems`). resolve.py asks a `Numberer` for every node's
(number, label, ref) once; every writer and every cross-reference reads those.

Patterns use these placeholders:
  {1} .. {9}  the counter of that level (formatted in that level's format, zero-padded)
  {n}         this level's counter
  {path}      the counters of every numbered level down to this one, joined by "."
  {parent}    the parent's cross-reference ("12" for a "(a)" under paragraph 12)
  {title}     the node's title, in quotes (cross-references to unnumbered headings)
  {number}    the number just computed (in `label` and `ref` only)
Inside an appendix, {1} is the appendix's own counter with the appendix scheme's prefix
("A1" when appendices are numbered, "A" when they are lettered), so "A1.2" and "A.2" both work.

The rule for lists inside clause text: a list never uses a marker that the scheme uses for clause
labels. In-text lists take, outermost first, the first free formats of LIST_PREFERENCE, written
"(a)". Under decimal, lists are (a) then (i) as always; under decimal-alpha and flat, whose
sub-clauses are (a) and (i), lists are (1) then (A), so "24.2(b)" can only mean a sub-clause.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from typing import Optional

FORMATS = ("decimal", "lower-alpha", "upper-alpha", "lower-roman", "upper-roman", "none")
LIST_PREFERENCE = ("lower-alpha", "lower-roman", "decimal", "upper-alpha", "upper-roman")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
NUMBER_NAMES = {"n", "path", "parent", "title"} | {str(i) for i in range(1, 10)}
MAX_PAD = 6


def alpha(n: int) -> str:
    s = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr(97 + r) + s
    return s


def roman(n: int) -> str:
    vals = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
            (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    out = ""
    for v, s in vals:
        while n >= v:
            out += s
            n -= v
    return out


def counter(fmt: str, n: int, pad: int = 0) -> str:
    """One counter in a format: counter("upper-alpha", 2) == "B", counter("decimal", 3, 2) == "03"."""
    if fmt == "none":
        return ""
    if fmt == "lower-alpha":
        return alpha(n)
    if fmt == "upper-alpha":
        return alpha(n).upper()
    if fmt == "lower-roman":
        return roman(n)
    if fmt == "upper-roman":
        return roman(n).upper()
    return str(n).zfill(pad)


@dataclass(frozen=True)
class Level:
    format: str = "decimal"
    number: str = "{path}"
    label: str = "{number}"
    ref: str = "{number}"
    pad: int = 0
    continuous: bool = False  # counts on through the body instead of restarting under each parent


@dataclass(frozen=True)
class Appendices:
    format: str = "decimal"
    label: str = "Appendix {n}"
    prefix: str = "A"  # put before the appendix's counter in the numbers of its clauses


@dataclass(frozen=True)
class Parts:
    """How parts (groups of sections above section level) are labelled: "Part 1", "Part B"."""
    format: str = "decimal"
    label: str = "Part {n}"


@dataclass(frozen=True)
class Scheme:
    name: str
    levels: tuple  # of Level; the last one repeats for deeper levels
    appendices: Appendices = Appendices()
    appendix_levels: Optional[tuple] = None  # levels 2.. inside appendices (default: `levels`)
    parts: Parts = Parts()
    lists: tuple = ()  # in-text list formats, outermost first (default: the free ones, see module doc)
    summary: str = ""
    example: str = ""

    def level(self, depth: int, appendix: bool = False) -> Level:
        levels = (self.appendix_levels or self.levels) if appendix else self.levels
        return levels[min(depth, len(levels)) - 1]

    def list_formats(self) -> tuple:
        if self.lists:
            return self.lists
        taken = {shape[1] for shape in self._local_shapes() if shape[0] == "(" and shape[2] == ")"}
        free = [f for f in LIST_PREFERENCE if f not in taken]
        return tuple(free[:2]) or ("decimal",)

    def _local_shapes(self) -> list:
        """(before, format, after) of every level whose label is made of its own counter alone."""
        out = []
        for lv in self.levels + (self.appendix_levels or ()):
            shape = local_shape(lv)
            if shape:
                out.append(shape)
        return out


def local_shape(lv: Level) -> Optional[tuple]:
    """A level whose label shows only its own counter, e.g. "({n})" -> ("(", "lower-alpha", ")")."""
    text = lv.label.replace("{number}", lv.number)
    names = PLACEHOLDER.findall(text)
    if names != ["n"] or lv.format == "none":
        return None
    before, after = text.split("{n}")
    return (before, lv.format, after)


# ---- built-in schemes ---------------------------------------------------------------------
_SUB_A = Level(format="lower-alpha", number="({n})", ref="{parent}{number}")
_SUB_I = Level(format="lower-roman", number="({n})", ref="{parent}{number}")
_DOTTED = Level()

SCHEMES: dict = {}


def _add(scheme: Scheme) -> None:
    SCHEMES[scheme.name] = scheme


_add(Scheme("decimal", (_DOTTED,), summary="1 / 1.1 / 1.1.1, to any depth",
            example="3  Use of phones / 3.2 / 3.2.1; a reference reads 3.2.1"))
_add(Scheme("decimal-dot", (Level(label="{number}."),), summary="as decimal, with a full stop in the margin",
            example="3.  Use of phones / 3.2. / 3.2.1.; a reference reads 3.2.1"))
_add(Scheme("decimal-alpha", (_DOTTED, _DOTTED, _SUB_A, _SUB_I),
            summary="1 / 1.1 / (a) / (i): numbered sections and clauses, lettered sub-clauses",
            example="3  Use of phones / 3.2 / (a) / (i); a reference reads 3.2(a)(i)"))
_add(Scheme("flat", (Level(format="none", number="", ref="{title}"),
                     Level(number="{n}", continuous=True), _SUB_A, _SUB_I),
            appendix_levels=(_DOTTED, _DOTTED, _SUB_A, _SUB_I),
            summary="unnumbered headings, paragraphs numbered 1..N through the document, then (a) / (i)",
            example="Use of phones / 17 / (a) / (i); a reference reads 17(a)"))
_add(Scheme("legal", (_DOTTED, _DOTTED, _DOTTED, _SUB_A, _SUB_I),
            summary="1 / 1.1 / 1.1.1 / (a) / (i): three numbered levels, as in trust and council HR policies",
            example="4  Procedure / 4.3 / 4.3.2 / (a); a reference reads 4.3.2(a)"))
_add(Scheme("paragraph", (Level(label="{number}.", ref="section {number}"), Level(ref="paragraph {number}"),
                          _SUB_A, _SUB_I),  # "{parent}" already reads "paragraph 5.2"
            appendices=Appendices(format="upper-alpha", prefix=""),
            summary="1. / 1.1 / (a) / (i), references written 'paragraph 1.1(a)', appendices lettered",
            example="5.  Grievances / 5.2 / (b); a reference reads 'paragraph 5.2(b)'; Appendix B, clause B.1"))
_add(Scheme("lettered-sections", (Level(format="upper-alpha", number="{1}", ref="section {number}"),
                                  Level(number="{1}.{2}"), _SUB_A, _SUB_I),
            appendices=Appendices(format="decimal", label="Annex {n}", prefix="N"),
            summary="A / A.1 / (a) / (i): lettered sections, clauses A.1, A.2; annexes numbered",
            example="C  Absence / C.4 / (a); a reference reads C.4(a); Annex 2, clause N2.1"))
_add(Scheme("sections", (Level(format="upper-alpha", number="{1}", ref="Section {number}"),
                         Level(number="{1}{2}"), _SUB_A, _SUB_I),
            appendix_levels=(_DOTTED, _DOTTED, _SUB_A, _SUB_I),
            appendices=Appendices(format="decimal", label="Annex {n}", prefix="A"),
            summary="A / A1, A2 / (a) / (i): lettered sections, referred to as 'Section A', with clauses numbered "
                    "inside each",
            example="B  Recruitment / B3 / (a); references read 'Section B' and B3(a); Annex 1, clause A1.2"))
_add(Scheme("numbered-paragraphs", (Level(format="none", number="", ref="{title}"),
                                    Level(number="{n}", label="{number}.", continuous=True),
                                    Level(format="decimal", number="{2}.{3}"), _SUB_A),
            appendix_levels=(_DOTTED, _DOTTED, _DOTTED, _SUB_A),
            appendices=Appendices(format="upper-alpha", prefix=""),
            summary="unnumbered headings, paragraphs 1. .. N. through the document, sub-paragraphs 17.1, then (a)",
            example="Use of phones / 17. / 17.1 / (a); a reference reads 17.1(a); Appendix A, clause A.1"))

BUILTIN = tuple(SCHEMES)


# ---- numbering a document -------------------------------------------------------------------
class Numberer:
    """Numbers one document's nodes, in document order, in one scheme."""

    def __init__(self, scheme: Scheme):
        self.scheme = scheme
        self.running: dict = {}  # level -> running counter of a continuous level

    def counter(self, level: int, index: int, appendix: bool) -> int:
        """The counter a node gets: its place among its siblings, or the running count."""
        lv = self.scheme.level(level, appendix)
        if lv.continuous and not appendix and level > 1:
            self.running[level] = self.running.get(level, 0) + 1
            return self.running[level]
        return index

    def part(self, index: int) -> tuple:
        """(number, label) of the index-th part (1-based): ("B", "Part B"). Sections number on
        across parts, so a part's label is also its cross-reference."""
        n = counter(self.scheme.parts.format, index)
        return n, self.scheme.parts.label.replace("{n}", n)

    def label(self, level: int, path: list, appendix: bool, parent_ref: str, title: Optional[str]):
        """(number, label in the margin, text of a cross-reference); `path` holds the counters."""
        return _label(self.scheme, level, tuple(path), appendix, parent_ref, title)


@functools.lru_cache(maxsize=65536)
def _label(s: Scheme, level: int, path: tuple, appendix: bool, parent_ref: str, title: Optional[str]):
    """Numberer.label's work, once per scheme and place: every school numbers the same outline."""
    if appendix and level == 1:
        n = counter(s.appendices.format, path[0])
        text = s.appendices.label.replace("{n}", n)
        return n, text, text
    lv = s.level(level, appendix)
    counters = []
    for depth, c in enumerate(path, 1):
        if appendix and depth == 1:
            counters.append(s.appendices.prefix + counter(s.appendices.format, c))
        else:
            dlv = s.level(depth, appendix)
            counters.append(counter(dlv.format, c, dlv.pad))
    values = {str(i): v for i, v in enumerate(counters, 1)}
    values.update(n=counters[-1], parent=parent_ref,
                  path=".".join(v for v in counters if v),
                  title=f"\u2018{title}\u2019" if title else "")
    number = _fill(lv.number, values)
    values["number"] = number
    label = _fill(lv.label, values) if number else ""
    ref = _fill(lv.ref, values) if number or "{number}" not in lv.ref else ""
    return number, label, ref


def _fill(pattern: str, values: dict) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), pattern)


def marker(fmt: str, n: int) -> str:
    """The marker of the n-th item of an in-text list in a format: "(a)", "(iv)", "(3)"."""
    return f"({counter(fmt, n)})"


# ---- checking a scheme ----------------------------------------------------------------------
def problems(scheme: Scheme) -> list:
    """What makes a scheme's labels ambiguous: [(where, message, hint)], empty when it is sound.
    `where` is ("levels", i) / ("appendix_levels", i) / ("lists", None) / ("appendices", None)."""
    out = []
    for key, levels in (("levels", scheme.levels), ("appendix_levels", scheme.appendix_levels or ())):
        seen = {}
        for i, lv in enumerate(levels):
            names = set(PLACEHOLDER.findall(lv.number))
            own = {"n", "path", str(i + 1)} if key == "levels" or i else {"n", "path"}
            if lv.format != "none" and not names & own:
                out.append(((key, i), f"level {i + 1}'s number '{lv.number}' does not show its own counter, "
                            "so every one of its clauses gets the same number",
                            f"Put {{n}} or {{{i + 1}}} in 'number'."))
            elif lv.format == "none" and lv.number:
                out.append(((key, i), f"level {i + 1} has format 'none' but its number is '{lv.number}'",
                            "A level without counters has an empty number: write number: \"\"."))
            for name in set(PLACEHOLDER.findall(lv.number)) - {"n", "path", "parent", "title"}:
                if name.isdigit() and int(name) > i + 1:
                    out.append(((key, i), f"level {i + 1}'s number uses {{{name}}}, a level below it",
                                f"A level can use the counters of levels 1 to {i + 1}."))
            shape = local_shape(lv)
            if shape:
                if shape in seen:
                    out.append(((key, i), f"levels {seen[shape] + 1} and {i + 1} both label their clauses "
                                f"'{shape[0]}{marker_sample(shape[1])}{shape[2]}', "
                                "so a sub-clause looks like its parent",
                                "Give the deeper level another format (lower-roman under lower-alpha)."))
                seen.setdefault(shape, i)
                if shape[0] == "(" and shape[2] == ")" and shape[1] in scheme.list_formats():
                    out.append(((key, i), f"level {i + 1}'s labels '({marker_sample(shape[1])})' look like the "
                                f"{shape[1]} lists inside clause text",
                                "Leave out 'lists' to have free formats chosen, or list formats no level uses."))
    if len(set(scheme.lists)) != len(scheme.lists):
        out.append((("lists", None), "'lists' names the same format twice, so a nested list looks like its parent",
                    "Give each depth of list its own format."))
    if "{n}" not in scheme.parts.label:
        out.append((("parts", None), f"the part label '{scheme.parts.label}' has no {{n}}, "
                    "so every part gets the same label", "Write e.g. label: \"Part {n}\"."))
    if "{n}" not in scheme.appendices.label:
        out.append((("appendices", None), f"the appendix label '{scheme.appendices.label}' has no {{n}}, "
                    "so every appendix gets the same label", "Write e.g. label: \"Appendix {n}\"."))
    return out


def marker_sample(fmt: str) -> str:
    return counter(fmt, 1) or "-"


def list_styles(blocks: list, formats: tuple) -> list:
    """The blocks with their ordered lists' markers set from `formats`, so lists inside clause
    text never look like the scheme's sub-clause labels. markup.py marks an outer ordered list
    "alpha" and a list inside it "roman"; they take formats[0] and formats[1]. Lists in the
    default formats are returned as they are."""
    if tuple(formats[:2]) == ("lower-alpha", "lower-roman"):
        return blocks
    from .model import ListBlock  # model imports nothing from here; keep the import local
    names = {"lower-alpha": "alpha", "lower-roman": "roman"}
    by_depth = {"alpha": formats[0], "roman": formats[min(1, len(formats) - 1)]}
    out = []
    for b in blocks:
        if isinstance(b, ListBlock):
            style = b.style
            if style in by_depth:
                style = names.get(by_depth[style], by_depth[style])
            items = tuple(tuple(list_styles(list(item), formats)) for item in b.items)
            b = replace(b, style=style, items=items)
        out.append(b)
    return out


# ---- reading a layer's own schemes ----------------------------------------------------------
PART_SCHEMES = {
    "part-number": Parts(),
    "part-letter": Parts(format="upper-alpha"),
    "part-roman": Parts(format="upper-roman"),
}
APPENDIX_SCHEMES = {
    "appendix-number": Appendices(),
    "appendix-letter": Appendices(format="upper-alpha", prefix=""),
    "annex-letter": Appendices(format="upper-alpha", label="Annex {n}", prefix=""),
    "annex-number": Appendices(format="decimal", label="Annex {n}", prefix="Annex "),
}
LABEL_NAMES = NUMBER_NAMES | {"number"}


def read_schemes(r, value, line: int, what: str) -> dict:
    """`numbering_schemes:` of an organisation: name -> Scheme, each checked, problems reported
    with file and line through the loader's reader `r` (a scheme with problems maps to None)."""
    from . import sourceformat as sf  # it imports this module; its key sets are read here
    from .errors import did_you_mean
    out = {}
    m = r.mapping(value, line, f"'numbering_schemes' in {what}", set(value) if hasattr(value, "keys") else set())
    if m is None:
        return out
    for name in m:
        sline = m.line_of(name)
        if r.ident(name, sline, "a numbering scheme's name") is None:
            continue
        if name in SCHEMES:
            r.err(sline, f"numbering scheme '{name}' is built in and cannot be redefined",
                  f"Give your scheme another name, e.g. '{name}-local'.")
            continue
        out[str(name)] = None  # known, so `numbering:` naming it is not reported again; its problems are
        sm = r.mapping(m[name], sline, f"numbering scheme '{name}'", sf.SCHEME.keys, sf.SCHEME.required)
        if sm is None or sm.get("levels") is None:
            continue
        levels = _read_levels(r, sm, "levels", name)
        app_levels = _read_levels(r, sm, "appendix_levels", name) if sm.get("appendix_levels") is not None else None
        if levels is None or (sm.get("appendix_levels") is not None and app_levels is None):
            continue
        appendices = Appendices()
        av = sm.get("appendices")
        if isinstance(av, str):
            if av not in APPENDIX_SCHEMES:
                hint = did_you_mean(av, APPENDIX_SCHEMES)
                r.err(sm.line_of("appendices"), f"'appendices' in numbering scheme '{name}' is '{av}'",
                      (hint + " " if hint else "") + "Use one of: " + ", ".join(APPENDIX_SCHEMES)
                      + ", or a mapping with format, label and prefix.")
                continue
            appendices = APPENDIX_SCHEMES[av]
        elif av is not None:
            am = r.mapping(av, sm.line_of("appendices"), f"'appendices' in numbering scheme '{name}'", sf.SCHEME_APPENDICES.keys)
            if am is None:
                continue
            fmt = r.choice(am, "format", "the appendices", FORMATS[:-1]) if am.get("format") is not None else "decimal"
            label = r.text(am, "label", "the appendices") or "Appendix {n}"
            prefix = r.text(am, "prefix", "the appendices")
            if fmt is None or not _placeholders_ok(r, am, "label", label, {"n"}, f"the appendix label of '{name}'"):
                continue
            appendices = Appendices(format=fmt, label=label, prefix=prefix if prefix is not None else "A")
        parts = _read_parts(r, sm, name)
        if parts is None:
            continue
        lists = ()
        lv = sm.get("lists")
        if lv is not None:
            if not isinstance(lv, list) or not lv or not all(isinstance(x, str) for x in lv):
                r.err(sm.line_of("lists"), f"'lists' in numbering scheme '{name}' must be a list of formats",
                      "Write e.g. 'lists: [lower-roman, decimal]' (outermost list first).")
                continue
            bad = [x for x in lv if x not in LIST_PREFERENCE]
            if bad:
                hint = did_you_mean(bad[0], LIST_PREFERENCE)
                r.err(sm.line_of("lists"), f"'lists' in numbering scheme '{name}' has '{bad[0]}'",
                      (hint + " " if hint else "") + "Use: " + ", ".join(LIST_PREFERENCE) + ".")
                continue
            lists = tuple(lv)
        scheme = Scheme(name=str(name), levels=levels, appendices=appendices, appendix_levels=app_levels,
                        parts=parts, lists=lists, summary=r.text(sm, "summary", f"numbering scheme '{name}'") or "")
        found = problems(scheme)
        for (key, i), message, hint in found:
            where = sm.line_of(key) if key in sm else sm.line
            if i is not None and key in sm and isinstance(sm[key], list) and i < len(sm[key]):
                where = sm[key].item_lines[i] if hasattr(sm[key], "item_lines") else where
            r.err(where, f"numbering scheme '{name}': {message}", hint)
        if not found:
            out[str(name)] = scheme
    return out


def _read_parts(r, sm, name: str) -> Optional[Parts]:
    """`parts:` of a scheme: a name from PART_SCHEMES or {format, label}; Parts() when absent,
    None (reported) when wrong."""
    from . import sourceformat as sf
    from .errors import did_you_mean
    pv = sm.get("parts")
    if pv is None:
        return Parts()
    if isinstance(pv, str):
        if pv not in PART_SCHEMES:
            hint = did_you_mean(pv, PART_SCHEMES)
            r.err(sm.line_of("parts"), f"'parts' in numbering scheme '{name}' is '{pv}'",
                  (hint + " " if hint else "") + "Use one of: " + ", ".join(PART_SCHEMES)
                  + ", or a mapping with format and label.")
            return None
        return PART_SCHEMES[pv]
    pm = r.mapping(pv, sm.line_of("parts"), f"'parts' in numbering scheme '{name}'", sf.SCHEME_PARTS.keys)
    if pm is None:
        return None
    fmt = r.choice(pm, "format", "the parts", FORMATS[:-1]) if pm.get("format") is not None else "decimal"
    label = r.text(pm, "label", "the parts") or "Part {n}"
    if fmt is None or not _placeholders_ok(r, pm, "label", label, {"n"}, f"the part label of '{name}'"):
        return None
    return Parts(format=fmt, label=str(label))


def _read_levels(r, sm, key: str, name: str) -> Optional[tuple]:
    from . import sourceformat as sf
    v = sm.get(key)
    if not isinstance(v, list) or not v:
        r.err(sm.line_of(key), f"'{key}' in numbering scheme '{name}' must be a list of levels",
              "Start each level with '- format: decimal' and give its 'number', e.g. \"{1}.{2}\".")
        return None
    lines = getattr(v, "item_lines", [sm.line_of(key)] * len(v))
    levels, ok = [], True
    for i, (item, iline) in enumerate(zip(v, lines), 1):
        what = f"level {i} of numbering scheme '{name}'"
        lm = r.mapping(item, iline, what, sf.LEVEL.keys)
        if lm is None:
            ok = False
            continue
        fmt = r.choice(lm, "format", what, FORMATS) if lm.get("format") is not None else "decimal"
        number = r.text(lm, "number", what)
        label = r.text(lm, "label", what)
        ref = r.text(lm, "ref", what)
        pad = r.integer(lm, "pad", what, 0, MAX_PAD) if lm.get("pad") is not None else 0
        continuous = r.flag(lm, "continuous", what)
        if fmt is None or pad is None:
            ok = False
            continue
        number = "" if fmt == "none" and number is None else ("{path}" if number is None else number)
        label = "{number}" if label is None else label
        ref = "{number}" if ref is None else ref
        for k, text, names in (("number", number, NUMBER_NAMES), ("label", label, LABEL_NAMES),
                               ("ref", ref, LABEL_NAMES)):
            ok = _placeholders_ok(r, lm, k, text, names, what) and ok
        levels.append(Level(format=fmt, number=str(number), label=str(label), ref=str(ref), pad=pad,
                            continuous=continuous))
    return tuple(levels) if ok else None


def _placeholders_ok(r, m, key: str, text: str, names: set, what: str) -> bool:
    from .errors import did_you_mean
    for name in PLACEHOLDER.findall(text or ""):
        if name not in names:
            hint = did_you_mean(name, names)
            r.err(m.line_of(key) if key in m else m.line, f"'{key}' in {what} has an unknown placeholder '{{{name}}}'",
                  (hint + " " if hint else "") + "Use "
                  + ", ".join("{" + n + "}" for n in sorted(names, key=_order)) + ".")
            return False
    return True


def _order(name: str):
    return (0, int(name)) if name.isdigit() else (1, name)


def lookup(name: str, own: dict) -> Optional[Scheme]:
    """A scheme by name: an organisation's own (nearest layer first in `own`), else a built-in."""
    return own.get(name) or SCHEMES.get(name)


def for_chain(name: str, chain: list) -> Optional[Scheme]:
    """The scheme `name` as an organisation sees it: its chain's own schemes (a nearer
    organisation's wins over an ancestor's of the same name; `chain` is root first), else a built-in."""
    own = {}
    for org in chain:
        own.update(org.numbering_schemes)
    return lookup(name, own)


def examples(scheme: Scheme, depth: int = 3) -> list:
    """[(what, label, reference)]: the first label of each level (at least `depth` levels, every
    level the scheme defines), then an appendix and its first clause, as `explain` shows them."""
    out, ref = [], ""
    numberer = Numberer(scheme)
    for level in range(1, max(depth, len(scheme.levels)) + 1):
        _, label, ref = numberer.label(level, [1] * level, False, ref, "Title")
        out.append((f"level {level}", label, ref))
    _, label, ref = numberer.label(1, [1], True, "", "Title")
    out.append(("appendix", label, ref))
    _, label, ref = numberer.label(2, [1, 1], True, ref, "Title")
    out.append(("appendix clause", label, ref))
    return out
