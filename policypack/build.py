"""The build: resolve, render and write each organisation's documents, its pack page and the index.

Output layout: `OUT/<org>/<policy>.html|.pdf|.docx`, `OUT/<org>/index.html`, `OUT/index.html`.
A document whose resolution reports errors, or whose templates fail, is not written at all.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional

import jinja2

from .errors import Loc, Report
from .model import Branding, OrgInfo, Project
from .render import RenderContext, format_date
from .render.html import render_index, render_pack, render_review
from .resolve import resolve
from .review import review_rows
from .write import write_atomic

FORMATS = ("html", "pdf", "docx")
FORMAT_LABELS = {"html": "Web page", "pdf": "PDF", "docx": "Word"}
BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def template_dir(root: Path) -> Path:
    """The project's templates/, or policypack's own for a project that has none (e.g. a fixture)."""
    own = Path(root) / "templates"
    return own if (own / "base").is_dir() else BUILTIN_TEMPLATES


@dataclass
class Outcome:
    documents: int = 0
    files: int = 0
    failed: list = field(default_factory=list)  # "org/policy"


def build(project: Project, todo: list, writers: dict, out: Path, as_of: dt.date, report: Report,
          jobs: Optional[int] = None, step: Callable[[], None] = lambda: None) -> Outcome:
    """Build the (org, policy) pairs in `todo` with `writers` ({format: render function}), then the
    pack pages of their organisations, the index and the review schedule. Problems go into `report`.

    Documents are rendered by `jobs` worker processes (default: the CPUs, at most 8); files are
    written here, atomically, in the order of `todo`, so the output does not depend on `jobs`."""
    out = Path(out)
    ctx = RenderContext(as_of=as_of, project_root=Path(project.root).resolve(), template_dir=template_dir(project.root))
    outcome = Outcome()
    docs = {}  # (org, policy) -> ResolvedPolicy, or None when it failed
    jobs = min(jobs or os.cpu_count() or 1, 8, len(todo))
    tasks = [(oid, pid, _siblings(out / oid, pid, writers)) for oid, pid in todo]
    if jobs > 1:
        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(project, writers, ctx))
        results = pool.map(_render_task, tasks)
    else:
        pool = None
        _init_worker(project, writers, ctx)
        results = map(_render_task, tasks)
    try:
        for (oid, pid), (doc, doc_report, files) in zip(todo, results):
            report.extend(doc_report)
            if files is None:
                outcome.failed.append(f"{oid}/{pid}")
            else:
                for fmt, data in files.items():
                    write_atomic(out / oid / f"{pid}.{fmt}", data)
                outcome.documents += 1
                outcome.files += len(files)
            docs[oid, pid] = doc
            step()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    for oid in dict.fromkeys(oid for oid, _ in todo):
        _pack(project, oid, docs, out / oid, ctx)
        outcome.files += 1
    write_atomic(out / "review.html", render_review(review_rows(project, as_of, docs), ctx))
    write_atomic(out / "index.html", render_index(_tree(project, None, out), ctx, review_href="review.html"))
    outcome.files += 2
    return outcome


def _siblings(folder: Path, pid: str, writers: dict) -> dict:
    """The other formats a document links to: those built now, and those already on disk."""
    return {f: f"{pid}.{f}" for f in FORMATS if f != "html" and (f in writers or (folder / f"{pid}.{f}").exists())}


_WORKER: dict = {}


def _init_worker(project: Project, writers: dict, ctx: RenderContext) -> None:
    _WORKER.update(project=project, writers=writers, ctx=ctx)


def _render_task(task):
    """Resolve and render one document: (doc or None, its report, {format: bytes} or None)."""
    oid, pid, siblings = task
    project, writers, ctx = _WORKER["project"], _WORKER["writers"], _WORKER["ctx"]
    report = Report()
    doc = resolve(project, oid, pid, report)
    if report.errors:
        return None, report, None
    try:
        files = {fmt: render(doc, replace(ctx, siblings=siblings)) for fmt, render in writers.items()}
    except jinja2.TemplateError as exc:
        report.error(_template_loc(exc, ctx.project_root),
                     f"template error while building {oid}/{pid}: {exc.message or exc}",
                     "Fix the organisation's template override, or remove it to use the default.")
        return None, report, None
    return doc, report, files


def _template_loc(exc: jinja2.TemplateError, root: Path) -> Loc:
    """Where in which template the error is: syntax errors say so, runtime errors are in the traceback."""
    filename, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    if not filename:  # the innermost template frame
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename.endswith(".j2"):
                filename, line = frame.f_code.co_filename, lineno
    path = Path(filename or "templates")
    return Loc(str(path.relative_to(root)) if path.is_relative_to(root) else str(path), line or 0)


def _pack(project: Project, oid: str, docs: dict, folder: Path, ctx: RenderContext) -> None:
    """The organisation's pack page: every policy it publishes, built in this run or earlier."""
    org = project.organisations[oid]
    rows, branding = [], None
    for pid in project.published(oid):
        if (oid, pid) in docs:
            doc = docs[oid, pid]
        else:  # not asked for this time: list it as the files on disk show it
            quiet = Report()
            doc = resolve(project, oid, pid, quiet)
            doc = None if quiet.errors else doc
        if doc is None:
            policy = project.policies[pid]
            rows.append({"title": policy.title, "reference": policy.reference, "failed": True, "status": "unknown",
                         "last_reviewed": "", "next_review": "", "links": []})
            continue
        branding = branding or doc.branding
        rows.append({"title": doc.title, "reference": doc.reference, "failed": False,
                     "status": doc.review_status(ctx.as_of), "last_reviewed": format_date(doc.last_reviewed),
                     "next_review": format_date(doc.next_review),
                     "links": [(FORMAT_LABELS[f], f"{pid}.{f}") for f in FORMATS if (folder / f"{pid}.{f}").exists()]})
    info = OrgInfo(org.id, org.name, org.kind, [(o.id, o.name, o.kind) for o in project.chain(oid)])
    write_atomic(folder / "index.html", render_pack(info, rows, branding or Branding(), ctx))


def _tree(project: Project, parent, out: Path) -> list:
    return [{"name": o.name, "kind": o.kind.replace("-", " "),
             "href": f"{o.id}/index.html" if (out / o.id / "index.html").exists() else "",
             "children": _tree(project, o.id, out)}
            for o in project.children(parent)]
