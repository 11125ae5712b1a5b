"""Stage 2, layer: apply organisation overrides to the model, root to leaf, keeping provenance.

Like kustomize's base + overlays: the model is the base, each organisation an overlay; the
nearest layer wins. The result is still a source tree (`Node`s with unrendered text).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Optional

from .errors import Loc, Report, did_you_mean
from .model import Node, Organisation, Policy, Project, Provenance


@dataclass
class Layered:
    policy: Policy  # a private copy, overrides applied
    chain: list  # [Organisation] root first
    fields: dict  # title, reference, kind, version, key_message, numbering -> (value, Loc, layer)
    variables: dict  # name -> (value, Loc, layer)
    branding: dict  # key -> (value, Loc)
    adoption: dict
    approvals: list
    review: dict
    review_history: list
    changes: list  # [Change] model first, then each layer's, root to leaf
    removed: dict = field(default_factory=dict)  # id -> (layer, Loc)
    unplaced: set = field(default_factory=set)  # ids of insertions that failed (already reported)
    consultation: list = field(default_factory=list)  # [(layer, action, id, Loc)]
    # who gave each adoption key: key -> (organisation id, Loc of its `adoption:`); "record" is the
    # layer whose adoption record (body, date ...) this copy shows, see _records
    adoption_from: dict = field(default_factory=dict)

    @property
    def org(self) -> Organisation:
        return self.chain[-1]


def apply_layers(project: Project, org_id: str, policy_id: str, report: Report) -> Layered:
    chain = project.chain(org_id)
    policy = project.policy(org_id, policy_id).clone()
    out = Layered(policy=policy, chain=chain, fields={}, variables={}, branding={}, adoption={}, approvals=[],
                  review={}, review_history=[], changes=list(policy.changes))
    out.fields = {k: (getattr(policy, k), policy.loc, "model")
                  for k in ("title", "reference", "kind", "version", "key_message")}
    for name, (value, loc) in sorted(project.library.variables.items()):
        out.variables[name] = (value, loc, "model")
    for name, (value, loc) in sorted(policy.variables.items()):
        out.variables[name] = (value, loc, "model")
    for org in chain:
        for name, (value, loc) in org.variables.items():
            out.variables[name] = (value, loc, org.id)
        out.branding.update(org.branding)
        if org.numbering:
            out.fields["numbering"] = (org.numbering, org.numbering_loc or org.loc, org.id)
        _records(out, org.adoption, org.review, (org.id, org.adoption_loc or org.loc))
        if org.approvals is not None:
            out.approvals = org.approvals
        if org.review_history is not None:
            out.review_history = org.review_history
        _fill_everywhere(out, org, report)
        pl = org.policies.get(policy_id)
        if pl is None:
            continue
        for key, (value, loc) in pl.fields.items():
            out.fields[key] = (value, loc, org.id)
        _records(out, pl.adoption, pl.review, (org.id, pl.adoption_loc or pl.loc))
        if pl.approvals is not None:
            out.approvals = pl.approvals
        if pl.review_history is not None:
            out.review_history = pl.review_history
        _apply(out, org, pl, report)
        out.changes.extend(pl.changes)
    return out


ADOPTION_RECORD = ("body", "date", "chairs", "chair_title", "statement", "agreed_by", "agreed_date")


def _records(out: Layered, adoption: dict, review: dict, source: tuple = ("model", None)) -> None:
    """Merge one layer's adoption and review data.

    The adoption record (who adopted it, when, chairs) is replaced whole by the nearest layer that
    gives one, so a school never shows its council's board; authorship keys (author, written_by,
    version ...) are inherited one by one. The review dates come from the nearest layer that dates
    the policy (review.last_reviewed, else adoption.date, else agreed_date); the nearest explicit
    next_review is kept, and `resolve` uses it unless the policy was reviewed after that date.
    `source` (organisation id, Loc of its adoption block) is noted per key in `out.adoption_from`.
    """
    record = {k: v for k, v in adoption.items() if k in ADOPTION_RECORD}
    if record:
        out.adoption = {k: v for k, v in out.adoption.items() if k not in ADOPTION_RECORD}
        out.adoption_from["record"] = source
    out.adoption.update(adoption)
    out.adoption_from.update((k, source) for k in adoption)
    last = review.get("last_reviewed") or adoption.get("date") or adoption.get("agreed_date")
    if last:
        out.review["last_reviewed"] = last
    for key in ("next_review", "cycle_months"):
        if key in review:
            out.review[key] = review[key]


def _fill_everywhere(out: Layered, org: Organisation, report: Report) -> None:
    """An organisation's `fill`, `variants`, `enable` and `disable` beside `policies:` apply to every
    policy that has the clause (the loader checked the ids and names); its per-policy lines, applied
    next, may still differ, and resolve reports a shared clause that ends up differing."""
    switches = {cid: (True, loc) for cid, loc in org.enable}
    switches.update({cid: (False, loc) for cid, loc in org.disable})
    for node in out.policy.walk():
        if node.slot and node.id in org.fill:
            text, loc = org.fill[node.id]
            node.text, node.text_loc, node.filled = text, loc, True
            node.provenance = Provenance(org.id, loc, "fill", node.provenance.outside_slots,
                                         node.provenance.edits + [(org.id, "fill", loc)])
        if node.variants and node.id in org.variants and org.variants[node.id][0] in node.variants:
            name, loc = org.variants[node.id]
            _warn_discarded(node, org, name, loc, report)
            node.variant = name
            node.provenance = Provenance(org.id, node.variants[name][1], "variant", node.provenance.outside_slots,
                                         node.provenance.edits + [(org.id, "variant", loc)])
        if node.optional and node.id in switches:
            node.enabled, loc = switches[node.id]
            node.provenance.edits.append((org.id, "enable" if node.enabled else "disable", loc))


def _warn_discarded(node: Node, org: Organisation, name: str, loc: Loc, report: Report) -> None:
    """A variant chosen for a clause whose text a layer above replaced: the choice throws that
    wording away, which the layer that wrote it may not expect."""
    p = node.provenance
    if p.action == "replace" and p.layer != org.id:
        report.warning(loc, f"choosing variant '{name}' of '{node.id}' discards the wording '{p.layer}' wrote "
                       f"for it at {p.loc}", f"Check with {p.layer} that the variant is meant, or replace the "
                       "text here instead of choosing a variant.")


def _warn_assumed(node: Node, org: Organisation, text: str, loc: Loc, report: Report) -> None:
    """A replacement that reads like one variant when a layer below chose another: it would quietly
    bring back the rule that layer switched away from."""
    if not node.variants or node.provenance.action != "variant" or node.provenance.layer == org.id:
        return
    ratios = {name: difflib.SequenceMatcher(None, " ".join(text.split()), " ".join(t.split()), autojunk=False)
              .ratio() for name, (t, _) in node.variants.items()}
    closest = max(sorted(ratios), key=ratios.get)
    if closest != node.variant and ratios[closest] >= 0.6 and ratios[closest] > ratios[node.variant] + 0.1:
        report.warning(loc, f"the replacement for '{node.id}' reads like its variant '{closest}', but "
                       f"'{node.provenance.layer}' chose '{node.variant}'",
                       f"Start the replacement from variant '{node.variant}', or agree the change with "
                       f"{node.provenance.layer}.")


def _index(policy: Policy) -> dict:
    """id -> (node, parent list)"""
    idx = {}

    def visit(nodes):
        for n in nodes:
            idx[n.id] = (n, nodes)
            visit(n.children)

    visit(policy.sections)
    visit(policy.appendices)
    return idx


def _apply(out: Layered, org: Organisation, pl, report: Report) -> None:
    policy = out.policy
    idx = _index(policy)

    def find(cid: str, loc: Loc, action: str) -> Optional[Node]:
        if cid in idx:
            return idx[cid][0]
        if cid in out.unplaced:  # an insertion that failed: already reported
            return None
        if cid in out.removed:
            layer, rloc = out.removed[cid]
            report.error(loc, f"cannot {action} '{cid}': it was removed by '{layer}' at {rloc}",
                         "Delete this line, or stop removing the clause in that layer.")
        else:
            report.error(loc, f"cannot {action} '{cid}': policy '{policy.id}' has no section or clause with that id",
                         did_you_mean(cid, idx) or f"Run 'policypack explain {org.id} {policy.id}' to list the ids.")
        return None

    def touch(node: Node, action: str, loc: Loc, outside: bool) -> None:
        if node.locked and outside:
            report.error(loc, f"'{node.id}' is locked: {org.id} cannot {action} it",
                         f"The model locks this clause (it is required by law or by agreement); remove the "
                         f"'{action}' for it from this layer.")
            return
        node.provenance.edits.append((org.id, action, loc))
        if outside:
            out.consultation.append((org.id, action, node.id, loc))

    for cid, (name, loc) in pl.variants.items():
        node = find(cid, loc, "choose a variant of")
        if node is None:
            continue
        if not node.variants:
            report.error(loc, f"'{cid}' has no variants to choose from", "Use 'replace' to change its text, or delete the line.")
        elif name not in node.variants:
            report.error(loc, f"'{cid}' has no variant '{name}'",
                         did_you_mean(name, node.variants) or "Its variants: " + ", ".join(node.variants) + ".")
        else:
            _warn_discarded(node, org, name, loc, report)
            node.variant = name
            node.provenance = Provenance(org.id, node.variants[name][1], "variant", node.provenance.outside_slots,
                                         node.provenance.edits + [(org.id, "variant", loc)])
    for key, value in (("enable", True), ("disable", False)):
        for cid, loc in getattr(pl, key):
            node = find(cid, loc, key)
            if node is None:
                continue
            if not node.optional:
                report.error(loc, f"'{cid}' is not optional, so it cannot be {key}d",
                             "Only clauses marked 'optional' can be switched on or off; use 'remove' to drop "
                             "another clause (a change that needs consultation).")
                continue
            node.enabled = value
            node.provenance.edits.append((org.id, key, loc))
    for cid, (title, loc) in pl.retitle.items():
        node = find(cid, loc, "retitle")
        if node is not None:
            touch(node, "retitle", loc, outside=True)
            if not node.locked:
                node.title = title
    for cid, (text, loc) in pl.fill.items():
        node = find(cid, loc, "fill")
        if node is None:
            continue
        if not node.slot:
            report.error(loc, f"'{cid}' is not a customisable slot, so it cannot be filled",
                         "Use 'replace' to change fixed text (that needs consultation), or fill a slot instead.")
            continue
        node.text, node.text_loc, node.filled = text, loc, True
        node.provenance = Provenance(org.id, loc, "fill", node.provenance.outside_slots,
                                     node.provenance.edits + [(org.id, "fill", loc)])
    for cid, (text, loc) in pl.replace.items():
        node = find(cid, loc, "replace")
        if node is None:
            continue
        outside = not node.slot
        touch(node, "replace", loc, outside)
        if node.locked:
            continue
        _warn_assumed(node, org, text, loc, report)
        node.text, node.text_loc, node.filled = text, loc, node.slot or node.filled
        node.provenance = Provenance(org.id, loc, "fill" if node.slot else "replace",
                                     node.provenance.outside_slots or outside, node.provenance.edits)
    for ins in pl.insert:
        anchor = find(ins.anchor, ins.loc, f"insert {ins.where}")
        out.unplaced.update(n.id for n in ins.node.walk())
        if anchor is None:
            continue
        if ins.node.id in idx:
            report.error(ins.node.loc, f"cannot insert '{ins.node.id}': policy '{policy.id}' already has that id "
                         f"(at {idx[ins.node.id][0].loc})", "Give the new clause an id of its own.")
            continue
        if (anchor.kind == "clause") != (ins.node.kind == "clause") or \
                (ins.node.kind != "clause" and anchor.kind != ins.node.kind):
            report.error(ins.loc, f"cannot insert {ins.node.kind} '{ins.node.id}' {ins.where} {anchor.kind} '{anchor.id}'",
                         f"Insert a {anchor.kind} next to a {anchor.kind}, or choose another anchor.")
            continue
        siblings = idx[anchor.id][1]
        pos = siblings.index(anchor) + (1 if ins.where == "after" else 0)
        siblings.insert(pos, ins.node.clone())  # a copy: layers below fill or switch it, per copy
        out.unplaced.difference_update(n.id for n in ins.node.walk())
        out.consultation.append((org.id, "insert", ins.node.id, ins.loc))
        idx = _index(policy)
    for mv in pl.move:
        if _move(org, mv, find, idx, report):
            idx = _index(policy)
    removing = {cid for cid, _ in pl.remove}
    for cid, loc in pl.remove:
        node = find(cid, loc, "remove")
        if node is None:
            continue
        locked = [n.id for n in node.walk() if n.locked]
        if locked:
            _locked_in_removal(node, idx, removing, loc, report)
            continue
        idx[cid][1].remove(node)
        for n in node.walk():
            out.removed[n.id] = (org.id, loc)
        out.consultation.append((org.id, "remove", cid, loc))
        idx = _index(policy)


# ---- moves ----------------------------------------------------------------------------------
# A move changes where a text stands, never what it says: it is recorded in the node's provenance
# (`explain` lists it) but not in `consultation`, and a locked clause may move. Numbers and ref()s
# follow, because resolve numbers the tree after every layer has been applied.


def _move(org: Organisation, mv, find, idx: dict, report: Report) -> bool:
    """Apply one `move:` item (`idx` as _index gives it); False (reported) when it cannot be done."""
    node = find(mv.id, mv.loc, "move")
    anchor = find(mv.anchor, mv.loc, f"move '{mv.id}' {mv.where}") if node is not None else None
    if node is None or anchor is None:
        return False
    problem = _move_problem(node, mv.where, anchor)
    if problem:
        report.error(mv.loc, f"cannot move {node.kind} '{node.id}' {mv.where} {anchor.kind} '{anchor.id}': {problem[0]}",
                     problem[1])
        return False
    idx[node.id][1].remove(node)
    if mv.where == "into":
        anchor.children.append(node)
    else:
        siblings = idx[anchor.id][1]  # the same list object, so it reflects the removal just made
        siblings.insert(siblings.index(anchor) + (mv.where == "after"), node)
    node.provenance.edits.append((org.id, "move", mv.loc))
    return True


def _move_problem(node: Node, where: str, anchor: Node) -> Optional[tuple]:
    """(what is wrong, what to do) with moving `node` `where` `anchor`, or None."""
    if any(n is anchor for n in node.walk()):
        if anchor is node:
            return "an item cannot be placed next to or inside itself", "Name another id to move it next to."
        return ("that is inside it, so it would be moved into itself",
                f"Choose an anchor outside '{node.id}', or move '{anchor.id}' out first.")
    if node.kind == "clause":
        if where == "into" and anchor.kind == "part":
            return "a part holds sections, not clauses", "Move the clause into one of the part's sections."
        if where == "into" and anchor.generated:
            return "that appendix is generated (it holds no clauses)", "Move the clause into a section or another clause."
        if where != "into" and anchor.kind != "clause":
            return ("a clause goes next to another clause, or into a section or clause",
                    f"Write 'into: {anchor.id}' to make it the last clause of that {anchor.kind}.")
        return None
    if where == "into":
        return (f"{'an' if node.kind == 'appendix' else 'a'} {node.kind} stays at the top level and cannot go "
                "inside another item",
                f"Write 'after: ...' or 'before: ...' with the id of another {node.kind}.")
    if anchor.kind != node.kind:
        plural = {"section": "sections", "appendix": "appendices", "part": "parts"}[node.kind]
        return (f"{'an' if node.kind == 'appendix' else 'a'} {node.kind} moves among the {plural}"
                + (" (parts, sections and appendices are kept apart)" if anchor.kind != "clause" else ""),
                f"Name another {node.kind} to put it {where}.")
    return None


# ---- removal and locks ----------------------------------------------------------------------
# A lock protects a clause's text, not its place: a locked clause can never be removed or changed,
# but it may move. So a section (or clause) that holds locked clauses can be removed once they have
# been moved out of it; the error says which they are and gives the `move:` lines that do it.


def _locked_in_removal(node: Node, idx: dict, removing: set, loc: Loc, report: Report) -> None:
    if node.locked:
        report.error(loc, f"cannot remove '{node.id}': it is locked",
                     "The model locks this clause (it is required by law or by agreement): a lock keeps its words "
                     "in every copy, though a layer may move it ('move:'). Delete the 'remove' for it.")
        return
    locked = [n.id for n in node.walk() if n.locked]
    tops = _outermost_locked(node)
    siblings = idx[node.id][1]
    if node.kind == "clause":
        lines = [f"- {{id: {n.id}, after: {node.id}}}" for n in reversed(tops)]
        where = f"next to '{node.id}'"
    else:
        target = _kept_neighbour(node, siblings, removing)
        lines = [f"- {{id: {n.id}, into: {target}}}" for n in tops]
        where = f"into '{target}'" if target != "SECTION-ID" else "into a section you keep"
    names = ", ".join(f"'{i}'" for i in locked)
    report.error(loc, f"cannot remove '{node.id}': it holds locked clause{'s' if len(locked) > 1 else ''} {names}",
                 f"A lock keeps a clause's words, not its place: move {'them' if len(tops) > 1 else 'it'} {where} "
                 f"first; add to this policy's layer:\n      move:" + "".join(f"\n        {line}" for line in lines))


def _outermost_locked(node: Node) -> list:
    """The locked nodes under `node` that are not inside another locked one (moving one carries the rest)."""
    out = []

    def visit(n):
        for child in n.children:
            if child.locked:
                out.append(child)
            else:
                visit(child)
    visit(node)
    return out


def _kept_neighbour(node: Node, siblings: list, removing: set) -> str:
    """The id of the nearest section (or appendix) before `node` that this layer keeps, else the
    nearest after it; a placeholder when there is none."""
    pos = siblings.index(node)
    for n in list(reversed(siblings[:pos])) + siblings[pos + 1:]:
        if n.id not in removing and n.kind == node.kind and not n.generated:
            return n.id
    return "SECTION-ID"
