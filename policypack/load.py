"""Stage 1, load: YAML files -> the source model (`Project`), every value with its file and line.

The loader validates shape and types only; what ids refer to is checked by `layer` and `resolve`.
"""
from __future__ import annotations

import datetime as dt
import errno
import io
import math
import os
import re
import stat
from collections import deque
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Optional

from . import numbering
from .errors import Failed, Loc, Report, did_you_mean
from .model import (DOC_KINDS, FORM_LINES, GENERATED, HISTORY_INCLUDES, HISTORY_PLACES, OPTIONAL_VALUES, ORG_KINDS,
                    Change, FormItem,
                    Insert, Library, Move, Node, Organisation, Policy, PolicyLayer, Project, Provenance)
from .names import RESERVED_IDS, describe, invisible_char, odd_space, skeleton
from .yamlread import MAX_BYTES, LList, LMap, LStr, read_yaml

from . import sourceformat as fmt  # the declaration of the formats: the key sets below come from it

ID_RE = re.compile(fmt.ID_PATTERN + r"\Z")
VAR_RE = re.compile(fmt.VAR_PATTERN + r"\Z")
COLOUR_RE = re.compile(fmt.COLOUR_PATTERN + r"\Z")
DATE_RE = re.compile(fmt.DATE_PATTERN + r"\Z")
MAX_ID = fmt.MAX_ID
YEARS = fmt.YEARS
MAX_LOGO = 1_000_000  # bytes
MAX_NAME = fmt.MAX_NAME
MAX_TEMPLATE = 1_000_000  # bytes, each file in a template folder
MAX_TEMPLATE_FILES = 200
SCHOOL_KINDS = ("school", "academy", "nursery")  # leaves: nothing may extend them
SCHOOLS_FOLDERS = fmt.SCHOOLS_FOLDERS

NODE_KEYS = fmt.CLAUSE.keys
APPENDIX_KEYS = fmt.APPENDIX.keys
PART_KEYS = fmt.PART.keys
ADOPTION_DATES = fmt.ADOPTION.of_type(fmt.Date)
ADOPTION_TEXT = fmt.ADOPTION.of_type(fmt.Text)
ADOPTION_KEYS = fmt.ADOPTION.keys
REVIEW_KEYS = fmt.REVIEW.keys
BRANDING_KEYS = fmt.BRANDING.keys
POLICY_FIELDS = fmt.LAYER.tagged("field")
COVER_KEYS = fmt.COVER_ROW.keys
COVER_PLACES = fmt.COVER_PLACES
RUNNING_KEYS = fmt.RUNNING.keys
HISTORY_KEYS = fmt.HISTORY.keys
CHANGE_KEYS = fmt.CHANGE.keys
LAYER_KEYS = fmt.LAYER.keys
ORG_KEYS = fmt.ORGANISATION.keys
POLICY_KEYS = fmt.POLICY.keys


def _at(m, key) -> Optional[tuple]:
    """The field path of `key` in the mapping (or position in the list) `m`, or None."""
    return m.path + (key,) if isinstance(m, (LMap, LList)) else None


class _Reader:
    """Typed access to one file's mappings, reporting problems with file, line and field path.

    A message or Loc is given the path of the value it is about where the reader knows it (the
    key it reads); otherwise the path of what the file starts on that line (`path_at`)."""

    def __init__(self, file: str, report: Report, doc=None):
        self.file = file
        self.report = report
        self.doc = doc  # the file's values, for path_at
        self._paths: Optional[dict] = None

    def path_at(self, line: int) -> Optional[tuple]:
        """The path of the outermost key or list item that starts on `line`, or None."""
        if self._paths is None:
            self._paths = {}
            todo = deque([self.doc])
            while todo:  # outer values first, so the outermost of a line is the one kept
                v = todo.popleft()
                if isinstance(v, LMap):
                    for k, x in v.items():
                        self._paths.setdefault(v.line_of(k), v.path + (k,))
                        todo.append(x)
                elif isinstance(v, LList):
                    for i, (x, ln) in enumerate(zip(v, v.item_lines)):
                        self._paths.setdefault(ln, v.path + (i,))
                        todo.append(x)
        return self._paths.get(line)

    def loc(self, line: int, path: Optional[tuple] = None) -> Loc:
        return Loc(self.file, line, path if path is not None else self.path_at(line))

    def err(self, line: int, message: str, hint: str = "", path: Optional[tuple] = None) -> None:
        self.report.error(self.loc(line, path), message, hint)

    def mapping(self, value, line: int, what: str, allowed: set, required: set = frozenset()) -> Optional[LMap]:
        if not isinstance(value, LMap):
            self.err(getattr(value, "line", line), f"{what} must be a mapping of keys to values",
                     "Write it as 'key: value' lines indented under its name.", getattr(value, "path", None))
            return None
        for key in value:
            if key not in allowed:
                hint = did_you_mean(key, allowed) or "Allowed keys: " + ", ".join(sorted(allowed)) + "."
                self.err(value.line_of(key), f"unknown key '{key}' in {what}", hint, _at(value, key))
        for key in sorted(required):
            if value.get(key) is None:
                self.err(value.line, f"{what} is missing '{key}'", f"Add a '{key}:' line.", value.path)
        return value

    def text(self, m: LMap, key: str, what: str) -> Optional[str]:
        v = m.get(key)
        if v is None:
            return None
        if isinstance(v, bool):
            self.err(m.line_of(key), f"'{key}' in {what} must be text, not true/false",
                     f"Quote the value: {key}: \"...\"", _at(m, key))
            return None
        if isinstance(v, int):
            s = LStr(str(v))
            s.line = m.line_of(key)
            return s
        if not isinstance(v, str):
            self.err(m.line_of(key), f"'{key}' in {what} must be text", "Write a single value, not a list or mapping.",
                     _at(m, key))
            return None
        return v

    def choice(self, m: LMap, key: str, what: str, choices) -> Optional[str]:
        v = self.text(m, key, what)
        if v is not None and v not in choices:
            self.err(m.line_of(key), f"'{key}' in {what} is '{v}'",
                     (did_you_mean(v, choices) + " " if did_you_mean(v, choices) else "")
                     + "Use one of: " + ", ".join(choices) + ".", _at(m, key))
            return None
        return v

    def integer(self, m: LMap, key: str, what: str, lo: int = 1, hi: int = 120) -> Optional[int]:
        v = m.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            self.err(m.line_of(key), f"'{key}' in {what} must be a whole number from {lo} to {hi}",
                     f"Write for example '{key}: 12'.", _at(m, key))
            return None
        return v

    def flag(self, m: LMap, key: str, what: str) -> bool:
        v = m.get(key)
        if v is None:
            return False
        if not isinstance(v, bool):
            self.err(m.line_of(key), f"'{key}' in {what} must be true or false, not '{v}'",
                     "YAML words like yes/no/on/off are read as text here: write true or false.", _at(m, key))
            return False
        return v

    def date(self, m: LMap, key: str, what: str) -> Optional[str]:
        v = m.get(key)
        if v is None:
            return None
        return self.date_value(v, m.line_of(key), f"'{key}' in {what}", _at(m, key))

    def date_value(self, v, line: int, what: str, path: Optional[tuple] = None) -> Optional[str]:
        s = str(v)
        try:
            if not DATE_RE.match(s):
                raise ValueError
            dt.date.fromisoformat(s)
        except ValueError:
            self.err(line, f"{what} is '{s[:40]}', which is not a date", "Write dates as YYYY-MM-DD, e.g. 2025-09-01.",
                     path)
            return None
        if not YEARS[0] <= int(s[:4]) <= YEARS[1]:
            self.err(line, f"{what} is '{s}', outside the years {YEARS[0]} to {YEARS[1]}",
                     "Check the year: policy dates fall in these years.", path)
            return None
        return s

    def ident(self, v, line: int, what: str, path: Optional[tuple] = None) -> Optional[str]:
        if not isinstance(v, str) or isinstance(v, bool):
            self.err(line, f"{what} must be an id (text), not {v!r}",
                     "Ids are lower-case words joined by hyphens, e.g. email-etiquette.", path)
            return None
        if len(v) > MAX_ID or not ID_RE.match(v):
            self.err(line, f"{what} '{v[:80]}' is not a valid id",
                     f"Ids are lower-case letters and digits joined by single hyphens, starting with a "
                     f"letter, at most {MAX_ID} characters (they become file names and anchors).", path)
            return None
        return v

    def key_id(self, m: LMap, key: str, what: str) -> Optional[str]:
        """The id written under `key` of `m` (reported at that key), or None."""
        return self.ident(m.get(key), m.line_of(key), what, _at(m, key))

    def own_id(self, v, line: int, what: str, path: Optional[tuple] = None) -> Optional[str]:
        """The id of a policy or organisation: an id that is not the name of a file the build writes."""
        i = self.ident(v, line, what, path)
        if i in RESERVED_IDS:
            self.err(line, f"{what} '{i}' is reserved: the build writes its own {i}.html",
                     "Choose another id (and rename the file to match): " + ", ".join(sorted(RESERVED_IDS))
                     + " are reserved.", path)
            return None
        return i

    def items(self, v, line: int, message: str, hint: str) -> Optional[list]:
        """[(item, its line)] of a YAML list, or None when there is none (or, reported, when `v`
        is not a list: `message` says what it must be)."""
        if v is None:
            return None
        if not isinstance(v, LList):
            self.err(line, message, hint, getattr(v, "path", None))
            return None
        return list(zip(v, v.item_lines))

    def id_list(self, m: LMap, key: str, what: str) -> list:
        v = m.get(key)
        if v is None:
            return []
        if not isinstance(v, LList):
            self.err(m.line_of(key), f"'{key}' in {what} must be a list of ids", f"Write '{key}: [id-one, id-two]'.",
                     _at(m, key))
            return []
        out = []
        for n, (item, line) in enumerate(zip(v, v.item_lines)):
            i = self.ident(item, line, f"an id in '{key}'", v.path + (n,))
            if i:
                out.append((i, self.loc(line, v.path + (n,))))
        return out

    def text_map(self, m: LMap, key: str, what: str, keys_are="ids") -> dict:
        v = m.get(key)
        if v is None:
            return {}
        if not isinstance(v, LMap):
            self.err(m.line_of(key), f"'{key}' in {what} must map ids to text", f"Write '{key}:' then 'some-id: text' lines.",
                     _at(m, key))
            return {}
        out = {}
        for k, val in v.items():
            line = v.line_of(k)
            if keys_are == "ids" and not self.ident(k, line, f"a key in '{key}'", v.path + (k,)):
                continue
            if not isinstance(val, str) or isinstance(val, bool):
                self.err(line, f"'{k}' in '{key}' must be text", "Write the text after the colon, or use '|' for a block.",
                         v.path + (k,))
                continue
            out[k] = (val, self.loc(_text_line(v, k), v.path + (k,)))
        return out

    def variables(self, v, line: int, what: str) -> dict:
        if v is None:
            return {}
        if not isinstance(v, LMap):
            self.err(line, f"'variables' in {what} must be a mapping", "Write 'variables:' then 'name: value' lines.",
                     getattr(v, "path", None))
            return {}
        out = {}
        for name, val in v.items():
            vline, vpath = v.line_of(name), v.path + (name,)
            if not VAR_RE.match(name):
                self.err(vline, f"variable name '{name}' is not valid",
                         "Variable names are lower-case letters, digits and underscores, starting with a letter.", vpath)
                continue
            if isinstance(val, (LMap, LList)):
                if not all(isinstance(x, (str, int)) for x in (val.values() if isinstance(val, LMap) else val)):
                    self.err(vline, f"variable '{name}' may only hold text, or a list or mapping of text", "", vpath)
                    continue
                val = dict(val) if isinstance(val, LMap) else list(val)
            elif val is None:
                self.err(vline, f"variable '{name}' has no value", "Give it a value, or delete the line.", vpath)
                continue
            out[name] = (val, self.loc(vline, vpath))
        return out


# --------------------------------------------------------------------------------------------


def load_project(root: Path, report: Optional[Report] = None) -> Project:
    """Read `policy_src/` and `schools/` under `root`. Raises `Failed` if anything is wrong."""
    report = report if report is not None else Report()
    root = Path(root)
    src, schools = root / "policy_src", root / "schools"
    if not src.is_dir():
        report.error(Loc("policy_src"), "there is no policy_src/ folder here",
                     "Run policypack from the project's root folder, or pass --root.")
        raise Failed(report)
    library = Library()
    for path in sorted((src / "library").glob("*.yaml")):
        _load_library(path, root, library, report)
    for name, (_, loc) in library.variable_notes.items():
        if name not in library.variables:
            report.error(loc, f"the note is on variable '{name}', which the library does not define",
                         did_you_mean(name, library.variables) or
                         "Notes go on the library's own variables: give it a default under 'variables:' too.")
    policies = {}
    for path in sorted(src.glob("*.yaml")):
        policy = _load_policy(path, root, library, report)
        if policy:
            if policy.id in policies:
                report.error(policy.loc, f"policy id '{policy.id}' is used twice (also {policies[policy.id].loc})",
                             "Give each policy its own id.")
            policies[policy.id] = policy
    organisations = {}
    own = _load_own_policies(schools, root, library, report) if schools.is_dir() else {}
    if schools.is_dir():
        for path in sorted(schools.glob("*.yaml")):
            org = _load_org(path, root, policies, report, [p for ps in own.values() for p in ps.values()])
            if org:
                organisations[org.id] = org
    _check_extends(organisations, report)
    _check_own_policies(organisations, own, policies, report)
    _check_numbering(organisations, report)
    _check_names(organisations, report)
    if report.errors:
        raise Failed(report)
    return Project(root=root, library=library, policies=policies, organisations=organisations)


# Files read from memory instead of the disk: {path relative to the project: text}, set by `in_memory`
_IN_MEMORY: ContextVar = ContextVar("policypack_in_memory", default=None)


@contextmanager
def in_memory(texts: dict):
    """Within the block, load_project reads each file named in `texts` (its path relative to the
    project, e.g. "schools/x.yaml") from there instead of the disk: the web editor checks an edited
    layer this way before writing it. The text is bounded by the caller."""
    token = _IN_MEMORY.set(dict(texts))
    try:
        yield
    finally:
        _IN_MEMORY.reset(token)


def _read(path: Path, root: Path, report: Report, empty_hint: str):
    rel = path.relative_to(root).as_posix()
    texts = _IN_MEMORY.get()
    if texts is not None and rel in texts:
        return rel, read_yaml(texts[rel], rel, report, empty_hint)
    within = root / rel.split("/")[0]  # schools/ or policy_src/
    data, problem = read_regular(path, within, MAX_BYTES)
    if problem:
        report.error(Loc(rel), *problem)
        return rel, None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        report.error(Loc(rel, line), f"the file is not UTF-8 text ({exc.reason})", "Save it as UTF-8.")
        return rel, None
    if text.startswith("\ufeff"):  # a byte-order mark some editors write: not part of the text
        text = text[1:]
    return rel, read_yaml(text, rel, report, empty_hint)


def read_regular(path: Path, within: Path, limit: int) -> tuple:
    """(bytes, None), or (None, (message, hint)) for anything but a regular file of at most `limit`
    bytes inside `within` (a symbolic link is followed only to a file inside `within`).

    The file is opened without blocking (a FIFO cannot hang us), checked with fstat on the open
    file (a device or folder is refused before anything is read), and read to at most limit + 1
    bytes (a file that grows, or lies about its size, is still refused)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None, ("the file does not exist", "Check the path.")
    except OSError as exc:
        return None, (f"the file cannot be read ({exc.strerror})", "Check its permissions.")
    link = stat.S_ISLNK(st.st_mode)
    try:
        target = Path(path).resolve(strict=True)
    except FileNotFoundError:
        if link:
            return None, ("the file is a symbolic link to nothing",
                          "Delete the link, or point it at a file that exists.")
        return None, ("the file does not exist", "Check the path.")
    except (OSError, RuntimeError) as exc:
        if isinstance(exc, RuntimeError) or exc.errno == errno.ELOOP:
            return None, ("the file is a symbolic link that goes round in a loop", "Delete the link.")
        return None, (f"the file cannot be read ({exc.strerror})", "Check its permissions.")
    base = Path(within).resolve()
    if base not in target.parents:
        how = "the file is a symbolic link" if link else "the path goes through a symbolic link"
        return None, (f"{how} to something outside {_rel_name(within)}/",
                      f"Links are followed only to files inside {_rel_name(within)}/: copy the file "
                      "here instead of linking to it.")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return None, (f"the file cannot be read ({exc.strerror})", "Check its permissions.")
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return None, ("this is a folder, not a file", "Only files are read here: move the folder away, "
                          "or name a file.")
        if not stat.S_ISREG(st.st_mode):
            return None, ("this is not a regular file (it is a device, a pipe or a socket)",
                          "Only ordinary files are read: replace it with one.")
        if st.st_size > limit:
            return None, (f"the file is larger than {_size(limit)}", "Make it smaller, or split it.")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            return None, (f"the file is larger than {_size(limit)}", "Make it smaller, or split it.")
        return b"".join(chunks), None
    except OSError as exc:
        return None, (f"the file cannot be read ({exc.strerror})", "Check the disk and the file's permissions.")
    finally:
        os.close(fd)


def _rel_name(folder: Path) -> str:
    return Path(folder).name


def _size(limit: int) -> str:
    if limit >= 1_000_000:
        return f"{limit // 1_000_000} MB"
    return f"{limit // 1000} kB" if limit >= 1000 else f"{limit} bytes"


def _top(r: _Reader, data, key: str) -> Optional[LMap]:
    if not isinstance(data, LMap) or set(data) != {key}:
        line = data.line if isinstance(data, (LMap, LList)) else 1
        r.err(line, f"the file must have a single top-level key '{key}:'",
              f"Put everything under '{key}:' at the start of the file.", ())
        return None
    return data[key] if isinstance(data[key], LMap) else r.mapping(data[key], data.line_of(key), key, set())


# ---- clause trees ---------------------------------------------------------------------------


def _node(r: _Reader, raw, line: int, kind: str, library: Optional[Library], in_library=False) -> Optional[Node]:
    if isinstance(raw, LMap) and "part" in raw:  # a policy's own `sections:` list reads parts with _part
        _misplaced_part(r, raw, kind)
        return None
    if isinstance(raw, LMap) and "include" in raw:
        return _include(r, raw, kind, library, in_library)
    what = {"section": "a section", "clause": "a clause", "appendix": "an appendix"}[kind]
    if isinstance(raw, LMap) and isinstance(raw.get("id"), str) and ID_RE.match(raw["id"]):
        what = f"{kind} '{raw['id']}'"
    m = r.mapping(raw, line, what, APPENDIX_KEYS if kind == "appendix" else NODE_KEYS, fmt.CLAUSE.required)
    if m is None:
        return None
    nid = r.key_id(m, "id", f"the id of {what}") if m.get("id") is not None else None
    if nid is None:
        return None
    what = f"{kind} '{nid}'"
    text_path = _at(m, "text") if "text" in m else m.path
    node = Node(id=nid, kind=kind, loc=r.loc(m.line, m.path))
    node.provenance = Provenance(loc=r.loc(m.line_of("text") if "text" in m else m.line, text_path))
    node.title = r.text(m, "title", what)
    if kind == "section" and not node.title:
        r.err(m.line, f"{what} has no title", "Add a 'title:' line: sections are headings.", m.path)
    node.text = r.text(m, "text", what)
    node.text_loc = r.loc(_text_line(m, "text"), text_path)
    node.guidance = r.text(m, "guidance", what)
    node.slot = r.flag(m, "slot", what)
    node.locked = r.flag(m, "locked", what)
    node.optional = r.choice(m, "optional", what, OPTIONAL_VALUES)
    node.enabled = node.optional != "default-off"
    if kind == "appendix":
        node.generated = r.choice(m, "generated", what, GENERATED)
    variants = r.text_map(m, "variants", what)
    if variants:
        node.variants = variants
        default = r.text(m, "default_variant", what)
        if default is None:
            r.err(m.line_of("variants"), f"{what} has variants but no 'default_variant'",
                  "Add 'default_variant:' naming the variant used when a layer does not choose.", _at(m, "variants"))
        elif default not in node.variants:
            r.err(m.line_of("default_variant"), f"default_variant '{default}' is not one of the variants of {what}",
                  did_you_mean(default, node.variants) or "Use one of: " + ", ".join(node.variants) + ".",
                  _at(m, "default_variant"))
        else:
            node.variant = default
        if node.text is not None:
            r.err(m.line_of("text"), f"{what} has both 'text' and 'variants'",
                  "Put each wording under 'variants:' and delete 'text:'.", _at(m, "text"))
    elif "default_variant" in m:
        r.err(m.line_of("default_variant"), f"{what} has 'default_variant' but no 'variants'", "Delete the line or add variants.",
              _at(m, "default_variant"))
    children = m.get("clauses")
    if children is not None:
        if not isinstance(children, LList):
            r.err(m.line_of("clauses"), f"'clauses' in {what} must be a list", "Start each clause with '- id: ...'.",
                  _at(m, "clauses"))
        else:
            for item, iline in zip(children, children.item_lines):
                child = _node(r, item, iline, "clause", library, in_library)
                if child:
                    node.children.append(child)
    if "form" in m:
        node.form = _form(r, m.get("form"), m.line_of("form"), what)
    if node.text is None and not node.variants and not node.children and not node.slot and not node.generated \
            and not node.form and kind != "section":
        r.err(m.line, f"{what} has no text", "Add 'text:', 'variants:' or sub-clauses, or mark it 'slot: true'.", m.path)
    return node


def _part(r: _Reader, raw: LMap, library: Optional[Library]) -> Optional[Node]:
    """A part: a titled group of sections with its own appendices, written as an item of a
    policy's `sections:` list that starts with `part: <id>`. Its node's children are its sections,
    then its appendices."""
    pid = r.key_id(raw, "part", "the id of a part")
    what = f"part '{pid}'" if pid else "a part"
    m = r.mapping(raw, raw.line, what, PART_KEYS, fmt.PART.required)
    if m is None or pid is None:
        return None
    node = Node(id=pid, kind="part", loc=r.loc(m.line, m.path), title=r.text(m, "title", what),
                guidance=r.text(m, "guidance", what), optional=r.choice(m, "optional", what, OPTIONAL_VALUES))
    node.provenance = Provenance(loc=r.loc(m.line, m.path))
    node.enabled = node.optional != "default-off"
    for key, kind in (("sections", "section"), ("appendices", "appendix")):
        for item, line in r.items(m.get(key), m.line_of(key), f"'{key}' in {what} must be a list",
                                  "Start each item with '- id: ...' (or '- include: ...').") or ():
            child = _node(r, item, line, kind, library)
            if child:
                node.children.append(child)
    if m.get("sections") is not None and not any(c.kind == "section" for c in node.children):
        r.err(m.line_of("sections"), f"{what} has no sections", "Give it at least one section, or delete the part.",
              _at(m, "sections"))
    return node


def _misplaced_part(r: _Reader, raw: LMap, kind: str) -> None:
    where = {"section": "inside another part, in the library or in an insertion", "clause": "inside a section or clause",
             "appendix": "among appendices"}[kind]
    r.err(raw.line_of("part"), f"a part cannot go {where}",
          "Parts group sections: write '- part: ...' only as an item of a policy's own 'sections:' list "
          "(before, between or after its sections); a section is written '- id: ...'.", raw.path)
# A form item is named by its kind's key, which holds its label (or its choices, or its rows);
# the other keys it may have:
FORM_ITEMS = fmt.FORM_ITEMS
FORM_EXAMPLE = ("form:\n  - field: Full name\n  - field: Reasons\n    lines: 4\n  - tick: I have read this policy\n"
                "  - choices: [Approved, Not approved]\n  - table: [Name, Job title]\n  - signature: Signed")
MAX_LABEL = fmt.MAX_LABEL
MAX_COLUMNS = fmt.MAX_COLUMNS


def _form(r: _Reader, v, line: int, what: str) -> tuple:
    """`form:` on a node: a list of items, each named by its kind (FORM_ITEMS)."""
    pairs = r.items(v, line, f"'form' in {what} must be a list of form items",
                    "Write each item on a line of its own:\n" + FORM_EXAMPLE)
    if pairs is None:
        return ()
    if not pairs:
        r.err(line, f"'form' in {what} is empty", "Add form items, or delete the 'form:' line.")
    out = []
    for n, (item, iline) in enumerate(pairs):
        kinds = [k for k in FORM_ITEMS if isinstance(item, LMap) and k in item]
        if len(kinds) != 1:
            keys = list(item) if isinstance(item, LMap) else []
            guess = next((did_you_mean(k, FORM_ITEMS) for k in keys if did_you_mean(k, FORM_ITEMS)), "")
            r.err(iline, f"a form item in {what} needs exactly one of " + ", ".join(FORM_ITEMS)
                  + (f" (it has {' and '.join(kinds)})" if kinds else ""),
                  (guess + " " if guess else "") + "Start each item with its kind, e.g. '- field: Full name' or "
                  "'- tick: I agree'.", _at(v, n))
            continue
        kind = kinds[0]
        item_what = f"a '{kind}' item of the form"
        m = r.mapping(item, iline, item_what, FORM_ITEMS[kind] | {kind})
        label, options = "", ()
        if kind in ("choices", "table"):
            options = _form_labels(r, m, kind, item_what, 2 if kind == "choices" else 1, 100)
            label = _form_label(r, m, "label", item_what) or ""
        else:
            label = _form_label(r, m, kind, item_what, required=True)
            if label is None:
                continue
        date = "Date"
        if kind == "signature" and "date" in m:
            date = None if m["date"] is False else _form_label(r, m, "date", item_what, required=True)
            if m["date"] is True:
                date = "Date"
        columns = _form_labels(r, m, "columns", item_what, 1, MAX_COLUMNS) if "columns" in m else ()
        lines = r.integer(m, "lines", item_what, *FORM_LINES) or 1
        out.append(FormItem(kind, label, r.loc(iline, _at(v, n)), lines=lines, options=options, columns=columns, date=date))
    return tuple(out)


def _form_label(r: _Reader, m: LMap, key: str, what: str, required: bool = False) -> Optional[str]:
    """One line of text (Markdown with variables): a form item's label."""
    if m.get(key) is None:
        if required:
            r.err(m.line_of(key), f"'{key}' in {what} has no text",
                  f"Write what the form asks for after '{key}:', e.g. '{key}: Full name'.", _at(m, key))
        return None
    text = r.text(m, key, what)
    if text is None:
        return None
    return _checked_label(r, text, m.line_of(key), f"'{key}' in {what}", _at(m, key))


def _checked_label(r: _Reader, text: str, line: int, what: str, path: Optional[tuple]) -> Optional[str]:
    if not text.strip():
        r.err(line, f"{what} is empty", "Write the label, e.g. 'Full name', or delete the item.", path)
        return None
    if "\n" in text.strip():
        r.err(line, f"{what} must be one line", "A label is a short line; put longer wording in the clause's text.",
              path)
        return None
    if len(text) > MAX_LABEL:
        r.err(line, f"{what} is {len(text)} characters long", f"Keep a label under {MAX_LABEL} characters; put "
              "longer wording in the clause's text.", path)
        return None
    return text.strip()


def _form_labels(r: _Reader, m: LMap, key: str, what: str, least: int, most: int) -> tuple:
    """A list of labels: a form's choices, a table's rows or its entry columns' headings."""
    pairs = r.items(m.get(key), m.line_of(key), f"'{key}' in {what} must be a list of labels",
                    f"Write '{key}: [First, Second]', or one '- label' line for each.") or []
    if m.get(key) is not None and isinstance(m.get(key), LList) and not least <= len(pairs) <= most:
        hint = ("For a single statement to tick, write '- tick: ...'." if key == "choices" and len(pairs) == 1
                else f"Give from {least} to {most}.")
        r.err(m.line_of(key), f"'{key}' in {what} has {len(pairs)} label{'s' * (len(pairs) != 1)}", hint,
              _at(m, key))
    out = []
    for n, (value, iline) in enumerate(pairs):
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            r.err(iline, f"an item of '{key}' in {what} must be text", "Write the label as plain text.",
                  _at(m.get(key), n))
            continue
        label = _checked_label(r, str(value), iline, f"an item of '{key}' in {what}", _at(m.get(key), n))
        if label is not None:
            out.append(label)
    return tuple(out)


def _text_line(m: LMap, key: str) -> int:
    """Line where the text of `key` starts (a '|' block starts on the next line)."""
    v = m.get(key)
    if isinstance(v, LStr) and v.line > m.line_of(key):
        return v.line
    return m.line_of(key)


def _include(r: _Reader, raw: LMap, kind: str, library: Optional[Library], in_library: bool) -> Optional[Node]:
    for key in raw:
        if key != "include":
            r.err(raw.line_of(key), f"'{key}' cannot go beside 'include'",
                  "An include copies a library item as it is; change it in the library or with a layer.", _at(raw, key))
    if in_library or library is None:
        r.err(raw.line, "'include' cannot be used inside the library", "Write the clause out in the library.",
              _at(raw, "include"))
        return None
    ref = r.key_id(raw, "include", "'include'")
    if ref is None:
        return None
    pool = library.sections if kind == "section" else library.clauses
    if ref not in pool:
        other = library.clauses if kind == "section" else library.sections
        hint = did_you_mean(ref, pool)
        if ref in other:
            hint = f"'{ref}' is a library {'clause' if kind == 'section' else 'section'}; include it where a " \
                   f"{'clause' if kind == 'section' else 'section'} goes."
        r.err(raw.line_of("include"), f"there is no library {kind} '{ref}'",
              hint or "Library items are defined in policy_src/library/*.yaml.", _at(raw, "include"))
        return None
    return pool[ref].clone()


def _load_library(path: Path, root: Path, library: Library, report: Report) -> None:
    rel, data = _read(path, root, report, "A library file holds shared sections under 'library:'; delete the "
                      "file if it is not needed.")
    r = _Reader(rel, report, data)
    lib = _top(r, data, "library") if data is not None else None
    if lib is None:
        return
    r.mapping(lib, lib.line, "library", fmt.LIBRARY.keys)
    for name, val in r.variables(lib.get("variables"), lib.line_of("variables"), "the library").items():
        if name in library.variables:
            r.err(val[1].line, f"variable '{name}' is already given a default at {library.variables[name][1]}",
                  "Keep one default per variable.", val[1].path)
        library.variables[name] = val
    notes = lib.get("variable_notes")
    if notes is not None and not isinstance(notes, LMap):
        r.err(lib.line_of("variable_notes"), "'variable_notes' in the library must be a mapping",
              "Write 'variable_notes:' then 'name: what it names' lines.", getattr(notes, "path", None))
    for name, note in (notes.items() if isinstance(notes, LMap) else ()):
        nline, npath = notes.line_of(name), notes.path + (name,)
        if not isinstance(note, str) or len(note) > fmt.MAX_NOTE:
            r.err(nline, f"the note on variable '{name}' must be text of at most {fmt.MAX_NOTE} characters",
                  "Say in a sentence what the variable names, for the people who fill it in.", npath)
        elif note.strip():
            library.variable_notes[name] = (" ".join(note.split()), r.loc(nline, npath))
    for key, kind in (("sections", "section"), ("clauses", "clause")):
        items = lib.get(key)
        if items is None:
            continue
        if not isinstance(items, LList):
            r.err(lib.line_of(key), f"'{key}' in the library must be a list", "Start each item with '- id: ...'.")
            continue
        for item, line in zip(items, items.item_lines):
            node = _node(r, item, line, kind, None, in_library=True)
            if node is None:
                continue
            for pool in (library.sections, library.clauses):
                if node.id in pool:
                    r.err(line, f"library id '{node.id}' is already used at {pool[node.id].loc}",
                          "Library ids must be unique across all library files.")
            (library.sections if kind == "section" else library.clauses)[node.id] = node


def _changes(r: _Reader, v, line: int, what: str, layer: str) -> list:
    out = []
    for item, iline in r.items(v, line, f"'changes' in {what} must be a list",
                               "Start each change with '- date: YYYY-MM-DD'.") or ():
        m = r.mapping(item, iline, "a change", CHANGE_KEYS, fmt.CHANGE.required)
        if m is None:
            continue
        date = r.date(m, "date", "a change")
        summary = r.text(m, "summary", "a change")
        clauses = m.get("clauses", "all")
        if clauses == "all":
            ids = "all"
        else:
            ids = [i for i, _ in r.id_list(m, "clauses", "a change")]
        if date and summary:
            # version: 2 and version: 1.10 are read as the text written ("2", "1.10"), see yamlread
            out.append(Change(date=date, summary=summary, clauses=ids, loc=r.loc(iline), layer=layer,
                              version=r.text(m, "version", "a change"), author=r.text(m, "author", "a change")))
    return out


def _load_policy(path: Path, root: Path, library: Library, report: Report) -> Optional[Policy]:
    rel, data = _read(path, root, report, "A policy file holds one policy under 'policy:'; delete the file "
                      "if it is not needed.")
    r = _Reader(rel, report, data)
    p = _top(r, data, "policy") if data is not None else None
    if p is None:
        return None
    r.mapping(p, p.line, "the policy", POLICY_KEYS, fmt.POLICY.required)
    pid = r.own_id(p.get("id"), p.line_of("id"), "the policy id", _at(p, "id")) if p.get("id") is not None else None
    if pid is None:
        return None
    if path.stem != pid:
        r.err(p.line_of("id"), f"policy id '{pid}' does not match the file name '{path.name}'",
              f"Rename the file to {pid}.yaml or change the id.", _at(p, "id"))
    what = f"policy '{pid}'"
    policy = Policy(id=pid, file=rel, loc=r.loc(p.line, p.path), title=r.text(p, "title", what) or pid,
                    reference=r.text(p, "reference", what) or "", kind=r.choice(p, "kind", what, DOC_KINDS) or "policy",
                    version=r.text(p, "version", what) or "",
                    review_cycle_months=r.integer(p, "review_cycle_months", what) or 12,
                    owner=r.text(p, "owner", what) or "", summary=r.text(p, "summary", what),
                    key_message=r.text(p, "key_message", what))
    policy.variables = r.variables(p.get("variables"), p.line_of("variables"), what)
    for key, kind, target in (("sections", "section", policy.sections), ("appendices", "appendix", policy.appendices)):
        items = p.get(key)
        if items is None:
            continue
        if not isinstance(items, LList):
            r.err(p.line_of(key), f"'{key}' in {what} must be a list", "Start each item with '- id: ...'.")
            continue
        for item, line in zip(items, items.item_lines):
            if kind == "section" and isinstance(item, LMap) and "part" in item:
                node = _part(r, item, library)
            else:
                node = _node(r, item, line, kind, library)
            if node:
                target.append(node)
    policy.changes = _changes(r, p.get("changes"), p.line_of("changes"), what, "model")
    seen: dict = {}
    for node in policy.walk():
        if node.id in seen:
            r.err(node.loc.line if node.loc.file == rel else p.line,
                  f"id '{node.id}' is used twice in {what} (at {seen[node.id]} and {node.loc})",
                  "Every section and clause needs its own id: rename one (an include may bring in a copy).",
                  node.loc.path + ("id",) if node.loc.file == rel and node.loc.path else p.path)
        seen[node.id] = node.loc
    return policy


# ---- organisations --------------------------------------------------------------------------


def _adoption(r: _Reader, v, line: int, what: str) -> dict:
    m = r.mapping(v, line, f"'adoption' in {what}", ADOPTION_KEYS) if v is not None else None
    if m is None:
        return {}
    out = {}
    for key in m:
        if key in ADOPTION_DATES:
            val = r.date(m, key, "adoption")
        elif key == "chairs":
            val = m[key]
            if not isinstance(val, LList) or not all(isinstance(x, str) for x in val):
                r.err(m.line_of(key), "'chairs' must be a list of names", "Write 'chairs: [First Name, Second Name]'.",
                      _at(m, key))
                continue
            val = list(val)
        elif key in ADOPTION_TEXT:
            val = r.text(m, key, "adoption")
        else:
            continue
        if val is not None:
            out[key] = val
    return out


def _cover(r: _Reader, v, line: int, what: str) -> list:
    """`cover:` edits to the front matter's rows, each naming a row by its label: add one (with
    `value`), change its value, `relabel` it, move it (`before`/`after` another row) or `remove` it."""
    out = []
    for item, iline in r.items(v, line, f"'cover' in {what} must be a list",
                               "Start each cover row with '- label: ...'.") or ():
        m = r.mapping(item, iline, "a cover row", COVER_KEYS, fmt.COVER_ROW.required)
        if m is None or m.get("label") is None:
            continue
        edit = {"label": r.text(m, "label", "a cover row") or "", "loc": r.loc(m.line, m.path),
                "remove": r.flag(m, "remove", "a cover row")}
        for key in ("value", "relabel", "before", "after"):
            val = r.text(m, key, "a cover row")
            if val is not None:
                edit[key] = val
        place = r.choice(m, "place", "a cover row", COVER_PLACES)
        if place is not None:
            edit["place"] = place
        if "value" in edit:
            edit["value_loc"] = r.loc(_text_line(m, "value"), _at(m, "value"))
        if edit["remove"] and len([k for k in m if k != "label"]) > 1:
            r.err(m.line_of("remove"), "a cover row that is removed takes no other keys",
                  "Keep 'label:' and 'remove: true' only.", _at(m, "remove"))
        if "before" in edit and "after" in edit:
            r.err(m.line_of("after"), "a cover row goes either 'before' or 'after' another row, not both",
                  "Delete one of the two lines.", _at(m, "after"))
        out.append(edit)
    return out


def _running(r: _Reader, v, line: int, what: str) -> dict:
    """`running: {header, footer}`: text on every page after the first (with variables)."""
    m = r.mapping(v, line, f"'running' in {what}", RUNNING_KEYS) if v is not None else None
    if m is None:
        return {}
    return {k: (val, r.loc(m.line_of(k), _at(m, k))) for k in sorted(RUNNING_KEYS)
            if (val := r.text(m, k, f"'running' in {what}")) is not None}


def _history_options(r: _Reader, v, line: int, what: str) -> dict:
    """`history: {place, include}`: where the table of changes goes and whose entries it shows."""
    m = r.mapping(v, line, f"'history' in {what}", HISTORY_KEYS) if v is not None else None
    if m is None:
        return {}
    return {k: (val, r.loc(m.line_of(k), _at(m, k))) for k, choices in (("place", HISTORY_PLACES), ("include", HISTORY_INCLUDES))
            if (val := r.choice(m, k, f"'history' in {what}", choices)) is not None}


def _approvals(r: _Reader, v, line: int, what: str) -> Optional[list]:
    pairs = r.items(v, line, f"'approvals' in {what} must be a list", "Start each approval with '- label: ...'.")
    if pairs is None:
        return None
    out = []
    for item, iline in pairs:
        m = r.mapping(item, iline, "an approval", fmt.APPROVAL.keys, fmt.APPROVAL.required)
        if m is not None:
            out.append((r.text(m, "label", "an approval") or "", r.text(m, "name", "an approval") or "",
                        r.date(m, "date", "an approval") or ""))
    return out


def _review(r: _Reader, v, line: int, what: str) -> dict:
    m = r.mapping(v, line, f"'review' in {what}", REVIEW_KEYS) if v is not None else None
    if m is None:
        return {}
    out = {k: r.date(m, k, "review") for k in ("last_reviewed", "next_review") if k in m}
    if "cycle_months" in m:
        out["cycle_months"] = r.integer(m, "cycle_months", "review")
    return {k: v for k, v in out.items() if v is not None}


def _history(r: _Reader, v, line: int, what: str) -> Optional[list]:
    pairs = r.items(v, line, f"'review_history' in {what} must be a list of dates",
                    "Write 'review_history: [2018-09-01, 2024-09-01]'.")
    if pairs is None:
        return None
    return [d for d in (r.date_value(x, ln, "a review_history date", _at(v, i)) for i, (x, ln) in enumerate(pairs))
            if d]


def _policy_layer(r: _Reader, v, line: int, what: str, org_id: str, path: Optional[tuple] = None) -> PolicyLayer:
    layer = PolicyLayer(loc=r.loc(line, path))
    if v is None:
        return layer
    m = r.mapping(v, line, what, LAYER_KEYS)
    if m is None:
        return layer
    layer.loc = r.loc(m.line, m.path)
    for key in sorted(POLICY_FIELDS):  # sorted: a set's order changes with the hash seed
        if key == "kind":
            val = r.choice(m, key, what, DOC_KINDS)
        elif key == "numbering":  # checked against the schemes of the organisation's chain in _check_numbering
            val = r.key_id(m, key, f"'numbering' in {what}") if m.get(key) is not None else None
        else:
            val = r.text(m, key, what)
        if val is not None:
            layer.fields[key] = (val, r.loc(_text_line(m, key), _at(m, key)))
    layer.adoption = _adoption(r, m.get("adoption"), m.line_of("adoption"), what)
    layer.cover = _cover(r, m.get("cover"), m.line_of("cover"), what)
    layer.running = _running(r, m.get("running"), m.line_of("running"), what)
    layer.history = _history_options(r, m.get("history"), m.line_of("history"), what)
    layer.adoption_loc = r.loc(m.line_of("adoption"), _at(m, "adoption")) if m.get("adoption") is not None else None
    layer.approvals = _approvals(r, m.get("approvals"), m.line_of("approvals"), what)
    layer.review = _review(r, m.get("review"), m.line_of("review"), what)
    layer.review_history = _history(r, m.get("review_history"), m.line_of("review_history"), what)
    layer.variants = r.text_map(m, "variants", what)
    for key in ("enable", "disable", "remove"):
        setattr(layer, key, r.id_list(m, key, what))
    layer.replace = r.text_map(m, "replace", what)
    layer.fill = r.text_map(m, "fill", what)
    layer.retitle = r.text_map(m, "retitle", what)
    ins = m.get("insert")
    if ins is not None:
        if not isinstance(ins, LList):
            r.err(m.line_of("insert"), f"'insert' in {what} must be a list",
                  "Start each insertion with '- after: some-id' (or before:).")
        else:
            for item, iline in zip(ins, ins.item_lines):
                im = r.mapping(item, iline, "an insertion", fmt.INSERT.keys)
                if im is None:
                    continue
                wheres = [k for k in ("before", "after") if k in im]
                kinds = [k for k in ("clause", "section", "appendix") if k in im]
                if len(wheres) != 1 or len(kinds) != 1:
                    r.err(iline, "an insertion needs exactly one of before/after and one of clause/section/appendix",
                          "Write e.g. '- after: email-etiquette' and 'clause: {id: ..., text: ...}'.", im.path)
                    continue
                anchor = r.key_id(im, wheres[0], f"'{wheres[0]}'")
                node = _node(r, im[kinds[0]], im.line_of(kinds[0]), kinds[0], None, in_library=True)
                if anchor and node:
                    node.provenance = Provenance(layer=org_id, loc=node.text_loc, action="insert", outside_slots=True,
                                                 edits=[(org_id, "insert", r.loc(iline, im.path))])
                    for child in node.walk():
                        child.provenance = Provenance(layer=org_id, loc=child.text_loc, action="insert",
                                                      outside_slots=True, edits=[(org_id, "insert", r.loc(iline, im.path))])
                    layer.insert.append(Insert(where=wheres[0], anchor=anchor, node=node, loc=r.loc(iline, im.path)))
    layer.move = _moves(r, m.get("move"), m.line_of("move"), what)
    layer.changes = _changes(r, m.get("changes"), m.line_of("changes"), what, org_id)
    return layer


MOVE_PLACES = fmt.MOVE_PLACES


def _moves(r: _Reader, v, line: int, what: str) -> list:
    """`move:` items: `- id: some-id` and one of `before:`, `after:` or `into:` another id."""
    out = []
    for item, iline in r.items(v, line, f"'move' in {what} must be a list",
                               "Start each move with '- id: clause-id' and add 'after: other-id' (or before:, into:).") or ():
        m = r.mapping(item, iline, "a move", fmt.MOVE.keys, fmt.MOVE.required)
        if m is None or m.get("id") is None:
            continue
        wheres = [k for k in MOVE_PLACES if k in m]
        if len(wheres) != 1:
            r.err(m.line, "a move needs exactly one of before, after or into",
                  "Write e.g. '- id: staff-photos' and 'after: images-consent' (or 'into: some-section' to "
                  "make it that section's last clause).", m.path)
            continue
        cid = r.key_id(m, "id", "the id in a move")
        anchor = r.key_id(m, wheres[0], f"'{wheres[0]}' in a move")
        if cid and anchor:
            out.append(Move(id=cid, where=wheres[0], anchor=anchor, loc=r.loc(m.line, m.path)))
    return out


def _load_org(path: Path, root: Path, policies: dict, report: Report, own: list = ()) -> Optional[Organisation]:
    """One organisation's file; `own` holds every organisation's own policies (which of them this one
    may layer is checked, once every organisation is read, by _check_own_policies)."""
    rel, data = _read(path, root, report, "An organisation's file starts with 'organisation:' and its id, name "
                      "and kind; delete the file if the organisation is gone.")
    r = _Reader(rel, report, data)
    o = _top(r, data, "organisation") if data is not None else None
    if o is None:
        return None
    r.mapping(o, o.line, "the organisation", ORG_KEYS, fmt.ORGANISATION.required)
    oid = r.own_id(o.get("id"), o.line_of("id"), "the organisation id", _at(o, "id")) if o.get("id") is not None else None
    if oid is None:
        return None
    if path.stem != oid:
        r.err(o.line_of("id"), f"organisation id '{oid}' does not match the file name '{path.name}'",
              f"Rename the file to {oid}.yaml or change the id.", _at(o, "id"))
    if oid in SCHOOLS_FOLDERS:
        r.err(o.line_of("id"), f"the organisation id '{oid}' is reserved: schools/{oid}/ holds "
              f"{SCHOOLS_FOLDERS[oid]}, and schools/<organisation-id>/ an organisation's own policies",
              "Choose another id (and rename the file to match): " + ", ".join(sorted(SCHOOLS_FOLDERS))
              + " are reserved.", _at(o, "id"))
        return None
    what = f"organisation '{oid}'"
    org = Organisation(id=oid, name=_name(r, o, what) or oid, kind=r.choice(o, "kind", what, ORG_KINDS) or "school",
                       file=rel, loc=r.loc(o.line, o.path), name_loc=r.loc(o.line_of("name"), _at(o, "name")))
    if o.get("extends") is not None:
        org.extends = r.key_id(o, "extends", "'extends'")
        org.extends_loc = r.loc(o.line_of("extends"), _at(o, "extends"))
    if o.get("numbering_schemes") is not None:
        org.numbering_schemes = numbering.read_schemes(r, o["numbering_schemes"], o.line_of("numbering_schemes"), what)
    if o.get("numbering") is not None:  # checked against the chain's schemes in _check_numbering
        org.numbering = r.key_id(o, "numbering", f"'numbering' in {what}")
        org.numbering_loc = r.loc(o.line_of("numbering"), _at(o, "numbering"))
    org.variables = r.variables(o.get("variables"), o.line_of("variables"), what)
    org.model_revision = r.text(o, "model_revision", what)
    b = o.get("branding")
    if b is not None and r.mapping(b, o.line_of("branding"), f"'branding' in {what}", BRANDING_KEYS) is not None:
        for key in b:
            if key not in BRANDING_KEYS:
                continue
            val = r.text(b, key, "branding")
            if val is None:
                continue
            if key in ("colour", "accent") and not COLOUR_RE.match(val):
                r.err(b.line_of(key), f"branding {key} '{val}' is not a colour", "Write colours as #rrggbb, e.g. \"#1d4f91\" (quoted).",
                      _at(b, key))
                continue
            if key in ("logo", "templates"):
                val = _asset(r, b.line_of(key), key, val, root, oid)
                if val is None:
                    continue
            org.branding[key] = (val, r.loc(b.line_of(key), _at(b, key)))
    org.adoption = _adoption(r, o.get("adoption"), o.line_of("adoption"), what)
    org.cover = _cover(r, o.get("cover"), o.line_of("cover"), what)
    org.running = _running(r, o.get("running"), o.line_of("running"), what)
    org.history = _history_options(r, o.get("history"), o.line_of("history"), what)
    org.adoption_loc = r.loc(o.line_of("adoption"), _at(o, "adoption")) if o.get("adoption") is not None else None
    org.approvals = _approvals(r, o.get("approvals"), o.line_of("approvals"), what)
    org.review = _review(r, o.get("review"), o.line_of("review"), what)
    org.review_history = _history(r, o.get("review_history"), o.line_of("review_history"), what)
    org.fill = r.text_map(o, "fill", what)
    slots = {n.id for p in [*policies.values(), *own] for n in p.walk() if n.slot}
    for sid, (_, loc) in org.fill.items():
        if sid not in slots:
            r.err(loc.line, f"'{sid}' is not a customisable slot of any policy, so it cannot be filled",
                  did_you_mean(sid, slots) or "Slots are the clauses marked 'slot: true' in policy_src/.", loc.path)
    _choices_everywhere(r, o, org, {**policies, **{f"{p.org}/{p.id}": p for p in own}}, what)  # own policies too
    pols = o.get("policies")
    if pols is not None:
        if not isinstance(pols, LMap):
            r.err(o.line_of("policies"), f"'policies' in {what} must map policy ids to their settings",
                  "Write 'policies:' then 'social-media: {}' (or its settings) on the next lines.", _at(o, "policies"))
        else:
            known = set(policies) | {p.id for p in own}
            for pid, val in pols.items():
                line = pols.line_of(pid)
                if pid not in known:
                    r.err(line, f"{what} publishes unknown policy '{pid}'",
                          did_you_mean(pid, known) or "Policies are the files in policy_src/, and an "
                          "organisation's own policies are the files in schools/<organisation-id>/.", _at(pols, pid))
                    continue
                org.policies[pid] = _policy_layer(r, val, line, f"policy '{pid}' of {what}", oid, _at(pols, pid))
                org.policy_locs[pid] = r.loc(line, _at(pols, pid))
    return org


def _choices_everywhere(r: _Reader, o: LMap, org: Organisation, policies: dict, what: str) -> None:
    """`variants:`, `enable:` and `disable:` beside `policies:`: choices made once for every policy
    that has the clause (a library clause shared by several policies takes one rule)."""
    nodes = {}
    for p in policies.values():
        for n in p.walk():
            nodes.setdefault(n.id, n)
    org.variants = r.text_map(o, "variants", what)
    for cid, (name, loc) in org.variants.items():
        node = nodes.get(cid)
        if node is None or not node.variants:
            choices = [i for i, n in nodes.items() if n.variants]
            r.err(loc.line, f"'{cid}' is not a clause with variants in any policy",
                  did_you_mean(cid, choices) or "Only clauses with 'variants:' in policy_src/ offer a choice.", loc.path)
        elif name not in node.variants:
            r.err(loc.line, f"'{cid}' has no variant '{name}'",
                  did_you_mean(name, node.variants) or "Its variants: " + ", ".join(node.variants) + ".", loc.path)
    for key in ("enable", "disable"):
        setattr(org, key, r.id_list(o, key, what))
        for cid, loc in getattr(org, key):
            if cid not in nodes or not nodes[cid].optional:
                optional = [i for i, n in nodes.items() if n.optional]
                r.err(loc.line, f"'{cid}' is not an optional clause of any policy, so it cannot be {key}d",
                      did_you_mean(cid, optional) or "Only clauses marked 'optional' can be switched on or off.", loc.path)


# ---- an organisation's own policies ---------------------------------------------------------


def _load_own_policies(schools: Path, root: Path, library: Library, report: Report) -> dict:
    """{folder name: {policy id: Policy}}: the policy files in schools/<org-id>/ beside a
    schools/<org-id>.yaml, each in the format of policy_src/<policy-id>.yaml (it may include library
    sections and clauses). Each is read with read_regular, so a link out of schools/ or a special
    file is refused. Other folders (assets/, templates/, a folder of shared files) are not read; one
    whose name is close to an organisation's gets a warning, as a misspelt folder of policies."""
    out: dict = {}
    layers = {p.stem for p in schools.glob("*.yaml")}
    for folder in sorted(p for p in schools.iterdir() if p.is_dir()):
        if folder.name not in layers:
            near = did_you_mean(folder.name, layers - set(SCHOOLS_FOLDERS))
            if near and any(folder.glob("*.yaml")):
                report.warning(Loc(f"schools/{folder.name}"), f"no organisation '{folder.name}': the policy files "
                               "in this folder are not read", near + " An organisation's own policies go in "
                               "schools/<organisation-id>/, beside its schools/<organisation-id>.yaml.")
            continue
        for path in sorted(folder.glob("*.yaml")):
            policy = _load_policy(path, root, library, report)
            if policy is None:
                continue
            policy.org = folder.name
            for ch in policy.changes:
                ch.layer = folder.name
            for node in policy.walk():  # text written in the file, not a library clause it includes
                if node.loc.file == policy.file:
                    node.provenance.layer = folder.name
            out.setdefault(folder.name, {})[policy.id] = policy
    return out


def _check_own_policies(orgs: dict, own: dict, policies: dict, report: Report) -> None:
    """Give each organisation its own policies, and check what it layers is a policy it can see.

    An own policy is published for its organisation and the organisations below it, so its id must
    not be a model policy's or that of an own policy of an ancestor (the copy lower in the tree is
    reported). A `policies:` entry must name a model policy or an own policy of its chain."""
    for folder, pols in sorted(own.items()):
        if folder not in orgs:  # its schools/<folder>.yaml did not load: that error is reported
            continue
        for pid, policy in pols.items():
            if pid in policies:
                report.error(policy.loc, f"policy id '{pid}' is already the model's policy "
                             f"({policies[pid].file})",
                             f"Give this policy an id of its own (and rename the file), or change the model's "
                             f"policy for '{folder}' under 'policies: {pid}:' in {orgs[folder].file}.")
                continue
            orgs[folder].own_policies[pid] = policy
    for org in sorted(orgs.values(), key=lambda o: o.id):
        seen, cur, chain = set(), org, []
        while cur is not None and cur.id not in seen:  # root last; cycles are reported by _check_extends
            seen.add(cur.id)
            chain.append(cur)
            cur = orgs.get(cur.extends) if cur.extends else None
        for pid, policy in sorted(org.own_policies.items()):
            above = next((a for a in chain[1:] if pid in a.own_policies), None)
            if above is not None:
                report.error(policy.loc, f"policy id '{pid}' is already the own policy of '{above.id}' "
                             f"({above.own_policies[pid].file}), which '{org.id}' publishes too",
                             f"Give this policy an id of its own (and rename the file), or change that policy "
                             f"for '{org.id}' under 'policies: {pid}:' in {org.file}.")
        for pid, loc in sorted(org.policy_locs.items()):
            if pid in policies or any(pid in a.own_policies for a in chain):
                continue
            owners = sorted(o.id for o in orgs.values() if pid in o.own_policies)
            report.error(loc, f"organisation '{org.id}' cannot publish '{pid}': it is the own policy of "
                         f"{', '.join(repr(o) for o in owners)}, which '{org.id}' does not extend",
                         "An organisation's own policy is published for it and the organisations below it only: "
                         "delete this entry, or ask that organisation to share the policy through the model.")
            del org.policies[pid]


def _name(r: _Reader, o: LMap, what: str) -> Optional[str]:
    """The organisation's name, refused when it holds characters that make it look like another."""
    name = r.text(o, "name", what)
    if name is None:
        return None
    line = o.line_of("name")  # messages at this line take the path of the name (_Reader.path_at)
    if len(name) > MAX_NAME:
        r.err(line, f"the name of {what} is {len(name):,} characters long", f"Names are at most {MAX_NAME} "
              "characters: write the organisation's name as it appears on its letterhead.")
        return None
    ch = invisible_char(name)
    if ch:
        r.err(line, f"the name of {what} holds the invisible character {describe(ch)}",
              "Delete it: invisible and right-to-left control characters make a name look like another "
              "organisation's.")
        return None
    space = odd_space(name)
    if space:
        r.err(line, f"the name of {what} {space}", "Write the name with single ordinary spaces between words.")
        return None
    if not name.isascii():
        from confusable_homoglyphs import confusables
        if confusables.is_dangerous(name):
            r.err(line, f"the name of {what} mixes alphabets with look-alike letters",
                  "Write the name in one alphabet: letters from another (e.g. Cyrillic 'о' for Latin 'o') "
                  "make it look like a different organisation's.")
            return None
    return name


def _asset(r: _Reader, line: int, key: str, val: str, root: Path, oid: str) -> Optional[Path]:
    """A branding logo (a checked SVG, PNG or JPEG file) or template folder, inside schools/."""
    schools = (root / "schools").resolve()
    what = f"branding {key} '{val}'"
    target = Path(os.path.normpath(schools / val))
    if schools not in target.parents:
        r.err(line, f"{what} is not a {'file' if key == 'logo' else 'folder'} inside the project's schools/ folder",
              f"Give a path relative to schools/, e.g. assets/{oid}.svg.")
        return None
    if key == "templates":
        problem, links = _template_folder(target, schools)
        if problem:
            r.err(line, f"{what}: {problem[0]}", problem[1])
            return None
        for rel in links:  # the template loader refuses them: a template that uses one fails alone
            r.report.warning(r.loc(line), f"{what}: '{rel}' is a symbolic link to something outside the folder "
                             "(or to nothing), so it will not be read", "Copy the file here instead of linking to it.")
        return target.resolve()
    if target.suffix.lower() not in (".svg", ".png", ".jpg", ".jpeg"):
        r.err(line, f"logo '{val}' must be an SVG, PNG or JPEG file", "")
        return None
    data, problem = read_regular(target, schools, MAX_LOGO)
    if problem:
        r.err(line, f"{what}: {problem[0]}", problem[1])
        return None
    problem = check_logo(data, target.suffix.lower())
    if problem:
        r.err(line, f"{what}: {problem}", "Save the logo again from a graphics program as a plain SVG, PNG or "
              f"JPEG file of at most {_size(MAX_LOGO)}.")
        return None
    return target.resolve()


def _template_folder(folder: Path, schools: Path) -> tuple:
    """((message, hint) or None, [links out of the folder]): a problem when the template folder is
    not a folder of ordinary, small files inside schools/. Links that lead out of it are only
    listed: the template loader never follows them, so a template that uses one fails alone."""
    try:
        st = os.lstat(folder)
    except OSError:
        return ("there is no such folder", "Give a path relative to schools/, e.g. templates/my-school."), []
    try:
        real = folder.resolve(strict=True)
    except (OSError, RuntimeError):
        return ("the folder is a symbolic link to nothing, or a loop", "Copy the templates here instead."), []
    if schools not in real.parents:
        return ("the folder is a symbolic link to somewhere outside schools/",
                "Copy the templates here instead."), []
    if not real.is_dir():
        return ("this is not a folder", "Name the folder that holds the template overrides."), []
    count, links = 0, []
    for dirpath, dirnames, filenames in os.walk(real):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(real).as_posix()
            count += 1
            if count > MAX_TEMPLATE_FILES:
                return (f"the folder holds more than {MAX_TEMPLATE_FILES} files",
                        "Keep only the template overrides."), links
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                try:
                    inside = real in path.resolve(strict=True).parents
                except (OSError, RuntimeError):
                    inside = False
                if not inside:
                    links.append(rel)
                continue
            if name in dirnames:
                continue
            if not stat.S_ISREG(st.st_mode):
                return (f"'{rel}' is not a regular file", "Only ordinary files can be templates: remove it."), links
            if st.st_size > MAX_TEMPLATE:
                return (f"'{rel}' is larger than {_size(MAX_TEMPLATE)}",
                        "Templates are small: make it smaller."), links
    return None, links


_SVG_NS = "http://www.w3.org/2000/svg"
_URL = re.compile(r"url\(\s*['\"]?([^'\")]*)", re.I)
_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(px|pt|pc|mm|cm|in|em|ex|%)?\s*\Z")


def check_logo(data: bytes, suffix: str) -> Optional[str]:
    """What is wrong with a logo's bytes, or None. PNG and JPEG: the signature, and the image
    decodes to a sane size. SVG: UTF-8 XML without a DOCTYPE or entities, an <svg> root, a viewBox
    of four numbers with a positive width and height, and no reference to anything outside itself."""
    if suffix == ".svg":
        return _check_svg(data)
    magic = {".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff"}[suffix]
    if not data.startswith(magic):
        return f"the file is not a {'PNG' if suffix == '.png' else 'JPEG'} image"
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            img.verify()
    except Exception as exc:  # Pillow raises many kinds for a broken file; each means "broken"
        return f"the image cannot be read ({type(exc).__name__})"
    if not (0 < width <= 10_000 and 0 < height <= 10_000):
        return f"the image is {width} x {height} pixels; a logo is at most 10000 x 10000"
    return None


def _check_svg(data: bytes) -> Optional[str]:
    from lxml import etree
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "the SVG is not UTF-8 text"
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return "the SVG has a DOCTYPE or entity declarations, which policypack does not read"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return f"the SVG is not well-formed XML ({str(exc).splitlines()[0][:120] if str(exc) else 'syntax'})"
    if root.getroottree().docinfo.doctype:
        return "the SVG has a DOCTYPE, which policypack does not read"
    qname = etree.QName(root)
    if qname.localname != "svg" or qname.namespace not in (_SVG_NS, None):
        return "the file is not an SVG image (its root element is not <svg>)"
    box = root.get("viewBox")
    if box is not None:
        parts = [p for p in re.split(r"[\s,]+", box.strip()) if p]
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            nums = []
        if len(nums) != 4 or not all(math.isfinite(n) for n in nums) or nums[2] <= 0 or nums[3] <= 0:
            return f"its viewBox '{box[:40]}' is not four numbers with a positive width and height"
    for attr in ("width", "height"):
        value = root.get(attr)
        if value is not None:
            m = _LENGTH.match(value)
            if not m or float(m.group(1)) <= 0:
                return f"its {attr} '{value[:40]}' is not a positive length"
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        if local in ("script", "foreignObject"):
            return f"it holds a <{local}> element"
        texts = [el.text or ""] if local == "style" else []
        for name, value in el.attrib.items():
            aname = etree.QName(name).localname
            if aname.lower().startswith("on"):
                return f"it has an event handler ({aname})"
            if aname == "href" and not (value.strip().startswith("#") or value.strip().startswith("data:")):
                return f"it refers to '{value.strip()[:60]}' outside itself"
            texts.append(value)
        for t in texts:
            if "@import" in t:
                return "its style imports another file"
            for target in _URL.findall(t):
                if not (target.strip().startswith("#") or target.strip().startswith("data:")):
                    return f"it refers to '{target.strip()[:60]}' outside itself"
    return None


def _check_names(orgs: dict, report: Report) -> None:
    """Two organisations whose names look the same: reported on the one that copies the other.

    The original is, in order: the name without look-alike tricks (non-ASCII letters, or an
    upper-case I, a 0, a 1 or a | where a letter would be), the organisation higher in the
    'extends' tree, the file first in sorted order."""
    groups: dict = {}
    for org in orgs.values():
        groups.setdefault(skeleton(org.name), []).append(org)

    def depth(org) -> int:
        n, cur, seen = 0, org, set()
        while cur.extends in orgs and cur.id not in seen:
            seen.add(cur.id)
            cur, n = orgs[cur.extends], n + 1
        return n

    def tricks(name: str) -> int:
        odd = sum(1 for c in name if not c.isascii() or c in "01|")
        odd += len(re.findall(r"(?<=[a-z])I|I(?=[a-z]*[A-Z])", name))
        return odd

    for group in groups.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda o: (tricks(o.name), depth(o), o.file))
        original = group[0]
        for org in group[1:]:
            same = "is the same as" if org.name == original.name else "looks the same as"
            report.error(org.name_loc or org.loc,
                         f"the name of '{org.id}', '{org.name}', {same} the name of '{original.id}' "
                         f"({original.name_loc or original.loc})",
                         "Each organisation needs a name of its own that readers can tell apart: change this one.")


def _check_numbering(orgs: dict, report: Report) -> None:
    """Each `numbering:` names a built-in scheme or one defined by the organisation or an ancestor."""
    for org in sorted(orgs.values(), key=lambda o: o.id):
        known, cur, seen = dict(numbering.SCHEMES), org, set()
        while cur is not None and cur.id not in seen:  # cycles are reported by _check_extends
            seen.add(cur.id)
            known.update(cur.numbering_schemes)
            cur = orgs.get(cur.extends) if cur.extends else None
        uses = [(org.numbering, org.numbering_loc, f"organisation '{org.id}'")]
        uses += [(layer.fields["numbering"][0], layer.fields["numbering"][1], f"policy '{pid}' of organisation '{org.id}'")
                 for pid, layer in sorted(org.policies.items()) if "numbering" in layer.fields]
        for name, loc, what in uses:
            if name and name not in known:
                hint = did_you_mean(name, known)
                report.error(loc, f"'numbering' in {what} is '{name}'",
                             (hint + " " if hint else "") + "Use one of: " + ", ".join(known)
                             + ", or define it under 'numbering_schemes:' (docs/source-format.md, Numbering).")


def _check_extends(orgs: dict, report: Report) -> None:
    for org in orgs.values():
        if org.extends and org.extends not in orgs:
            report.error(org.extends_loc, f"organisation '{org.id}' extends unknown organisation '{org.extends}'",
                         did_you_mean(org.extends, orgs) or "Name the id of another file in schools/, or remove 'extends'.")
        elif org.extends and orgs[org.extends].kind in SCHOOL_KINDS:
            parent = orgs[org.extends]
            above = f" (it extends '{parent.extends}')" if parent.extends else ""
            a = "an" if parent.kind[0] in "aeiou" else "a"
            report.error(org.extends_loc, f"organisation '{org.id}' extends '{parent.id}', which is {a} {parent.kind}: "
                         "only a local authority, trust or federation can be extended",
                         f"The layer of {a} {parent.kind} is its own (its board, adoption record and slots): extend "
                         f"the authority, trust or federation above it instead{above}.")
    reported = set()
    for org in sorted(orgs.values(), key=lambda o: o.id):
        path, cur = [], org
        while cur is not None and cur.extends in orgs:
            path.append(cur.id)
            cur = orgs[cur.extends]
            if cur.id in path:
                cycle = path[path.index(cur.id):] + [cur.id]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    report.error(orgs[cycle[0]].extends_loc,
                                 "'extends' goes round in a cycle: " + " -> ".join(cycle),
                                 "An organisation cannot extend itself or its own descendants: remove one 'extends'.")
                break


def reload_layer(project: Project, file: str, text: str, report: Optional[Report] = None) -> Project:
    """`project` with one organisation's file (`file`, e.g. "schools/x.yaml") read again from `text`
    and everything else as it was loaded: what load_project gives with that file changed, checked
    across organisations the same way, without reading the other files again (the web editor's
    preview does this on every pause in typing). The other organisations are copied, not shared, as
    the checks may change them. Raises Failed."""
    import dataclasses

    report = report if report is not None else Report()
    root = Path(project.root)
    own = {o.id: dict(o.own_policies) for o in project.organisations.values() if o.own_policies}
    with in_memory({file: text}):
        org = _load_org(root / file, root, project.policies, report, [p for ps in own.values() for p in ps.values()])
    organisations = {k: dataclasses.replace(o, policies=dict(o.policies), own_policies={})
                     for k, o in project.organisations.items() if o.file != file}
    if org is not None:
        organisations[org.id] = org
    _check_extends(organisations, report)
    _check_own_policies(organisations, own, project.policies, report)
    _check_numbering(organisations, report)
    _check_names(organisations, report)
    if report.errors:
        raise Failed(report)
    return dataclasses.replace(project, organisations=organisations)
