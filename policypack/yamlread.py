"""Read YAML safely and literally, keeping the line of every key and value.

PyYAML's constructors silently keep the last of two duplicate keys, read `no` as False and
`2024-09-01` as a date, and expand aliases without limit. We compose the node graph with the safe
loader and build the values ourselves:

* plain scalars are strings, except `true`/`false`, `null`/`~`/empty and plain integers;
* a duplicate key is an error naming both lines;
* explicit tags other than the core ones are refused;
* alias expansion is bounded by values and by bytes (a "billion laughs" file, or a large
  anchored text repeated by many aliases, is refused, not expanded); an alias inside the value it
  names is refused;
* nesting is bounded (deep flow collections would otherwise exhaust Python's stack);
* digit strings too long to be a number stay text;
* characters that XML cannot hold, and other control characters, are refused in values and keys
  (raw in the file or written as escapes), naming the line and the character.
"""
from __future__ import annotations

import re

import yaml

from .errors import Loc, Report
from .names import bad_char, describe

MAX_NODES = 200_000  # values built from one file, aliases expanded
MAX_BYTES = 5_000_000  # the file as written
MAX_EXPANDED = 10_000_000  # bytes of text in one file's values and keys, aliases expanded
MAX_DEPTH = 100  # mappings and lists inside one another
MAX_INT_DIGITS = 18  # longer digit strings stay text (a number here is a count or a year)
_INT = re.compile(r"[-+]?[0-9]+\Z")
_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}


class LStr(str):
    """A string that remembers its line."""

    line: int = 0


class LMap(dict):
    """A mapping that remembers its own line, each key's line and its field path from the top of
    the file (`path`: keys and list positions, e.g. ('organisation', 'policies', 'social-media'))."""

    line: int = 0
    path: tuple = ()

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LList(list):
    line: int = 0
    path: tuple = ()

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.item_lines: list[int] = []


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_NODES
        self.bytes = MAX_EXPANDED
        self.path: set = set()  # ids of the collection nodes being built, to catch a cyclic alias

    def spend(self, text: str) -> None:
        self.bytes -= len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if self.bytes < 0:
            raise _TooBig("bytes")


class _TooBig(Exception):
    pass


class _Refused(Exception):
    def __init__(self, line: int, message: str, hint: str):
        super().__init__(message)
        self.line, self.message, self.hint = line, message, hint


def read_yaml(text: str, file: str, report: Report,
              empty_hint: str = "Write its settings, or delete the file if it is not needed."):
    """Parse `text`; return the value or None (with the problem added to `report`)."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        report.error(Loc(file, 1), f"file is larger than {MAX_BYTES // 1_000_000} MB",
                     "Split it into smaller files.")
        return None
    if "\t" in text:
        for n, line in enumerate(text.splitlines(), 1):
            stripped = line.lstrip(" ")
            if stripped.startswith("\t"):
                report.error(Loc(file, n), "a tab character is used for indentation",
                             "YAML indents with spaces only: replace the tab with spaces.")
                return None
    node = _compose_fast(text)
    try:
        if node is None:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else 1
        ch = chr(exc.character) if isinstance(exc.character, int) else "?"
        report.error(Loc(file, line), f"the file holds the character {describe(ch)}, which policy text cannot hold",
                     "Delete it: control characters cannot be printed, and Word and web pages cannot hold them.")
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or exc.context or "the YAML could not be read"
        report.error(Loc(file, line), f"YAML syntax error: {what}",
                     "Check the indentation and quoting on this line and the one above it; "
                     "quote text that contains ': ' or starts with a special character.")
        return None
    except yaml.YAMLError as exc:
        report.error(Loc(file, 1), f"YAML could not be read: {exc}", "Fix the file's syntax.")
        return None
    except RecursionError:
        report.error(Loc(file, _deep_line(text)), f"the YAML is nested more than {MAX_DEPTH} levels deep",
                     "Flatten the lists and mappings: policypack reads at most "
                     f"{MAX_DEPTH} levels of nesting.")
        return None
    if node is None:
        report.error(Loc(file, 1), "the file is empty", empty_hint)
        return None
    try:
        return _build(node, file, report, _Budget(), 0, ())
    except _Refused as exc:
        report.error(Loc(file, exc.line), exc.message, exc.hint)
        return None
    except _TooBig as exc:
        if exc.args and exc.args[0] == "bytes":
            report.error(Loc(file, 1), f"the file expands to more than {MAX_EXPANDED // 1_000_000} MB of text "
                         "(are aliases repeating a long text?)",
                         "Write the values out instead of repeating them with anchors and aliases.")
        else:
            report.error(Loc(file, 1), "the file expands to too many values (are aliases nested?)",
                         f"policypack stops at {MAX_NODES} values per file; write the values out "
                         "instead of using anchors and aliases.")
        return None


_FAST = getattr(yaml, "__with_libyaml__", False)


def _compose_fast(text: str):
    """The node graph, composed by libyaml (about ten times faster than PyYAML's own parser), or
    None: when libyaml is missing, the file is empty, or anything is wrong with it, PyYAML's
    parser composes it again and its errors are the ones reported. libyaml's composer recurses in
    C, so the nesting is first measured from its event stream, which does not recurse."""
    if not _FAST:
        return None
    try:
        depth = 0
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return None
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.compose(text, Loader=yaml.CSafeLoader)
    except Exception:  # noqa: BLE001 - the pure-Python parser says what is wrong
        return None


def _deep_line(text: str) -> int:
    """The line on which the nesting first goes deeper than MAX_DEPTH (by the YAML tokens)."""
    depth = 0
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken,
                                  yaml.BlockSequenceStartToken, yaml.BlockMappingStartToken)):
                depth += 1
                if depth > MAX_DEPTH:
                    return token.start_mark.line + 1
            elif isinstance(token, (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)):
                depth -= 1
    except (yaml.YAMLError, RecursionError):
        pass
    return 1


def _build(node, file: str, report: Report, budget: _Budget, depth: int, path: tuple):
    budget.left -= 1
    if budget.left < 0:
        raise _TooBig("values")
    line = node.start_mark.line + 1
    if depth > MAX_DEPTH:
        raise _Refused(line, f"the YAML is nested more than {MAX_DEPTH} levels deep",
                       f"Flatten the lists and mappings: policypack reads at most {MAX_DEPTH} levels of nesting.")
    tag = node.tag or ""
    if tag.startswith("tag:yaml.org,2002:"):
        if tag not in _CORE_TAGS and not (isinstance(node, yaml.ScalarNode) and node.style):
            report.error(Loc(file, line, path), f"unsupported YAML tag {tag!r}", "Remove the tag.")
    elif tag not in ("", "!"):
        report.error(Loc(file, line, path), f"unsupported YAML tag {tag!r}",
                     "policypack reads plain YAML only: remove the tag.")
        return None
    if isinstance(node, yaml.CollectionNode):
        if id(node) in budget.path:
            raise _Refused(line, "an alias refers to the list or mapping it is part of",
                           "A value cannot contain itself: write the value out instead of the alias.")
        budget.path.add(id(node))
        try:
            return _collection(node, line, file, report, budget, depth, path)
        finally:
            budget.path.discard(id(node))
    return _scalar(node, line, file, budget)


def _collection(node, line: int, file: str, report: Report, budget: _Budget, depth: int, path: tuple):
    if isinstance(node, yaml.MappingNode):
        out = LMap()
        out.line, out.path = line, path
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                report.error(Loc(file, key_node.start_mark.line + 1), "YAML merge keys (<<) are not supported",
                             "Write the keys out in full.")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                report.error(Loc(file, key_node.start_mark.line + 1), "a key must be plain text",
                             "Use a simple name as the key.")
                continue
            key = str(key_node.value)
            kline = key_node.start_mark.line + 1
            budget.spend(key)
            bad = bad_char(key, key=True)
            if bad:
                raise _Refused(kline + key.count("\n", 0, bad[0]), f"a key holds the character {describe(bad[1])}",
                               "Keys are plain names: delete the character.")
            if key in out:
                report.error(Loc(file, kline, path + (key,)), f"duplicate key '{key}' (first given on line {out.key_lines[key]})",
                             "YAML would silently keep only the last one: remove or merge one of them.")
                continue
            out[key] = _build(value_node, file, report, budget, depth + 1, path + (key,))
            out.key_lines[key] = kline
        return out
    if isinstance(node, yaml.SequenceNode):
        out = LList()
        out.line, out.path = line, path
        for i, item in enumerate(node.value):
            out.append(_build(item, file, report, budget, depth + 1, path + (i,)))
            out.item_lines.append(item.start_mark.line + 1)
        return out
    return None


def _scalar(node, line: int, file: str, budget: _Budget):
    value = node.value
    budget.spend(value)
    if node.style in ("|", ">"):  # a block scalar's text starts on the line after its indicator
        line += 1
    bad = bad_char(value)
    if bad:
        # the line of the character in a literal block (other styles fold their lines)
        at = line + value.count("\n", 0, bad[0]) if node.style == "|" else line
        raise _Refused(at, f"the text holds the character {describe(bad[1])}, which policy text cannot hold",
                       "Delete it (it may be written as an escape such as \\x01 or \\u0000 in a quoted text): "
                       "Word and web pages cannot hold control characters.")
    if node.style is None or node.style == "":  # plain scalar: the only kind that may be typed
        low = value.lower() if isinstance(value, str) else value
        if low in ("true", "false"):
            return low == "true"
        if low in ("", "~", "null"):
            return None
        if _INT.match(value) and len(value.lstrip("+-")) <= MAX_INT_DIGITS:
            return int(value)
    s = LStr(value)
    s.line = line
    return s
