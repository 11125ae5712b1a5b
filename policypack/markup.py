"""Clause Markdown -> blocks, through markdown-it-py's token stream (raw HTML off).

Only `https:`, `mailto:` and `tel:` links survive; `xref:ID` links (what `ref()` emits) become
cross-references. Ordered lists become lettered lists, and ordered lists inside them roman.

Underscores are spaces to write and never vanish: a line of underscores is a writing line (a
form field with no label), and a run of three or more inside text is printed as it is, never read
as emphasis ("(____)" stays "(____)"). Markdown's other rules (`---`, `***`) and a `---` or `===`
line under text (a heading) are errors: policies print neither.
"""
from __future__ import annotations

import functools
import re
from typing import Callable, Optional

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_core.smartquotes import process_inlines as _smartquotes
from markdown_it.token import Token

from .errors import Loc, Report
from .model import Break, Code, Emph, Form, FormField, Link, ListBlock, Para, Strong, Table, Text, XRef

SAFE_SCHEMES = ("https:", "mailto:", "tel:")
XREF = "xref:"

# Typography (en-GB, GOV.UK style): straight quotes become curly as the author chose them, "..." ->
# “...” (direct quotation) and '...' -> ‘...’ (a quote within a quote, a term); an apostrophe is
# always ’. markdown-it's `smartquotes` pairs them, in text only (never in code spans or a link's
# address); what it leaves straight (an apostrophe that starts a word, '90s; a quote left open) is
# settled by `_settle_quotes`. Its `replacements` rule stays off: it would print "(c)", a list
# label, as ©, and a writing line of dots as an ellipsis.
QUOTES = "“”‘’"
_md = (MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True, "quotes": QUOTES})
       .enable(["table", "smartquotes"]))
_md.validateLink = lambda url: True  # we vet every link ourselves and report what we refuse
_OPENS_AFTER = re.compile(r"(?:^|(?<=[\s(\[{\u2014\u2013\u00a0/-]))\"")


def _settle_quotes(text: str) -> str:
    """The straight quotes smartquotes left: ' is an apostrophe; " opens after a space or an
    opening bracket (or at the start) and closes anywhere else."""
    if "'" not in text and '"' not in text:
        return text
    return _OPENS_AFTER.sub(QUOTES[0], text.replace("'", QUOTES[3])).replace('"', QUOTES[1])


def _straight(text: str) -> str:
    """An address written as a link (<https://...>) is printed as written: smartquotes curled its quotes."""
    return text.translate(_STRAIGHTEN)


_STRAIGHTEN = str.maketrans({QUOTES[0]: '"', QUOTES[1]: '"', QUOTES[2]: "'", QUOTES[3]: "'"})


def typeset(text: str) -> str:
    """Plain text from YAML (a title, a name, a change summary) with the same quotes and
    apostrophes as clause text: smartquotes on one text token, then `_settle_quotes`."""
    if not text or ("'" not in text and '"' not in text):
        return text
    token = Token("text", "", 0)
    token.content = text
    _smartquotes([token], StateCore("", _md, {}))
    return _settle_quotes(token.content)


def xref_link(target: str) -> str:
    """What `ref('id')` puts into clause text."""
    return f"[]({XREF}{target})"


@functools.lru_cache(maxsize=16384)
def _tokens(text: str) -> tuple:
    """markdown-it's token stream for a text (read only; the same text recurs in every school)."""
    return tuple(_md.parse(text))


def parse(text: str, loc: Loc, report: Report, xref: Callable[[str, Loc], Optional[XRef]]) -> list:
    """The blocks of rendered clause text. Blocks carry no source lines, so a text with no
    cross-reference and nothing to report gives the same blocks wherever it is: those are kept
    (blocks are immutable) and shared by every school whose copy has the same text."""
    if text in _PLAIN:
        return list(_PLAIN[text])
    tokens = _tokens(text)
    heard = Report()
    blocks, _ = _blocks(tokens, 0, len(tokens), loc, heard, xref, 0)
    report.extend(heard)
    if not heard.problems and XREF not in text and len(_PLAIN) < 16384:
        _PLAIN[text] = tuple(blocks)
    return blocks


_PLAIN: dict = {}  # rendered text -> its blocks, for texts whose blocks depend on nothing else


def _line(loc: Loc, tok) -> Loc:
    return Loc(loc.file, loc.line + (tok.map[0] if tok.map else 0), loc.path) if loc.line else loc


def _blocks(tokens, i: int, end: int, loc: Loc, report: Report, xref, depth: int):
    out = []
    while i < end:
        tok = tokens[i]
        t = tok.type
        if t == "inline":
            out.append(Para(tuple(_inlines(_underscores_kept(tok), _line(loc, tok), report, xref))))
            i += 1
        elif t == "hr" and tok.markup.startswith("_"):  # a line of underscores: a line to write on
            if out and isinstance(out[-1], Form):
                out[-1] = Form(out[-1].items + (WRITING_LINE,))
            else:
                out.append(Form((WRITING_LINE,)))
            i += 1
        elif t == "hr" or (t == "heading_open" and tok.markup[:1] in ("-", "=")):
            _rule(tok, _line(loc, tok) if t == "hr" else Loc(loc.file, loc.line + tok.map[1] - 1, loc.path) if loc.line
                  else loc, report)
            i += 1
        elif t in ("bullet_list_open", "ordered_list_open"):
            close = _matching(tokens, i)
            ordered = t == "ordered_list_open"
            style = ("alpha" if depth % 2 == 0 else "roman") if ordered else "bullet"
            items, j = [], i + 1
            while j < close:
                if tokens[j].type == "list_item_open":
                    item_close = _matching(tokens, j)
                    inner, _ = _blocks(tokens, j + 1, item_close, loc, report, xref, depth + (1 if ordered else 0))
                    items.append(tuple(inner))
                    j = item_close + 1
                else:
                    j += 1
            start = int(tok.attrGet("start") or 1) if ordered else 1
            out.append(ListBlock(style=style, items=tuple(items), start=start))
            i = close + 1
        elif t == "table_open":
            close = _matching(tokens, i)
            header, rows, row = None, [], None
            for k in range(i + 1, close):
                tk = tokens[k]
                if tk.type == "tr_open":
                    row = []
                elif tk.type == "inline" and row is not None:
                    row.append(tuple(_inlines(tk.children or [], _line(loc, tk), report, xref)))
                elif tk.type == "tr_close":
                    if header is None:
                        header = tuple(row)
                    else:
                        rows.append(tuple(row))
                    row = None
            out.append(Table(header=header or (), rows=tuple(rows)))
            i = close + 1
        elif t in ("code_block", "fence"):
            out.append(Para((Code(tok.content.rstrip("\n")),)))
            i += 1
        elif t == "html_block":  # cannot happen with html off; keep it visible as text if it does
            out.append(Para((Text(tok.content),)))
            i += 1
        else:  # paragraph/heading/blockquote wrappers, hr: their inline content is handled above
            i += 1
    return out, i


WRITING_LINE = FormField(label=())
# a run of three or more underscores, or what backslashes cannot be put into (code spans, autolinks)
_UNDERSCORES = re.compile(r"(`+)[\s\S]*?(?<!`)\1(?!`)|<[^<>\s]*>|_{3,}")


def _underscores_kept(tok) -> list:
    """The inline token's children, parsed again with each run of three or more underscores
    escaped when there is one (emphasis would eat it: "(____)" would print "()")."""
    if "___" not in tok.content:
        return tok.children or []
    kept = _UNDERSCORES.sub(lambda m: "\\_" * len(m.group()) if m.group().startswith("_") else m.group(),
                            tok.content)
    return _md.parseInline(kept)[0].children or []


def _rule(tok, loc: Loc, report: Report) -> None:
    """A horizontal rule, or a line of dashes or equals signs under text (a Markdown heading)."""
    if tok.type == "hr":
        report.error(loc, f"a line of '{tok.markup[0] * 3}' draws a horizontal rule, which policies do not print",
                     "Delete the line. For a line to write on, write a line of underscores (____) or use a "
                     "form: field; to start something new, use a new clause.")
    else:
        report.error(loc, f"the line of '{tok.markup[0] * 3}' under this text makes it a Markdown heading, "
                          "which clause text does not use",
                     "Give the clause a 'title:' instead, or leave a blank line before the dashes. For a line to "
                     "write on, write a line of underscores (____) or use a form: field.")


def _matching(tokens, i: int) -> int:
    level = 0
    for j in range(i, len(tokens)):
        level += tokens[j].nesting
        if level == 0:
            return j
    return len(tokens) - 1


def _inlines(children, loc: Loc, report: Report, xref) -> list:
    stack: list = [[]]
    marks: list = []
    autolink = False  # inside <https://...>: its text is its address, printed as written
    for tok in children:
        t = tok.type
        if t == "text":
            _text(stack[-1], _settle_quotes(tok.content) if not autolink else _straight(tok.content))
        elif t == "html_inline":
            _text(stack[-1], tok.content)
        elif t == "softbreak":
            _text(stack[-1], " ")
        elif t == "hardbreak":
            stack[-1].append(Break())
        elif t == "code_inline":
            stack[-1].append(Code(tok.content))
        elif t == "image":
            _text(stack[-1], tok.content or "")
        elif t in ("strong_open", "em_open", "link_open"):
            stack.append([])
            marks.append(tok)
            autolink = autolink or tok.info == "auto"
        elif t in ("strong_close", "em_close", "link_close"):
            kids = tuple(stack.pop())
            opener = marks.pop()
            autolink = autolink and opener.info != "auto"
            if opener.type == "strong_open":
                stack[-1].append(Strong(kids))
            elif opener.type == "em_open":
                stack[-1].append(Emph(kids))
            else:
                href = str(opener.attrGet("href") or "")
                if href.startswith(XREF):
                    ref = xref(href[len(XREF):], loc)
                    stack[-1].extend([ref] if ref else list(kids))
                elif href.lower().startswith(SAFE_SCHEMES) and len(href) > 6:
                    stack[-1].append(Link(href, kids or (Text(href.split(":", 1)[1]),)))
                else:
                    report.error(loc, f"link to '{href[:80]}' is not allowed",
                                 "Links may only use https:, mailto: or tel:. Use {{ ref('clause-id') }} to "
                                 "point at another clause.")
                    stack[-1].extend(kids)
    return _merge(stack[0])


def _text(out: list, s: str) -> None:
    if not s:
        return
    if out and isinstance(out[-1], Text):
        out[-1] = Text(out[-1].text + s)
    else:
        out.append(Text(s))


def without_repeated_noun(before: str, ref: XRef) -> XRef:
    """Text says "paragraph {{ ref('x') }}" so that it reads well in schemes whose references are
    bare numbers ("9.2"); a scheme whose references carry the noun ("paragraph 9.2", "Section B")
    would print it twice, so the reference drops the noun the text has just said."""
    words = before.split()
    noun, _, rest = ref.label.partition(" ")
    if words and rest and words[-1].lower() == noun.lower():
        return XRef(ref.target, ref.anchor, rest, ref.policy)
    return ref


def _merge(items: list) -> list:
    out: list = []
    for item in items:
        if isinstance(item, Text):
            _text(out, item.text)
        else:
            if isinstance(item, XRef) and out and isinstance(out[-1], Text) and out[-1].text.endswith(" "):
                out[-1] = Text(out[-1].text[:-1] + "\u00a0")  # "paragraph 3.2" never splits over two lines
                item = without_repeated_noun(out[-1].text, item)
            out.append(item)
    return out
