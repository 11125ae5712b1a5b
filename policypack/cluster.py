"""Rendering documents on a Dask distributed cluster: `build --executor dask://HOST:PORT`.

The build stays where it is: this process loads, resolves and fingerprints every document, and
writes every file, exactly as a local build does. Only the renders (a resolved document in, its
formats' bytes out) go to the cluster's workers, so the outputs and the fingerprints are the same
bytes as a local build's.

What a worker needs: the same policypack and libraries as this process, and the project at the
same path (a shared or identical checkout), since templates and logos are read from it. Each
worker checks both before it renders, and a document whose worker differs fails with a message
saying how, rather than coming out different. A task whose worker is lost is rerun elsewhere by
the scheduler; a render that fails is a message on its document, like a local one.
"""
from __future__ import annotations

import re
from typing import Iterator

from .errors import Failed, Loc, Report

ADDRESS = re.compile(r"dask://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})")
CONNECT_TIMEOUT = "20s"
INSTALL_HINT = "Install Dask's distributed scheduler (pip install 'policypack[cluster]'), or build without --executor."


def parse(executor: str) -> str:
    """'dask://HOST:PORT' -> 'tcp://HOST:PORT' (ValueError with the reason otherwise)."""
    m = ADDRESS.fullmatch(executor)
    if not m or not 0 < int(m.group(2)) < 65536:
        raise ValueError(f"'{executor}' is not an executor: use 'local' or 'dask://HOST:PORT' (a Dask scheduler's address)")
    return f"tcp://{m.group(1)}:{m.group(2)}"


def results(address: str, tasks: list, setup: tuple, render, lost) -> Iterator[tuple]:
    """`render(task)`'s result for each task, in order, computed on the cluster at `address`.
    `setup` is what each render needs (the render context and the writers); `lost(task, exc)`
    stands for a result that could not be had."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise _failed(f"the Dask executor needs the 'distributed' package ({exc})", INSTALL_HINT) from None
    from . import fingerprint

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise _failed(f"could not reach the Dask scheduler at {address}: {exc}",
                      "Start a scheduler and workers there (`dask scheduler`, `dask worker ADDRESS`), or build "
                      "without --executor.") from None
    try:
        expected = (fingerprint.renderer(), _inputs(setup))
        futures = [client.submit(_remote, task, setup, expected, render, key=f"policypack-render-{n}-{task[0]}-{task[1]}",
                                 pure=False) for n, task in enumerate(tasks)]
        for task, future in zip(tasks, futures):
            try:
                yield future.result()
            except Exception as exc:  # noqa: BLE001 - a task the cluster could not finish
                yield lost(task, exc)
            finally:
                future.release()
    finally:
        client.close()


def _failed(message: str, hint: str) -> Failed:
    report = Report()
    report.error(Loc("--executor"), message, hint)
    return Failed(report)


def _inputs(setup: tuple) -> str:
    """A digest of the project's template folder as this machine sees it."""
    from . import fingerprint

    ctx = setup[0]
    return fingerprint.Inputs().folder(ctx.template_dir)


def _remote(task, setup: tuple, expected: tuple, render):
    """On a worker: check it renders as the build would, then render."""
    from . import build, fingerprint
    from .errors import Report

    here = (fingerprint.renderer(), _inputs(setup))
    if here != expected:
        what = "policypack or its libraries" if here[0] != expected[0] else "the project's templates"
        report = Report()
        report.error(task[4], f"could not build {task[0]}/{task[1]}: the Dask worker has different {what} than this "
                     "build, so its output would differ",
                     "Run the workers from the same installation and checkout as the build (same path).")
        return report, None, set()
    build._init_worker(*setup)
    return render(task)
