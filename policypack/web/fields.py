"""Which field of the editor a message belongs to.

A message from the loader or resolver names a file and a line (`errors.Problem.loc`). The editor
shows it beside the field that wrote that line: the layer's text is parsed by ruamel.yaml's
round-trip loader, which knows the line of every key and list item, so each line maps to the key
path written there (`organisation.policies.acceptable-use.fill.local-it-contacts`), and the key
path to a field name (`fill:local-it-contacts`). When a problem carries a key path of its own
(`Problem.path`, from the loader and the stages after it), that is used instead of the line.
"""
from __future__ import annotations

import bisect
import re
from typing import Optional


def line_paths(data) -> list:
    """[(1-based line, key path)] of every key and list item in ruamel's round-trip tree `data`,
    sorted by line (a list item's path ends with the item's value when it is a plain id)."""
    out = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                try:
                    line = node.lc.key(key)[0] + 1
                except (AttributeError, KeyError, TypeError):
                    continue
                out.append((line, path + (str(key),)))
                walk(value, path + (str(key),))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                try:
                    line = node.lc.item(i)[0] + 1
                except (AttributeError, KeyError, TypeError, IndexError):
                    continue
                step = str(value) if isinstance(value, str) else _inserted_id(value) or str(i)
                out.append((line, path + (step,)))
                walk(value, path + (step,))

    walk(data, ())
    out.sort(key=lambda item: item[0])
    return out


def _inserted_id(item) -> Optional[str]:
    """The id an `insert:` item adds, so that its path names the clause rather than a position."""
    if isinstance(item, dict):
        for kind in ("clause", "section", "appendix"):
            if isinstance(item.get(kind), dict) and item[kind].get("id") is not None:
                return str(item[kind]["id"])
    return None


def path_at(paths: list, line: int) -> Optional[tuple]:
    """The key path written at `line`, or the one whose value runs over it (the nearest key at or
    above the line)."""
    lines = [line_ for line_, _ in paths]
    k = bisect.bisect_right(lines, line) - 1
    if k < 0:
        return None
    # several keys may start on one line (a flow mapping): the deepest is the most precise
    same = [p for l_, p in paths if l_ == paths[k][0]]
    return max(same, key=len)


def field_of_path(path) -> Optional[str]:
    """The editor's field for a key path (a tuple, or a dotted string), or None."""
    if path is None:
        return None
    if isinstance(path, str):  # "organisation.fill.x", "/organisation/fill/x" or "...enable[0]"
        path = re.split(r"[./]", re.sub(r"\[([^\]]*)\]", r".\1", path).strip("./"))
    path = tuple(str(p) for p in path)
    if path[:1] == ("organisation",):
        path = path[1:]
    if len(path) >= 3 and path[0] == "policies":
        path = path[2:]  # policies.<policy id>.<key> ...
    if len(path) < 2:
        return None
    key, rest = path[0], path[1:]
    if key == "variables":
        return f"var:{rest[0]}"
    if key in ("fill", "variants", "replace"):
        return {"fill": "fill", "variants": "variant", "replace": "replace"}[key] + f":{rest[0]}"
    if key in ("remove", "retitle"):
        return f"{key}:{rest[0]}"
    if key == "insert":  # policies.<id>.insert.<clause id>.clause.text: the clause's own field
        part = rest[2] if len(rest) >= 3 and rest[1] == "clause" else ""
        return f"inserted-{part}:{rest[0]}" if part in ("title", "text") else f"inserted:{rest[0]}"
    if key in ("enable", "disable"):
        return f"optional:{rest[0]}"
    if key in ("adoption", "review"):
        return f"{key}:{rest[0]}"
    return None


def _by_position(path) -> bool:
    """Whether a path names an `insert:` item by its position: the line then says which clause."""
    if isinstance(path, str):
        return bool(re.search(r"insert(\[\d+\]|[./]\d+)", path))
    steps = [str(p) for p in path]
    return any(a == "insert" and b.isdigit() for a, b in zip(steps, steps[1:]))


def field_of(problem, layer_file: str, paths: list) -> Optional[str]:
    """The field `problem` is about, if it is about the edited layer (`layer_file`, relative to the
    project) and a field of the editor wrote the place it names."""
    if problem.loc.file != layer_file:  # another file's field of the same name is not this one
        return None
    own = getattr(problem, "path", None)
    if own and not _by_position(own):
        return field_of_path(own)
    if not problem.loc.line:
        return None
    return field_of_path(path_at(paths, problem.loc.line))
