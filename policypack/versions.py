"""Sources at another revision, what an organisation changed, stale overrides, and recording a change.

A revision (REV) is either a folder holding another copy of the sources (it has `policy_src/`),
or a git revision (tag, branch, commit) of the repository the project lives in: its
`policy_src/`, `schools/` and `templates/` are extracted with `git archive` into a temporary folder.
A REV that names an existing folder is read as a folder.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from .errors import Failed, Problem, Report
from .layer import apply_layers
from .load import load_project
from .model import Organisation, PolicyLayer, Project, ResolvedPolicy
from .resolve import resolve

SOURCE_DIRS = ("policy_src", "schools", "templates")
TAG_PATTERN = "v*"  # model releases are tagged v<something>, e.g. v2025.1


class RevisionError(Exception):
    """A revision that cannot be read: the message says why and what to do."""


class RevisionRefused(RevisionError):
    """A revision that may not be read at all: spelt like no git revision, or a folder outside the project."""


def label(rev: Optional[str]) -> str:
    return rev or "working tree"


def _git(root: Path, *args: str) -> Optional[str]:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.decode("utf-8", "replace").strip()


MAX_REVISION = 256
# what a tag, branch, commit or revision expression (HEAD~2, main^, v2026.1, origin/main) is written with
REVISION_CHARS = re.compile(r"[A-Za-z0-9._/~^@{}+-]+")


def check_revision(rev: str) -> None:
    """Refuse a revision that no tag, branch or commit of this repository is spelt like: too long,
    holding characters git would read as something else (a NUL, spaces, a colon), or starting with
    '-' (git would take it for an option). Folders are checked by `_folder`."""
    if not rev:
        raise RevisionRefused("the revision is empty: give a git tag, branch or commit, or a folder inside the project")
    if len(rev) > MAX_REVISION:
        raise RevisionRefused(f"revision '{rev[:40]}...' is {len(rev)} characters long; a tag, branch or commit "
                            f"has at most {MAX_REVISION}")
    if rev.startswith("-") or not REVISION_CHARS.fullmatch(rev):
        bad = "a leading '-'" if rev.startswith("-") else "characters that no git revision holds"
        raise RevisionRefused(f"revision {_show(rev)} has {bad}: give a git tag, branch or commit of this "
                            "repository, or a folder inside the project")


def _show(rev: str) -> str:
    return repr(rev[:60] + ("..." if len(rev) > 60 else ""))


def _folder(rev: str, root: Path) -> Optional[Path]:
    """The folder `rev` names (as given, or relative to the project), if it names one. A folder
    outside the project (through a symbolic link too) is refused: other folders on the machine
    are not sources this project may read."""
    if len(rev) > 4096 or "\0" in rev:
        return None
    top = root.resolve()
    for candidate in (Path(rev), root / rev):
        try:
            if not candidate.is_dir():
                continue
            real = candidate.resolve()
        except (OSError, ValueError, RuntimeError):
            continue
        if not real.is_relative_to(top):
            raise RevisionRefused(f"'{rev}' is a folder outside the project ({top}); only git revisions of this "
                                "repository and folders inside the project can be compared")
        return candidate
    return None


@contextmanager
def sources(rev: Optional[str], root: Path):
    """Yield the project folder holding the sources at `rev` (None: `root` itself, the working tree)."""
    root = Path(root)
    if rev is None:
        yield root
        return
    folder = _folder(rev, root)
    if folder is not None:
        if not (folder / "policy_src").is_dir():
            raise RevisionError(f"'{rev}' is a folder without a policy_src/ folder: give the folder that holds "
                                "another copy of the sources, or a git revision")
        yield folder
        return
    check_revision(rev)
    prefix = _git(root, "rev-parse", "--show-prefix")
    if prefix is None:
        raise RevisionError(f"'{root}' is not inside a git repository, so revision '{rev}' cannot be read; "
                            "give a folder holding another copy of the sources instead")
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if not commit:
        tags = (_git(root, "tag", "--list") or "").split()
        raise RevisionError(f"unknown revision '{rev}': not a tag, branch or commit of this repository"
                            + (f" (tags: {', '.join(tags[-8:])})" if tags else " (it has no tags)"))
    paths = [prefix + d for d in SOURCE_DIRS if _git(root, "cat-file", "-e", f"{commit}:{prefix}{d}") is not None]
    if prefix + "policy_src" not in paths:
        raise RevisionError(f"revision '{rev}' has no {prefix}policy_src/ folder")
    top = Path(_git(root, "rev-parse", "--show-toplevel"))
    with tempfile.TemporaryDirectory(prefix="policypack-rev-") as tmp:
        try:
            data = subprocess.run(["git", "-C", str(top), "archive", "--format=tar", commit, "--", *paths],
                                  capture_output=True, check=True).stdout
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                tar.extractall(tmp, filter="data")  # refuses links and paths that leave the folder
        except (subprocess.CalledProcessError, tarfile.TarError) as exc:
            raise RevisionError(f"the sources at '{rev}' could not be extracted: {exc}") from None
        yield Path(tmp) / prefix


def load_at(rev: Optional[str], root: Path) -> Project:
    """The project as it was at `rev`. Raises RevisionError, or Failed when those sources are invalid."""
    with sources(rev, root) as folder:
        return load_project(folder, Report())


def latest_revision(root: Path) -> Optional[str]:
    """The newest model release: the highest-versioned tag matching TAG_PATTERN reachable from HEAD
    (git's version sort, so v2025.10 comes after v2025.9), else HEAD's short hash; None outside git."""
    tags = _git(root, "tag", "--list", TAG_PATTERN, "--merged", "HEAD", "--sort=-v:refname")
    if tags:
        return tags.split()[0]
    return _git(root, "rev-parse", "--short", "HEAD") or None


# ---- what an organisation changes ------------------------------------------------------------


def without_own_edits(project: Project, org: Organisation, policy_id: str, keep_choices: bool = False) -> Project:
    """`project` with `org` (possibly taken from another revision) in place of its namesake, minus
    its own edits to the clauses (removals, replacements, fills, titles, insertions, table of
    changes; also its choices of variants and optional clauses unless `keep_choices`). Its name,
    variables, numbering and dates stay, so resolving it gives what its parents and the model give
    this organisation, and nothing else differs."""
    pl = org.policies.get(policy_id) or PolicyLayer(loc=org.loc)
    keep = PolicyLayer(loc=pl.loc, fields=pl.fields, adoption=pl.adoption, approvals=pl.approvals,
                       review=pl.review, review_history=pl.review_history)
    if keep_choices:
        keep.variants, keep.enable, keep.disable = pl.variants, pl.enable, pl.disable
    everywhere = {} if keep_choices else {"variants": {}, "enable": [], "disable": []}
    stripped = dataclasses.replace(org, fill={}, policies={**org.policies, policy_id: keep}, **everywhere)
    return dataclasses.replace(project, organisations={**project.organisations, org.id: stripped})


def inherited(project: Project, org: Organisation, policy_id: str, keep_choices: bool = False) -> ResolvedPolicy:
    """What the parents and the model give `org` (see `without_own_edits`). Problems are not
    reported: the organisation's own layer is what fills its slots, and it is checked elsewhere."""
    return resolve(without_own_edits(project, org, policy_id, keep_choices), org.id, policy_id, Report())


def overrides(org: Organisation, policy_id: str, ids) -> list:
    """The organisation's own overrides of clauses in `ids`: [(id, action, detail, Loc)]."""
    pl = org.policies.get(policy_id) or PolicyLayer(loc=org.loc)
    out = [(cid, "fill", None, loc) for cid, (_, loc) in org.fill.items() if cid in ids and cid not in pl.fill]
    out += [(cid, "variant", name, loc) for cid, (name, loc) in org.variants.items()
            if cid in ids and cid not in pl.variants]
    for action, table in (("replace", pl.replace), ("fill", pl.fill), ("variant", pl.variants),
                          ("retitle", pl.retitle)):
        out.extend((cid, action, value if action == "variant" else None, loc)
                   for cid, (value, loc) in table.items() if cid in ids)
    return out


def _norm(text) -> str:
    return " ".join(str(text).split()) if text else ""


def _stale(project_now: Project, project_then: Project, org_id: str, policy_id: str) -> list:
    """[(id, action, Loc, layer that wrote the text now)] for overrides whose upstream text changed."""
    org = project_now.organisations[org_id]
    if policy_id not in project_then.policy_ids():
        return []
    trees = []
    for project in (project_then, project_now):
        layered = apply_layers(without_own_edits(project, org, policy_id, True), org_id, policy_id, Report())
        trees.append({n.id: n for n in layered.policy.walk()})
    then, now = trees
    out = []
    for cid, action, variant, loc in overrides(org, policy_id, set(then) & set(now)):
        def upstream(node):
            if action == "retitle":
                return _norm(node.title)
            if action == "variant":
                return _norm(node.variants.get(variant, ("",))[0])
            return _norm(node.current_text()[0])
        if upstream(then[cid]) != upstream(now[cid]):
            out.append((cid, action, loc, now[cid].provenance.layer))
    return out


def stale_overrides(project_now: Project, project_then: Project, org_id: str, policy_id: str) -> list:
    """Warnings for the organisation's overrides (replace, fill, variant, retitle) of clauses that its
    parents or the model changed between `project_then` (its recorded model_revision) and now."""
    org = project_now.organisations[org_id]
    rev = org.model_revision
    problems = []
    for cid, action, loc, layer in _stale(project_now, project_then, org_id, policy_id):
        source = "the model" if layer == "model" else f"'{layer}'"
        problems.append(Problem(
            loc, f"{policy_id}: '{cid}' has changed in {source} since {rev}, the model revision {org_id} last "
            f"reviewed against, and this {action} may now be out of date",
            f"Compare the texts with 'policypack diff --school {org_id} --policy {policy_id} --from {rev}', "
            f"update the {action} if needed, then set model_revision to the revision you reviewed.", "warning"))
    return problems


def stale_texts(project_now: Project, project_then: Project, org_id: str, policy_id: str) -> list:
    """For each stale override: the upstream text then and now, and the organisation's own text."""
    found = _stale(project_now, project_then, org_id, policy_id)
    if not found:
        return []
    org = project_now.organisations[org_id]
    then = inherited(project_then, org, policy_id, keep_choices=True).by_id()
    now = inherited(project_now, org, policy_id, keep_choices=True).by_id()
    mine = resolve(project_now, org_id, policy_id, Report()).by_id()

    def text(nodes, cid, action):
        node = nodes.get(cid)
        return (node.title or "") if action == "retitle" and node else (node.text if node else "")

    return [{"id": cid, "action": action, "at": str(loc), "number": mine[cid].ref if cid in mine else "",
             "upstream_then": text(then, cid, action), "upstream_now": text(now, cid, action),
             "organisation": text(mine, cid, action)}
            for cid, action, loc, _ in found]


def revision_loc(project: Project, org: Organisation):
    """Where the organisation's file sets model_revision (its first line, if that cannot be found)."""
    loc = getattr(org, "model_revision_loc", None)
    if loc is not None:
        return loc
    try:
        with open(Path(project.root) / org.file, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if number > 10_000:
                    break
                if re.match(r"\s+model_revision\s*:", line):
                    return dataclasses.replace(org.loc, line=number)
    except (OSError, ValueError):
        pass
    return org.loc


def check_stale(project: Project, pairs, report: Report) -> None:
    """Add stale-override warnings for every (organisation, policy) whose organisation records a
    model_revision. A revision that cannot be read is warned about once, and does not fail the check."""
    then_projects: dict = {}
    for oid, pid in pairs:
        org = project.organisations[oid]
        rev = org.model_revision
        if not rev:
            continue
        if rev not in then_projects:
            then_projects[rev] = None
            try:
                then_projects[rev] = load_at(rev, project.root)
            except RevisionRefused as exc:
                report.error(revision_loc(project, org), f"model_revision: {exc}",
                             "Set model_revision to the tag or commit of this repository that the organisation "
                             "last reviewed against (e.g. v2026.1).")
            except RevisionError as exc:
                report.warning(org.loc, f"cannot look for stale overrides: {exc}",
                               "model_revision should name a tag or commit of this repository.")
            except Failed as exc:
                report.warning(org.loc, f"cannot look for stale overrides: the sources at '{rev}' do not load "
                               f"({len(exc.report.errors)} problem(s))", "")
        if then_projects[rev] is not None:
            for p in stale_overrides(project, then_projects[rev], oid, pid):
                report.warning(p.loc, p.message, p.hint)


# ---- recording a change in the organisation's file ---------------------------------------


class RecordError(Exception):
    pass


def still_resolves(root: Path, todo, what: str) -> Optional[str]:
    """After a layer is written: None if the project loads and every (organisation, policy) that
    `todo(project)` lists resolves without errors, else `what` and the errors (layerwrite.save's
    `validate`)."""
    report = Report()
    try:
        project = load_project(root, report)
        for oid, pid in todo(project):
            resolve(project, oid, pid, report)
    except Failed as exc:
        report = exc.report if exc.report.errors else report
    if report.errors:
        return f"{what}:\n" + "\n".join(p.format() for p in report.errors)
    return None


def record_change(root: Path, org_id: str, policy_id: str, entry: dict) -> Path:
    """Add `entry` (date, summary, clauses) first in schools/<org>.yaml under policies: <policy>:
    changes:, creating the keys as needed and keeping every other line as it was (the round-trip
    writer, policypack.layerwrite). The file must still load and the policy resolve; otherwise it
    is put back and RecordError says why."""
    from . import layerwrite

    path = Path(root) / "schools" / f"{org_id}.yaml"
    item = layerwrite.entry({"date": dt.date.fromisoformat(str(entry["date"])), "summary": entry["summary"],
                             "clauses": list(entry["clauses"])})

    def edit(layer):
        if not isinstance(layer.data, dict) or not isinstance(layer.data.get("organisation"), dict):
            raise layerwrite.LayoutError(f"{path.name} has no 'organisation:' mapping")
        layer.prepend(("organisation", "policies", policy_id, "changes"), item)

    def validate():
        return still_resolves(root, lambda project: [(org_id, policy_id)],
                              "the recorded entry did not validate, so the file was left as it was")

    try:
        layerwrite.save(path, edit, validate)
    except layerwrite.LayoutError as exc:
        raise RecordError(str(exc)) from None
    return path
