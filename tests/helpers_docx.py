"""Reading a DOCX the way a reader sees it: LibreOffice lays it out as PDF, poppler reads the PDF."""
import tempfile
from pathlib import Path

from policypack.render.docx import convert_to_pdf
from tests.helpers import pdf_paragraph_numbers


def docx_to_pdf(docx_path, folder) -> Path:
    """LibreOffice's PDF of a DOCX, written in `folder`."""
    return convert_to_pdf(Path(docx_path).read_bytes(), Path(folder))


def docx_paragraph_numbers(docx_path, stop_at: str = "") -> list:
    """The clause numbers (margin labels) of a DOCX in reading order, as LibreOffice lays it out,
    read exactly as `pdf_paragraph_numbers` reads the PDF writer's output, so the two compare."""
    with tempfile.TemporaryDirectory() as tmp:
        return pdf_paragraph_numbers(docx_to_pdf(docx_path, tmp), stop_at)
