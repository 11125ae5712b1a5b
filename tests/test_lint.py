"""The lint rules (policypack.lint): what they flag, on which line, and what they leave alone."""
import pytest

from policypack.errors import Loc, Report
from policypack.lint import lint_text


def warnings(text, leaf=True):
    report = Report()
    lint_text(text, Loc("schools/x.yaml", 10), "clause 'c'", leaf, report)
    assert not report.errors
    return [p.format().splitlines()[0] for p in report.warnings]


@pytest.mark.parametrize("text, found", [
    ("Ask [Insert name of school] first.", "'[Insert name of school]' is a placeholder"),
    ("Ask [name of headteacher] first.", "'[name of headteacher]' is a placeholder"),
    ("Call <<phone number>>.", "'<<phone number>>' is a placeholder"),
    ("This model policy applies to all staff.", "'model policy' is left over"),
    ("DRAFT for consultation", "'DRAFT' is left over"),
    ("See paragraph 4.2 for more.", "'paragraph 4.2' is a paragraph number typed by hand"),
    ("as set out in para. 12", "'para. 12' is a paragraph number typed by hand"),
    ("under section 3.1 above", "'section 3.1' is a paragraph number typed by hand"),
    ("the form in Appendix B", "'Appendix B' is a paragraph number typed by hand"),
    ("see clause 5(b)", "'clause 5(b)' is a paragraph number typed by hand"),
])
def test_each_rule_flags_its_mistake(text, found):
    got = warnings(text)
    assert len(got) == 1 and found in got[0], got


def test_the_warning_is_on_the_line_of_the_mistake():
    assert warnings("First line.\nSecond line.\nSee paragraph 7 there.")[0].startswith(
        "schools/x.yaml:12: warning: 'paragraph 7'")


@pytest.mark.parametrize("text", [
    "Under section 170 of the Data Protection Act 2018 it is an offence.",  # a statute, not our numbering
    "See {{ ref('who-to-tell') }} for who to tell.",  # ref() renders the number: not typed by hand
    "Staff draft a reply and check it with a colleague.",
    "Write your name here: ______________________",  # a form's writing line
    "Section headings are in bold.",
])
def test_ordinary_text_is_left_alone(text):
    assert warnings(text) == []


def test_a_model_or_trust_may_leave_placeholders_for_its_schools():
    assert warnings("Ask [Insert name of school].", leaf=False) == []
    assert warnings("See paragraph 4.2.", leaf=False)  # a typed number is wrong at every layer
