"""Helpers the tests share: reading PDFs back with poppler's pdftotext."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from policypack.model import ListBlock, list_marker

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
# A margin label: "3.2", "3.2.", "A1.2", "17", "17.", "(a)", "(iv)", or the "(1)" / "(A)" of a list
# inside the text of a lettered sub-clause scheme (numbering.py), then a space or the end of the line.
_LABEL = re.compile(r"\s*(A?\d+(?:\.\d+)+\.?|[A-Z]\.\d+(?:\.\d+)*\.?|\d+\.?|\((?:[a-z]+|\d+|[A-Z])\))(?:\s+(.*))?$")
_DOTTED = re.compile(r"\d+(?:\.\d+)+\.?")
_LEADER = re.compile(r"(?:\. ?){4,}")


def pdf_pages(pdf_path, layout: bool = True) -> list[str]:
    """The text of each page, as pdftotext lays it out."""
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + [str(pdf_path), "-"]
    text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def pdf_paragraph_numbers(pdf_path, stop_at: str = "", start_at: str = "") -> list[str]:
    """The clause numbers printed in the margin, in reading order, read from the PDF's text.

    A line counts when its first token looks like a label ("1.2", "1.2.", "A1.1", "(a)", "(iv)", or
    "7" in the flat style). Contents lines (dot leaders) and lines starting with a date are skipped.
    In the decimal styles a bare number is a section heading, not a clause, so bare numbers count
    only when the document has no dotted clause numbers, and then only in sequence 1, 2, 3 ...
    (so a wrapped line starting with a number is not taken for a paragraph). Lettered and roman
    list items inside clause text look the same as lettered sub-clauses and are read too.
    Reading stops at a body line that is `stop_at` (give the heading of the first generated
    appendix: a table of changes has clause numbers in its cells, not in a margin). Reading starts
    after a line that is `start_at`, when given ("Contents": a version history at the front has
    version numbers in its cells).
    """
    tokens = []
    started = not start_at
    for line in (line for page in pdf_pages(pdf_path) for line in page.splitlines()):
        if not started:
            started = line.strip() == start_at
            continue
        if stop_at and line.strip() == stop_at:
            break
        m = _LABEL.match(line)
        if not m or _LEADER.search(line):
            continue
        token, rest = m.group(1), m.group(2) or ""
        if token.rstrip(".").isdigit() and rest.startswith(MONTHS):
            continue
        tokens.append(token)
    dotted = any(_DOTTED.fullmatch(t) for t in tokens)
    out, expected = [], 1
    for t in tokens:
        if t.rstrip(".").isdigit():
            if dotted or int(t.rstrip(".")) != expected:
                continue
            expected += 1
        out.append(t)
    return out


def html_files(folder: Path) -> list[Path]:
    return sorted(Path(folder).rglob("*.html"))


def expected_margin_labels(doc, sections: bool = False, key_message: bool = True) -> list:
    """Clause numbers and list markers in reading order, as the model says they should print;
    with `sections`, the sections' numbers too; with `key_message`, the key message's markers."""
    out = []

    def blocks(items):
        for b in items:
            if isinstance(b, ListBlock):
                for n, item in enumerate(b.items, b.start):
                    if b.style != "bullet":
                        out.append(list_marker(b.style, n))
                    blocks(item)

    def node(n):
        if n.label and (n.kind == "clause" or sections and n.kind != "appendix"):
            out.append(n.label)
        blocks(n.blocks)
        for child in n.children:
            node(child)

    if key_message:
        blocks(doc.key_message)
    for top in doc.sections + doc.appendices:
        node(top)
    return out


def second_policy(title: str, clauses: str) -> str:
    """policy_src/conduct.yaml for the bad-input base project: a second policy of the pack, with one
    section whose clauses are `clauses` (YAML list items, indented eight spaces)."""
    return ("policy:\n  id: conduct\n  title: " + title + "\n  reference: DEMO-2\n  kind: policy\n"
            '  version: "1.0"\n  review_cycle_months: 24\n  owner: HR\n  sections:\n    - id: conduct-intro\n'
            "      title: About this policy\n      clauses:\n" + clauses)
