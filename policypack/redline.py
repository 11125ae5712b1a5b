"""What `diff` prints and writes: a terminal summary, JSON for scripts, and an accessible HTML redline.

All three read a `Redline`: the `PolicyDiff` plus what the command knows around it. The DOCX
redline with Word tracked changes is in `redline_docx`.
"""
from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field

from .diff import DELETE, EQUAL, INSERT, OP_NAMES, PolicyDiff, word_ops
from .render import format_date


@dataclass
class Redline:
    diff: PolicyDiff
    school: str
    policy: str
    from_label: str  # "v1", "working tree", "inherited (parent and model)"
    to_label: str
    proposed: dict  # PolicyDiff.proposed_change()
    stale: list = field(default_factory=list)  # versions.stale_texts()
    consultation: dict = field(default_factory=dict)  # id -> action: this organisation's edits outside slots
    stale_revision: str = ""

    @property
    def heading(self) -> str:
        new = self.diff.new
        return f"Changes to {new.title} for {new.org.name}: {self.from_label} \u2192 {self.to_label}"


def affected_line(entry: dict) -> str:
    return entry["affected"] or "none"


# ---- text ------------------------------------------------------------------------------------


def _marked(ops: list, context: int = 8) -> str:
    """Ops as text, deletions [-like this-], insertions {+like this+}; long unchanged runs trimmed."""
    out = []
    for k, (op, text) in enumerate(ops):
        if op == DELETE:
            out.append(f"[-{text}-]")
        elif op == INSERT:
            out.append(f"{{+{text}+}}")
        else:
            words = text.split(" ")
            if len(words) > 2 * context:
                head = " ".join(words[:context]) if k > 0 else ""
                tail = " ".join(words[-context:]) if k < len(ops) - 1 else ""
                text = f"{head} \u2026 {tail}".strip() if head or tail else text
                text = (" " if words[0] == "" and head else "") + text
            out.append(text)
    return "".join(out).replace("\n", "\n      ")


def _short(text: str, n: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1] + "\u2026"


def render_text(r: Redline) -> str:
    d = r.diff
    lines = [r.heading]
    c = d.counts()
    lines.append(", ".join(f"{v} {k}" for k, v in c.items()) + ("  (no changes)" if d.empty else ""))
    refs_only = sum(1 for x in d.changed if x.refs_only)
    if refs_only:
        lines.append(f"({refs_only} of the changed only in cross-reference numbers)")
    flag = lambda cid: "  [needs consultation]" if cid in r.consultation else ""  # noqa: E731
    if d.front:
        lines.append("\nFront matter:")
        lines += [f"  {f.field}: {f.old} -> {f.new}" for f in d.front]
    if d.added:
        lines.append("\nAdded:")
        lines += [f"  + {a.number} {a.id}: {_short(a.title or a.text)}{flag(a.id)}" for a in d.added]
    if d.removed:
        lines.append("\nRemoved:")
        lines += [f"  - {a.number} (old number) {a.id}: {_short(a.title or a.text)}{flag(a.id)}" for a in d.removed]
    if d.changed:
        lines.append("\nChanged:")
        for x in d.changed:
            nums = x.new_number if x.old_number == x.new_number else f"{x.old_number} -> {x.new_number}"
            lines.append(f"  ~ {nums} {x.id}{' (cross-reference numbers only)' if x.refs_only else ''}{flag(x.id)}")
            lines.append("      " + _marked(x.ops))
    if d.retitled:
        lines.append("\nRetitled:")
        lines += [f"  {t.number} {t.id}: {t.old_title!r} -> {t.new_title!r}{flag(t.id)}" for t in d.retitled]
    if d.moved:
        lines.append("\nMoved:")
        for m in d.moved:
            where = f" (from {m.old_parent or 'top level'} to {m.new_parent or 'top level'})" \
                if m.old_parent != m.new_parent else " (new place among its siblings)"
            lines.append(f"  > {m.old_number} -> {m.new_number} {m.id}{where}")
    if d.renumbered:
        lines.append("\nRenumbered:")
        lines += [f"  {n.old_number} -> {n.new_number} {n.id}" for n in d.renumbered]
    if r.stale:
        lines.append(f"\nOverrides to review (changed upstream since {r.stale_revision}):")
        for s in r.stale:
            lines.append(f"  ! {s['number']} {s['id']} ({s['action']} at {s['at']})")
            lines.append(f"      upstream then: {_short(s['upstream_then'], 200)}")
            lines.append(f"      upstream now:  {_short(s['upstream_now'], 200)}")
            lines.append(f"      yours:         {_short(s['organisation'], 200)}")
    return "\n".join(lines) + "\n"


def render_entry(entry: dict) -> str:
    return ("Proposed table-of-changes entry:\n"
            f"  date: {entry['date']}\n  summary: {entry['summary']}\n"
            f"  paragraphs affected: {affected_line(entry)}\n"
            f"  clauses: [{', '.join(entry['clauses'])}]\n")


# ---- JSON ------------------------------------------------------------------------------------


def render_json(r: Redline) -> str:
    d = r.diff
    data = {
        "school": r.school, "policy": r.policy, "from": r.from_label, "to": r.to_label,
        "counts": d.counts(),
        "front": [asdict(f) for f in d.front],
        "added": [asdict(a) | {"needs_consultation": a.id in r.consultation} for a in d.added],
        "removed": [asdict(a) | {"needs_consultation": a.id in r.consultation} for a in d.removed],
        "changed": [{"id": x.id, "old_number": x.old_number, "new_number": x.new_number, "refs_only": x.refs_only,
                     "needs_consultation": x.id in r.consultation,
                     "ops": [{"op": OP_NAMES[o], "text": t} for o, t in x.ops]} for x in d.changed],
        "moved": [asdict(m) for m in d.moved],
        "renumbered": [asdict(n) for n in d.renumbered],
        "retitled": [asdict(t) for t in d.retitled],
        "consultation": [{"id": i, "action": a} for i, a in r.consultation.items()],
        "stale": r.stale,
        "proposed_change": r.proposed,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# ---- HTML ------------------------------------------------------------------------------------

_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; line-height: 1.5; margin: 0; color: #1a1a1a; }
main { max-width: 52rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2rem; } h3 { font-size: 1.1rem; }
ins { text-decoration: underline; text-decoration-thickness: 2px; background: #e3f4e8; color: #0b4d1c; }
del { text-decoration: line-through; text-decoration-thickness: 2px; background: #fbe6e6; color: #7a1313; }
.vh { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
      clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.node { margin: 0.6rem 0; padding-left: 0.6rem; border-left: 4px solid transparent; }
.node.touched { border-left-color: #5a6b7d; }
.num { font-weight: bold; margin-right: 0.4rem; }
.note { display: block; font-size: 0.9rem; color: #36454f; font-style: italic; }
.flag { font-weight: bold; color: #7a1313; }
.title { font-weight: bold; }
blockquote { margin: 0.3rem 0 0.6rem 1rem; }
:focus { outline: 3px solid #ffbf47; }
.skip-link { position: absolute; left: -999rem; } .skip-link:focus { position: static; }
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True).replace("\n", "<br>\n")


def _mark(op: str, text: str) -> str:
    if op == INSERT:
        return f'<ins><span class="vh">[inserted: </span>{_e(text)}<span class="vh">]</span></ins>'
    if op == DELETE:
        return f'<del><span class="vh">[deleted: </span>{_e(text)}<span class="vh">]</span></del>'
    return _e(text)


def _ops_html(ops: list) -> str:
    return "".join(_mark(o, t) for o, t in ops)


def _node_html(r: Redline, old, new) -> str:
    """One clause, section or appendix: `old` and/or `new` RNode."""
    d = r.diff
    node = new or old
    moved = {m.id: m for m in d.moved}
    notes = []
    if old and new:
        number = _e(new.ref) if old.ref == new.ref else f"{_e(old.ref)} \u2192 {_e(new.ref)}"
        title_ops = word_ops(old.title or "", new.title or "")
        text_ops = word_ops(old.text, new.text)
        if node.id in moved:
            m = moved[node.id]
            where = d.old.by_id().get(m.old_parent)
            notes.append(f"Moved: it was {m.old_number}"
                         + (f", under {where.heading}" if where and m.old_parent != m.new_parent else ""))
        elif old.ref != new.ref:
            notes.append(f"Renumbered: it was {old.ref}")
        touched = old.ref != new.ref or node.id in moved or any(o != EQUAL for o, _ in title_ops + text_ops)
    else:
        op = INSERT if new else DELETE
        number = _mark(op, node.ref)
        title_ops = [(op, node.title)] if node.title else []
        text_ops = [(op, node.text)] if node.text else []
        notes.append("Added" if new else f"Removed (it was {node.ref})")
        touched = True
    if node.id in r.consultation:
        notes.append(f'<span class="flag">Needs consultation</span>: {r.consultation[node.id]} outside the '
                     "customisable slots")
    title = _ops_html(title_ops)
    note = "".join(f'<span class="note">{n if "<span" in n else _e(n)}</span>' for n in notes)
    cls = "node touched" if touched else "node"
    if node.level <= 1:  # a section, an appendix or a part
        head = f'<h3 id="{_e(node.anchor)}"><span class="num">{number}</span> {title}</h3>'
        body = f"<p>{_ops_html(text_ops)}</p>" if text_ops else ""
        return f'<div class="{cls}">{head}{note}{body}</div>\n'
    title = f'<span class="title">{title}</span> ' if title else ""
    return (f'<div class="{cls}" id="{_e(node.anchor)}" style="margin-left:{(node.level - 2) * 1.5}rem">'
            f'<p><span class="num">{number}</span> {title}{_ops_html(text_ops)}</p>{note}</div>\n')


def _at_a_glance(d: PolicyDiff) -> str:
    """Every changed clause, linked to where the redline marks it: what governors read first."""
    kinds = {c.id: "added" for c in d.added}
    kinds.update({c.id: "removed" for c in d.removed})
    kinds.update({c.id: "changed" for c in d.changed if not c.refs_only})
    kinds.update({c.id: "retitled" for c in d.retitled if c.id not in kinds})
    kinds.update({m.id: "moved" for m in d.moved if m.id not in kinds})
    if not kinds:
        return "<p>No clause was added, removed, changed, retitled or moved.</p>"
    new, old = d.new.by_id(), d.old.by_id()
    items = []
    for cid, kind in kinds.items():
        node = new.get(cid) or old[cid]
        label = f"{node.ref} {node.title}" if node.title else node.ref
        items.append(f'<li><a href="#{_e(node.anchor)}">{_e(label)}</a> \u2013 {kind}</li>')
    order = {n.id: i for i, n in enumerate(d.new.walk_outline())}
    items = [i for _, i in sorted(zip((order.get(c, -1) for c in kinds), items), key=lambda p: p[0])]
    return f"<p>Changes at a glance:</p><ul>{''.join(items)}</ul>"


def render_html(r: Redline) -> bytes:
    d = r.diff
    old_ids, new_ids = {n.id for n in d.old.walk_outline()}, {n.id for n in d.new.walk_outline()}
    old_by_id = d.old.by_id()
    body = []
    for old, new in d.merged():
        if new is None and old.id in new_ids:
            continue  # moved: shown where it is now
        if old is None and new.id in old_ids:
            old = old_by_id[new.id]
        body.append(_node_html(r, old, new))
    c = d.counts()
    summary = "".join(f"<li>{v} {k}</li>" for k, v in c.items())
    front = "".join(f"<li>{_e(f.field.capitalize())}: {_mark(DELETE, f.old)} {_mark(INSERT, f.new)}</li>" for f in d.front)
    entry = r.proposed
    parts = [
        f"<h1>{_e(r.heading)}</h1>",
        '<section aria-labelledby="summary"><h2 id="summary">Summary</h2>',
        f"<p>Comparing {_e(r.from_label)} (old) with {_e(r.to_label)} (new) of {_e(d.new.title)} for "
        f"{_e(d.new.org.name)}. Numbers are shown old \u2192 new where they changed.</p>",
        f"<ul>{summary}</ul>" + (f"<p>Front matter:</p><ul>{front}</ul>" if front else ""),
        _at_a_glance(d),
        "<p>How changes are marked: inserted text is underlined (announced as \u201cinserted\u201d), deleted "
        "text is struck through (announced as \u201cdeleted\u201d). Changed clauses have a bar in the margin.</p>",
    ]
    if r.consultation:
        parts.append("<p><strong>Needs consultation:</strong> " + ", ".join(
            _e(f"{i} ({a})") for i, a in r.consultation.items()) + " \u2013 changes outside the customisable slots.</p>")
    parts.append("</section>")
    parts.append('<section aria-labelledby="entry"><h2 id="entry">Proposed entry for the table of changes</h2><dl>'
                 f"<dt>Date</dt><dd>{_e(format_date(entry['date']))}</dd><dt>Summary</dt><dd>{_e(entry['summary'])}</dd>"
                 f"<dt>Paragraphs affected</dt><dd>{_e(affected_line(entry))}</dd></dl></section>")
    if r.stale:
        parts.append(f'<section aria-labelledby="stale"><h2 id="stale">Overrides to review</h2>'
                     f"<p>These clauses were changed upstream since {_e(r.stale_revision)}, the revision "
                     f"{_e(d.new.org.name)} last reviewed against, and {_e(d.new.org.name)} overrides them.</p>")
        for s in r.stale:
            parts.append(f"<h3>{_e(s['number'])} {_e(s['id'])} ({_e(s['action'])})</h3>"
                         f"<p>Upstream then:</p><blockquote>{_e(s['upstream_then'])}</blockquote>"
                         f"<p>Upstream now:</p><blockquote>{_e(s['upstream_now'])}</blockquote>"
                         f"<p>This organisation\u2019s text:</p><blockquote>{_e(s['organisation'])}</blockquote>")
        parts.append("</section>")
    parts.append('<section aria-labelledby="redline"><h2 id="redline">The policy with changes marked</h2>')
    parts.extend(body)
    parts.append("</section>")
    page = ("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_e(r.heading)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            '<a class="skip-link" href="#main">Skip to the changes</a>\n<main id="main">\n'
            + "\n".join(parts) + "\n</main>\n</body>\n</html>\n")
    return page.encode("utf-8")
