"""The version history (table of changes): which entries a copy shows, where, and in which columns.

Entries are the model's `changes:` and each organisation's, root to leaf (`layer.apply_layers`).
A layer chooses with `history: {place, include}`, organisation-wide or under one of its policies;
the nearest layer wins, key by key (`options`).

Whose history (`select`). The adoption record a copy shows is the one written by the nearest layer
that gives one (`layer._records` replaces it whole), so that layer is the organisation that
adopted this copy, and the record's `date` (else its `agreed_date`) is the copy's adoption date.
Entries of that organisation and of the layers below it are the copy's own; the model's and those
of the organisations above it are inherited. An inherited entry dated after the adoption date is
never shown: a school that adopted in 2022 did not make the model's 2024 changes. One dated on or
before it is shown unless the copy chose `include: own`. A copy with no adoption date shows every
inherited entry.

The table (`table`): the columns some row uses, in the order of COLUMNS, labelled here once; every
writer lays out the cells it is given.
"""
from __future__ import annotations

from typing import Optional

from .model import HISTORY_INCLUDES, HISTORY_PLACES, HistoryTable
from .render import format_date

# (ChangeRow field, label, shown when the rows ...): the one place the table's columns are decided
COLUMNS = (
    ("version", "Version", lambda rows: any(r.version for r in rows)),
    ("date", "Date", lambda rows: True),
    ("author", "Author", lambda rows: any(r.author for r in rows)),
    ("affected", "Paragraphs affected", lambda rows: any(r.affected for r in rows)),
    ("summary", "Summary", lambda rows: True),
    ("layer_name", "Changed by", lambda rows: len({r.layer for r in rows}) > 1),  # come from several layers
)
CAPTIONS = {"front": "Version history", "appendix": "Changes to this {kind}, newest first"}
CELLS = {"date": format_date}  # how a field is printed, when not as written


def options(chain: list, policy_id: str) -> dict:
    """{"place": (value, where), "include": (value, where)}: the nearest layer's choice, key by key;
    `where` is "organisation-id (file:line)", or "default"."""
    out = {"place": (HISTORY_PLACES[0], "default"), "include": (HISTORY_INCLUDES[0], "default")}
    for org in chain:
        pl = org.policies.get(policy_id)
        for layer in (org, pl) if pl is not None else (org,):
            for key, (value, loc) in layer.history.items():
                out[key] = (value, f"{org.id} ({loc})")
    return out


def own_layers(layered) -> set:
    """The ids of the layers whose entries are this copy's own: the organisation that wrote its
    adoption record and those below it (only the copy's organisation when no layer wrote one)."""
    ids = [o.id for o in layered.chain]
    adopter = layered.adoption_from.get("record", (layered.org.id, None))[0]
    return set(ids[ids.index(adopter):]) if adopter in ids else {layered.org.id}


def adoption_date(layered):
    """The copy's adoption date as written (YYYY-MM-DD), or None."""
    return layered.adoption.get("date") or layered.adoption.get("agreed_date") or None


def select(layered, include: str) -> tuple:
    """(the entries this copy shows, how many inherited entries it leaves out)."""
    own, date = own_layers(layered), adoption_date(layered)
    shown = [ch for ch in layered.changes
             if ch.layer in own or (include != "own" and (date is None or ch.date <= date))]
    return shown, len(layered.changes) - len(shown)


def table(rows: list, place: str, include: str, kind: str, left_out: int = 0) -> HistoryTable:
    """The table of `rows` (ChangeRows, newest first) as every writer lays it out."""
    columns = tuple((key, label) for key, label, used in COLUMNS if used(rows))
    cells = tuple(tuple(CELLS.get(key, str)(getattr(r, key)) for key, _ in columns) for r in rows)
    return HistoryTable(place=place, include=include, caption=CAPTIONS[place].format(kind=kind),
                        columns=columns, rows=cells, left_out=left_out)


def front(doc) -> Optional[HistoryTable]:
    """The history the front matter shows: the table, when a layer placed it there and it has rows."""
    h = doc.history
    return h if h is not None and h.place == "front" and h.rows else None

