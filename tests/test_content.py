"""The shipped model's content: two policies that do not repeat each other, of a readable length,
with one rule per topic, sources cited only in the advisers' notes, and copies that read correctly
for a council, a trust and a nursery."""
from __future__ import annotations

import collections
import datetime as dt
import re
from pathlib import Path

import lxml.html
import pytest

from policypack.errors import Report
from policypack.load import load_project
from policypack.render import RenderContext
from policypack.render.html import render_html
from policypack.resolve import resolve

ROOT = Path(__file__).resolve().parent.parent
PROJECT = load_project(ROOT, Report())
DOCS = {(o, p): resolve(PROJECT, o, p, Report()) for o in sorted(PROJECT.organisations) for p in PROJECT.published(o)}
CASES = sorted(DOCS)
POLICIES = ("acceptable-use", "social-media")


def text_of(doc) -> str:
    """Everything a reader sees: front matter, titles and clause text (not the advisers' notes)."""
    html = lxml.html.fromstring(render_html(doc, RenderContext(dt.date(2026, 11, 21), ROOT, ROOT / "templates")))
    for style in html.xpath("//style | //script"):
        style.drop_tree()
    return " ".join(html.text_content().replace("\u00a0", " ").split())


def library_ids() -> set:
    lib = PROJECT.library
    return {n.id for top in [*lib.sections.values(), *lib.clauses.values()] for n in top.walk()}


def model_ids(policy_id: str) -> set:
    return {n.id for n in PROJECT.policies[policy_id].walk()}


def words(doc) -> int:
    """Words of the resolved body and appendices, as every writer prints them."""
    return sum(len(f"{n.title or ''} {n.text}".split()) for n in doc.walk())


def test_the_two_policies_share_only_library_clauses():
    shared = model_ids("acceptable-use") & model_ids("social-media")
    assert shared, "the library's shared sections are included by both"
    assert shared <= library_ids(), sorted(shared - library_ids())


def test_one_phone_rule_and_one_photo_rule():
    """A school cannot hold two different phone rules: the clause exists in one policy only, and
    the rule on photographing pupils on personal devices is one library clause in both."""
    holders = [p for p in POLICIES if "personal-phones" in model_ids(p)]
    assert holders == ["acceptable-use"]
    assert "personal-devices-no-photos" in library_ids()
    assert all("personal-devices-no-photos" in model_ids(p) for p in POLICIES)
    for doc in DOCS.values():
        phones = [n for n in doc.walk() if n.variants and "phone" in (n.title or "").lower()]
        assert len(phones) <= 1, doc.org.id


@pytest.mark.parametrize("org,policy", CASES, ids=[f"{o}-{p}" for o, p in CASES])
def test_each_policy_is_between_3000_and_6000_words(org, policy):
    assert 3000 <= words(DOCS[org, policy]) <= 6000


def test_a_plain_school_copy_is_within_the_target_length(tmp_path):
    """The model as a school with no layer edits gets it: 3,000 to 5,000 words per policy."""
    import shutil
    shutil.copytree(ROOT / "policy_src", tmp_path / "policy_src")
    (tmp_path / "schools").mkdir()
    (tmp_path / "schools" / "plain-school.yaml").write_text(
        "organisation:\n  id: plain-school\n  name: Plain School\n  kind: school\n"
        "  fill:\n    local-it-contacts: Ring the office.\n    local-support-contacts: Ask the office.\n"
        "    media-official-accounts: The website only.\n"
        "  policies:\n    acceptable-use: {}\n    social-media: {}\n", encoding="utf-8")
    project = load_project(tmp_path, Report())
    for policy in POLICIES:
        assert 3000 <= words(resolve(project, "plain-school", policy, Report())) <= 5000, policy


@pytest.mark.parametrize("org,policy", CASES, ids=[f"{o}-{p}" for o, p in CASES])
def test_no_two_clauses_share_a_title(org, policy):
    titles = collections.Counter(n.title for n in DOCS[org, policy].walk() if n.title and n.kind == "clause")
    assert [t for t, c in titles.items() if c > 1] == []


CITATION = re.compile(r"\b(?:Act|Regulations|Order) (?:19|20)\d\d\b|\[(?:19|20)\d\d\] [A-Z]+ \w+ \d+"
                      r"|\bs\.\s?\d+|\bsection \d+ of\b|\bKeeping Children Safe in Education\b")


@pytest.mark.parametrize("org,policy", CASES, ids=[f"{o}-{p}" for o, p in CASES])
def test_sources_are_cited_in_guidance_not_in_the_policy_text(org, policy):
    doc = DOCS[org, policy]
    assert CITATION.findall(text_of(doc)) == []
    assert any(CITATION.search(n.guidance or "") for n in doc.walk()), "the advisers' notes cite the law"


def test_the_law_of_2026_is_in_the_notes():
    notes = " ".join(" ".join((n.guidance or "").split()) for p in POLICIES for n in PROJECT.policies[p].walk())
    for source in ("Online Safety Act 2023, s.179", "s.181", "Higgs v Farmor's School [2025] EWCA Civ 109",
                   "Employment Rights Act 2025", "Data (Use and Access) Act 2025", "ss.164A-164B",
                   "SI 2018/356", "national security", "Computer Misuse Act 1990", "Safeguarding Vulnerable Groups Act 2006",
                   "Working Together to Safeguard Children 2023", "Equality Act 2010"):
        assert source in notes, source


@pytest.mark.parametrize("org", ["northshire-county-council", "porthaven-city-council", "kestrel-learning-trust"])
def test_council_and_trust_copies_read_for_the_adopting_school(org):
    name = PROJECT.organisations[org].name
    for policy in PROJECT.published(org):
        text = text_of(DOCS[org, policy])
        assert "the school or academy that adopts this" in text
        assert not re.search(rf"works? (?:at|for) {re.escape(name)}", text, re.I)
        assert not re.search(rf"the school means {re.escape(name)}", text, re.I)
        assert not re.search(r"the employer\W+the employer", text, re.I)


def test_protocol_copies_call_themselves_protocols():
    text = text_of(DOCS["porthaven-city-council", "social-media"])
    assert "this protocol" in text and "this policy" not in text


def test_the_declaration_names_the_policy_as_the_organisation_titles_it():
    doc = DOCS["northshire-county-council", "acceptable-use"]
    declaration = doc.by_id()["aup-user-declaration"].text
    assert doc.title == "Staff acceptable use and social media policy"
    assert doc.title in declaration and "Staff acceptable use of ICT policy" not in declaration


def test_nursery_copies_speak_of_children():
    for policy in PROJECT.published("little-acorns-nursery-school"):
        text = text_of(DOCS["little-acorns-nursery-school", policy])
        assert not re.search(r"\bpupils?\b", text, re.I), policy
        assert "children" in text


def test_allegations_about_the_head_go_where_the_organisation_says():
    for (org, policy), doc in DOCS.items():
        root = PROJECT.chain(org)[0].id
        expect = {"kestrel-learning-trust": "Chief Executive Officer",
                  "saltmarsh-federation": "Executive Headteacher"}.get(root, "Chair of Governors")
        duty = doc.by_id()["allegations-duty-to-report"].text
        assert f"report it to the {expect} instead" in duty, (org, policy)
