"""The `diff` and `review` commands: versions between reviews (see docs/review-cycle.md)."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from .cli import _print_report, could_not_write, resolve_reporting, echo, echo_json, load_or_exit, output_folder, root_option
from .diff import diff_policies
from .errors import Failed, Report, did_you_mean
from .redline import Redline, render_entry, render_html, render_json, render_text
from .build import template_dir
from .render import RenderContext
from .render.html import render_review
from .review import review_csv, review_rows, review_table
from .versions import (RecordError, RevisionError, RevisionRefused, inherited, label, load_at, record_change,
                       revision_loc, stale_texts)
from .write import write_atomic, write_together

DIFF_FORMATS = ("text", "html", "docx", "json")
REVIEW_FORMATS = ("table", "csv", "html", "json")


def _formats(values, allowed) -> list:
    out = []
    for v in values:
        for f in filter(None, (x.strip() for x in v.split(","))):
            if f not in allowed:
                hint = " ".join(x for x in (did_you_mean(f, allowed), f"Use: {', '.join(allowed)}.") if x)
                raise click.BadParameter(f"unknown format '{f}'. {hint}", param_hint="--format")
            if f not in out:
                out.append(f)
    return out


def _usage(message: str) -> None:
    echo(f"Error: {message}", err=True)
    sys.exit(2)


def _load(rev, root: Path, option: str = "--from"):
    """The project at `rev` (None: the working tree); a bad revision exits 2, invalid sources 1."""
    if rev is None:
        return load_or_exit(root)
    try:
        return load_at(rev, root)
    except RevisionError as exc:
        _usage(f"Invalid value for {option}: {exc}")
    except Failed as exc:
        _print_report(exc.report)
        echo(f"the sources at '{rev}' have {len(exc.report.errors)} problem(s), so they cannot be compared.",
                   err=True)
        sys.exit(1)


def _resolve(project, school: str, policy: str, rev) -> object:
    if school not in project.organisations:
        _usage(f"there is no organisation '{school}' in the {label(rev)}. "
               f"{did_you_mean(school, project.organisations)}".strip())
    if policy not in project.published(school):
        _usage(f"'{school}' does not publish '{policy}' in the {label(rev)} (it publishes: "
               f"{', '.join(project.published(school)) or 'nothing'})")
    report = Report()
    doc = resolve_reporting(project, school, policy, report, "compare")
    if report.errors or doc is None:
        _print_report(report)
        echo(f"{school}'s {policy} does not resolve in the {label(rev)}; fix that first.", err=True)
        sys.exit(1)
    return doc


@click.command()
@root_option
@click.option("--school", required=True, metavar="ID", help="The organisation whose policy to compare.")
@click.option("--policy", required=True, metavar="ID", help="The policy to compare.")
@click.option("--from", "rev_from", metavar="REV", help="Old version: a git tag, branch or commit, or a folder "
              "holding another copy of the sources.")
@click.option("--to", "rev_to", metavar="REV", help="New version (default: the working tree).")
@click.option("--format", "formats", multiple=True, default=("text",), show_default=True,
              help="text, html, docx, json: repeat or separate with commas.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for html/docx (default outputs/); json goes there too instead of to the screen.")
@click.option("--record", metavar="SUMMARY", help="Add the proposed entry, with this summary, to the "
              "organisation's table of changes in schools/<school>.yaml.")
@click.option("--against-parent", is_flag=True, help="Compare with what the parents and the model give the "
              "organisation, listing its own changes and those that need consultation.")
def diff(root, school, policy, rev_from, rev_to, formats, out, record, against_parent):
    """Compare two versions of an organisation's policy clause by clause; propose a table-of-changes entry."""
    formats = _formats(formats, DIFF_FORMATS)
    if not against_parent and not rev_from:
        raise click.UsageError("give --from REV (or --against-parent)")
    if record and rev_to is not None:
        raise click.UsageError("--record writes to the working tree, so it cannot be used with --to")
    if out is not None:
        output_folder(out, root)
    new_project = _load(rev_to, root, "--to")
    new = _resolve(new_project, school, policy, rev_to)
    org = new_project.organisations[school]
    consultation = {}
    if against_parent:
        old = inherited(new_project, org, policy)
        from_label = f"{org.extends} and the model" if org.extends else "the model"
        consultation = {cid: action for layer, action, cid, _ in new.consultation if layer == school}
    else:
        old = _resolve(_load(rev_from, root, "--from"), school, policy, rev_from)
        from_label = rev_from
    d = diff_policies(old, new)
    entry = d.proposed_change(dt.date.today(), record)
    if entry["removed"] and record:
        entry["summary"] += f" Removed: {', '.join(entry['removed'])} (previous numbering)."
    stale, stale_rev = [], org.model_revision or ""
    if stale_rev:
        try:
            stale = stale_texts(new_project, load_at(stale_rev, root), school, policy)
        except RevisionRefused as exc:
            report = Report()
            report.warning(revision_loc(new_project, org), f"model_revision: {exc}",
                           "Set model_revision to a tag or commit of this repository; stale overrides are not shown.")
            _print_report(report)
        except (RevisionError, Failed) as exc:
            echo(f"warning: cannot look for stale overrides at {stale_rev}: "
                 f"{str(exc).splitlines()[0] if str(exc) else 'its sources do not load'}", err=True)
    r = Redline(diff=d, school=school, policy=policy, from_label=from_label, to_label=label(rev_to),
                proposed=entry, stale=stale, consultation=consultation, stale_revision=stale_rev)
    folder = (out or root / "outputs") / school
    json_to_stdout = "json" in formats and out is None
    if "text" in formats:  # when JSON goes to the screen, everything for people goes to stderr
        echo(render_text(r), err=json_to_stdout)
    echo(render_entry(entry), err=json_to_stdout, nl=False)
    files = {}  # written together, or none of them
    if "json" in formats:
        if json_to_stdout:
            echo_json(render_json(r), nl=False)
        else:
            files[folder / f"{policy}.diff.json"] = render_json(r).encode("utf-8")
    if "html" in formats:
        files[folder / f"{policy}.diff.html"] = render_html(r)
    if "docx" in formats:
        author = "policypack" if not against_parent else org.name
        from .redline_docx import render_redline_docx  # python-docx: only when a DOCX redline is asked for
        files[folder / f"{policy}.redline.docx"] = render_redline_docx(d, subject=r.heading, author=author)
    if files:
        try:
            write_together(files)
        except OSError as exc:
            could_not_write(exc)
    for path in files:
        echo(f"wrote {path}", err=True)
    if record:
        if d.empty:
            echo("nothing changed, so nothing was recorded.", err=True)
            sys.exit(1)
        try:
            path = record_change(root, school, policy, entry)
        except RecordError as exc:
            echo(f"error: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:
            could_not_write(exc)
        echo(f"recorded in {path} (it still loads and resolves).", err=json_to_stdout)


@click.command()
@root_option
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="The date to judge review status by "
              "(default: today).")
@click.option("--format", "formats", multiple=True, default=("table",), show_default=True,
              help="table, csv, html, json: repeat or separate with commas.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write every format to this folder as review.<ext> (html always goes to a file; "
                   "default outputs/).")
def review(root, as_of, formats, out):
    """List every organisation's policies with review dates, status and how far behind the model they are."""
    import json

    formats = _formats(formats, REVIEW_FORMATS)
    if out is not None:
        output_folder(out, root)
    project = load_or_exit(root)
    as_of = as_of.date() if as_of else dt.date.today()
    rows = review_rows(project, as_of)
    texts = {"table": lambda: review_table(rows), "csv": lambda: review_csv(rows),
             "json": lambda: json.dumps({"as_of": as_of.isoformat(), "rows": rows}, indent=2, ensure_ascii=False) + "\n"}
    ext = {"table": "txt", "csv": "csv", "json": "json", "html": "html"}
    for f in formats:
        if f == "html":
            ctx = RenderContext(as_of=as_of, project_root=Path(root).resolve(), template_dir=template_dir(root))
            data = render_review(rows, ctx)
        else:
            data = texts[f]().encode("utf-8")
        if out is None and f != "html":
            (echo_json if f == "json" else echo)(data.decode("utf-8"), nl=False)
            continue
        path = (out or root / "outputs") / f"review.{ext[f]}"
        try:
            write_atomic(path, data)
        except OSError as exc:
            could_not_write(exc)
        echo(f"wrote {path}", err=True)
