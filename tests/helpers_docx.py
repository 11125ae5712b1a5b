"""Reading a DOCX the way a reader sees it: LibreOffice lays it out as PDF, poppler reads the PDF."""
import atexit
import shutil
import subprocess
import tempfile
from pathlib import Path

from policypack.numbering import alpha, roman
from policypack.render.docx import convert_to_pdf
from tests.helpers import pdf_paragraph_numbers


def docx_to_pdf(docx_path, folder) -> Path:
    """LibreOffice's PDF of a DOCX, written in `folder`."""
    return convert_to_pdf(Path(docx_path).read_bytes(), Path(folder))


_LAID_OUT: dict = {}  # (path, size, mtime) -> LibreOffice's PDF of it, kept for the test session


def laid_out(docx_path) -> Path:
    """LibreOffice's PDF of a DOCX, converted once per test session (several tests read the
    shipped DOCX files' layout)."""
    path = Path(docx_path).resolve()
    stat = path.stat()
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _LAID_OUT:
        folder = Path(tempfile.mkdtemp(prefix="laid-out-"))
        atexit.register(shutil.rmtree, folder, True)
        _LAID_OUT[key] = docx_to_pdf(path, folder)
    return _LAID_OUT[key]


def docx_paragraph_numbers(docx_path, stop_at: str = "", start_at: str = "") -> list:
    """The clause numbers (margin labels) of a DOCX in reading order, as LibreOffice lays it out,
    read exactly as `pdf_paragraph_numbers` reads the PDF writer's output, so the two compare."""
    return pdf_paragraph_numbers(laid_out(docx_path), stop_at, start_at)


# LibreOffice's own Accept All / Reject All, and a search-and-replace with changes recorded: a Basic
# macro in a private profile opens the DOCX hidden, does it and saves the result as DOCX (headless
# LibreOffice has no option for either)
_RESOLVE_MACRO = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
Function OpenHidden(inUrl As String)
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = &quot;Hidden&quot;
  load(0).Value = True
  OpenHidden = StarDesktop.loadComponentFromURL(inUrl, &quot;_blank&quot;, 0, load())
End Function

Sub SaveDocx(doc, outUrl As String)
  Dim save(0) As New com.sun.star.beans.PropertyValue
  save(0).Name = &quot;FilterName&quot;
  save(0).Value = &quot;MS Word 2007 XML&quot;
  doc.storeToURL(outUrl, save())
  doc.close(True)
  StarDesktop.terminate()
End Sub

Sub Resolve(inUrl As String, outUrl As String, command As String)
  doc = OpenHidden(inUrl)
  Dim none() As New com.sun.star.beans.PropertyValue
  createUnoService(&quot;com.sun.star.frame.DispatchHelper&quot;).executeDispatch( _
    doc.CurrentController.Frame, command, &quot;&quot;, 0, none())
  SaveDocx(doc, outUrl)
End Sub

Sub Replace(inUrl As String, outUrl As String, find As String, instead As String)
  doc = OpenHidden(inUrl)
  doc.RecordChanges = True
  search = doc.createReplaceDescriptor()
  search.SearchString = find
  search.ReplaceString = instead
  doc.replaceAll(search)
  SaveDocx(doc, outUrl)
End Sub
</script:module>
"""


def libreoffice_resolve(docx_bytes: bytes, accept: bool, folder) -> bytes:
    """The DOCX after LibreOffice's Accept All (or Reject All) tracked changes."""
    command = ".uno:AcceptAllTrackedChanges" if accept else ".uno:RejectAllTrackedChanges"
    return _libreoffice_macro(docx_bytes, folder, "Resolve", command)


def libreoffice_replace(docx_bytes: bytes, find: str, instead: str, folder) -> bytes:
    """The DOCX after LibreOffice, recording changes, replaces every `find` by `instead` and saves it
    as DOCX (a school editing its policy in LibreOffice)."""
    return _libreoffice_macro(docx_bytes, folder, "Replace", find, instead)


def _libreoffice_macro(docx_bytes: bytes, folder, sub: str, *args: str) -> bytes:
    """Run `sub` of _RESOLVE_MACRO on the DOCX in a private profile; the DOCX it saves."""
    folder = Path(folder)
    profile = folder / "lo-macro-profile"
    soffice = [shutil.which("soffice") or "soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
               "--norestore"]
    module = profile / "user" / "basic" / "Standard" / "Module1.xba"
    if not module.exists() or "Sub Replace" not in module.read_text():
        subprocess.run(soffice + ["--terminate_after_init"], check=True, capture_output=True, timeout=180)
        module.write_text(_RESOLVE_MACRO)
    src, out = folder / "tracked.docx", folder / "resolved.docx"
    src.write_bytes(docx_bytes)
    out.unlink(missing_ok=True)
    quoted = ",".join('"' + a.replace('"', '""') + '"' for a in (src.as_uri(), out.as_uri()) + args)
    subprocess.run(soffice + [f"macro:///Standard.Module1.{sub}({quoted})"], check=True, capture_output=True,
                   timeout=180)
    if not out.exists():
        raise RuntimeError("LibreOffice wrote no DOCX")
    return out.read_bytes()


# ---- the text of a DOCX as Word shows it: numbering applied ------------------------------------------
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


_NUM_FORMATS = {"decimal": str, "decimalZero": lambda n: f"{n:02d}", "lowerLetter": alpha,
                "upperLetter": lambda n: alpha(n).upper(), "lowerRoman": roman,
                "upperRoman": lambda n: roman(n).upper(), "none": lambda n: "", "bullet": lambda n: ""}


def word_paragraphs(docx_path, tables: bool = True) -> list:
    """The text of every body paragraph (in tables too, unless `tables` is False: then the
    document's own paragraphs, as python-docx's Document.paragraphs), with the number Word
    puts before it: its w:numPr (or its style's) read through numbering.xml, counting as Word
    counts (w:start, w:startOverride, w:lvlRestart, w:suff). Independent of the writer's code."""
    import zipfile
    from lxml import etree
    with zipfile.ZipFile(docx_path) as z:
        body = etree.fromstring(z.read("word/document.xml"))
        numbering = etree.fromstring(z.read("word/numbering.xml"))
        styles = etree.fromstring(z.read("word/styles.xml"))
    val = lambda el, tag: (el.find(_W + tag).get(_W + "val") if el is not None and el.find(_W + tag) is not None  # noqa: E731
                           else None)
    abstract = {a.get(_W + "abstractNumId"): {int(lv.get(_W + "ilvl")): lv for lv in a.iter(_W + "lvl")}
                for a in numbering.iter(_W + "abstractNum")}
    nums = {n.get(_W + "numId"): n for n in numbering.iter(_W + "num")}
    style_num = {}
    for st in styles.iter(_W + "style"):
        pr = st.find(f"{_W}pPr/{_W}numPr")
        if pr is not None:
            style_num[st.get(_W + "styleId")] = (val(pr, "numId"), int(val(pr, "ilvl") or 0))
    counts: dict = {}
    out = []
    for p in body.iter(_W + "p"):
        text = "".join("\t" if x.tag == _W + "tab" else x.text or "" for r in p.iter(_W + "r") for x in r
                       if x.tag in (_W + "t", _W + "tab"))
        ppr = p.find(_W + "pPr")
        pr = ppr.find(_W + "numPr") if ppr is not None else None
        where = (val(pr, "numId"), int(val(pr, "ilvl") or 0)) if pr is not None else style_num.get(
            val(ppr, "pStyle") if ppr is not None else None)
        if where and where[0] not in (None, "0") and where[0] in nums:
            num_id, ilvl = where
            num = nums[num_id]
            levels = abstract[val(num, "abstractNumId")]
            if num_id not in counts:
                counts[num_id] = {i: int(val(lv, "start") or 1) - 1 for i, lv in levels.items()}
                for over in num.iter(_W + "lvlOverride"):
                    start = val(over, "startOverride")
                    if start is not None:
                        counts[num_id][int(over.get(_W + "ilvl"))] = int(start) - 1
            c = counts[num_id]
            c[ilvl] += 1
            for deeper, lv in levels.items():
                if deeper > ilvl and val(lv, "lvlRestart") != "0":
                    c[deeper] = int(val(lv, "start") or 1) - 1
            lv = levels[ilvl]
            label = val(lv, "lvlText") or ""
            for d in range(len(levels), 0, -1):
                label = label.replace(f"%{d}", _NUM_FORMATS[val(levels[d - 1], "numFmt")](max(c[d - 1], 1)))
            text = label + {"tab": "\t", "space": " ", "nothing": ""}[val(lv, "suff") or "tab"] + text
        if tables or p.getparent().tag == _W + "body":
            out.append(text)
    return out
