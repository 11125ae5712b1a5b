"""The build: resolve, render and write each organisation's documents, its pack page and the index.

Output layout: `OUT/<org>/<policy>.html|.pdf|.docx`, `OUT/<org>/index.html`, `OUT/index.html`,
and the fingerprints of what was built under `OUT/.policypack/` (policypack.fingerprint).
A document whose resolution reports errors, or whose templates fail, is not written at all.
A document whose fingerprint has not changed since the last build is not rendered again, and a
page whose bytes have not changed is not rewritten.
"""
from __future__ import annotations

import collections
import datetime as dt
import gc
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Optional

import jinja2

from . import fingerprint
from .errors import Failed, LayoutWarning, Loc, Report, describe_exception
from .model import Branding, OrgInfo, Project
from .render import WRITERS, RenderContext, format_date, prepare, writer
from .render.html import TEMPLATE_HINT, render_index, render_pack, render_review, template_loc, template_search
from .resolve import resolve
from .review import review_rows
from .write import remove_stale_temporaries, write_if_changed, write_together

FORMATS = tuple(WRITERS)  # the formats, in the order pages list them
FORMAT_LABELS = {"html": "Web page", "pdf": "PDF", "docx": "Word"}
BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
WRITE_HINT = "Check that the output folder can be written to and that the disk has room; the files already there are unchanged."
BUG_HINT = ("Fix the organisation's sources if the reason points at them; otherwise this is a fault in policypack: "
            "please report it with this message.")


def template_dir(root: Path) -> Path:
    """The project's templates/, or policypack's own for a project that has none (e.g. a fixture)."""
    own = Path(root) / "templates"
    return own if (own / "base").is_dir() else BUILTIN_TEMPLATES


@dataclass
class Outcome:
    documents: int = 0  # rendered and written
    reused: int = 0  # unchanged since the last build: neither rendered nor written
    files: int = 0  # files written (documents' formats, and pages whose bytes changed)
    failed: list = field(default_factory=list)  # "org/policy", "org/index.html", "index.html" ...


def build(project: Project, todo: list, formats, out: Path, as_of: dt.date, report: Report,
          jobs: Optional[int] = None, step: Callable[[], None] = lambda: None, force: bool = False,
          waiting: Callable[[], None] = lambda: None, executor: str = "local") -> Outcome:
    """Build the (org, policy) pairs in `todo` in `formats` (names in policypack.render.WRITERS,
    or {name: writer function}, which is always run: its code is not fingerprinted), then the pack
    pages of their organisations, the index and the review schedule. Problems go into `report`.

    Each document is resolved here and fingerprinted (policypack.fingerprint): a format whose
    fingerprint matches the one recorded for the file on disk is reused, unless `force`. The rest
    are rendered by `jobs` worker processes (default: the CPUs, at most 8); files are written
    here, in the order of `todo`, so the output does not depend on `jobs`. A document's files are
    written together or not at all, then its fingerprints. Whatever goes wrong with one document
    (its sources, its templates, a crashed worker, a failed write) fails that document alone, with
    a message in `report`; the others, the pack pages, the index and the review schedule are still
    written. One build at a time writes to `out`: another waits (`waiting` is called first).
    `executor`: "local" (worker processes here) or "dask://HOST:PORT" (policypack.cluster); the
    outputs are the same bytes either way. Raises Failed if the executor cannot be used or `out` cannot be written to."""
    out = Path(out)
    store = fingerprint.Store(out)
    try:
        store.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. below a file, or no permission: nothing can be built here
        problem = Report()
        problem.error(Loc(str(out)), f"could not write: {exc.strerror or describe_exception(exc)}", WRITE_HINT)
        raise Failed(problem) from None
    with _terminate_on_sigterm(), store.lock(waiting):
        return _build(project, todo, formats, out, as_of, report, jobs, step, force, store, executor)


def _build(project, todo, formats, out, as_of, report, jobs, step, force, store, executor) -> Outcome:
    writers = dict(formats) if isinstance(formats, dict) else {f: WRITERS[f] for f in formats}
    force = force or any(callable(w) for w in writers.values())
    formats = tuple(writers)
    ctx = RenderContext(as_of=as_of, project_root=Path(project.root).resolve(), template_dir=template_dir(project.root))
    outcome = Outcome()
    docs = {}  # (org, policy) -> its Brief (what the pages show), or None when it failed
    orgs = list(dict.fromkeys(oid for oid, _ in todo))
    for folder in [out, *(out / oid for oid in orgs)]:  # what an interrupted build left behind
        remove_stale_temporaries(folder)
    inputs = fingerprint.Inputs()
    tasks, prints = [], {}
    for oid, pid in todo:
        doc = docs[oid, pid] = _resolved(project, oid, pid, report, ctx)
        if doc is None:
            outcome.failed.append(f"{oid}/{pid}")
            store.forget(oid, pid)
            step()
            continue
        siblings = _siblings(out / oid, pid, formats)
        doc_ctx = replace(ctx, siblings=siblings)
        of = fingerprint.document(doc, doc_ctx, template_search(doc.branding, ctx), inputs)
        prints[oid, pid] = {fmt: of(fmt) for fmt in formats}
        recorded = {} if force else store.recorded(oid, pid)
        stale = [fmt for fmt in formats
                 if not store.fresh(recorded.get(fmt), prints[oid, pid][fmt], out / oid / f"{pid}.{fmt}")]
        docs[oid, pid] = doc.brief()
        # a worker here resolves the document again (in parallel, and this process keeps only its
        # brief); a cluster's worker is sent it
        keep = doc if executor != "local" else None
        if stale:
            tasks.append((oid, pid, siblings, tuple(stale), project.organisations[oid].loc, keep))
        else:
            outcome.reused += 1
            step()
    jobs = max(1, min(jobs or os.cpu_count() or 1, 8, len(tasks)))
    if executor == "local" or not tasks:
        results = _results(tasks, jobs, (ctx, writers, project))
    else:
        from . import cluster
        results = cluster.results(cluster.parse(executor), tasks, (ctx, writers, None), _render_task, _lost)
    try:
        for n, ((doc_report, files, provisional), task) in enumerate(zip(results, tasks)):  # results first: it ends
            oid, pid = task[:2]
            tasks[n] = None  # done with it: let its document go
            report.extend(doc_report)
            if files is not None and _write(report, {out / oid / f"{pid}.{fmt}": data
                                                     for fmt, data in files.items()}):
                outcome.documents += 1
                outcome.files += len(files)
                _record(report, store, oid, pid, {fmt: (prints[oid, pid][fmt], len(data)) for fmt, data in files.items()
                                                  if fmt not in provisional})
            else:
                outcome.failed.append(f"{oid}/{pid}")
                docs[oid, pid] = None
            step()
    finally:
        results.close()  # when interrupted: stops the workers
    pages = [(out / oid / "index.html", project.organisations[oid].loc, f"{oid}'s pack page",
              lambda oid=oid: _pack(project, oid, docs, out / oid, ctx)) for oid in orgs]
    rows = store.review_cache()
    pages += [(out / "review.html", Loc("templates"), "review.html",
               lambda: render_review(review_rows(project, as_of, docs, rows), ctx)),
              (out / "index.html", Loc("templates"), "index.html",
               lambda: render_index(_tree(project, None, out), ctx, review_href="review.html"))]
    for path, loc, what, page in pages:
        written = []
        if _guarded(report, loc, what, lambda: written.append(write_if_changed(path, page())), ctx.project_root):
            outcome.files += sum(written)
        else:
            outcome.failed.append(path.relative_to(out).as_posix())
    try:
        rows.save()
    except OSError:  # only a cache: the next build computes the rows again
        pass
    return outcome


def _resolved(project: Project, oid: str, pid: str, report: Report, ctx: RenderContext):
    """The resolved document, or None when it has errors (they are in `report`)."""
    doc_report = Report()
    try:
        doc = resolve(project, oid, pid, doc_report)
    except Exception as exc:  # noqa: BLE001 - any input may fail this document, never the build
        _report_failure(doc_report, exc, project.organisations[oid].loc, f"{oid}/{pid}", ctx.project_root)
        doc = None
    report.extend(doc_report)
    return None if doc_report.errors else doc


def _record(report: Report, store, oid: str, pid: str, entries: dict) -> None:
    """Record the fingerprints of files just written; if that fails they are built again next time."""
    try:
        store.record(oid, pid, entries)
    except OSError as exc:
        report.warning(Loc(str(exc.filename or store.folder)), f"could not record what was built: {exc.strerror or exc}",
                       "The documents are written; the next build renders them again. " + WRITE_HINT)


def _write(report: Report, files: dict) -> bool:
    """Write one document's files together; a failure is reported on the file that could not be written."""
    try:
        write_together(files)
        return True
    except OSError as exc:
        report.error(Loc(str(exc.filename or next(iter(files)))), f"could not write: {exc.strerror or exc}", WRITE_HINT)
        return False


def _guarded(report: Report, loc: Loc, what: str, action: Callable[[], object], root: Path) -> bool:
    """Run `action` (write a pack page, the index or the review schedule); a failure is a message."""
    try:
        action()
        return True
    except Exception as exc:  # noqa: BLE001 - one page's failure must not stop the others
        _report_failure(report, exc, loc, what, root)
        return False


def _report_failure(report: Report, exc: Exception, loc: Loc, what: str, root: Path) -> None:
    """One failure as one message: on the file that could not be written, on the template line
    that failed, or else on `loc` (the organisation's file) as a fault to fix or report."""
    if isinstance(exc, OSError) and exc.filename is not None:
        report.error(Loc(str(exc.filename)), f"could not write: {exc.strerror or exc}", WRITE_HINT)
        return
    where = template_loc(exc, root, default=None)
    if where is not None or isinstance(exc, jinja2.TemplateError):
        report.error(where or loc, f"template error while building {what}: {describe_exception(exc)}", TEMPLATE_HINT)
    else:
        report.error(loc, f"could not build {what}: {describe_exception(exc)}", BUG_HINT)


def _siblings(folder: Path, pid: str, formats) -> dict:
    """The other formats a document links to: those built now, and those already on disk."""
    return {f: f"{pid}.{f}" for f in FORMATS if f != "html" and (f in formats or (folder / f"{pid}.{f}").exists())}


# ---- rendering, in worker processes ----------------------------------------------------------
_WORKER: dict = {}
RENDER_AHEAD = 4  # documents sent to each worker ahead of the one the build awaits
WATCH_PARENT_EVERY = 0.5  # seconds between a worker's checks that the build that started it still runs


def _init_worker(ctx: RenderContext, writers: dict, project: Optional[Project] = None,
                 parent: Optional[int] = None) -> None:
    """Set up a process that renders documents. In a worker (`parent` given) also make sure it dies
    with the build: on Linux the kernel kills it when its parent goes (PR_SET_PDEATHSIG), and
    everywhere a daemon thread exits it when its parent process is no longer the build."""
    _WORKER.update(ctx=ctx, writers=writers, project=project)
    if parent is None:
        return
    # a render allocates many short-lived objects and few cycles: collect far less often, and
    # never scan the modules loaded so far (the PDF writer takes 0.90x as long: benchmarks/README.md)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C reaches the whole process group: the build stops us
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the build was gone before the line above took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(WATCH_PARENT_EVERY)
            if os.getppid() != parent:
                os._exit(1)
    threading.Thread(target=watch, name="policypack-watch-parent", daemon=True).start()


def _render_task(task):
    """Render one resolved document in the formats asked: (its report, {format: bytes} or None,
    the formats not to fingerprint because they came out incomplete). Never raises: whatever goes
    wrong is a message on this document. Each writer is imported when first asked for."""
    oid, pid, siblings, formats, loc, doc = task
    report, provisional = Report(), set()
    ctx = replace(_WORKER["ctx"], siblings=siblings)
    try:
        if doc is None:  # resolved again: the build has reported its problems already
            again = Report()
            doc = resolve(_WORKER["project"], oid, pid, again)
            if again.errors:
                raise RuntimeError("it no longer resolves: " + again.errors[0].message)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LayoutWarning)
            files = {}
            for fmt in formats:
                prepare(_WORKER["writers"][fmt])
            for fmt in formats:
                files[fmt] = writer(_WORKER["writers"][fmt])(doc, ctx)
                if any(issubclass(w.category, LayoutWarning) for w in caught):
                    provisional.add(fmt)
    except Exception as exc:  # noqa: BLE001 - any input may fail this document, never the build
        _report_failure(report, exc, loc, f"{oid}/{pid}", ctx.project_root)
        return report, None, provisional
    for w in caught:
        if issubclass(w.category, LayoutWarning):
            report.warning(loc, f"LibreOffice could not lay out {oid}/{pid}.docx; its contents have "
                           f"no page numbers: {w.message}",
                           "The DOCX was written without them, replacing any earlier one (Word fills them in when "
                           "its contents are updated). Check that LibreOffice (soffice) runs here, then build again.")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return report, files, provisional


def _results(tasks: list, jobs: int, setup: tuple) -> Iterator[tuple]:
    """_render_task's result for each task, in order: here when `jobs` is 1, else in worker processes.
    When a worker dies (killed, out of memory, a crash in a library) the documents it took down
    with it are built again one at a time, each in a fresh worker, so only the culprit fails."""
    _init_worker(*setup)
    if jobs == 1:
        yield from map(_render_task, tasks)
        return
    pool = _pool(jobs, setup)
    # a few documents ahead of the one awaited keep the workers busy; more would only hold finished
    # documents' bytes here until their turn (the build's memory would grow with the pack)
    window, pending, upcoming = RENDER_AHEAD * jobs, collections.deque(), iter(tasks)
    try:
        isolated = False
        for task in tasks:
            if not isolated:
                pending.extend(pool.submit(_render_task, t) for t in itertools.islice(upcoming, window - len(pending)))
            try:
                if not pending:  # after a crash, the documents not yet sent are built alone
                    raise BrokenProcessPool
                future = pending.popleft()
                if isolated and not _succeeded(future):
                    raise BrokenProcessPool
                yield future.result()
                continue
            except BrokenProcessPool:
                if not isolated:
                    isolated = True
                    _stop(pool)
                    pool = _pool(1, setup)
            except Exception as exc:  # noqa: BLE001 - e.g. a result that could not be sent back
                yield _lost(task, exc)
                continue
            try:  # again, alone
                yield pool.submit(_render_task, task).result()
            except BrokenProcessPool as exc:
                _stop(pool)
                pool = _pool(1, setup)
                yield _lost(task, exc)
            except Exception as exc:  # noqa: BLE001
                yield _lost(task, exc)
    except BaseException:  # SIGTERM, ^C: stop the workers now rather than let them finish
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _pool(jobs: int, setup: tuple) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(*setup, os.getpid()))


def _succeeded(future) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


def _stop(pool: ProcessPoolExecutor) -> None:
    """Shut the pool down without waiting for the documents being rendered."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.kill()
        except (OSError, ValueError, AttributeError):
            pass
    for process in processes:
        try:
            process.join(5)
        except (OSError, ValueError, AssertionError, AttributeError):
            pass


def _lost(task, exc: BaseException):
    oid, pid, loc = task[0], task[1], task[4]
    report = Report()
    reason = ("the process building it stopped unexpectedly (killed, out of memory, or a crash)"
              if isinstance(exc, BrokenProcessPool) else describe_exception(exc))
    report.error(loc, f"could not build {oid}/{pid}: {reason}", BUG_HINT)
    return report, None, set()


class _terminate_on_sigterm:
    """While building, SIGTERM exits like ^C does: workers are stopped at once and no temporary file
    is left (the default action would kill this process and leave them running). Main thread only."""

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._exit)
        return self

    @staticmethod
    def _exit(signum, frame):
        raise SystemExit(128 + signum)

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


def _pack(project: Project, oid: str, docs: dict, folder: Path, ctx: RenderContext) -> bytes:
    """The organisation's pack page: every policy it publishes, built in this run or earlier."""
    org = project.organisations[oid]
    rows, branding = [], None
    for pid in project.published(oid):
        if (oid, pid) in docs:
            doc = docs[oid, pid]
        else:  # not asked for this time: list it as the files on disk show it
            quiet = Report()
            try:
                doc = resolve(project, oid, pid, quiet)
            except Exception:  # noqa: BLE001 - listed as failed; `check` or building it says why
                doc = None
            doc = None if quiet.errors else doc
        if doc is None:
            policy = project.policy(oid, pid)
            rows.append({"title": policy.title, "reference": policy.reference, "failed": True, "status": "unknown",
                         "last_reviewed": "", "next_review": "", "links": []})
            continue
        branding = branding or doc.branding
        rows.append({"title": doc.title, "reference": doc.reference, "failed": False,
                     "status": doc.review_status(ctx.as_of), "last_reviewed": format_date(doc.last_reviewed),
                     "next_review": format_date(doc.next_review),
                     "links": [(FORMAT_LABELS[f], f"{pid}.{f}") for f in FORMATS if (folder / f"{pid}.{f}").exists()]})
    info = OrgInfo(org.id, org.name, org.kind, [(o.id, o.name, o.kind) for o in project.chain(oid)])
    return render_pack(info, rows, branding or Branding(), ctx)


def _tree(project: Project, parent, out: Path) -> list:
    return [{"name": o.name, "kind": o.kind.replace("-", " "),
             "href": f"{o.id}/index.html" if (out / o.id / "index.html").exists() else "",
             "children": _tree(project, o.id, out)}
            for o in project.children(parent)]
