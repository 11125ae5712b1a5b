"""`policypack schema`: write the JSON Schema of each kind of YAML file (sourceformat.py) for editors."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli import could_not_write, echo, output_folder, root_option
from .sourceformat import FILES, schema_text


@click.command("schema")
@root_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The folder to write to.  [default: schemas/ in the project folder]")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 if a file in the folder differs from what would be written.")
def schema(root, out, check_only):
    """Write the JSON Schema (draft 2020-12) of organisation layers, policies and libraries.

    YAML editors use them to check a file and offer its keys as you type (docs/source-format.md,
    "Checking files in an editor"). The same declaration gives the same bytes every time.
    """
    out = output_folder(out if out is not None else root / "schemas", root)
    stale = []
    for kind in FILES:
        path = out / f"{kind.name}.schema.json"
        text = schema_text(kind)
        try:
            old = path.read_text(encoding="utf-8") if path.is_file() else None
        except (OSError, UnicodeDecodeError):
            old = None
        if old == text:
            continue
        stale.append(path)
        if check_only:
            continue
        try:
            out.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            could_not_write(exc)
    if check_only:
        for path in stale:
            echo(f"{path}: error: out of date with policypack/sourceformat.py", err=True)
        if stale:
            echo("Run 'policypack schema' to write them again.", err=True)
            sys.exit(1)
        echo(f"ok: {len(FILES)} schema files are up to date.")
        return
    echo(f"wrote {len(stale)} of {len(FILES)} schema files to {out} ({len(FILES) - len(stale)} unchanged).")
