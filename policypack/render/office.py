"""One LibreOffice per process, kept running between documents, to lay DOCX files out.

A cold `soffice --convert-to pdf` with a fresh profile costs about 1.25 s a document; a running
office driven over UNO lays one out in a fraction of that. LibreOffice's Python bindings (`uno`)
belong to the system's Python, not necessarily to policypack's, so the office is driven by a small
bridge (office_bridge.py) run under a Python that has them: $POLICYPACK_UNO_PYTHON, else
/usr/bin/python3. If there is none, or the bridge fails, `convert` says so and the caller falls
back to one cold `soffice` per document, as before.

The bridge and its LibreOffice die with the process that started them (PR_SET_PDEATHSIG), and
are shut down at exit, so no office outlives a build, even a killed one.
"""
from __future__ import annotations

import atexit
import ctypes
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

BRIDGE = Path(__file__).with_name("office_bridge.py")
PYTHON_ENV = "POLICYPACK_UNO_PYTHON"
START_TIMEOUT = 90  # seconds for LibreOffice to start and accept the bridge
JOB_TIMEOUT = 120  # seconds for one document


class Unavailable(Exception):
    """No persistent office here; the message says why."""


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _python() -> Optional[str]:
    if PYTHON_ENV in os.environ:
        return os.environ[PYTHON_ENV] or None
    return "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else None


def _program(soffice: str) -> str:
    """soffice.bin beside the `soffice` launcher: started directly, it is our child and dies with
    the bridge, where the launcher would stand between them. Anything else (another layout, or a
    stand-in program) is laid out the cold way."""
    real = Path(shutil.which(soffice) or soffice).resolve()
    binary = real.with_name("soffice.bin")
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise Unavailable(f"no soffice.bin beside {real}")
    return str(binary)


class Office:
    def __init__(self, soffice: str):
        self.soffice = soffice
        program, python = _program(soffice), _python()
        if not python:
            raise Unavailable(f"no Python with LibreOffice's bindings (set {PYTHON_ENV})")
        _sweep()
        self.folder = tempfile.TemporaryDirectory(prefix=f"policypack-office-{os.getpid()}-")
        profile = Path(self.folder.name, "profile").as_uri()
        pipe = f"policypack-{os.getpid()}-{os.urandom(4).hex()}"
        self.proc = subprocess.Popen([python, str(BRIDGE), program, profile, pipe], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
                                     env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")})
        self.ready = False  # until it says so: started, it gets ready while the caller works on

    def wait_ready(self) -> None:
        if not self.ready:
            reply = self._reply(START_TIMEOUT)
            if not reply.get("ready"):
                raise Unavailable(reply.get("error", "the LibreOffice bridge did not start"))
            self.ready = True

    def _reply(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            raise Unavailable("LibreOffice stopped answering" if ready else f"LibreOffice took over {timeout} s")
        return json.loads(line)

    def convert(self, data: bytes, folder: Path) -> Path:
        src, dst = Path(folder) / "policy.docx", Path(folder) / "policy.pdf"
        src.write_bytes(data)
        self.proc.stdin.write(json.dumps({"src": str(src), "dst": str(dst)}).encode() + b"\n")
        self.proc.stdin.flush()
        reply = self._reply(JOB_TIMEOUT)
        if not reply.get("ok") or not dst.exists():
            raise Unavailable(reply.get("error", "LibreOffice wrote no PDF"))
        return dst

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(15)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.folder.cleanup()


def _sweep() -> None:
    """Remove the profiles of offices whose process was killed before it could clean up."""
    for folder in Path(tempfile.gettempdir()).glob("policypack-office-*-*"):
        try:
            pid = int(folder.name.split("-")[2])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, IndexError, OSError):
            continue


_OFFICE: dict = {}  # the running Office of this process, and the LibreOffice programs that failed, with why
_FAILED: dict = {}


def _running(soffice: str) -> "Office":
    """This process's office for `soffice`, started (not waited for) if it is not running."""
    if soffice in _FAILED:
        raise Unavailable(_FAILED[soffice])
    office = _OFFICE.get("office")
    if office is None or office.soffice != soffice or office.proc.poll() is not None:
        shutdown()
        try:
            office = _OFFICE["office"] = Office(soffice)
        except (Unavailable, OSError, ValueError) as exc:
            _FAILED[soffice] = str(exc)
            raise Unavailable(str(exc)) from None
        _at_exit()
    return office


def start(soffice: str) -> None:
    """Start this process's office now without waiting for it, so that LibreOffice starts (about a
    second) while the caller renders other formats. A problem is left for `convert` to report."""
    try:
        _running(soffice)
    except Unavailable:
        pass


def convert(data: bytes, folder: Path, soffice: str) -> Path:
    """Lay the DOCX `data` out as a PDF in `folder` with this process's running office, started on
    first use. Raises Unavailable (and does not try that program again in this process) when
    there is none."""
    office = _running(soffice)
    try:
        office.wait_ready()
    except (Unavailable, OSError, ValueError) as exc:
        _FAILED[soffice] = str(exc)
        shutdown()
        raise Unavailable(str(exc)) from None
    try:
        return office.convert(data, folder)
    except (Unavailable, OSError, ValueError):
        shutdown()  # a stuck or broken office: the next document starts a fresh one
        raise


def shutdown() -> None:
    office = _OFFICE.pop("office", None)
    if office is not None:
        office.close()


def _at_exit() -> None:
    """Shut the office down when this process ends: atexit in a main process, and multiprocessing's
    finalizers in a worker (which leaves by os._exit, skipping atexit)."""
    if not _OFFICE.get("registered"):
        import multiprocessing.util

        atexit.register(shutdown)
        multiprocessing.util.Finalize(None, shutdown, exitpriority=100)
        _OFFICE["registered"] = True
