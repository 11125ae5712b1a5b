"""Issue 8, the build's side: no traceback whatever goes wrong, one broken document fails alone,
revisions stay inside the repository, writes are atomic per document, workers die with the build,
LibreOffice failures are reported, and nothing from the input can drive the terminal or a
spreadsheet. The exact messages are in tests/bad_inputs/cases/sec-build-*.yaml too."""
from __future__ import annotations

import datetime as dt
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from policypack import build as build_module
from policypack.cli import main
from policypack.errors import LayoutWarning, Loc, Problem, Report, json_safe, terminal_safe
from policypack.load import load_project
from policypack.render.html import render_html
from policypack.review import csv_cell, review_rows
from policypack.versions import RevisionRefused, load_at

REPO = Path(__file__).resolve().parent.parent
BASE = Path(__file__).parent / "bad_inputs" / "base"
AS_OF = dt.date(2025, 9, 1)
TODO = [("demo-la", "demo"), ("demo-school", "demo")]


@pytest.fixture
def root(tmp_path):
    shutil.copytree(BASE, tmp_path / "p")
    return tmp_path / "p"


def run(*args, code=None):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if code is not None:
        assert result.exit_code == code, result.output
    return result


def edit(root: Path, rel: str, find: str, replace: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert find in text
    path.write_text(text.replace(find, replace, 1), encoding="utf-8")


def temporaries(folder: Path) -> list:
    return sorted(p.name for p in folder.rglob("*.tmp"))


# ---- 1. no traceback: one document fails alone -----------------------------------------------------


def test_any_exception_in_one_document_fails_that_document_alone(root, tmp_path, monkeypatch):
    real = build_module.resolve

    def resolve(project, oid, pid, report):
        if oid == "demo-la":
            raise RecursionError("maximum recursion depth exceeded")
        return real(project, oid, pid, report)
    monkeypatch.setattr(build_module, "resolve", resolve)
    out = tmp_path / "out"
    r = run("build", "--root", root, "--format", "html", "--jobs", "1", "--out", out, "--as-of", "2025-09-01", code=1)
    assert ("schools/demo-la.yaml:2: error: could not build demo-la/demo: it is nested too deeply "
            "(Python's recursion limit was reached)") in r.output
    assert "not built, because of the problems above: demo-la/demo\n" in r.output
    assert (out / "demo-school" / "demo.html").is_file() and not (out / "demo-la" / "demo.html").exists()
    for page in ("index.html", "review.html", "demo-la/index.html", "demo-school/index.html"):
        assert (out / page).is_file(), page


def test_a_worker_that_dies_takes_only_its_own_document_down(root, tmp_path):
    """A crash that kills the worker process (here os._exit, in real life the OOM killer or a
    crash in a C library) breaks the pool; the documents in flight are built again one at a time."""
    report = Report()
    out = tmp_path / "out"
    outcome = build_module.build(load_project(root, Report()), TODO, {"html": render_html, "pdf": crashing_writer},
                                 out, AS_OF, report, jobs=2)
    assert outcome.failed == ["demo-la/demo"]
    assert [p.format() for p in report.errors] == [
        "schools/demo-la.yaml:2: error: could not build demo-la/demo: the process building it stopped unexpectedly "
        "(killed, out of memory, or a crash)\n    " + build_module.BUG_HINT]
    assert (out / "demo-school" / "demo.pdf").read_bytes() == b"%PDF-1.7 demo-school"
    assert (out / "index.html").is_file() and (out / "review.html").is_file()


def test_the_build_holds_only_a_few_rendered_documents_at_once(root, monkeypatch):
    """Documents are sent to the workers a few at a time ahead of the one awaited, so finished
    documents' bytes do not pile up in the build while it writes (its memory stays flat)."""
    from concurrent.futures import ProcessPoolExecutor

    from policypack.render import RenderContext
    from policypack.resolve import resolve

    project = load_project(root, Report())
    ctx = RenderContext(as_of=AS_OF, project_root=root, template_dir=build_module.template_dir(root))
    docs = {oid: resolve(project, oid, "demo", Report()) for oid in ("demo-la", "demo-school")}
    tasks = [(oid, "demo", {}, ("html",), project.organisations[oid].loc, docs[oid])
             for oid in ("demo-la", "demo-school") * 10]
    submitted = []
    real = ProcessPoolExecutor.submit
    monkeypatch.setattr(ProcessPoolExecutor, "submit", lambda self, *a: submitted.append(1) or real(self, *a))
    monkeypatch.setattr(build_module, "RENDER_AHEAD", 2)
    ahead = []
    for n, (report, files, _) in enumerate(build_module._results(list(tasks), 2, (ctx, {"html": render_html}, None))):
        assert files and not report.problems
        ahead.append(len(submitted) - n)
    assert len(submitted) == 20 and max(ahead) == 4  # 2 per worker, never more


def crashing_writer(doc, ctx):  # module level, so worker processes can unpickle it
    if doc.org.id == "demo-la":
        os._exit(7)
    return f"%PDF-1.7 {doc.org.id}".encode()


def test_review_rows_survive_an_organisation_that_does_not_resolve(root, monkeypatch):
    import policypack.review as review

    real = review.resolve

    def resolve(project, oid, pid, report):
        if oid == "demo-la":
            raise ValueError("9999-12-31 plus three years is not a date")
        return real(project, oid, pid, report)
    monkeypatch.setattr(review, "resolve", resolve)
    rows = {r["organisation"]: r for r in review_rows(load_project(root, Report()), AS_OF)}
    assert rows["demo-la"]["status"] == "unknown" and rows["demo-la"]["next_review"] == ""
    assert rows["demo-school"]["next_review"] == "2026-05-16"


def test_last_resort_handler_prints_one_line_and_exits_1(root, monkeypatch):
    import policypack.cli as cli

    def broken(*args, **kwargs):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")
    monkeypatch.setattr(cli, "load_project", broken)
    for command in ("check", "list", "build"):
        r = run(command, "--root", root, code=1)
        assert r.output == ("error: internal error: TypeError: unsupported operand type(s) for +: 'int' and 'str'\n"
                            f"    {cli.REPORT_BUG}\n")


# ---- 2. revisions --------------------------------------------------------------------------------


@pytest.mark.parametrize("rev, message", [
    ("v" * 5000, "Invalid value for --from: revision 'vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv...' is 5000 characters "
                 "long; a tag, branch or commit has at most 256"),
    ("v1\0--output=x", "Invalid value for --from: revision 'v1\\x00--output=x' has characters that no git revision holds"),
    ("-p", "Invalid value for --from: revision '-p' has a leading '-'"),
    ("HEAD:schools/demo-school.yaml", "revision 'HEAD:schools/demo-school.yaml' has characters that no git revision holds"),
])
def test_from_that_is_no_revision_is_a_usage_error(root, rev, message):
    r = run("diff", "--root", root, "--school", "demo-school", "--policy", "demo", "--from", rev, code=2)
    assert message in r.output


def test_revision_folders_must_be_inside_the_project(root, tmp_path):
    outside = tmp_path / "elsewhere"
    shutil.copytree(BASE, outside)
    with pytest.raises(RevisionRefused, match="is a folder outside the project"):
        load_at(str(outside), root)
    (root / "old").symlink_to(outside, target_is_directory=True)  # a link inside, pointing out
    with pytest.raises(RevisionRefused, match="is a folder outside the project"):
        load_at("old", root)
    inside = root / "copies" / "v1"
    shutil.copytree(BASE, inside)
    assert "demo-school" in load_at(str(inside), root).organisations
    assert "demo-school" in load_at("copies/v1", root).organisations  # relative to the project too
    with pytest.raises(RevisionRefused, match="characters that no git revision holds"):
        load_at("a\0b", root)


def test_model_revision_that_is_too_long_is_reported_where_it_is_written(root):
    edit(root, "schools/demo-school.yaml", "  numbering: decimal\n", f"  numbering: decimal\n  model_revision: {'x' * 300}\n")
    r = run("check", "--root", root, code=1)
    assert ("schools/demo-school.yaml:7: error: model_revision: revision 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' "
            "is 300 characters long; a tag, branch or commit has at most 256") in r.output


# ---- 3, 4. writing: failures, atomic documents, stale temporaries ----------------------------------


def fixed(tag: str):
    return {"html": lambda doc, ctx: f"<p>{tag} {doc.org.id}</p>".encode(),
            "pdf": lambda doc, ctx: f"%PDF {tag} {doc.org.id}".encode()}


def test_a_document_whose_pdf_cannot_be_written_keeps_all_its_old_files(root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    project = load_project(root, Report())
    assert not build_module.build(project, TODO, fixed("old"), out, AS_OF, Report(), jobs=1).failed
    real_fsync = os.fsync

    def fsync(fd):  # the disk fills up while the PDF is written
        if ".demo.pdf." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    report = Report()
    outcome = build_module.build(project, TODO, fixed("new"), out, AS_OF, report, jobs=1)
    assert outcome.failed == ["demo-la/demo", "demo-school/demo"]
    assert [p.format().splitlines()[0] for p in report.errors] == [
        f"{out}/demo-la/demo.pdf: error: could not write: No space left on device",
        f"{out}/demo-school/demo.pdf: error: could not write: No space left on device"]
    for oid in ("demo-la", "demo-school"):  # the HTML was not replaced: it and the PDF are the old pair
        assert (out / oid / "demo.html").read_bytes() == f"<p>old {oid}</p>".encode()
        assert (out / oid / "demo.pdf").read_bytes() == f"%PDF old {oid}".encode()
    assert temporaries(out) == []


def test_stale_temporaries_of_an_interrupted_build_are_removed(root, tmp_path):
    out = tmp_path / "out"
    (out / "demo-la").mkdir(parents=True)
    stale = [out / ".index.html.k2_x9qzt.tmp", out / "demo-la" / ".demo.pdf.abcd1234.tmp"]
    keep = [out / "notes.tmp", out / ".keep.tmp", out / "demo-la" / ".demo.pdf.ABCD1234.tmp"]
    for path in stale + keep:
        path.write_bytes(b"x")
    (out / "demo-la" / ".dir.abcdefgh.tmp").mkdir()  # not a file: left alone
    build_module.build(load_project(root, Report()), TODO, fixed("new"), out, AS_OF, Report(), jobs=1)
    assert [p for p in stale if p.exists()] == []
    assert [p for p in keep if not p.exists()] == []
    assert (out / "demo-la" / ".dir.abcdefgh.tmp").is_dir()


def test_unwritable_review_output_is_a_clear_error(root, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    r = run("review", "--root", root, "--format", "csv", "--out", tmp_path / "file" / "sub", code=1)
    assert r.output.startswith(f"{tmp_path}/file/sub: error: could not write: Not a directory\n")


@pytest.mark.parametrize("command", [["review"], ["diff", "--school", "demo-school", "--policy", "demo",
                                                  "--against-parent", "--format", "html"]])
def test_review_and_diff_refuse_an_out_among_the_sources(root, command):
    r = run(*command, "--root", root, "--out", root / "policy_src", code=2)
    assert "is inside the project's policy_src/ folder, which the output could overwrite" in r.output
    assert sorted(p.name for p in (root / "policy_src").iterdir()) == ["demo.yaml", "library"]


# ---- 5. workers die with their parent ----------------------------------------------------------------


def _processes() -> dict:
    """pid -> (parent pid, state, command line) for every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            found[int(entry.name)] = (int(stat[1]), stat[0], cmd)
    return found


def _living(pids) -> list:
    procs = _processes()
    return [p for p in pids if p in procs and procs[p][1] != "Z"]


@pytest.fixture
def slow_build(root, tmp_path):
    """A build with two workers, each stuck in a 'LibreOffice' that takes a minute."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc")
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nexec sleep 60\n")
    fake.chmod(0o755)
    env = {**os.environ, "POLICYPACK_SOFFICE": str(fake), "PYTHONPATH": str(REPO)}
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), "build", "--root", str(root), "--format", "docx",
                             "--jobs", "2", "--out", str(out)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        workers, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            procs = _processes()
            workers = [p for p, (ppid, _, cmd) in procs.items() if ppid == proc.pid and "spawn_main" in cmd]
            busy = [p for p, (ppid, _, cmd) in procs.items() if ppid in workers and "sleep" in cmd]
            if len(workers) == 2 and len(busy) == 2:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        else:
            pytest.fail("the workers did not start")
        yield proc, workers, out
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the fake LibreOffices, and anything a failure left
        except ProcessLookupError:
            pass
        proc.wait()


def _gone_within(pids, seconds: float) -> list:
    deadline = time.monotonic() + seconds
    while _living(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _living(pids)


def test_workers_die_when_the_build_is_killed(slow_build):
    proc, workers, _ = slow_build
    os.kill(proc.pid, signal.SIGKILL)
    assert _gone_within(workers, 5) == []
    started = time.monotonic()
    proc.communicate(timeout=10)  # nobody holds the build's stdout and stderr open any more
    assert time.monotonic() - started < 5


def test_sigterm_stops_the_build_and_its_workers_at_once(slow_build):
    proc, workers, out = slow_build
    os.kill(proc.pid, signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert b"Traceback" not in stderr
    assert _gone_within(workers, 5) == []
    assert not out.exists() or temporaries(out) == []


# ---- 6. LibreOffice failures are reported ------------------------------------------------------------


def test_libreoffice_failure_is_a_warning_in_the_report(root, tmp_path, monkeypatch):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\necho 'javaldx: Could not find a Java Runtime Environment!' >&2\n"
                    "echo 'Error: source file could not be loaded' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("POLICYPACK_SOFFICE", str(fake))
    out = tmp_path / "out"
    (out / "demo-school").mkdir(parents=True)
    (out / "demo-school" / "demo.docx").write_bytes(b"an earlier DOCX with page numbers")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = run("build", "--root", root, "--school", "demo-school", "--format", "docx", "--jobs", "1", "--out", out,
                code=0)
    assert not [w for w in caught if issubclass(w.category, LayoutWarning)]
    assert "UserWarning" not in r.output
    assert ("schools/demo-school.yaml:2: warning: LibreOffice could not lay out demo-school/demo.docx; its contents "
            "have no page numbers: soffice exited with status 1: Error: source file could not be loaded\n"
            "    The DOCX was written without them, replacing any earlier one") in r.output
    assert (out / "demo-school" / "demo.docx").read_bytes()[:2] == b"PK"


def test_a_missing_soffice_is_reported_too(root, tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYPACK_SOFFICE", str(tmp_path / "no-such-soffice"))
    r = run("build", "--root", root, "--school", "demo-school", "--format", "docx", "--jobs", "1",
            "--out", tmp_path / "out", code=0)
    assert (f"no page numbers: cannot run {tmp_path}/no-such-soffice: No such file or directory") in r.output


# ---- 7. output channels ------------------------------------------------------------------------------


@pytest.mark.parametrize("cell, written", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("2026-05-16", "2026-05-16"), ("a=b", "a=b"),
    (3, "3"), ("", ""),
])
def test_csv_cells_that_start_like_formulas_are_text(cell, written):
    assert csv_cell(cell) == written


def test_escape_sequences_from_yaml_cannot_reach_the_terminal(root):
    fake = "\\e[1A\\e[2K\\rok: 2 organisations, 1 policies, 2 resolved, 0 warning(s).\\e]0;pwned\\a"
    edit(root, "schools/demo-school.yaml", "  numbering: decimal\n", f'  numbering: decimal\n  "{fake}": 1\n')
    r = run("check", "--root", root, code=1)
    assert r.output.startswith("schools/demo-school.yaml:7: error: ")
    assert not any(c in r.output for c in "\x1b\r\x07")
    assert not any(line.startswith("ok:") for line in r.output.splitlines())


def test_terminal_safe_removes_every_control_but_newline():
    assert terminal_safe("a\x1b[31mred\x1b[0m\r\nb\x9b2Jc\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == "ared\nbclink"
    assert terminal_safe("tab\there\x00\x7f\u202edesrever") == "tab heredesrever"
    assert terminal_safe("lone \ud800 surrogate") == "lone \ufffd surrogate"
    problem = Problem(Loc("schools/\x1b[2Kx.yaml", 3), "bad key '\x1b[1A\rok'", "hint\x07")
    assert problem.format() == "schools/x.yaml:3: error: bad key 'ok'\n    hint"


def test_json_for_the_terminal_escapes_what_json_dumps_leaves_raw():
    data = {"name": "Demo\x9b2J \u202eSchool\x7f", "lone": "\udc80"}
    text = json_safe(json.dumps(data, ensure_ascii=False))
    assert terminal_safe(text) == text and text.isascii()
    assert json.loads(text) == data


def test_an_id_on_the_command_line_cannot_drive_the_terminal(root):
    r = run("check", "--root", root, "--school", "\x1b[2K\rdemo-school\x1b]0;x\x07", code=2)
    assert "no organisation '[2Kdemo-school'" not in r.output and "\x1b" not in r.output and "\r" not in r.output
    assert "no organisation 'demo-school'" in r.output
