"""The command line: `python build.py COMMAND` and `policypack COMMAND` are the same program.

Exit status: 0 clean, 1 problems found in the input (or a failed build), 2 bad usage.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import textwrap
import time
from pathlib import Path

import click

from .build import FORMATS, build as build_pack
from .errors import Failed, Report
from .load import load_project
from .resolve import resolve


def _root_default() -> Path:
    return Path.cwd()


def _print_report(report: Report, quiet_warnings: bool = False) -> None:
    for p in report.problems:
        if quiet_warnings and p.severity == "warning":
            continue
        click.echo(p.format(), err=True)


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
            raise click.BadParameter(f"no organisation '{s}'. {did_you_mean(s, project.organisations)}".strip(),
                                     param_hint="--school")
    for p in policies:
        if p not in project.policies:
            from .errors import did_you_mean
            raise click.BadParameter(f"no policy '{p}'. {did_you_mean(p, project.policies)}".strip(),
                                     param_hint="--policy")
    orgs = list(schools) or sorted(project.organisations)
    out = []
    for oid in orgs:
        for pid in project.published(oid):
            if not policies or pid in policies:
                out.append((oid, pid))
    return out


root_option = click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path),
                           default=_root_default, show_default="current folder",
                           help="The project folder (holding policy_src/ and schools/).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    for oid, pid in todo:
        resolve(project, oid, pid, report)
    from .versions import check_stale  # overrides the model changed since model_revision: warnings
    check_stale(project, todo, report)
    _print_report(report)
    if report.errors:
        click.echo(f"{len(report.errors)} problem(s), {len(report.warnings)} warning(s) in "
                   f"{len(todo)} policies.", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(project.organisations)} organisations, {len(project.policies)} policies, "
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
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return

    def show(parent, depth):
        for org in project.children(parent):
            pols = ", ".join(project.published(org.id))
            click.echo(f"{'  ' * depth}{org.id}  {org.name} ({org.kind})  [{pols}]")
            show(org.id, depth + 1)

    click.echo("Organisations:")
    show(None, 1)
    click.echo("Policies:")
    for p in sorted(project.policies.values(), key=lambda p: p.id):
        click.echo(f"  {p.id}  {p.title} ({p.reference}, {p.kind})")


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
    doc = resolve(project, school, policy, report)
    _print_report(report)
    rows = []
    for n in doc.walk():
        p = n.provenance
        rows.append({"number": n.label, "id": n.id, "kind": n.kind, "level": n.level, "title": n.title or "",
                     "layer": p.layer, "action": p.action, "source": str(p.loc) if p.loc else "",
                     "outside_slots": p.outside_slots, "slot": n.slot, "locked": n.locked, "variant": n.variant,
                     "variants": list(n.variants), "guidance": n.guidance or ""})
    if as_json:
        click.echo(json.dumps({"organisation": school, "policy": policy, "numbering": doc.numbering,
                               "title": doc.title, "outline": rows,
                               "consultation": [{"layer": l, "action": a, "id": i, "at": str(loc)}
                                                for l, a, i, loc in doc.consultation]},
                              indent=2, ensure_ascii=False))
    else:
        click.echo(f"{doc.title} for {doc.org.name} (numbering: {doc.numbering})")
        for r in rows:
            indent = "  " * (r["level"] - 1)
            flags = "".join(f" [{f}]" for f in ("slot", "locked") if r[f])
            if r["variant"]:
                flags += f" [variant: {r['variant']}]"
            if r["outside_slots"]:
                flags += " [changed outside slots]"
            title = r["title"] or ""
            click.echo(f"{indent}{r['number']:<10} {r['id']:<36} {title[:40]:<40} {r['layer']}{flags}")
            if guidance and (r["guidance"] or len(r["variants"]) > 1):
                note = " ".join(r["guidance"].split())
                if len(r["variants"]) > 1:
                    note = f"variants: {', '.join(r['variants'])}. {note}".strip()
                for line in textwrap.wrap(note, 96):
                    click.echo(f"{indent}{'':<11}| {line}")
        if doc.consultation:
            click.echo("\nChanges outside the customisable slots (consult again before adopting):")
            for layer, action, cid, loc in doc.consultation:
                click.echo(f"  {layer}: {action} {cid} ({loc})")
    sys.exit(1 if report.errors else 0)


def _formats(ctx, param, value):
    names = [n.strip().lower() for v in value for n in v.split(",") if n.strip()]
    for n in names:
        if n not in FORMATS:
            raise click.BadParameter(f"unknown format '{n}' (choose from {', '.join(FORMATS)})")
    return tuple(f for f in FORMATS if f in names) or FORMATS


def _as_of(ctx, param, value):
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date: write it as YYYY-MM-DD") from None


def _writers(formats) -> dict:
    from .render.docx import render_docx
    from .render.html import render_html
    from .render.pdf import render_pdf
    writers = {"html": render_html, "pdf": render_pdf, "docx": render_docx}
    return {f: writers[f] for f in writers if f in formats}


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
def build_cmd(root, schools, policies, formats, out, as_of, jobs):
    """Write each organisation's policies as HTML, PDF and DOCX, a pack page per organisation
    (OUT/<org>/index.html) and an index of all organisations (OUT/index.html)."""
    started = time.monotonic()
    project = load_or_exit(root)
    todo = pairs(project, schools, policies)
    if not todo:
        raise click.UsageError("nothing to build: no organisation asked for publishes the policies asked for")
    writers = _writers(formats)
    out = out if out is not None else root / "outputs"
    report = Report()
    if len(todo) > 3 and sys.stderr.isatty():
        with click.progressbar(length=len(todo), label="Building", file=sys.stderr) as bar:
            outcome = build_pack(project, todo, writers, out, as_of, report, jobs, step=lambda: bar.update(1))
    else:
        outcome = build_pack(project, todo, writers, out, as_of, report, jobs)
    _print_report(report)
    click.echo(f"built {outcome.documents} of {len(todo)} documents ({outcome.files} files) into {out} "
               f"in {time.monotonic() - started:.1f} s; {len(outcome.failed)} failed.")
    if outcome.failed:
        click.echo("not built, because of the problems above: " + ", ".join(outcome.failed), err=True)
        sys.exit(1)


from .cli_versions import diff, review  # noqa: E402

main.add_command(diff)
main.add_command(review)
