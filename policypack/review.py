"""Review dates for every organisation and published policy, and how far each is behind the model.

`review_rows(project, as_of)` gives one dict per (organisation, policy):

* adopted, last_reviewed, next_review (ISO dates or ""), status (overdue | due-soon | current |
  unknown, from `ResolvedPolicy.review_status`);
* model_revision: the revision the organisation last reviewed against (its `model_revision`);
* latest_revision: `versions.latest_revision` (newest v* tag reachable from HEAD, else HEAD's hash);
* behind: how many clauses its parents or the model added, removed or changed (beyond
  cross-reference numbers) or retitled between model_revision and the current sources, with the
  organisation's own edits left out on both sides (its choices of variants and optional clauses
  kept: `versions.without_own_edits`); "unknown" when there is no model_revision or
  it cannot be read.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Optional

from .diff import diff_policies
from .errors import Failed, Report
from .model import Project
from .resolve import resolve
from .versions import RevisionError, inherited, latest_revision, load_at

COLUMNS = ("organisation", "policy", "adopted", "last_reviewed", "next_review", "status", "model_revision",
           "latest_revision", "behind")
HEADINGS = ("Organisation", "Policy", "Adopted", "Last reviewed", "Next review", "Status", "Reviewed against",
            "Latest model", "Changes behind")


def review_rows(project: Project, as_of: dt.date, docs: Optional[dict] = None) -> list:
    """One row per organisation and published policy; `docs` ({(org, policy): ResolvedPolicy})
    saves resolving again what the caller has already resolved."""
    docs = docs or {}
    latest = latest_revision(project.root) or "unknown"
    then_projects: dict = {}
    rows = []
    for oid in sorted(project.organisations):
        org = project.organisations[oid]
        rev = org.model_revision
        for pid in project.published(oid):
            row = {"organisation": oid, "organisation_name": org.name, "policy": pid,
                   "policy_title": project.policy(oid, pid).title, "adopted": "", "last_reviewed": "", "next_review": "",
                   "status": "unknown", "model_revision": rev or "", "latest_revision": latest, "behind": "unknown"}
            try:  # one organisation whose sources do not resolve must not take the schedule down
                doc = docs[oid, pid] if (oid, pid) in docs else resolve(project, oid, pid, Report())
                if doc is not None:
                    row.update({
                        "policy_title": doc.title, "adopted": doc.adoption.get("date", ""),
                        "last_reviewed": doc.last_reviewed.isoformat() if doc.last_reviewed else "",
                        "next_review": doc.next_review.isoformat() if doc.next_review else "",
                        "status": doc.review_status(as_of)})
                if rev:
                    if rev not in then_projects:
                        try:
                            then_projects[rev] = load_at(rev, project.root)
                        except (RevisionError, Failed):
                            then_projects[rev] = None
                    then = then_projects[rev]
                    if then is not None and pid in then.policy_ids():
                        row["behind"] = len(diff_policies(inherited(then, org, pid, True),
                                                          inherited(project, org, pid, True)).substantive_ids())
            except Exception:  # noqa: BLE001 - shown as unknown; `check` and `build` say what is wrong
                pass
            rows.append(row)
    return rows


def review_table(rows: list) -> str:
    table = [HEADINGS] + [tuple(str(r[c]) for c in COLUMNS) for r in rows]
    widths = [max(len(row[k]) for row in table) for k in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell a spreadsheet will show as text: one that starts like a formula (= + - @, tab or
    carriage return) gets a leading single quote, as OWASP recommends against CSV injection."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def review_csv(rows: list) -> str:
    buf = io.StringIO()
    fields = list(rows[0]) if rows else list(COLUMNS)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    writer.writerows([csv_cell(r.get(f)) for f in fields] for r in rows)
    return buf.getvalue()
