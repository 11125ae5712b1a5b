"""The project folder as the editor's store: a policy page's fields, a form applied to a layer,
validation with the edited layer in memory, and saving (atomic, then a git commit).

Field names are what the form posts: `var:NAME`, `variant:ID`, `optional:ID`, `fill:ID`,
`replace:ID`, `remove:ID` (on while the layer removes the clause), `retitle:ID`, `inserted:ID` (on
while the layer inserts its own clause), `adoption:KEY`, `review:KEY`, and the new changes outside
the slots (NEW_FIELDS): another clause's wording, a clause to remove, a new title, a local clause
to insert. A form may only name fields and clauses its page offers; anything else is refused.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import re
import subprocess
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..errors import Failed, Report, describe_exception
from ..layer import apply_layers
from ..layerwrite import Layer, LayoutError, entry, flow_list, new_id
from ..load import ID_RE, VAR_RE, in_memory, load_project, reload_layer
from ..model import PolicyLayer, Project
from ..resolve import resolve
from ..versions import without_own_edits
from ..write import write_atomic
from .fields import field_of, line_paths

MAX_LINE = 300  # characters in a one-line field (a name, a role, a date)
MAX_TEXT = 20_000  # characters in a slot's or a clause's wording
MAX_NAME = 100  # characters in the editor's name
MAX_MESSAGE = 500  # characters in the save message
ADOPTION_FIELDS = (("body", "Adopted by (the body)"), ("date", "Date adopted (YYYY-MM-DD)"),
                   ("chair_title", "Title of the chair"), ("chairs", "Chairs, one per line"))
REVIEW_FIELDS = (("last_reviewed", "Last reviewed (YYYY-MM-DD)"), ("next_review", "Next review due (YYYY-MM-DD)"))
NEW_FIELDS = ("new-replace-id", "new-replace-text", "new-remove-id", "new-retitle-id", "new-retitle-title",
              "new-insert-after", "new-insert-title", "new-insert-text")
# what other programs use to end a line or a paragraph (Word's line break is a vertical tab): a
# line break here, so that a layer never holds a character YAML writes in an escaped form
LINE_BREAKS = {ord(ch): "\n" for ch in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}
SAVE_LOCK = threading.Lock()  # one save at a time in this process: check the hash, write, commit


class FormError(Exception):
    """The form asks for something its page does not offer, or is too large: said in plain words."""


class Conflict(Exception):
    """The file changed on disk since the page was loaded."""


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Field:
    name: str  # what the form posts
    kind: str  # variable | variant | optional | fill | replace | remove | retitle | inserted | adoption | review
    label: str
    value: str = ""  # this organisation's own value, as the field shows it
    inherited: str = ""  # what applies when the field is left empty (from the layers above or the model)
    options: list = field(default_factory=list)  # [(value, text)] for a choice
    guidance: str = ""
    anchor: str = ""  # the clause's anchor in the preview
    number: str = ""  # the clause's number in this organisation's policy
    multiline: bool = False
    id: str = ""  # the clause id, for clause fields
    shared: bool = False  # a slot filled beside `policies:`: the same words in every policy with the slot

    @property
    def html_id(self) -> str:
        return "f-" + re.sub(r"[^a-z0-9_-]", "-", self.name.replace(":", "--"))


@dataclass
class Page:
    """What a policy page offers, built from the project as it is on disk."""

    oid: str
    pid: str
    title: str
    file: str  # the layer, relative to the project
    hash: str  # of the layer's bytes when the page was built
    groups: list  # [(heading, [Field])]
    clause_ids: list  # ids a new replacement may name: (id, "3.2 Title")
    removable: list = field(default_factory=list)  # ids a new removal may name (nothing locked in them)
    retitlable: list = field(default_factory=list)  # sections and clauses a new title may name (not locked)
    anchors: list = field(default_factory=list)  # clauses a local clause may be inserted after
    taken: list = field(default_factory=list)  # every id the policy has (or had, before removals)

    def fields(self) -> dict:
        return {f.name: f for _, fs in self.groups for f in fs}


_CACHE = {"project": None, "pages": {}}  # the last project loaded, by the state of its files, and its pages
_CACHE_LOCK = threading.Lock()


def fingerprint(root: Path) -> tuple:
    """What the loaded project depends on: the path, size and modification time of every file under
    policy_src/ and schools/ (a save, a `git pull` or a hand edit changes it)."""
    out = []
    for folder in ("policy_src", "schools"):
        for dirpath, dirnames, filenames in os.walk(Path(root) / folder):
            dirnames.sort()
            for name in sorted(filenames):
                try:
                    st = os.stat(os.path.join(dirpath, name))
                except OSError:
                    continue
                out.append((dirpath, name, st.st_size, st.st_mtime_ns))
    return tuple(out)


def load(root: Path) -> Project:
    """The project as it is on disk, loaded again only when a file changed; raises Failed."""
    key = (str(root), fingerprint(root))
    with _CACHE_LOCK:
        cached = _CACHE["project"]
        if cached is not None and cached[0] == key:
            return cached[1]
    project = load_project(root, Report())
    with _CACHE_LOCK:
        _CACHE["project"], _CACHE["pages"] = (key, project), {}
    return project


def page_for(project: Project, oid: str, pid: str) -> "Page":
    """build_page, kept while the project is the same object (the caller may change the copy)."""
    import copy

    key = (id(project), oid, pid)
    with _CACHE_LOCK:
        cached = _CACHE["pages"].get(key)
    if cached is None or cached[0] is not project:
        cached = (project, build_page(project, oid, pid))
        with _CACHE_LOCK:
            if _CACHE["project"] is not None and _CACHE["project"][1] is project:
                _CACHE["pages"][key] = cached
    return copy.deepcopy(cached[1])


def layer_file(project: Project, oid: str) -> Path:
    return Path(project.root) / project.organisations[oid].file


def _block(text: Optional[str]) -> str:
    return (text or "").rstrip("\n")


def build_page(project: Project, oid: str, pid: str) -> Page:
    org = project.organisations[oid]
    path = layer_file(project, oid)
    data = path.read_bytes()
    report = Report()
    now = apply_layers(project, oid, pid, report)
    doc = resolve(project, oid, pid, Report())
    numbers = {n.id: (n.label, n.anchor) for n in doc.walk_outline()}
    parents = apply_layers(without_own_edits(_without_variables(project, org), org, pid), oid, pid, Report())
    before = {n.id: n for n in parents.policy.walk()}
    pl = org.policies.get(pid) or PolicyLayer(loc=org.loc)

    def clause(node, kind, name, **kw) -> Field:
        label, anchor = numbers.get(node.id, ("", ""))
        title = node.title or node.id
        return Field(name=name, kind=kind, label=f"{label} {title}".strip(), number=label, anchor=anchor,
                     guidance=" ".join((node.guidance or "").split()), id=node.id, **kw)

    variables = []
    for name, (value, _, layer) in sorted(now.variables.items()):
        own = org.variables.get(name)
        inherited = parents.variables.get(name)
        note = project.library.variable_notes.get(name)
        variables.append(Field(name=f"var:{name}", kind="variable", label=name.replace("_", " "),
                               value=str(own[0]) if own else "", inherited=str(inherited[0]) if inherited else "",
                               guidance=note[0] if note else ""))
    choices, switches, slots, replaced = [], [], [], []
    for node in now.policy.walk():
        if node.variants and len(node.variants) > 1:
            own = pl.variants.get(node.id) or org.variants.get(node.id)
            old = before.get(node.id)
            default = old.variant if old is not None else node.variant
            choices.append(clause(node, "variant", f"variant:{node.id}", value=own[0] if own else "",
                                  inherited=default or "",
                                  options=[(v, v.replace("-", " "), _excerpt(t)) for v, (t, _) in node.variants.items()]))
        if node.optional:
            old = before.get(node.id)
            switches.append(clause(node, "optional", f"optional:{node.id}", value="on" if node.enabled else "off",
                                   inherited="on" if (old.enabled if old is not None else node.enabled) else "off"))
        if node.slot:
            own = pl.fill.get(node.id) or org.fill.get(node.id)
            old = before.get(node.id)
            slots.append(clause(node, "fill", f"fill:{node.id}", value=_block(own[0]) if own else "",
                                inherited=_block(old.text if old is not None else node.text), multiline=True,
                                shared=node.id in org.fill and node.id not in pl.fill))
    for cid, (text, _) in pl.replace.items():
        node = next((n for n in now.policy.walk() if n.id == cid), None)
        if node is not None and not node.slot:
            old = before.get(cid)
            replaced.append(clause(node, "replace", f"replace:{cid}", value=_block(text),
                                   inherited=_block(old.current_text()[0] if old is not None else ""), multiline=True))
    titles = {n.id: n for n in now.policy.walk()}
    removed = []
    for cid, _ in pl.remove:
        old = before.get(cid)
        title = (old.title or cid) if old is not None else cid
        removed.append(Field(name=f"remove:{cid}", kind="remove", label=title, value="on", inherited="off", id=cid))
    retitled = []
    for cid, (title, _) in pl.retitle.items():
        node, old = titles.get(cid), before.get(cid)
        if node is not None:
            retitled.append(clause(node, "retitle", f"retitle:{cid}", value=str(title),
                                   inherited=(old.title or "") if old is not None else ""))
    own_ids = set()
    inserted = []
    for ins in pl.insert:
        own_ids.update(n.id for n in ins.node.walk())
        node, own = titles.get(ins.node.id, ins.node), ins.node
        inserted.append(clause(node, "inserted", f"inserted:{own.id}", value="on", inherited="off"))
        if own.kind == "clause":  # its own words, changed in place (a section's are its clauses')
            inserted.append(clause(node, "inserted-title", f"inserted-title:{own.id}", value=str(own.title or "")))
            inserted.append(clause(node, "inserted-text", f"inserted-text:{own.id}", value=_block(own.text),
                                   multiline=True))
    adoption = pl.adoption if pl.adoption else org.adoption
    record = []
    for key, label in ADOPTION_FIELDS:
        value = adoption.get(key)
        value = value[0] if isinstance(value, tuple) else value
        if key == "chairs":
            value = "\n".join(str(v[0] if isinstance(v, tuple) else v) for v in (value or []))
        record.append(Field(name=f"adoption:{key}", kind="adoption", label=label, value=str(value or ""),
                            multiline=key == "chairs"))
    review = pl.review if pl.review or not org.review else org.review
    for key, label in REVIEW_FIELDS:
        value = review.get(key)
        value = value[0] if isinstance(value, tuple) else value
        record.append(Field(name=f"review:{key}", kind="review", label=label, value=str(value or "")))
    ids = [(n.id, f"{n.label} {n.title or n.id}".strip()) for n in doc.walk()
           if n.kind == "clause" and not n.slot and not n.locked and n.id not in pl.replace]
    outline = [(n, f"{n.label} {n.title or n.id}".strip()) for n in doc.walk()]
    kinds = ("part", "section", "clause", "appendix")
    removable = [(n.id, text) for n, text in outline if n.kind in kinds and n.id not in own_ids
                 and not any(m.locked for m in n.walk())]
    retitlable = [(n.id, text) for n, text in outline if n.kind in kinds and not n.locked
                  and n.id not in own_ids and n.id not in pl.retitle]
    anchors = [(n.id, text) for n, text in outline if n.kind == "clause"]
    taken = {n.id for n in now.policy.walk()} | {n.id for n in (project.policies[pid].walk() if pid in project.policies else ())} | \
        {cid for cid, _ in pl.remove} | own_ids | {n.id for n in before.values()}
    groups = [("Names, roles and contacts", variables), ("Wording options", choices),
              ("Optional clauses", switches), ("Your own wording (customisable slots)", slots),
              ("Wording changed outside the slots", replaced), ("Clauses removed", removed),
              ("Titles changed", retitled), ("Your own clauses", inserted), ("Adoption and review", record)]
    always = ("Wording changed", "Clauses removed", "Titles changed", "Your own clauses")
    return Page(oid=oid, pid=pid, title=doc.title, file=org.file, hash=file_hash(data),
                groups=[(h, fs) for h, fs in groups if fs or h.startswith(always)], clause_ids=ids,
                removable=removable, retitlable=retitlable, anchors=anchors, taken=sorted(taken))


def _excerpt(text: Optional[str], limit: int = 400) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _without_variables(project: Project, org) -> Project:
    plain = dataclasses.replace(org, variables={})
    return dataclasses.replace(project, organisations={**project.organisations, org.id: plain})


# ---- a form applied to the layer -----------------------------------------------------------


def clean_text(value: str, limit: int, what: str, multiline: bool) -> str:
    if len(value) > limit:
        raise FormError(f"{what} is longer than {limit:,} characters: shorten it.")
    value = value.replace("\r\n", "\n").translate(LINE_BREAKS)
    if "\x00" in value:
        raise FormError(f"{what} holds a character that cannot be saved (NUL).")
    odd = next((ch for ch in value if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cs")
                or ch == "\ufeff"), None)
    if odd is not None:
        raise FormError(f"{what} holds a character that cannot be saved (U+{ord(odd):04X}): delete it.")
    if not multiline:
        if "\n" in value:
            raise FormError(f"{what} must be one line.")
        return value.strip()
    return "\n".join(line.rstrip() for line in value.strip("\n").split("\n")).strip("\n")


def apply_form(layer: Layer, project: Project, page: Page, form: dict) -> list:
    """Change `layer` (ruamel's tree of the organisation's file) to what `form` says; returns the
    names of the fields that changed. Raises FormError for a field the page does not offer."""
    fields = page.fields()
    org = project.organisations[page.oid]
    pl = org.policies.get(page.pid) or PolicyLayer(loc=org.loc)
    known = set(fields) | set(NEW_FIELDS)
    for name in form:
        if name not in known:
            raise FormError(f"this page has no field '{name[:80]}'.")
    changed = []
    edit = _Editor(layer, page.pid)
    for name, f in fields.items():
        if name not in form:
            continue
        what = f"'{f.label}'"
        value = clean_text(form[name], MAX_TEXT if f.multiline else MAX_LINE, what, f.multiline)
        if f.kind in ("optional", "remove", "inserted"):
            value = "on" if value == "on" else "off"
        if f.kind in ("inserted-title", "inserted-text") and form.get(f"inserted:{f.id}") == "off":
            continue  # the clause goes as a whole
        if value == f.value:
            continue
        changed.append(name)
        key = name.split(":", 1)[1]
        if f.kind == "variable":
            edit.set(("variables",), key, value or None)
        elif f.kind == "variant":
            if value and value not in {o[0] for o in f.options}:
                raise FormError(f"{what} has no option '{value[:80]}'.")
            where = ("variants",) if key in org.variants and key not in pl.variants else edit.policy("variants")
            edit.set(where, key, value or None)
        elif f.kind == "fill":
            where = ("fill",) if key in org.fill and key not in pl.fill else edit.policy("fill")
            edit.set(where, key, value or None, block=True)
        elif f.kind == "replace":
            edit.set(edit.policy("replace"), key, value or None, block=True)
        elif f.kind == "optional":
            edit.switch(key, value == "on", f.inherited == "on", org, pl)
        elif f.kind == "remove":  # unticked: the clause comes back
            edit.drop_item(edit.policy("remove"), key)
        elif f.kind == "retitle":
            edit.set(edit.policy("retitle"), key, value or None)
        elif f.kind == "inserted":  # unticked: the local clause goes, with its insert: entry
            edit.drop_insert(key)
        elif f.kind in ("inserted-title", "inserted-text"):
            if f.kind == "inserted-text" and not value:
                raise FormError(f"Your clause {f.label} needs some wording: untick it to take it out instead.")
            edit.set_inserted(key, "title" if f.kind == "inserted-title" else "text", value or None)
        elif f.kind == "adoption":
            where = edit.policy("adoption") if pl.adoption else ("adoption",)
            if key == "chairs":
                names = [n.strip() for n in value.split("\n") if n.strip()]
                edit.set(where, key, flow_list(names) if names else None)
            else:
                edit.set(where, key, _date(value) if key == "date" else value or None)
        elif f.kind == "review":
            where = ("review",) if org.review and not pl.review else edit.policy("review")
            edit.set(where, key, _date(value))
    cid = clean_text(form.get("new-replace-id", ""), MAX_LINE, "the clause to change", False)
    text = clean_text(form.get("new-replace-text", ""), MAX_TEXT, "the new wording", True)
    if cid and text:
        if cid not in dict(page.clause_ids):
            raise FormError(f"'{cid[:80]}' is not a clause whose wording this page can change.")
        edit.set(edit.policy("replace"), cid, text, block=True)
        changed.append(f"replace:{cid}")
    changed += _new_changes(edit, page, form)
    return changed


def _new_changes(edit: "_Editor", page: Page, form: dict) -> list:
    """A clause removed, a title changed, a local clause inserted: each only where the page
    offers it (a locked clause is never offered, so a forged form naming one is refused)."""
    changed = []
    cid = clean_text(form.get("new-remove-id", ""), MAX_LINE, "the clause to remove", False)
    if cid:
        if cid not in dict(page.removable):
            raise FormError(f"'{cid[:80]}' is not a clause or section this page can remove: it is locked, holds a "
                            "locked clause, or is not in this policy.")
        edit.append_item(edit.policy("remove"), cid)
        changed.append(f"remove:{cid}")
    cid = clean_text(form.get("new-retitle-id", ""), MAX_LINE, "the clause to retitle", False)
    title = clean_text(form.get("new-retitle-title", ""), MAX_LINE, "the new title", False)
    if cid and title:
        if cid not in dict(page.retitlable):
            raise FormError(f"'{cid[:80]}' is not a clause or section whose title this page can change: it is "
                            "locked, or is not in this policy.")
        edit.set(edit.policy("retitle"), cid, title)
        changed.append(f"retitle:{cid}")
    after = clean_text(form.get("new-insert-after", ""), MAX_LINE, "the clause to insert after", False)
    title = clean_text(form.get("new-insert-title", ""), MAX_LINE, "the new clause's title", False)
    text = clean_text(form.get("new-insert-text", ""), MAX_TEXT, "the new clause's wording", True)
    if after or title or text:
        if not (after and title and text):
            raise FormError("To add a clause of your own, choose where it goes and give it a title and wording.")
        if after not in dict(page.anchors):
            raise FormError(f"'{after[:80]}' is not a clause this page can put a new clause after.")
        nid = new_id(title, page.taken)
        edit.insert_clause(after, nid, title, text)
        changed.append(f"insert:{nid}")
    return changed


def _date(value: str):
    """A date typed as YYYY-MM-DD, written as a YAML date; anything else as typed, for the loader
    to say what is wrong with it, beside the field. Empty: None (the line goes)."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return value


class _Editor:
    """Sets and deletes values in the layer, under `organisation:`; keys that become empty go,
    except the policy's own entry under `policies:` (deleting it could stop publishing the policy)."""

    def __init__(self, layer: Layer, pid: str):
        self.layer, self.pid = layer, pid

    def policy(self, key: str) -> tuple:
        return ("policies", self.pid, key)

    def _node(self, keys: tuple):
        node = self.layer.data.get("organisation")
        for k in keys:
            if not isinstance(node, dict) or k not in node:
                return None
            node = node[k]
        return node

    def set(self, keys: tuple, key: str, value, block: bool = False) -> None:
        """`value` at `key` of the mapping at `keys` (made where missing); None deletes it. With
        `block`, text is written as a literal block (`|`), as slots and clause wording are."""
        from ruamel.yaml.scalarstring import LiteralScalarString

        if value is None:
            parent = self._node(keys)
            if isinstance(parent, dict) and key in parent:
                del parent[key]
                self._prune(keys)
            return
        if isinstance(value, str) and (block or "\n" in value):
            value = LiteralScalarString(value + "\n")
        self.layer.mapping("organisation", *keys)[key] = value

    def _prune(self, keys: tuple) -> None:
        while keys and keys != ("policies", self.pid):
            node = self._node(keys)
            if not isinstance(node, dict) or node:
                return
            parent = self._node(keys[:-1]) if len(keys) > 1 else self.layer.data["organisation"]
            del parent[keys[-1]]
            keys = keys[:-1]

    def append_item(self, keys: tuple, cid: str) -> None:
        """`cid` at the end of the id list at `keys` (a one-line list when it is made)."""
        seq = self._node(keys)
        if isinstance(seq, list) and seq:
            if cid not in [str(v) for v in seq]:
                seq.append(cid)
        else:
            self.set(keys[:-1], keys[-1], flow_list([cid]))

    def drop_item(self, keys: tuple, cid: str) -> None:
        """`cid` out of the id list at `keys`; the key goes when the list is empty."""
        seq = self._node(keys)
        if isinstance(seq, list):
            for i in reversed(range(len(seq))):
                if str(seq[i]) == cid:
                    del seq[i]
            if not seq:
                self.set(keys[:-1], keys[-1], None)

    def insert_clause(self, after: str, cid: str, title: str, text: str) -> None:
        """A local clause after `after`, as the last item of the policy's `insert:` list."""
        from ruamel.yaml.comments import CommentedSeq
        from ruamel.yaml.scalarstring import LiteralScalarString

        clause = entry({"id": cid, "title": title})
        clause["text"] = LiteralScalarString(text + "\n")
        item = entry({"after": after})
        item["clause"] = clause
        parent = self.layer.mapping("organisation", *self.policy("insert")[:-1])
        seq = parent.get("insert")
        if not isinstance(seq, list) or not seq:
            seq = parent["insert"] = CommentedSeq()
        seq.append(item)

    def _inserted(self, cid: str):
        """The `insert:` items of the policy that add `cid`, as (list, index), last first."""
        seq = self._node(self.policy("insert"))
        if not isinstance(seq, list):
            return []
        return [(seq, i) for i in reversed(range(len(seq))) if isinstance(seq[i], dict) and any(
            isinstance(seq[i].get(k), dict) and str(seq[i][k].get("id")) == cid for k in ("clause", "section", "appendix"))]

    def set_inserted(self, cid: str, key: str, value) -> None:
        """The title or text of this layer's own clause `cid`, changed where its `insert:` item has it."""
        from ruamel.yaml.scalarstring import LiteralScalarString

        for seq, i in self._inserted(cid):
            clause = seq[i].get("clause")
            if value is None:
                clause.pop(key, None)
            else:
                clause[key] = LiteralScalarString(value + "\n") if key == "text" else value

    def drop_insert(self, cid: str) -> None:
        """The `insert:` item that adds `cid`; the key goes when the list is empty."""
        keys = self.policy("insert")
        for seq, i in self._inserted(cid):
            del seq[i]
        seq = self._node(keys)
        if isinstance(seq, list) and not seq:
            self.set(keys[:-1], keys[-1], None)

    def switch(self, cid: str, on: bool, inherited_on: bool, org, pl) -> None:
        """Optional clause `cid` on or off: no line when that is what the layers above give."""
        for keys in (("enable",), ("disable",), self.policy("enable"), self.policy("disable")):
            seq = self._node(keys)
            if isinstance(seq, list) and cid in [str(v) for v in seq]:
                for i in reversed(range(len(seq))):
                    if str(seq[i]) == cid:
                        del seq[i]
                if not seq:
                    self.set(keys[:-1], keys[-1], None)
        if on != inherited_on:
            keys = self.policy("enable" if on else "disable")
            seq = self._node(keys)
            if isinstance(seq, list) and seq:
                seq.append(cid)
            else:
                self.set(keys[:-1], keys[-1], flow_list([cid]))


# ---- checking an edited layer --------------------------------------------------------------


@dataclass
class Checked:
    text: str  # the layer's new text
    report: Report  # problems of the load and of resolving
    project: Optional[Project] = None
    doc: object = None  # the resolved policy of the page, when it resolved
    messages: dict = field(default_factory=dict)  # field name -> [(severity, text)]
    general: list = field(default_factory=list)  # [(severity, text)] not about one field
    consultation: list = field(default_factory=list)  # [(action, id, field)] this layer's edits outside the slots

    @property
    def ok(self) -> bool:
        return not self.report.errors


def edited(project: Project, page: Page, form: dict) -> tuple:
    """(text of the layer with the form applied, names of the fields that changed). Raises
    FormError, and LayoutError when the file cannot be edited without reformatting it."""
    path = Path(project.root) / page.file
    layer = Layer(path.read_text(encoding="utf-8"), page.file)
    changed = apply_form(layer, project, page, form)
    return layer.text(), changed


def check(root: Path, page: Page, text: str, everything: bool = False, base: Optional[Project] = None) -> Checked:
    """Load the project with `text` as the page's layer and resolve the page's policy (with
    `everything`, every policy of the organisation and of those below it, as a save needs). For the
    preview, `base` (the project as loaded from disk) saves reading the other files again; a save
    reads them all."""
    report = Report()
    out = Checked(text=text, report=report)
    try:
        if everything or base is None:
            with in_memory({page.file: text}):
                project = load_project(root, report)
        else:
            project = reload_layer(base, page.file, text, report)
    except Failed:
        project = None
    out.project = project
    if project is not None and page.oid in project.organisations:
        todo = [(page.oid, page.pid)]
        if everything:
            below = [o for o in project.organisations if page.oid in {c.id for c in project.chain(o)}]
            todo = [(o, p) for o in sorted(below) for p in project.published(o)]
        for oid, pid in todo:
            if pid not in project.published(oid):
                continue
            try:
                doc = resolve(project, oid, pid, report)
            except Exception as exc:  # noqa: BLE001 - said on the page, never a traceback
                report.error(project.organisations[oid].loc, f"could not resolve {oid}/{pid}: "
                             f"{describe_exception(exc)}")
                continue
            if (oid, pid) == (page.oid, page.pid):
                out.doc = doc
    elif project is not None:
        report.error(project.organisations.get(page.oid).loc if page.oid in project.organisations else
                     _loc(page.file), "the organisation's id changed")
    _place(out, page)
    return out


def _loc(file: str):
    from ..errors import Loc
    return Loc(file)


def _place(out: Checked, page: Page) -> None:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        paths = line_paths(YAML().load(out.text))
    except YAMLError:
        paths = []
    fields = page.fields()
    for p in out.report.problems:
        text = p.message + (f" {p.hint}" if p.hint else "")
        name = field_of(p, page.file, paths)
        if name and name.startswith("optional:") and name not in fields:
            name = None
        if name in fields:
            out.messages.setdefault(name, []).append((p.severity, text))
        else:
            out.general.append((p.severity, f"{p.loc}: {text}"))
    if out.doc is not None:
        for layer, action, cid, loc in out.doc.consultation:
            if layer == page.oid:
                # the field of the clause itself (several ids may share the line of a `remove: [a, b]`)
                own = {"remove": "remove", "retitle": "retitle", "insert": "inserted", "replace": "replace"}.get(action)
                name = f"{own}:{cid}" if f"{own}:{cid}" in fields else \
                    field_of(_At(loc), page.file, paths) if loc else None
                out.consultation.append((action, cid, name if name in fields else None))


@dataclass
class _At:
    loc: object


# ---- saving --------------------------------------------------------------------------------


@dataclass
class Saved:
    changed: list
    committed: str = ""  # the commit's hash, when there is a repository
    note: str = ""  # why it was not committed, when it was not


def save(root: Path, page: Page, form: dict, seen_hash: str, editor: str, message: str) -> tuple:
    """(Saved, None) or (None, Checked with the problems). Raises Conflict, FormError, LayoutError."""
    root = Path(root)
    editor = clean_text(editor, MAX_NAME, "your name", False)
    message = clean_text(message, MAX_MESSAGE, "the note about the change", True)
    if not editor or re.search(r"[<>\n]", editor):
        raise FormError("Give your name (without < or >) so that the change can be recorded.")
    with SAVE_LOCK:
        path = root / page.file
        data = path.read_bytes()
        if file_hash(data) != seen_hash:
            raise Conflict(f"{page.file} was changed by someone else after you opened this page. Nothing was "
                           "saved. Copy your changes, reload the page to see theirs, and make your changes again.")
        project = load(root)
        text, changed = edited(project, page, form)
        if not changed or text == data.decode("utf-8"):
            return Saved(changed=[]), None
        checked = check(root, page, text, everything=True)
        if not checked.ok:
            return None, checked
        write_atomic(path, text.encode("utf-8"))
        result = Saved(changed=changed)
        if (root / ".git").exists():
            summary = message.split("\n")[0] if message else f"Edit {page.pid} in the web editor"
            body = f"{summary}\n\n{page.oid}: {', '.join(changed)}\n" + (f"\n{message}\n" if "\n" in message else "")
            result.committed, result.note = commit(root, page.file, editor, page.oid, body)
        return result, None


def commit(root: Path, rel: str, editor: str, oid: str, message: str) -> tuple:
    """Commit the one file `rel` with `editor` as the author: (hash, "") or ("", why not)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME=editor, GIT_AUTHOR_EMAIL=f"{oid}@policypack.invalid")
    named = subprocess.run(["git", "-C", str(root), "config", "user.email"], capture_output=True, env=env)
    if named.returncode != 0:  # no identity configured: the server commits in its own name
        env.update(GIT_COMMITTER_NAME="policypack serve", GIT_COMMITTER_EMAIL="serve@policypack.invalid")
    try:
        subprocess.run(["git", "-C", str(root), "add", "--", rel], check=True, capture_output=True, env=env,
                       timeout=60)
        subprocess.run(["git", "-C", str(root), "commit", "-q", "--no-verify", "-m", message, "--", rel],
                       check=True, capture_output=True, env=env, timeout=60)
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True, capture_output=True,
                              text=True, env=env, timeout=60)
        return head.stdout.strip(), ""
    except (subprocess.SubprocessError, OSError) as exc:
        err = getattr(exc, "stderr", b"") or b""
        why = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else [describe_exception(exc)]
        return "", "saved, but not committed: " + (why[0] if why else "git failed")


def valid_id(value: str) -> bool:
    return isinstance(value, str) and len(value) <= 64 and bool(ID_RE.match(value))


def valid_var(value: str) -> bool:
    return isinstance(value, str) and len(value) <= 64 and bool(VAR_RE.match(value))


__all__ = ["Checked", "Conflict", "Field", "FormError", "LayoutError", "Page", "Saved", "build_page", "check",
           "edited", "file_hash", "layer_file", "load", "save", "valid_id"]
