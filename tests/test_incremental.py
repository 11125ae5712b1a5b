"""Incremental builds: an unchanged document is neither rendered nor written again, an edit
rebuilds only what it changes, and the record of what was built is safe to interrupt and share."""
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from click.testing import CliRunner

from policypack.cli import main
from policypack.fingerprint import Store

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
AS_OF = "2026-06-01"


def project(tmp_path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(MINI, root)
    return root


def build(root, out, *extra, formats="html"):
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out), "--format", formats,
                                       "--as-of", AS_OF, *extra])
    assert result.exit_code == 0, result.output
    m = re.search(r"built (\d+) of (\d+) documents \((\d+) files written\).*; (\d+) unchanged, 0 failed", result.output)
    assert m, result.output
    return tuple(int(g) for g in m.groups())  # built, asked, files written, unchanged


def state(out: Path) -> dict:
    """Each output file's bytes and identity (inode, modification time): a rewrite changes the latter."""
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
            for p in out.rglob("*") if p.is_file() and ".policypack" not in p.parts}


def test_an_unchanged_rebuild_renders_and_writes_nothing(tmp_path):
    root, out = project(tmp_path), tmp_path / "out"
    assert build(root, out, formats="html,docx")[:3] == (2, 2, 8)  # 2 documents x 2 formats, 2 packs, index, review
    before = state(out)
    assert build(root, out, formats="html,docx") == (0, 2, 0, 2)
    assert state(out) == before
    assert build(root, out, "--force", formats="html,docx")[:3] == (2, 2, 4)  # same bytes: the pages stay


def test_an_edit_to_one_school_rebuilds_that_school_alone(tmp_path):
    root, out = project(tmp_path), tmp_path / "out"
    build(root, out)
    before = state(out)
    school = root / "schools" / "demo-school.yaml"
    school.write_text(school.read_text().replace("Ask Mrs Example in the office.", "Ask Mr Sample at reception."))
    assert build(root, out) == (1, 2, 1, 1)
    after = state(out)
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {"demo-school/demo.html"}
    assert "Mr Sample" in (out / "demo-school" / "demo.html").read_text()


def test_a_template_the_document_uses_rebuilds_it(tmp_path):
    root, out = project(tmp_path), tmp_path / "out"
    shutil.copytree(ROOT / "templates", root / "templates")
    build(root, out)
    css = root / "templates" / "base" / "style.css"
    css.write_text(css.read_text() + "\n.policy-body { letter-spacing: 0.01em; }\n")
    assert build(root, out)[0] == 2


def test_a_missing_or_altered_output_is_built_again(tmp_path):
    root, out = project(tmp_path), tmp_path / "out"
    build(root, out, formats="html,docx")
    (out / "demo-la" / "demo.docx").unlink()
    with open(out / "demo-school" / "demo.html", "ab") as fh:
        fh.write(b"<!-- edited by hand -->")
    assert build(root, out, formats="html,docx")[:3] == (2, 2, 2)
    assert b"edited by hand" not in (out / "demo-school" / "demo.html").read_bytes()
    assert (out / "demo-la" / "demo.docx").exists()


def test_a_new_format_renders_only_that_format(tmp_path):
    root, out = project(tmp_path), tmp_path / "out"
    build(root, out, formats="docx")
    docx = state(out)["demo-la/demo.docx"]
    # the HTML is new; the DOCX links to nothing, so its fingerprint holds and it is not rewritten
    assert build(root, out, formats="html,docx")[:3] == (2, 2, 2 + 2)  # 2 HTML pages, 2 pack pages list them
    assert state(out)["demo-la/demo.docx"] == docx


def test_fingerprints_do_not_depend_on_the_process(tmp_path):
    """A second process, with another hash seed, finds every document unchanged."""
    root, out = project(tmp_path), tmp_path / "out"
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        run = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--root", str(root), "--out", str(out),
                              "--format", "html", "--as-of", AS_OF], capture_output=True, text=True, env=env, timeout=120)
        assert run.returncode == 0, run.stderr
    assert "built 0 of 2 documents" in run.stdout and "2 unchanged" in run.stdout


DIGEST = """
import datetime, sys
from policypack.errors import Report
from policypack.fingerprint import content
from policypack.load import load_project
from policypack.review import _RowKeys
project = load_project(sys.argv[1], Report())
keys = _RowKeys(project, datetime.date(2026, 11, 21), "unknown")
print(content((project.library, project.policies, project.organisations)))
print([keys.key(o, p, None) for o in sorted(project.organisations) for p in project.published(o)])
"""


def test_the_shipped_project_loads_to_the_same_digest_whatever_the_hash_seed():
    """What the loader builds is ordered by the sources, never by a set's iteration: otherwise a
    schedule row's key (and so its cache) changes from one process to the next. Porthaven's and
    Thornvale's policy fields once came out in set order."""
    seen = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        run = subprocess.run([sys.executable, "-c", DIGEST, str(ROOT)], capture_output=True, text=True, env=env,
                             timeout=120)
        assert run.returncode == 0, run.stderr
        seen.add(run.stdout)
    assert len(seen) == 1


def test_a_new_review_status_rebuilds_the_documents_that_show_it(tmp_path):
    """The build date reaches a document only through its review status and notice."""
    root, out = project(tmp_path), tmp_path / "out"
    build(root, out)
    before = state(out)
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out), "--format", "html",
                                       "--as-of", "2026-06-02"])
    # the day after: the overdue school's notice gives the date it was judged on; the council's
    # policy, not yet due, shows nothing that depends on the date
    assert "built 1 of 2 documents" in result.output, result.output
    assert state(out)["demo-la/demo.html"] == before["demo-la/demo.html"]
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out), "--format", "html",
                                       "--as-of", "2020-01-01"])
    assert "built 1 of 2 documents" in result.output, result.output  # long before: the school is not overdue
    assert "status on" not in (out / "demo-school" / "demo.html").read_text()
    assert state(out)["demo-la/demo.html"] == before["demo-la/demo.html"]


def test_a_second_build_into_the_same_folder_waits_for_the_first(tmp_path):
    root, out = project(tmp_path), tmp_path / "out"
    outputs = []
    with Store(out).lock():
        worker = threading.Thread(target=lambda: outputs.append(CliRunner().invoke(
            main, ["build", "--root", str(root), "--out", str(out), "--format", "html", "--as-of", AS_OF])))
        worker.start()
        time.sleep(1.5)
        assert worker.is_alive(), "the second build must wait while the folder is held"
        assert not (out / "demo-la" / "demo.html").exists()
    worker.join(60)
    assert outputs and outputs[0].exit_code == 0, outputs
    assert "waiting for another build" in outputs[0].output
    assert (out / "demo-la" / "demo.html").exists()


def test_a_failed_write_records_nothing_so_the_next_build_renders_again(tmp_path, monkeypatch):
    root, out = project(tmp_path), tmp_path / "out"
    import policypack.build as build_module

    def refuse(files):
        raise OSError(28, "No space left on device", str(next(iter(files))))
    monkeypatch.setattr(build_module, "write_together", refuse)
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out), "--format", "html",
                                       "--as-of", AS_OF])
    assert result.exit_code == 1 and "No space left" in result.output
    assert Store(out).recorded("demo-la", "demo") == {}
    monkeypatch.undo()
    assert build(root, out)[0] == 2


def test_the_review_schedule_reuses_its_rows_until_their_inputs_change(tmp_path, monkeypatch):
    """A rebuild neither resolves nor diffs for a schedule row whose organisation, model and date
    are unchanged; an edit to one organisation recomputes its rows alone."""
    import policypack.review as review

    root, out = project(tmp_path), tmp_path / "out"
    build(root, out)
    schedule = (out / "review.html").read_bytes()
    computed = []
    real = review.readable
    monkeypatch.setattr(review, "readable", lambda project, org, pid, *a: computed.append(org.id) or real(project, org, pid, *a))
    build(root, out)
    assert computed == [] and (out / "review.html").read_bytes() == schedule
    school = root / "schools" / "demo-school.yaml"
    school.write_text(school.read_text().replace("Ask Mrs Example in the office.", "Ask Mr Sample at reception."))
    build(root, out)
    assert computed == ["demo-school"]


def test_a_document_has_the_same_fingerprint_built_alone_or_with_the_rest(tmp_path):
    """What a process resolved before (and so cached and shares) must not change a fingerprint:
    after a build of every shipped organisation, building one school in a new process reuses it."""
    out = tmp_path / "out"
    for extra in ([], ["--school", "saltmarsh-infant-school"]):
        run = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--root", str(ROOT), "--out", str(out),
                              "--format", "html", "--as-of", "2026-11-21", *extra], capture_output=True, text=True,
                             timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert run.returncode == 0, run.stdout + run.stderr
    assert "built 0 of 2 documents" in run.stdout and "2 unchanged" in run.stdout, run.stdout
