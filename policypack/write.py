"""Stage 5, write: atomic, deterministic file output.

Every file is written under a temporary name in the same folder, flushed, and renamed over the
target, so a failed or interrupted build leaves the earlier output intact.
"""
from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def write_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


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
