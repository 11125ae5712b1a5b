"""Incremental builds: a fingerprint per document and format, and where the last build kept them.

A document's fingerprint in one format is a SHA-256 over everything its bytes depend on:
- its resolved content (the `ResolvedPolicy`, walked field by field: the one contract);
- what the build date changes in it (its review status and notice), not the date itself;
- the files of every template folder it is rendered with, and its logo;
- the renderer: policypack's own source, the libraries that lay the formats out, and LibreOffice;
- the build options that reach the bytes: the format, and the sibling formats it links to.

The store is one small JSON file per document under `OUT/.policypack/built/<org>/<policy>.json`,
holding each format's fingerprint and the size of the file it produced. It is written after the
document's files, atomically, so an interrupted build can only leave a fingerprint older than its
files (and the document is rebuilt), never a newer one. A lock on `OUT/.policypack/lock` lets
one build at a time use an output folder: a second one waits. A changed system font or a
LibreOffice upgrade without a new binary is not seen: `build --force` rebuilds everything.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import hashlib
import json
import os
import shutil
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Callable

from .write import write_atomic

STORE = ".policypack"
# the libraries whose versions change the bytes of some format
LIBRARIES = ("jinja2", "markdown-it-py", "nh3", "tinycss2", "lxml", "weasyprint", "pydyf", "python-docx", "Pillow",
             "pypdf", "pikepdf")


def _feed(h, obj, seen: set) -> None:
    """Feed `obj` into the hash `h`, canonically: the same value always gives the same bytes,
    whatever the process, hash seed or object identities. A shared object is fed each time it
    appears (whether two places share one object depends on what a process has cached); `seen`
    holds the objects being fed, so a cycle is named rather than followed."""
    if obj is None or isinstance(obj, (bool, int, float, str, bytes)):
        h.update(repr(obj).encode("utf-8", "surrogatepass"))
        h.update(b"\0")
        return
    if isinstance(obj, (dt.date, dt.datetime, Path, enum.Enum)):
        h.update(f"{type(obj).__name__}:{obj}\0".encode())
        return
    key = id(obj)
    if key in seen:
        h.update(b"@cycle\0")
        return
    seen.add(key)
    try:
        _feed_collection(h, obj, seen)
    finally:
        seen.discard(key)


def _feed_collection(h, obj, seen: set) -> None:
    if dataclasses.is_dataclass(obj):
        h.update(f"{type(obj).__name__}(".encode())
        for f in dataclasses.fields(obj):
            h.update(f.name.encode() + b"=")
            _feed(h, getattr(obj, f.name), seen)
        h.update(b")")
    elif isinstance(obj, dict):
        h.update(b"{")
        for k, v in obj.items():
            _feed(h, k, seen)
            _feed(h, v, seen)
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[")
        for v in obj:
            _feed(h, v, seen)
        h.update(b"]")
    elif isinstance(obj, (set, frozenset)):
        h.update(b"<")
        for r in sorted(repr(v) for v in obj):
            h.update(r.encode() + b"\0")
        h.update(b">")
    else:  # nothing else belongs in a resolved document: fail loudly rather than hash an address
        raise TypeError(f"cannot fingerprint a {type(obj).__name__}")


def content(obj) -> str:
    h = hashlib.sha256()
    _feed(h, obj, set())
    return h.hexdigest()


@lru_cache(maxsize=None)
def renderer() -> str:
    """policypack's source, the versions of the libraries behind each format, and LibreOffice."""
    h = hashlib.sha256(sys.version.encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    for name in LIBRARIES:
        try:
            h.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=-\0".encode())
    office = os.environ.get("POLICYPACK_SOFFICE", shutil.which("soffice") or "")
    if office:
        try:
            real = Path(office).resolve()
            st = real.stat()
            h.update(f"{real}:{st.st_size}:{st.st_mtime_ns}".encode())
        except OSError:
            pass
    return h.hexdigest()


class Inputs:
    """Digests of the files documents are rendered with, each read once per build."""

    def __init__(self):
        self._folders: dict = {}
        self._files: dict = {}

    def folder(self, folder: Path) -> str:
        folder = Path(folder)
        if folder not in self._folders:
            h = hashlib.sha256()
            if folder.is_dir():
                for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                    h.update(path.relative_to(folder).as_posix().encode() + b"\0")
                    h.update(self.file(path).encode())
            self._folders[folder] = h.hexdigest()
        return self._folders[folder]

    def file(self, path) -> str:
        if path is None:
            return "-"
        path = Path(path)
        if path not in self._files:
            try:
                self._files[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                self._files[path] = "unreadable"
        return self._files[path]


def document(doc, ctx, folders: tuple, inputs: Inputs) -> Callable[[str], str]:
    """The fingerprint of `doc` rendered with `ctx` (its siblings included), as a function of the
    format. `folders`: the template folders it is rendered with."""
    h = hashlib.sha256(renderer().encode())
    h.update(content(doc).encode())
    front = doc.front
    if front is not None:  # all the build date changes in a document
        h.update(f"{front.status(ctx.as_of)}\0{front.notice(ctx.as_of, str)}\0".encode())
    for folder in folders:
        h.update(inputs.folder(folder).encode())
    h.update(inputs.file(doc.branding.logo).encode())
    h.update(json.dumps(ctx.siblings, sort_keys=True).encode())
    base = h.hexdigest()
    return lambda fmt: hashlib.sha256(f"{base}:{fmt}".encode()).hexdigest()


class RowCache:
    """Rows of the review schedule from the last build, by key (policypack.review); saving keeps
    only the rows used this time, so the cache never outgrows the schedule."""

    def __init__(self, path: Path):
        self.path = path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        self.rows = data if isinstance(data, dict) else {}
        self.used: dict = {}

    def get(self, key: str):
        row = self.rows.get(key)
        if isinstance(row, dict):
            self.used[key] = row
            return row
        return None

    def put(self, key: str, row: dict) -> None:
        self.used[key] = row

    def save(self) -> None:
        if self.used != self.rows:
            write_atomic(self.path, json.dumps(self.used, sort_keys=True, ensure_ascii=False).encode("utf-8"))


class Store:
    """The fingerprints of what an output folder holds."""

    def __init__(self, out: Path):
        self.folder = Path(out) / STORE

    def _path(self, oid: str, pid: str) -> Path:
        return self.folder / "built" / oid / f"{pid}.json"

    def recorded(self, oid: str, pid: str) -> dict:
        """{format: {"fingerprint": ..., "size": ...}} from the last build, or {} if unknown."""
        try:
            data = json.loads(self._path(oid, pid).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def fresh(entry, fingerprint: str, path: Path) -> bool:
        """The file at `path` is what a build with `fingerprint` wrote, and nobody has changed its size."""
        if not isinstance(entry, dict) or entry.get("fingerprint") != fingerprint:
            return False
        try:
            return path.stat().st_size == entry.get("size")
        except OSError:
            return False

    def record(self, oid: str, pid: str, entries: dict) -> None:
        """Record {format: (fingerprint, size)} for formats just written, keeping the others'."""
        data = self.recorded(oid, pid)
        data.update({fmt: {"fingerprint": fp, "size": size} for fmt, (fp, size) in entries.items()})
        write_atomic(self._path(oid, pid), json.dumps(data, sort_keys=True, indent=1).encode())

    def review_cache(self) -> RowCache:
        return RowCache(self.folder / "review.json")

    def forget(self, oid: str, pid: str) -> None:
        with contextlib.suppress(OSError):
            self._path(oid, pid).unlink()

    @contextlib.contextmanager
    def lock(self, waiting: Callable[[], None] = lambda: None):
        """Hold the output folder for one build; `waiting` is called if another build holds it."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock, as before
            yield
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                waiting()
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock
