"""The review schedule a governor reads (issue 12): versions and dates instead of git hashes, what an
organisation inherits instead of "unknown", and what "changes behind" means and what to do about it."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

from policypack.errors import Report
from policypack.load import load_project
from policypack.review import review_rows

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 24)
DATE = r"\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \d{4}"


class Cells(HTMLParser):
    """The schedule's visible text, and its table rows as lists of cell texts."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.text, self.rows, self.row, self.cell, self.body = [], [], None, None, False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.body = self.body or tag == "body"
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr":
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.body:
            self.text.append(data)
        if self.cell is not None:
            self.cell.append(data)


def schedule(shipped) -> Cells:
    return Cells((shipped / "review.html").read_text(encoding="utf-8"))


def test_the_schedule_shows_versions_and_dates_never_hashes_or_unknown(shipped):
    page = schedule(shipped)
    text = " ".join("".join(page.text).split())
    assert not re.search(r"\b[0-9a-f]{7,40}\b", text), re.search(r".{40}\b[0-9a-f]{7,40}\b.{20}", text)
    assert not re.search(r"unknown|none recorded", text, re.I)
    header, rows = page.rows[0], page.rows[1:]
    assert len(rows) == 24
    col = {name: header.index(name) for name in ("Adopted", "Reviewed against", "Latest model", "Changes behind")}
    for row in rows:
        against, adopted = row[col["Reviewed against"]], row[col["Adopted"]]
        # a version and its date, or what the organisation inherits, or what to record and where
        assert re.search(DATE, against) or re.search(r"add model_revision: to schools/[a-z-]+\.yaml", against), row
        assert re.fullmatch(rf"{DATE}(, agreed by .+)?(, inherited from .+)?", adopted) or \
            re.search(r"Not recorded.*: add adoption: date: to schools/[a-z-]+\.yaml", adopted), row
        assert re.fullmatch(rf"Model version [\d.]+, {DATE}", row[col["Latest model"]]), row
        assert row[col["Changes behind"]], row


def test_the_schedule_says_what_changes_behind_means_and_what_to_do(shipped):
    text = " ".join("".join(schedule(shipped).text).split())
    assert "Changes behind How many clauses the model, or an organisation above this one, has added" in text
    assert "policypack diff --school" in text and "model_revision:" in text and "review: last_reviewed:" in text


def test_rows_say_what_an_organisation_inherits():
    project = load_project(ROOT, Report())
    rows = {(r["organisation"], r["policy"]): r["readable"] for r in review_rows(project, AS_OF)}
    brookfield = rows["brookfield-primary-school", "acceptable-use"]
    assert re.fullmatch(rf"Model version 5\.0, {DATE}", brookfield["reviewed_against"])
    assert re.fullmatch(r"\d+ clauses? changed|None: up to date", brookfield["behind"])
    academy = rows["kestrel-park-academy", "social-media"]
    assert academy["reviewed_against"] == ("Inherited from Kestrel Learning Trust, reviewed 15 September 2025. No "
                                           "version recorded: add model_revision: to schools/kestrel-park-academy.yaml")
    assert academy["behind"] == "Not counted until the version reviewed against is recorded"
    assert academy["adopted"] == "Not recorded: add adoption: date: to schools/kestrel-park-academy.yaml"
    assert rows["saltmarsh-infant-school", "acceptable-use"]["adopted"] == "14 May 2026, inherited from Saltmarsh Federation"
    assert rows["porthaven-city-council", "social-media"]["adopted"].startswith("Not recorded (created 16 January 2023)")
    assert rows["willowbank-primary-school", "social-media"]["adopted"] == "8 July 2025, agreed by Full Governing Board"


def test_a_revision_recorded_above_is_inherited_and_counted():
    """A school that records no model_revision follows the nearest organisation above it that does:
    the row names that organisation, and the changes behind are counted from its revision."""
    project = load_project(ROOT, Report())
    rev = project.organisations["brookfield-primary-school"].model_revision
    federation = dataclasses.replace(project.organisations["saltmarsh-federation"], model_revision=rev)
    project = dataclasses.replace(project, organisations={**project.organisations, "saltmarsh-federation": federation})
    row = next(r for r in review_rows(project, AS_OF)
               if (r["organisation"], r["policy"]) == ("saltmarsh-infant-school", "social-media"))
    assert row["model_revision"] == rev and isinstance(row["behind"], int)
    assert re.fullmatch(rf"Inherited from Saltmarsh Federation: model version 6\.0, {DATE}",
                        row["readable"]["reviewed_against"])


def test_the_csv_has_one_value_per_cell_and_the_wording_in_columns_of_its_own():
    import csv
    import io

    from policypack.review import review_csv

    project = load_project(ROOT, Report())
    rows = list(csv.DictReader(io.StringIO(review_csv(review_rows(project, AS_OF)))))
    assert rows and not [v for r in rows for v in r.values() if v.startswith(("{", "["))]
    brookfield = next(r for r in rows if r["organisation"] == "brookfield-primary-school")
    assert re.fullmatch(rf"Model version 5\.0, {DATE}", brookfield["readable_reviewed_against"])
    assert brookfield["readable_adopted"] == "10 December 2025"
