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

A governor reads the schedule, so each row also says in words what the codes mean (`readable`):
the model version and date reviewed against instead of a revision's hash, an organisation's
recorded revision or adoption inherited from the organisation above it that recorded one (and
said so), and, where nothing is recorded, what to record and where.
"""
from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import io
from typing import Optional

from .diff import diff_policies
from .errors import Failed, Report
from .model import Project
from .resolve import resolve
from .render import format_date
from .versions import TAG_PATTERN, RevisionError, _git, check_revision, inherited, latest_revision, load_at

COLUMNS = ("organisation", "policy", "adopted", "last_reviewed", "next_review", "status", "model_revision",
           "latest_revision", "behind")
HEADINGS = ("Organisation", "Policy", "Adopted", "Last reviewed", "Next review", "Status", "Reviewed against",
            "Latest model", "Changes behind")


def review_rows(project: Project, as_of: dt.date, docs: Optional[dict] = None, cache=None) -> list:
    """One row per organisation and published policy; `docs` ({(org, policy): ResolvedPolicy})
    saves resolving again what the caller has already resolved. `cache` (a
    fingerprint.RowCache, kept by the build in its output folder) holds rows from earlier builds,
    keyed by everything a row depends on; a row found there is neither resolved nor diffed again."""
    docs = docs or {}
    latest = latest_revision(project.root) or "unknown"
    then_projects: dict = {}
    rows = []
    keys = _RowKeys(project, as_of, latest) if cache is not None else None
    for oid in sorted(project.organisations):
        org = project.organisations[oid]
        rev, rev_from = recorded_revision(project, oid)
        for pid in project.published(oid):
            key = keys.key(oid, pid, rev) if keys else None
            if key and cache.get(key) is not None:
                rows.append(cache.get(key))
                continue
            row = {"organisation": oid, "organisation_name": org.name, "policy": pid,
                   "policy_title": project.policy(oid, pid).title, "adopted": "", "last_reviewed": "", "next_review": "",
                   "status": "unknown", "model_revision": rev or "", "latest_revision": latest, "behind": "unknown"}
            doc = None
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
            row["readable"] = readable(project, org, pid, row, doc, rev_from, then_projects.get(rev) if rev else None,
                                       docs)
            rows.append(row)
            if key:
                cache.put(key, row)
    return rows


class _RowKeys:
    """What a schedule row depends on: the organisation's chain of layers, the model and library,
    the revision it reviewed against (as a commit), the newest model release, the date and
    policypack itself. Rows are only cached when that revision resolves to a commit."""

    def __init__(self, project: Project, as_of: dt.date, latest: str):
        from . import fingerprint

        self.project, self.content = project, fingerprint.content
        self.base = fingerprint.content((fingerprint.renderer(), as_of, latest, project.library, project.policies))
        self.commits: dict = {}
        self.orgs: dict = {}  # organisation id -> the digest of its layer, walked once

    def key(self, oid: str, pid: str, rev: Optional[str]) -> Optional[str]:
        if rev and rev not in self.commits:
            # a folder, or a revision git does not know, gives no commit: such rows are not cached
            self.commits[rev] = _git(self.project.root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}") or ""
        if rev and not self.commits[rev]:
            return None
        chain = []
        for org in self.project.chain(oid):
            if org.id not in self.orgs:
                self.orgs[org.id] = self.content(org)
            chain.append(self.orgs[org.id])
        return self.content((self.base, oid, pid, self.commits.get(rev, ""), chain))


# ---- the schedule in words -------------------------------------------------------------------


def recorded_revision(project: Project, org_id: str) -> tuple:
    """(revision, organisation that recorded it): the organisation's own `model_revision`, else the
    nearest one above it; (None, None) when no organisation in its chain records one."""
    for o in reversed(project.chain(org_id)):
        if o.model_revision:
            return o.model_revision, o
    return None, None


def revision_date(root, rev: str):
    """The date of the commit `rev` names (a tag, branch or commit), or None (a folder, no git)."""
    try:
        check_revision(rev)
    except RevisionError:
        return None
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    day = _git(root, "log", "-1", "--format=%cs", commit) if commit else None
    try:
        return dt.date.fromisoformat(day) if day else None
    except ValueError:
        return None


def model_version(project: Optional[Project], org_id: str, policy_id: str, rev: str, root) -> str:
    """"Model version 5.0 (v2026.1), 3 March 2026": the model policy's version in `project` (the
    sources at `rev`), the release tag when `rev` is one, and the date of that revision."""
    version = ""
    if project is not None:
        try:
            version = project.policy(org_id, policy_id).version
        except Exception:  # noqa: BLE001 - the organisation or policy did not exist then
            version = ""
    words = f"Model version {version}" if version else "The model"
    if fnmatch.fnmatchcase(rev, TAG_PATTERN):
        words += f" ({rev})"
    day = revision_date(root, rev)
    return words + (f", {format_date(day)}" if day else "")


def readable(project: Project, org, pid: str, row: dict, doc, rev_from, then: Optional[Project],
             docs: dict) -> dict:
    """The row's review facts in words a governor can act on (see the module's doc)."""
    root = project.root
    rev = row["model_revision"]
    if rev:
        against = model_version(then, org.id, pid, rev, root)
        if rev_from is not None and rev_from.id != org.id:
            against = f"Inherited from {rev_from.name}: {against[0].lower()}{against[1:]}"
    else:
        against = f"No version recorded: add model_revision: to {org.file}"
        parent = _parent_review(project, org, pid, docs)
        if parent:
            against = f"Inherited from {parent}. {against}"
    latest = row["latest_revision"]
    latest_words = model_version(project, org.id, pid, latest, root) if latest != "unknown" else "Not under git"
    behind = row["behind"]
    if isinstance(behind, int):
        behind_words = "None: up to date" if behind == 0 else f"{behind} clause{'s' if behind != 1 else ''} changed"
    elif not rev:
        behind_words = "Not counted until the version reviewed against is recorded"
    elif then is None:
        behind_words = f"Not counted: the version recorded in {(rev_from or org).file} cannot be read"
    else:
        behind_words = "The policy is new since the version reviewed against"
    return {"adopted": adopted_words(project, org, pid, doc), "reviewed_against": against,
            "latest_model": latest_words, "behind": behind_words}


def _parent_review(project: Project, org, pid: str, docs: dict) -> str:
    """"Thornvale County Council, reviewed 6 October 2025": the nearest organisation above `org`
    that publishes the policy and dates its review; "" when there is none."""
    for above in reversed(project.chain(org.id)[:-1]):
        if pid not in project.published(above.id):
            continue
        try:
            doc = docs[above.id, pid] if (above.id, pid) in docs else resolve(project, above.id, pid, Report())
        except Exception:  # noqa: BLE001 - `check` reports the problem
            doc = None
        if doc is not None and doc.last_reviewed:
            return f"{above.name}, reviewed {format_date(doc.last_reviewed)}"
    return ""


def adopted_words(project: Project, org, pid: str, doc) -> str:
    """When the copy was adopted, and by whom when the record is inherited; else what to record."""
    if doc is None:
        return "Not known: the policy has problems (run policypack check)"
    a = doc.adoption
    day = a.get("date") or a.get("agreed_date")
    if day:
        words = format_date(day) + (f", agreed by {a['agreed_by']}" if not a.get("date") and a.get("agreed_by") else "")
        source = _adoption_source(project, org, pid)
        if source is not None and source.id != org.id:
            return f"{words}, inherited from {source.name}"
        return words
    made = next((f"{word} {format_date(a[key])}" for key, word in (("created", "created"),
                 ("written_date", "written")) if a.get(key)), "")
    return "Not recorded" + (f" ({made})" if made else "") + f": add adoption: date: to {org.file}"


def _adoption_source(project: Project, org, pid: str):
    """The organisation whose adoption record this copy shows (see layer.apply_layers)."""
    from .layer import apply_layers  # imported here: review is a leaf of the pipeline
    try:
        source = apply_layers(project, org.id, pid, Report()).adoption_from.get("record")
    except Exception:  # noqa: BLE001 - the row says what it can; `check` reports the problem
        return None
    return project.organisations.get(source[0]) if source else None


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
    """The rows for a spreadsheet: one cell per value; the schedule's wording (`readable`, a
    mapping) is spread over columns of its own (`readable_adopted`, ...), never a Python repr."""
    flat = [{**{k: v for k, v in r.items() if not isinstance(v, dict)},
             **{f"{k}_{sub}": x for k, v in r.items() if isinstance(v, dict) for sub, x in v.items()}}
            for r in rows]
    buf = io.StringIO()
    fields = list(flat[0]) if flat else list(COLUMNS)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    writer.writerows([csv_cell(r.get(f)) for f in fields] for r in flat)
    return buf.getvalue()
