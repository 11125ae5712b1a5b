"""Stage 5, write: atomic, deterministic file output.

Every file is written under a temporary name in the same folder, flushed, and renamed over the
target, so a failed or interrupted build leaves the earlier output intact. A document's files (its
HTML, PDF and DOCX) are staged together and renamed only when all are written, so they land
together or not at all; temporaries a killed build left behind are removed by the next one.
"""
from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
# our temporary names: tempfile.mkstemp(prefix=".<name>.", suffix=".tmp") adds 8 of [a-z0-9_]
TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def write_atomic(path: Path, data: bytes) -> None:
    """Write one file atomically (see `write_together`). Raises OSError; the old file is then intact."""
    write_together({Path(path): data})


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` atomically unless the file already holds exactly these bytes; True if written.
    Pages rebuilt with unchanged inputs are then not rewritten (and keep their times)."""
    try:
        with open(path, "rb") as fh:
            if fh.read(len(data) + 1) == data:
                return False
    except OSError:
        pass
    write_atomic(path, data)
    return True


def write_together(files: dict) -> None:
    """Write {path: bytes} so that they land together or not at all: every file is first written
    and flushed under a temporary name in its own folder, and only when all are written are they
    renamed over their targets. On any failure (disk full, no permission, an interrupt) the
    temporary files are removed, the old files are left as they were, and the error is raised."""
    staged = []  # (temporary, target)
    path = None
    try:
        for path, data in files.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
        while staged:
            tmp, path = staged[0]
            os.replace(tmp, path)
            staged.pop(0)
    except BaseException as exc:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if isinstance(exc, OSError) and path is not None and (
                exc.filename is None or TEMP_NAME.fullmatch(os.path.basename(str(exc.filename)))):
            # name the file that could not be written, not our temporary name for it
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise


def remove_stale_temporaries(folder: Path) -> list:
    """Remove the temporary files an interrupted build left in `folder` (only regular files named
    like ours, `.<name>.XXXXXXXX.tmp`; nothing else, no links, no subfolders). Returns their names."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        try:
            if TEMP_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:
            pass
    return sorted(removed)


def deterministic_zip(data: bytes) -> bytes:
    """Re-pack a zip package (a DOCX) with fixed timestamps, a stable entry order and fixed
    compression: python-docx stamps the current time on every entry."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(src.namelist(), key=lambda n: (n != "[Content_Types].xml", n != "_rels/.rels", n))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name), compresslevel=6)
    return out.getvalue()
