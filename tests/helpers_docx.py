"""Reading a DOCX the way a reader sees it: LibreOffice lays it out as PDF, poppler reads the PDF."""
import shutil
import subprocess
import tempfile
from pathlib import Path

from policypack.render.docx import convert_to_pdf
from tests.helpers import pdf_paragraph_numbers


def docx_to_pdf(docx_path, folder) -> Path:
    """LibreOffice's PDF of a DOCX, written in `folder`."""
    return convert_to_pdf(Path(docx_path).read_bytes(), Path(folder))


def docx_paragraph_numbers(docx_path, stop_at: str = "", start_at: str = "") -> list:
    """The clause numbers (margin labels) of a DOCX in reading order, as LibreOffice lays it out,
    read exactly as `pdf_paragraph_numbers` reads the PDF writer's output, so the two compare."""
    with tempfile.TemporaryDirectory() as tmp:
        return pdf_paragraph_numbers(docx_to_pdf(docx_path, tmp), stop_at, start_at)


# LibreOffice's own Accept All / Reject All: a Basic macro in a private profile opens the DOCX hidden,
# dispatches the command and saves the result as DOCX (headless LibreOffice has no option for it)
_RESOLVE_MACRO = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
Sub Resolve(inUrl As String, outUrl As String, command As String)
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = &quot;Hidden&quot;
  load(0).Value = True
  doc = StarDesktop.loadComponentFromURL(inUrl, &quot;_blank&quot;, 0, load())
  Dim none() As New com.sun.star.beans.PropertyValue
  createUnoService(&quot;com.sun.star.frame.DispatchHelper&quot;).executeDispatch( _
    doc.CurrentController.Frame, command, &quot;&quot;, 0, none())
  Dim save(0) As New com.sun.star.beans.PropertyValue
  save(0).Name = &quot;FilterName&quot;
  save(0).Value = &quot;MS Word 2007 XML&quot;
  doc.storeToURL(outUrl, save())
  doc.close(True)
  StarDesktop.terminate()
End Sub
</script:module>
"""


def libreoffice_resolve(docx_bytes: bytes, accept: bool, folder) -> bytes:
    """The DOCX after LibreOffice's Accept All (or Reject All) tracked changes."""
    folder = Path(folder)
    profile = folder / "lo-macro-profile"
    soffice = [shutil.which("soffice") or "soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
               "--norestore"]
    module = profile / "user" / "basic" / "Standard" / "Module1.xba"
    if not module.exists() or "Sub Resolve" not in module.read_text():
        subprocess.run(soffice + ["--terminate_after_init"], check=True, capture_output=True, timeout=180)
        module.write_text(_RESOLVE_MACRO)
    src, out = folder / "tracked.docx", folder / "resolved.docx"
    src.write_bytes(docx_bytes)
    out.unlink(missing_ok=True)
    command = ".uno:AcceptAllTrackedChanges" if accept else ".uno:RejectAllTrackedChanges"
    macro = f'macro:///Standard.Module1.Resolve("{src.as_uri()}","{out.as_uri()}","{command}")'
    subprocess.run(soffice + [macro], check=True, capture_output=True, timeout=180)
    if not out.exists():
        raise RuntimeError("LibreOffice wrote no DOCX")
    return out.read_bytes()
