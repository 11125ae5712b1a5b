"""The front matter, computed once: labels, order and values every writer lays out.

`compute` is called by resolve once a policy's clauses are numbered (cover rows may use `ref()`).
It builds the adoption rows and document details from the merged adoption record, then applies
the layers' `cover:` edits root first (add, relabel, move, remove a row by its label). Dates are
printed here; only the review notice depends on the as-of date, so it stays a method
(`FrontMatter.notice`) that every writer calls with its `RenderContext.as_of`.
"""
from __future__ import annotations

from typing import Optional

from . import history
from .errors import did_you_mean
from .markup import typeset
from .model import FrontMatter, FrontRow, Text
from .render import format_date


def _plain(value: Optional[str]) -> tuple:
    return (Text(typeset(value)),) if value else ()


def compute(resolver, doc) -> FrontMatter:
    """The FrontMatter of `doc` (a ResolvedPolicy being built by `resolver`, a resolve._Resolver)."""
    lp = resolver.layered
    a = doc.adoption
    chairs = a.get("chairs") or []
    chair_title = a.get("chair_title") or ("Co-chairs" if len(chairs) > 1 else "Chair")

    def who(name_key, date_key):
        return ", ".join(v for v in (a.get(name_key), format_date(a.get(date_key))) if v)

    adoption = [("Formally adopted by", a.get("body")), ("Date adopted", format_date(a.get("date"))),
                (chair_title, " & ".join(chairs))]
    details = [
        ("Reference", doc.reference),
        ("Type", doc.kind.capitalize()),
        ("Version", doc.version),
        ("Maintained by", doc.owner),
        ("Written by", who("written_by", "written_date")),
        ("Agreed by", who("agreed_by", "agreed_date")),
        ("Author", a.get("author") or ""),
        ("Address", a.get("address") or ""),
        ("Created", format_date(a.get("created"))),
        ("Last reviewed", format_date(doc.last_reviewed)),
        ("Next review due", format_date(doc.next_review)),
    ]
    groups = {"banner": [], "adoption": [FrontRow(k, _plain(v)) for k, v in adoption if v],
              "details": [FrontRow(k, _plain(v)) for k, v in details if v]}
    running = {}
    for org in lp.chain:
        edits = list(org.cover)
        running.update(org.running)
        pl = org.policies.get(doc.policy_id)
        if pl is not None:
            edits += pl.cover
            running.update(pl.running)
        for edit in edits:
            _apply(resolver, groups, edit)
    # labels are matched as written while the edits apply; then typeset like every other text
    groups = {name: [FrontRow(typeset(r.label), r.value) for r in rows] for name, rows in groups.items()}
    running = {k: resolver._render_inline(text, loc, f"the running {k}") for k, (text, loc) in running.items()}
    # what pages after the first show unless a layer sets it: the title; the reference and version
    facts = [x for x in (doc.reference, f"Version {doc.version}" if doc.version else "") if x]
    running.setdefault("header", doc.title)
    running.setdefault("footer", "  \u00b7  ".join(facts))
    statement = []
    if a.get("statement"):
        statement = resolver._markdown(str(a["statement"]), _loc_of(a["statement"], lp.chain[-1].loc),
                                       "the adoption statement")
    return FrontMatter(
        summary=doc.summary or "",
        statement=statement,
        banner=groups["banner"],
        adoption=groups["adoption"],
        details=groups["details"],
        approvals=[(typeset(p.label), typeset(p.name), format_date(p.date)) for p in doc.approvals],
        kind=doc.kind,
        next_review=doc.next_review,
        running_header=running.get("header", ""),
        running_footer=running.get("footer", ""),
        history=history.front(doc),
    )


def _loc_of(value, default):
    return getattr(value, "loc", None) or default


def _find(groups: dict, label: str):
    for name, rows in groups.items():
        for i, row in enumerate(rows):
            if row.label == label:
                return name, i
    return None


# the rows policypack makes from the adoption record and the policy; each shows only when its data
# is set, so a layer's edit that names one this copy lacks is skipped (an authority's own copy has
# no adoption date); any other label must be on the cover
BUILT_IN_ROWS = ("Formally adopted by", "Date adopted", "Chair", "Co-chairs", "Reference", "Type", "Version",
                 "Maintained by", "Written by", "Agreed by", "Author", "Address", "Created", "Last reviewed",
                 "Next review due")


def _apply(resolver, groups: dict, edit: dict) -> None:
    """One `cover:` entry: {label, value?, relabel?, remove?, before?, after?, place?, loc}."""
    report, loc = resolver.report, edit["loc"]
    label = edit["label"]
    labels = [r.label for rows in groups.values() for r in rows]
    found = _find(groups, label)
    if found is None and edit.get("value") is None:
        if label not in BUILT_IN_ROWS:
            hint = did_you_mean(label, labels + list(BUILT_IN_ROWS))
            report.error(loc, f"cover row '{label}' is not on this cover",
                         (hint + " " if hint else "") + "Give it a 'value:' to add it as a new row.")
        return
    if edit.get("remove"):
        del groups[found[0]][found[1]]
        return
    if found is None:
        row, home = FrontRow(label, ()), None
    else:
        row, home = groups[found[0]].pop(found[1]), found
    if edit.get("value") is not None:
        row = FrontRow(row.label, _inlines(resolver, edit["value"], edit.get("value_loc") or loc, label))
    if edit.get("relabel"):
        row = FrontRow(edit["relabel"], row.value)
    if not row.value:  # an empty value (a condition that came out false) leaves the row out
        return
    anchor = edit.get("before") or edit.get("after")
    where = _find(groups, anchor) if anchor else None
    if anchor and where is None and anchor not in BUILT_IN_ROWS:
        labels = [r.label for rows in groups.values() for r in rows]
        report.error(loc, f"cover row '{anchor}' (named by '{'before' if edit.get('before') else 'after'}') "
                     "is not on this cover", did_you_mean(anchor, labels) or "Rows on this cover: "
                     + ", ".join(labels) + ".")
    if where is not None:
        groups[where[0]].insert(where[1] + (1 if edit.get("after") else 0), row)
    elif edit.get("place"):
        groups[edit["place"]].append(row)
    elif home is not None:
        groups[home[0]].insert(home[1], row)
    else:
        groups["details"].append(row)


def _inlines(resolver, text: str, loc, label: str) -> tuple:
    """A cover value: Markdown with variables and ref(), one paragraph of inlines."""
    return resolver._one_line(str(text), loc, f"the cover row '{label}'",
                              "Lists, tables and several paragraphs belong in a clause; keep a cover value to "
                              "one paragraph.")
