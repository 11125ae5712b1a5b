"""Writing an organisation's layer back: change values, keep everything else as it was.

Layers are written by people, with comments, an order and a layout of their own, and the next
person to read the file is a person too. So edits go through ruamel.yaml's round-trip mode, which
keeps comments, key order, quoting and block styles. ruamel lays out indentation and line width
one way for a whole file, so before editing, the writer finds the settings under which the file
as it stands comes back byte for byte. If none does, it refuses rather than reformat lines nobody
asked to change. After an edit, the new text must load and resolve (the caller's `validate`)
before it replaces the file, atomically.

Used by `diff --record` and `import-docx --apply`; the web editor is to write layers the same way.
"""
from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path
from typing import Callable, Optional

from .write import write_atomic

# (mapping indent, sequence indent, dash offset), then line widths: the layouts people write
LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (2, 3, 1), (4, 4, 0))
WIDTHS = (100, 80, 120, 4096)


class LayoutError(Exception):
    """The file cannot be edited without changing lines nobody asked to change; says why."""


def _yaml(layout: tuple, width: int):
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    mapping, sequence, offset = layout
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.width = width
    return yaml


class Layer:
    """One YAML file, loaded for editing. `data` is ruamel's round-trip tree."""

    def __init__(self, text: str, name: str = "layer"):
        from ruamel.yaml.error import YAMLError

        self.name, self.original = name, text
        for layout in LAYOUTS:
            for width in WIDTHS:
                yaml = _yaml(layout, width)
                try:
                    data = yaml.load(text)
                    if _dump(yaml, data) == text:
                        self.yaml, self.data = yaml, data
                        return
                except YAMLError:
                    continue
        raise LayoutError(f"{name}: its layout (indentation, line width) is not one policypack can keep while "
                          "editing it, so it was left as it was")

    def mapping(self, *keys: str):
        """The mapping at `keys`, made (as a block at the end of its parent) where missing or empty."""
        from ruamel.yaml.comments import CommentedMap

        node = self.data
        for key in keys:
            child = node.get(key)
            if child is None or (isinstance(child, dict) and not child):
                child = CommentedMap()
                node[key] = child
            elif not isinstance(child, dict):
                raise LayoutError(f"{self.name}: '{key}' is not a mapping")
            node = child
        return node

    def prepend(self, keys: tuple, item) -> None:
        """Put `item` first in the list at `keys` (made where missing)."""
        from ruamel.yaml.comments import CommentedSeq

        parent = self.mapping(*keys[:-1])
        seq = parent.get(keys[-1])
        if seq is None or (isinstance(seq, list) and not seq):
            seq = parent[keys[-1]] = CommentedSeq()
        elif not isinstance(seq, list):
            raise LayoutError(f"{self.name}: '{keys[-1]}' is not a list")
        seq.insert(0, item)

    def text(self) -> str:
        return _dump(self.yaml, self.data)


def _dump(yaml, data) -> str:
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def flow_list(items) -> object:
    """A list written on one line: [a, b, c]."""
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def entry(values: dict) -> object:
    """A mapping for a list item, in the given key order; text with line breaks is written as a
    literal block, lists as flow lists."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

    out = CommentedMap()
    for key, value in values.items():
        value = _plain(value)
        if isinstance(value, str) and "\n" in value:
            value = LiteralScalarString(value)
        elif isinstance(value, str) and key == "summary":
            value = DoubleQuotedScalarString(value)
        elif isinstance(value, (list, tuple)):
            value = flow_list(list(value))
        out[key] = value
    return out


def _plain(value):
    """Strings and lists as the plain Python types the writer knows (ours carry source lines)."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def save(path: Path, edit: Callable[[Layer], None], validate: Callable[[], Optional[str]]) -> None:
    """Edit the layer at `path` with `edit`, write it atomically, and run `validate` (which returns
    what is wrong, or None). If it fails, the file is put back as it was and LayoutError says why."""
    path = Path(path)
    original = path.read_text(encoding="utf-8")
    layer = Layer(original, path.name)
    edit(layer)
    write_atomic(path, layer.text().encode("utf-8"))
    try:
        problem = validate()
    except BaseException:
        write_atomic(path, original.encode("utf-8"))
        raise
    if problem:
        write_atomic(path, original.encode("utf-8"))
        raise LayoutError(problem)


NEW_ID_LENGTH = 48  # characters in the id made for a clause a layer adds


def new_id(text: str, taken, max_words: Optional[int] = None) -> str:
    """An id for a clause a layer adds, made from its title or first words ("Our email rota" ->
    our-email-rota): ASCII letters and digits (accents dropped) in whole words, at most
    NEW_ID_LENGTH characters, starting with a letter ("local" put first if not), unique among
    `taken` (a number added: our-email-rota-2). The web editor and the DOCX import both use it."""
    from .load import ID_RE

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    base = ""
    for word in re.findall(r"[a-z0-9]+", plain)[:max_words]:
        if len(base) + len(word) + 1 > NEW_ID_LENGTH - 4:
            break
        base = f"{base}-{word}" if base else word
    if not base or not base[0].isalpha():
        base = ("local-" + base).rstrip("-")
    taken, out, n = set(taken), base, 2
    while out in taken:
        out, n = f"{base}-{n}", n + 1
    assert ID_RE.match(out), out
    return out
