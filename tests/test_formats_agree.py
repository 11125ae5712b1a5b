"""The PDF and the DOCX of every shipped policy show the same paragraph numbers, in the same order.

The PDF is read with pdftotext; the DOCX is laid out by LibreOffice and read the same way.
"""
from pathlib import Path

import pytest

from policypack import numbering
from policypack.errors import Report
from policypack.load import load_project
from policypack.model import NUMBERING_STYLES
from policypack.resolve import resolve
from tests.helpers import pdf_paragraph_numbers
from tests.helpers_docx import docx_paragraph_numbers

ROOT = Path(__file__).resolve().parent.parent
PROJECT = load_project(ROOT, Report())
DOCS = {(o, p): resolve(PROJECT, o, p, Report()) for o in sorted(PROJECT.organisations) for p in PROJECT.published(o)}
CASES = [(o, p, doc.numbering) for (o, p), doc in DOCS.items()]


def test_every_numbering_style_is_shipped():
    """The built-in styles, and Thornvale's scheme of its own (defined in its YAML), so the formats
    are compared on a scheme that no code defines."""
    assert {style for _, _, style in CASES} == set(NUMBERING_STYLES) | {"thornvale-sections"}
    assert "thornvale-sections" not in numbering.SCHEMES


@pytest.fixture(scope="module")
def out(shipped):
    return shipped


@pytest.mark.parametrize("org,policy,style", CASES, ids=[f"{o}-{p}" for o, p, _ in CASES])
def test_pdf_and_docx_number_paragraphs_alike(out, org, policy, style):
    # a table of changes has numbers in its cells, laid out differently by each engine: stop there
    # (a version history placed at the front leaves no such appendix)
    stop = next((n.heading for n in DOCS[org, policy].appendices if n.generated), "")
    # and start at the contents: a version history at the front has version numbers in its cells
    from_pdf = pdf_paragraph_numbers(out / org / f"{policy}.pdf", stop, start_at="Contents")
    from_docx = docx_paragraph_numbers(out / org / f"{policy}.docx", stop, start_at="Contents")
    assert len(from_pdf) > 50  # every shipped policy has more numbered paragraphs than this
    assert from_pdf == from_docx
