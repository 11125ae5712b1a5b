"""A build whose renders run on a Dask cluster (here a LocalCluster of worker processes) writes the
same bytes, fingerprints included, as a local build; failures stay per document."""
import functools
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from policypack import build as build_module
from policypack import cluster
from policypack.cli import main
from policypack.errors import Report
from policypack.load import load_project

distributed = pytest.importorskip("distributed", reason="pip install 'policypack[cluster]'") if not os.environ.get("CI") \
    else __import__("distributed")

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
AS_OF = "2026-06-01"


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as local:
        host, port = local.scheduler_address.removeprefix("tcp://").rsplit(":", 1)
        yield f"dask://{host}:{port}"


def files(out: Path) -> dict:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "lock"}


def test_a_cluster_build_is_byte_identical_to_a_local_one(scheduler, tmp_path):
    root = tmp_path / "p"
    shutil.copytree(MINI, root)
    outs = {}
    for executor in ("local", scheduler):
        out = outs[executor] = tmp_path / executor.replace(":", "_").replace("/", "")
        result = CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out), "--as-of", AS_OF,
                                           "--executor", executor])
        assert result.exit_code == 0, result.output
        assert "built 2 of 2 documents" in result.output
    local, remote = (files(o) for o in outs.values())
    assert any(name.startswith(".policypack/built/") for name in local), "fingerprints are compared too"
    assert any(name.endswith(".pdf") for name in local) and any(name.endswith(".docx") for name in local)
    assert local == remote


def crash_once(marker: Path, doc, ctx):
    """Kills its worker process the first time it renders demo-la, as a lost machine would."""
    if doc.org.id == "demo-la" and not marker.exists():
        marker.write_text("crashed")
        os._exit(3)
    return f"<p>{doc.org.id}</p>".encode()


def test_a_lost_workers_document_is_rendered_again_elsewhere(scheduler, tmp_path):
    marker = tmp_path / "crashed"
    report = Report()
    out = tmp_path / "out"
    outcome = build_module.build(load_project(MINI, Report()), [("demo-la", "demo"), ("demo-school", "demo")],
                                 {"html": functools.partial(crash_once, marker)}, out, __import__("datetime").date(2026, 6, 1), report,
                                 executor=scheduler)
    assert marker.exists(), [p.format() for p in report.problems]
    assert not outcome.failed and not report.errors, [p.format() for p in report.problems]
    assert (out / "demo-la" / "demo.html").read_bytes() == b"<p>demo-la</p>"


def test_a_worker_that_would_render_differently_fails_the_document_with_the_reason():
    project = load_project(MINI, Report())
    from policypack.render import RenderContext
    ctx = RenderContext(as_of=__import__("datetime").date(2026, 6, 1), project_root=MINI,
                        template_dir=build_module.template_dir(MINI))
    task = ("demo-la", "demo", {}, ("html",), project.organisations["demo-la"].loc, None)
    report, data, _ = cluster._remote(task, (ctx, {"html": "policypack.render.html:render_html"}, None),
                                      ("another policypack", "x"), build_module._render_task)
    assert data is None
    assert "the Dask worker has different policypack or its libraries than this build" in report.errors[0].format()


def test_executor_addresses_are_checked(tmp_path, monkeypatch):
    result = CliRunner().invoke(main, ["build", "--root", str(MINI), "--out", str(tmp_path / "o"),
                                       "--executor", "spark://somewhere"])
    assert result.exit_code == 2 and "use 'local' or 'dask://HOST:PORT'" in result.output
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "1s")
    result = CliRunner().invoke(main, ["build", "--root", str(MINI), "--out", str(tmp_path / "o"),
                                       "--executor", "dask://127.0.0.1:9"])
    assert result.exit_code == 1, result.output
    assert "--executor: error: could not reach the Dask scheduler at tcp://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output
