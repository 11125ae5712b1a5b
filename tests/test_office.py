"""One running LibreOffice per worker lays the DOCX out: the same bytes as a cold `soffice` per
document, and no office or worker outlives a build, even one stopped with SIGTERM."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from policypack.render import office
from policypack.render.docx import soffice

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
HAS_UNO = subprocess.run(["/usr/bin/python3", "-c", "import uno"], capture_output=True).returncode == 0 \
    if os.access("/usr/bin/python3", os.X_OK) else False
if not (soffice() and (HAS_UNO or os.environ.get("CI"))):
    pytest.skip("needs LibreOffice and python3-uno (scripts/install-system-deps installs them)", allow_module_level=True)


def tagged(tag: str) -> list:
    """The processes (pid, command) whose environment carries `tag`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if f"POLICYPACK_TEST_TAG={tag}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                found.append((int(proc.name), (proc / "cmdline").read_bytes().replace(b"\0", b" ")[:80]))
        except OSError:
            continue
    return found


def build(out: Path, tag: str, *extra, env=()) -> subprocess.Popen:
    environ = {**os.environ, "POLICYPACK_TEST_TAG": tag, "PYTHONPATH": str(ROOT), **dict(env)}
    return subprocess.Popen([sys.executable, str(ROOT / "build.py"), "build", "--root", str(MINI), "--out", str(out),
                             "--format", "docx", "--as-of", "2026-06-01", *extra], env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def test_a_running_office_lays_out_the_same_bytes_as_a_cold_one_and_leaves_nothing(tmp_path):
    tag = uuid.uuid4().hex
    cold = build(tmp_path / "cold", tag, "--jobs", "1", env={office.PYTHON_ENV: ""})
    assert cold.wait(300) == 0, cold.stdout.read()
    warm = build(tmp_path / "warm", tag, "--jobs", "2")
    assert warm.wait(300) == 0, warm.stdout.read()
    for oid in ("demo-la", "demo-school"):
        assert (tmp_path / "warm" / oid / "demo.docx").read_bytes() == (tmp_path / "cold" / oid / "demo.docx").read_bytes()
    time.sleep(0.5)
    assert tagged(tag) == []
    assert not list(Path("/tmp").glob(f"policypack-office-{warm.pid}-*"))


def test_an_office_works_for_many_documents_in_one_process(tmp_path):
    """The second and third documents are laid out by the office the first one started."""
    from click.testing import CliRunner

    from policypack.cli import main
    from policypack.render.docx import convert_to_pdf, outline_pages

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--root", str(MINI), "--out", str(out), "--format", "docx"])
    assert result.exit_code == 0, result.output
    data = (out / "demo-la" / "demo.docx").read_bytes()
    pages = []
    try:
        for n in range(3):
            folder = tmp_path / f"n{n}"
            folder.mkdir()
            pages.append(outline_pages(convert_to_pdf(data, folder)))
        assert "office" in office._OFFICE, office._FAILED
        assert pages[0] == pages[1] == pages[2] and pages[0]
    finally:
        office.shutdown()


def test_the_docx_writer_starts_its_office_before_the_other_formats_render_and_builds_once(monkeypatch):
    """`prepare` starts LibreOffice without waiting for it (it starts while the PDF renders); the
    page numbers are then written into the document that was laid out, and the bytes are those
    of a document built afresh with those numbers."""
    import datetime as dt

    from policypack import build as build_module
    from policypack.errors import Report
    from policypack.load import load_project
    from policypack.render import RenderContext, WRITERS, prepare
    from policypack.render import docx as docx_module
    from policypack.resolve import resolve

    office.shutdown()
    try:
        prepare(WRITERS["docx"])
        running = office._OFFICE.get("office")
        assert running is not None and not running.ready and running.proc.poll() is None
        project = load_project(MINI, Report())
        doc = resolve(project, "demo-school", "demo", Report())
        ctx = RenderContext(as_of=dt.date(2026, 6, 1), project_root=MINI, template_dir=build_module.template_dir(MINI))
        built = []
        real = docx_module._Builder.build
        monkeypatch.setattr(docx_module._Builder, "build", lambda self: built.append(self.pages) or real(self))
        data = docx_module.render_docx(doc, ctx, page_numbers=True)
        assert office._OFFICE.get("office") is running and running.ready
        assert len(built) == 1 and set(built[0]) == {"0"}  # one build, with placeholders
        numbers = docx_module.heading_pages(data, strict=True)
        assert numbers and set(numbers) != {"0"}
        assert data == real(docx_module._Builder(doc, ctx, numbers))
    finally:
        office.shutdown()


def test_a_build_stopped_with_sigterm_leaves_no_office_or_worker(tmp_path):
    tag = uuid.uuid4().hex
    proc = build(tmp_path / "out", tag, "--jobs", "2", "--force")
    deadline = time.monotonic() + 120
    while not any(b"office_bridge" in cmd or b"soffice" in cmd for _, cmd in tagged(tag)):
        assert proc.poll() is None and time.monotonic() < deadline, "the build never started an office"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(60) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 10
    while tagged(tag) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert tagged(tag) == []
