"""The command line: `python build.py COMMAND` and `policypack COMMAND` are the same program.

Exit status: 0 clean, 1 problems found in the input (or a failed build), 2 bad usage.
"""
from __future__ import annotations

import datetime as dt
import errno
import json
import sys
import textwrap
import time
from pathlib import Path

import click

from .build import FORMATS, build as build_pack
from .errors import Failed, Loc, Report, describe_exception, json_safe, terminal_safe
from .load import load_project
from .resolve import resolve


SOURCE_DIRS = ("policy_src", "schools", "templates", ".git")  # what an output folder may never be in
REPORT_BUG = "This is a fault in policypack, not in your files: please report it, with the command you ran."


def echo(message="", err: bool = False, nl: bool = True) -> None:
    """click.echo for anything that may hold text from the input: no control characters or escape
    sequences reach the terminal (errors.terminal_safe)."""
    click.echo(terminal_safe(message), err=err, nl=nl)


def echo_json(text: str, err: bool = False, nl: bool = True) -> None:
    echo(json_safe(text), err=err, nl=nl)


def _root_default() -> Path:
    return Path.cwd()


def _print_report(report: Report, quiet_warnings: bool = False) -> None:
    for p in report.problems:
        if quiet_warnings and p.severity == "warning":
            continue
        click.echo(p.format(), err=True)  # Problem.format strips control characters itself


def output_folder(out: Path, root: Path, param_hint: str = "--out") -> Path:
    """`out`, unless writing there could overwrite the project's sources: the project folder itself,
    a folder that holds it, or one inside policy_src/, schools/, templates/ or .git/ (usage error)."""
    try:
        real, top = Path(out).resolve(), Path(root).resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise click.BadParameter(f"'{terminal_safe(out)}' cannot be used: {describe_exception(exc)}",
                                 param_hint=param_hint) from None
    if real == top or top.is_relative_to(real):
        raise click.BadParameter(f"'{terminal_safe(out)}' holds the project's sources, which the output could "
                                 "overwrite; give a folder of its own, such as outputs/", param_hint=param_hint)
    for d in SOURCE_DIRS:
        if real.is_relative_to(top / d):
            raise click.BadParameter(f"'{terminal_safe(out)}' is inside the project's {d}/ folder, which the output "
                                     "could overwrite; give a folder of its own, such as outputs/",
                                     param_hint=param_hint)
    return out


def could_not_write(exc: OSError) -> None:
    """Report a failed write (`path: error: could not write: reason`) and exit 1."""
    from .build import WRITE_HINT
    path = exc.filename if exc.filename is not None else "output"
    report = Report()
    report.error(Loc(str(path)), f"could not write: {exc.strerror or describe_exception(exc)}", WRITE_HINT)
    _print_report(report)
    sys.exit(1)


def load_or_exit(root: Path):
    report = Report()
    try:
        project = load_project(root, report)
    except Failed as exc:
        _print_report(exc.report)
        click.echo(f"{len(exc.report.errors)} problem(s) found; nothing was built.", err=True)
        sys.exit(1)
    _print_report(report)
    return project


def pairs(project, schools=(), policies=()):
    """(org id, policy id) for every organisation and policy asked for; usage errors exit 2."""
    for s in schools:
        if s not in project.organisations:
            from .errors import did_you_mean
            raise click.BadParameter(f"no organisation '{terminal_safe(s)}'. "
                                     f"{did_you_mean(s, project.organisations)}".strip(),
                                     param_hint="--school")
    for p in policies:
        if p not in project.policy_ids():
            from .errors import did_you_mean
            raise click.BadParameter(f"no policy '{terminal_safe(p)}'. {did_you_mean(p, project.policy_ids())}".strip(),
                                     param_hint="--policy")
    orgs = list(schools) or sorted(project.organisations)
    out = []
    for oid in orgs:
        for pid in project.published(oid):
            if not policies or pid in policies:
                out.append((oid, pid))
    return out


def resolve_reporting(project, oid: str, pid: str, report: Report, what: str):
    """resolve(), with anything it raises reported on the organisation's file (None then)."""
    try:
        return resolve(project, oid, pid, report)
    except Exception as exc:  # noqa: BLE001 - one organisation's sources must not end the command
        from .build import BUG_HINT
        report.error(project.organisations[oid].loc, f"could not {what} {oid}/{pid}: {describe_exception(exc)}",
                     BUG_HINT)
        return None


CHECK_IN_PARALLEL_FROM = 40  # documents: below this, starting processes costs more than it saves
_CHECKING: dict = {}  # what forked checkers inherit: the loaded project


def _resolve_each(project, todo: list, report: Report) -> Report:
    for oid, pid in todo:
        resolve_reporting(project, oid, pid, report, "check")
    return report


def _check_some(todo: list) -> Report:  # in a forked checker
    return _resolve_each(_CHECKING["project"], todo, Report())


def resolve_all(project, todo: list, report: Report) -> None:
    """Resolve every (organisation, policy) in `todo` for `check`, reporting into `report` in
    `todo`'s order. Documents resolve independently, so with more than one core and enough of
    them, forked processes (which inherit the loaded project) share the work, an organisation's
    policies together. Should the processes fail, the work is done here instead."""
    import multiprocessing
    import os

    jobs = min(os.cpu_count() or 1, 8)
    if jobs > 1 and len(todo) >= CHECK_IN_PARALLEL_FROM and "fork" in multiprocessing.get_all_start_methods():
        from concurrent.futures import ProcessPoolExecutor

        groups: dict = {}
        for oid, pid in todo:
            groups.setdefault(oid, []).append((oid, pid))
        chunks, size = [[]], -(-len(todo) // (jobs * 4))
        for group in groups.values():
            if len(chunks[-1]) >= size:
                chunks.append([])
            chunks[-1].extend(group)
        _CHECKING["project"] = project
        try:
            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                found = list(pool.map(_check_some, chunks))
        except Exception:  # noqa: BLE001 - a process could not start or died: check here instead
            found = None
        finally:
            _CHECKING.clear()
        if found is not None:
            for part in found:
                report.extend(part)
            return
    _resolve_each(project, todo, report)


root_option = click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path),
                           default=_root_default, show_default="current folder",
                           help="The project folder (holding policy_src/ and schools/).")


class _Main(click.Group):
    """The command group, with a last-resort handler: whatever goes wrong, no command prints a
    Python traceback. Input problems are reported by the stages; anything that still escapes is a
    fault in policypack, said in one line, with exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # click's own handling: the reader went away
                raise
            _internal_error(exc)
        except Exception as exc:  # noqa: BLE001 - the last resort
            _internal_error(exc)


def _internal_error(exc: BaseException) -> None:
    try:
        click.echo(f"error: internal error: {describe_exception(exc)}\n    {REPORT_BUG}", err=True)
    except Exception:  # noqa: BLE001 - not even that could be printed
        pass
    sys.exit(1)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="policypack")
def main():
    """policypack: school HR policies as code.

    One model policy in YAML, organisation layers on top, and for each school its own policy
    in HTML, PDF and DOCX, with numbering, contents, tables of changes and review dates.
    """


@main.command()
@root_option
@click.option("--school", "schools", multiple=True, metavar="ID", help="Check only this organisation (repeatable).")
def check(root, schools):
    """Check the sources and every organisation's policies; report every problem."""
    project = load_or_exit(root)
    report = Report()
    todo = pairs(project, schools)
    resolve_all(project, todo, report)
    from .versions import check_stale  # overrides the model changed since model_revision: warnings
    check_stale(project, todo, report)
    from .render.html import check_templates  # template overrides render as build would render them
    check_templates(project, report, todo)
    _print_report(report)
    if report.errors:
        echo(f"{len(report.errors)} problem(s), {len(report.warnings)} warning(s) in "
             f"{len(todo)} policies.", err=True)
        sys.exit(1)
    echo(f"ok: {len(project.organisations)} organisations, {len(project.policies)} policies, "
         f"{len(todo)} resolved, {len(report.warnings)} warning(s).")


@main.command("list")
@root_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_cmd(root, as_json):
    """List the organisations as a tree, and the policies."""
    project = load_or_exit(root)
    if as_json:
        data = {
            "organisations": [
                {"id": o.id, "name": o.name, "kind": o.kind, "extends": o.extends, "policies": project.published(o.id)}
                for o in sorted(project.organisations.values(), key=lambda o: o.id)
            ],
            "policies": [{"id": p.id, "title": p.title} for p in sorted(project.policies.values(), key=lambda p: p.id)],
            "own_policies": [{"id": p.id, "title": p.title, "organisation": p.org} for p in _own_policies(project)],
        }
        echo_json(json.dumps(data, indent=2, ensure_ascii=False))
        return

    def show(parent, depth):
        for org in project.children(parent):
            pols = ", ".join(project.published(org.id))
            echo(f"{'  ' * depth}{org.id}  {org.name} ({org.kind})  [{pols}]")
            show(org.id, depth + 1)

    echo("Organisations:")
    show(None, 1)
    echo("Policies:")
    for p in sorted(project.policies.values(), key=lambda p: p.id):
        echo(f"  {p.id}  {p.title} ({p.reference}, {p.kind})")
    own = _own_policies(project)
    if own:
        echo("Organisations' own policies:")
    for p in own:
        echo(f"  {p.id}  {p.title} ({p.reference}, {p.kind}; of {p.org} and the organisations below it)")


def _own_policies(project) -> list:
    return [p for o in sorted(project.organisations.values(), key=lambda o: o.id)
            for _, p in sorted(o.own_policies.items())]


@main.command()
@root_option
@click.argument("school")
@click.argument("policy")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--guidance", is_flag=True, help="Also print the advisers' guidance notes and the variants on offer.")
def explain(root, school, policy, as_json, guidance):
    """Show SCHOOL's resolved outline of POLICY: number, id, title and the layer each text came from."""
    project = load_or_exit(root)
    pairs(project, [school], [policy])
    if policy not in project.published(school):
        raise click.BadParameter(f"'{school}' does not publish '{policy}' (it publishes: "
                                 f"{', '.join(project.published(school)) or 'nothing'})", param_hint="POLICY")
    report = Report()
    doc = resolve_reporting(project, school, policy, report, "explain")
    _print_report(report)
    if doc is None:
        sys.exit(1)
    rows = []
    for n in doc.walk_outline():
        p = n.provenance
        rows.append({"number": n.label, "id": n.id, "kind": n.kind, "level": n.level, "title": n.title or "",
                     "layer": p.layer, "action": p.action, "source": str(p.loc) if p.loc else "",
                     "outside_slots": p.outside_slots, "slot": n.slot, "locked": n.locked, "variant": n.variant,
                     "variants": list(n.variants), "guidance": n.guidance or "",
                     "moved_by": sorted({layer for layer, action, _ in p.edits if action == "move"})})
    moves = explain_moves(doc)
    if as_json:
        echo_json(json.dumps({"organisation": school, "policy": policy, "numbering": doc.numbering,
                               "title": doc.title, "outline": rows,
                               "consultation": [{"layer": l, "action": a, "id": i, "at": str(loc)}
                                                for l, a, i, loc in doc.consultation],
                               "moves": [{"layer": l, "id": i, "at": str(loc)} for l, i, loc in moves],
                               **_document_control(project, doc)},
                              indent=2, ensure_ascii=False))
    else:
        echo(f"{doc.title} for {doc.org.name} (numbering: {doc.numbering})")
        for r in rows:
            indent = "  " * max(r["level"] - 1, 0)
            flags = "".join(f" [{f}]" for f in ("slot", "locked") if r[f])
            if r["variant"]:
                flags += f" [variant: {r['variant']}]"
            if r["outside_slots"]:
                flags += " [changed outside slots]"
            if r["moved_by"]:
                flags += f" [moved by {', '.join(r['moved_by'])}]"
            title = r["title"] or ""
            echo(f"{indent}{r['number']:<10} {r['id']:<36} {title[:40]:<40} {r['layer']}{flags}")
            if guidance and (r["guidance"] or len(r["variants"]) > 1):
                note = " ".join(r["guidance"].split())
                if len(r["variants"]) > 1:
                    note = f"variants: {', '.join(r['variants'])}. {note}".strip()
                for line in textwrap.wrap(note, 96):
                    echo(f"{indent}{'':<11}| {line}")
        if doc.consultation:
            echo("\nChanges outside the customisable slots (consult again before adopting):")
            for layer, action, cid, loc in doc.consultation:
                echo(f"  {layer}: {action} {cid} ({loc})")
        if moves:
            echo("\nMoved (the words are unchanged, so a move needs no consultation):")
            for layer, cid, loc in moves:
                echo(f"  {layer}: move {cid} ({loc})")
        _print_document_control(_document_control(project, doc))
    sys.exit(1 if report.errors else 0)


def _document_control(project, doc) -> dict:
    """What `explain` shows about the numbering and the front matter, as plain data (for --json)."""
    from . import history, numbering
    from .model import blocks_text

    scheme = numbering.for_chain(doc.numbering, project.chain(doc.org.id)) or numbering.SCHEMES["decimal"]
    f = doc.front
    front = [{"group": "banner", "label": r.label, "value": r.text} for r in f.banner]
    front += [{"group": "summary", "label": "", "value": f.summary}] if f.summary else []
    front += [{"group": "statement", "label": "", "value": " ".join(blocks_text(f.statement).split())}] \
        if f.statement else []
    front += [{"group": group, "label": r.label, "value": r.text}
              for group, rows in (("adoption", f.adoption), ("details", f.details)) for r in rows]
    front += [{"group": "approvals", "label": stage, "value": ", ".join(v for v in (name, date) if v)}
              for stage, name, date in f.approvals]
    h = doc.history
    choice = history.options(project.chain(doc.org.id), doc.policy_id)
    if f.history:
        front.append({"group": "history", "label": f.history.caption,
                      "value": " | ".join(label for _, label in f.history.columns)})
    return {
        "numbering_scheme": {"name": doc.numbering, "set_by": doc.numbering_from,
                             "examples": [{"level": what, "label": label, "reference": ref}
                                          for what, label, ref in numbering.examples(scheme)]},
        "front_matter": front,
        "running": {"header": f.running_header, "footer": f.running_footer},
        "history": {"place": h.place, "place_set_by": choice["place"][1], "include": h.include,
                    "include_set_by": choice["include"][1], "entries_shown": len(h.rows),
                    "entries_left_out": h.left_out, "columns": [label for _, label in h.columns]},
    }


def _print_document_control(info: dict) -> None:
    n = info["numbering_scheme"]
    echo(f"\nNumbering: {n['name']} (set by {n['set_by']})")
    for e in n["examples"]:
        shown = e["label"] or "(no number)"
        echo(f"  {e['level']:<16} {shown:<14} a reference reads {e['reference']}")
    echo("\nFront matter, in order (the review notice depends on the date of the build):")
    for row in info["front_matter"]:
        text = f"{row['label']}: {row['value']}" if row["label"] else row["value"]
        echo(f"  {row['group']:<10} {textwrap.shorten(text, 100, placeholder=' ...')}")
    for key in ("header", "footer"):
        if info["running"][key]:
            echo(f"Running {key}: {info['running'][key]}")
    h = info["history"]
    echo(f"\nVersion history: place {h['place']} (set by {h['place_set_by']}), include {h['include']} "
         f"(set by {h['include_set_by']})")
    def entries(n: int) -> str:
        return f"{n} {'entry' if n == 1 else 'entries'}"

    left = f"; {entries(h['entries_left_out'])} of the layers above left out" if h["entries_left_out"] else ""
    echo(f"  {entries(h['entries_shown'])} shown{left}; columns: {', '.join(h['columns']) or '(none)'}")


def explain_moves(doc) -> list:
    """[(layer, id, Loc)] of every `move:` applied to the document's sections and clauses (they are
    in each node's provenance), root layer first, in the order written."""
    order = {oid: k for k, (oid, _, _) in enumerate(doc.org.lineage)}
    moves = [(layer, n.id, loc) for n in doc.walk() for layer, action, loc in n.provenance.edits if action == "move"]
    return sorted(moves, key=lambda m: (order.get(m[0], -1), m[2].line))


def _formats(ctx, param, value):
    names = [n.strip().lower() for v in value for n in v.split(",") if n.strip()]
    for n in names:
        if n not in FORMATS:
            raise click.BadParameter(f"unknown format '{n}' (choose from {', '.join(FORMATS)})")
    return tuple(f for f in FORMATS if f in names) or FORMATS


def _executor(ctx, param, value):
    if value == "local":
        return value
    from .cluster import parse
    try:
        parse(value)
    except ValueError as exc:
        raise click.BadParameter(terminal_safe(str(exc)))
    return value


def _as_of(ctx, param, value):
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date: write it as YYYY-MM-DD") from None


@main.command("build")
@root_option
@click.option("--school", "schools", multiple=True, metavar="ID", help="Build only this organisation (repeatable).")
@click.option("--policy", "policies", multiple=True, metavar="ID", help="Build only this policy (repeatable).")
@click.option("--format", "formats", multiple=True, callback=_formats, metavar="LIST",
              help="html, pdf, docx: repeatable or comma-separated. Default: all three.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder. Default: outputs/ in the project folder.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", callback=_as_of,
              help="The date review status is judged on. Default: today.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Documents rendered at once. Default: the number of CPUs (at most 8).")
@click.option("--force", is_flag=True,
              help="Render every document again, even those unchanged since the last build into this folder.")
@click.option("--executor", default="local", metavar="local|dask://HOST:PORT", callback=_executor,
              help="Where documents are rendered: worker processes here (default), or the workers of a Dask "
                   "scheduler (same installation and project path; files are still written here).")
def build_cmd(root, schools, policies, formats, out, as_of, jobs, force, executor):
    """Write each organisation's policies as HTML, PDF and DOCX, a pack page per organisation
    (OUT/<org>/index.html) and an index of all organisations (OUT/index.html)."""
    started = time.monotonic()
    project = load_or_exit(root)
    todo = pairs(project, schools, policies)
    if not todo:
        raise click.UsageError("nothing to build: no organisation asked for publishes the policies asked for")
    out = output_folder(out if out is not None else root / "outputs", root)
    report = Report()
    options = dict(jobs=jobs, force=force, executor=executor, waiting=lambda: echo(f"waiting for another build writing into {out} ...", err=True))
    try:
        if len(todo) > 3 and sys.stderr.isatty():
            with click.progressbar(length=len(todo), label="Building", file=sys.stderr) as bar:
                outcome = build_pack(project, todo, formats, out, as_of, report, step=lambda: bar.update(1), **options)
        else:
            outcome = build_pack(project, todo, formats, out, as_of, report, **options)
    except Failed as exc:
        _print_report(report)
        _print_report(exc.report)
        echo("nothing was built.", err=True)
        sys.exit(1)
    _print_report(report)
    echo(f"built {outcome.documents} of {len(todo)} documents ({outcome.files} files written) into {out} "
         f"in {time.monotonic() - started:.1f} s; {outcome.reused} unchanged, {len(outcome.failed)} failed.")
    if outcome.failed:
        echo("not built, because of the problems above: " + ", ".join(outcome.failed), err=True)
        sys.exit(1)


@main.command()
@root_option
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="The port to listen on.")
@click.option("--link", "link_org", metavar="ORG", help="Print a new link that lets organisation ORG edit its own "
              "layer, and exit.")
@click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True, help="How long a --link works.")
@click.option("--base-url", metavar="URL", help="The editor's public address, for --link (default: http://HOST:PORT).")
def serve(root, host, port, link_org, days, base_url):
    """Start the web editor on the project: each organisation customises its own layer in a page
    per policy, with a live preview; the adviser sees every organisation."""
    project = load_or_exit(root)
    try:
        from .web.app import link_command, serve as run
    except ImportError as exc:
        raise click.UsageError(f"the editor needs Starlette and uvicorn ({exc}): pip install -e .") from None
    try:  # both keep the links' secret in the project's .policypack/, made on first use
        if link_org is not None:
            pairs(project, [link_org])
            echo(link_command(root, link_org, days, base_url or f"http://{host}:{port}"))
            return
        run(root, host, port, echo)
    except OSError as exc:
        could_not_write(exc)


from .cli_versions import diff, review  # noqa: E402

main.add_command(diff)
main.add_command(review)

@main.command("import-docx")
@root_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--school", required=True, metavar="ID", help="The organisation the file was built for.")
@click.option("--policy", required=True, metavar="ID", help="The policy the file holds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--apply", "apply_", is_flag=True,
              help="Write the proposed operations into the organisation's file (kept only if check passes).")
def import_docx_cmd(root, file, school, policy, as_json, apply_):
    """Read FILE, the school's edited copy of a DOCX policypack built, and propose the edits as
    operations on the school's layer: fill, variables, variants, disable, insert, move, replace."""
    from . import importdocx

    project = load_or_exit(root)
    pairs(project, [school], [policy])
    if policy not in project.published(school):
        raise click.BadParameter(f"'{school}' does not publish '{policy}'", param_hint="--policy")
    try:
        result = importdocx.import_docx(root, file, school, policy)
    except importdocx.Refused as exc:
        echo(f"{file}: error: {exc}", err=True)
        sys.exit(1)
    except Failed as exc:
        _print_report(exc.report)
        sys.exit(1)
    if as_json:
        echo_json(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
    else:
        for line in importdocx.describe(result):
            echo(line)
    if result.refused:
        echo(f"{file}: error: {len(result.refused)} edit(s) cannot be made in the layer (see 'refused' above)",
             err=True)
    if apply_:
        try:
            path = importdocx.apply(root, result)
        except importdocx.ApplyError as exc:
            echo(f"{file}: error: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:
            could_not_write(exc)
        echo(f"written to {path}; check passes.", err=as_json)
    sys.exit(1 if result.refused else 0)


from .cli_schema import schema  # noqa: E402

main.add_command(schema)
