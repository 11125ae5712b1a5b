"""Read YAML safely and literally, keeping the line of every key and value.

PyYAML's constructors silently keep the last of two duplicate keys, read `no` as False and
`2024-09-01` as a date, and expand aliases without limit. We compose the node graph with the safe
loader and build the values ourselves:

* plain scalars are strings, except `true`/`false`, `null`/`~`/empty and plain integers;
* a duplicate key is an error naming both lines;
* explicit tags other than the core ones are refused;
* alias expansion is bounded (a "billion laughs" file is refused, not expanded).
"""
from __future__ import annotations

import re

import yaml

from .errors import Loc, Report

MAX_NODES = 200_000  # values built from one file, aliases expanded
MAX_BYTES = 5_000_000
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
    """A mapping that remembers its own line and each key's line."""

    line: int = 0

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LList(list):
    line: int = 0

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.item_lines: list[int] = []


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_NODES


class _TooBig(Exception):
    pass


def read_yaml(text: str, file: str, report: Report):
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
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
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
    if node is None:
        return None
    try:
        return _build(node, file, report, _Budget())
    except _TooBig:
        report.error(Loc(file, 1), "the file expands to too many values (are aliases nested?)",
                     f"policypack stops at {MAX_NODES} values per file; write the values out "
                     "instead of using anchors and aliases.")
        return None


def _build(node, file: str, report: Report, budget: _Budget):
    budget.left -= 1
    if budget.left < 0:
        raise _TooBig
    line = node.start_mark.line + 1
    tag = node.tag or ""
    if tag.startswith("tag:yaml.org,2002:"):
        if tag not in _CORE_TAGS and not (isinstance(node, yaml.ScalarNode) and node.style):
            report.error(Loc(file, line), f"unsupported YAML tag {tag!r}", "Remove the tag.")
    elif tag not in ("", "!"):
        report.error(Loc(file, line), f"unsupported YAML tag {tag!r}",
                     "policypack reads plain YAML only: remove the tag.")
        return None
    if isinstance(node, yaml.MappingNode):
        out = LMap()
        out.line = line
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
            if key in out:
                report.error(Loc(file, kline), f"duplicate key '{key}' (first given on line {out.key_lines[key]})",
                             "YAML would silently keep only the last one: remove or merge one of them.")
                continue
            out[key] = _build(value_node, file, report, budget)
            out.key_lines[key] = kline
        return out
    if isinstance(node, yaml.SequenceNode):
        out = LList()
        out.line = line
        for item in node.value:
            out.append(_build(item, file, report, budget))
            out.item_lines.append(item.start_mark.line + 1)
        return out
    return _scalar(node, line)


def _scalar(node, line: int):
    value = node.value
    if node.style in ("|", ">"):  # a block scalar's text starts on the line after its indicator
        line += 1
    if node.style is None or node.style == "":  # plain scalar: the only kind that may be typed
        low = value.lower() if isinstance(value, str) else value
        if low in ("true", "false"):
            return low == "true"
        if low in ("", "~", "null"):
            return None
        if _INT.match(value):
            return int(value)
    s = LStr(value)
    s.line = line
    return s
