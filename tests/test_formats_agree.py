"""The PDF and the DOCX of a policy show the same paragraph numbers, in the same order.

The PDF is read with pdftotext; the DOCX is laid out by LibreOffice and read the same way. One
shipped organisation per numbering style.
"""
from pathlib import Path

import pytest
from click.testing import CliRunner

from policypack.cli import main
from tests.helpers import pdf_paragraph_numbers
from tests.helpers_docx import docx_paragraph_numbers

ROOT = Path(__file__).resolve().parent.parent
CASES = [  # (organisation, policy, numbering style)
    ("saltmarsh-junior-school", "social-media", "decimal"),
    ("little-acorns-nursery-school", "social-media", "decimal-dot"),
    ("kestrel-park-academy", "social-media", "decimal-alpha"),
    ("willowbank-primary-school", "social-media", "flat"),
]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("agree")
    args = ["build", "--root", str(ROOT), "--out", str(out), "--format", "pdf,docx"]
    for org, _, _ in CASES:
        args += ["--school", org]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("org,policy,style", CASES, ids=[c[2] for c in CASES])
def test_pdf_and_docx_number_paragraphs_alike(out, org, policy, style):
    from_pdf = pdf_paragraph_numbers(out / org / f"{policy}.pdf")
    from_docx = docx_paragraph_numbers(out / org / f"{policy}.docx")
    assert len(from_pdf) > 100
    assert from_pdf == from_docx
