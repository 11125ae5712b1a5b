"""Untrusted input (issue 8): files that are not ordinary files, links out of the project, logos,
and names that imitate other names. The YAML and character reproducers are in the bad-input
corpus (tests/bad_inputs/cases/sec-input-*.yaml); these need the file system or a unit."""
import datetime as dt
import io
import os
import shutil
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from policypack.cli import main
from policypack.load import check_logo, read_regular
from policypack.names import NameFinder, bad_char, invisible_char, skeleton
from policypack.resolve import add_months

BASE = Path(__file__).parent / "bad_inputs" / "base"
SECRET = "SECRET-7f3a-do-not-read"


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(BASE, root)
    return root


@pytest.fixture
def no_hang():
    """Fail, rather than hang the suite, if reading blocks (a FIFO opened the ordinary way does)."""
    def alarm(*_):
        raise TimeoutError("reading blocked")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def check(root: Path):
    result = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


def outside_file(tmp_path: Path) -> Path:
    target = tmp_path / "outside.yaml"
    target.write_text(f"organisation:\n  id: {SECRET}\n  name: {SECRET}\n  kind: school\n", encoding="utf-8")
    return target


# ---- files in schools/ and policy_src/ ----------------------------------------------------------

def test_a_folder_named_like_a_school_file(project):
    (project / "schools" / "folder.yaml").mkdir()
    code, out = check(project)
    assert code == 1
    assert "schools/folder.yaml: error: this is a folder, not a file" in out


def test_a_dangling_link(project):
    os.symlink("missing.yaml", project / "schools" / "gone.yaml")
    code, out = check(project)
    assert code == 1
    assert "schools/gone.yaml: error: the file is a symbolic link to nothing" in out


def test_a_link_loop(project):
    os.symlink("loop-b.yaml", project / "schools" / "loop-a.yaml")
    os.symlink("loop-a.yaml", project / "schools" / "loop-b.yaml")
    code, out = check(project)
    assert code == 1
    assert "schools/loop-a.yaml: error: the file is a symbolic link that goes round in a loop" in out
    assert "schools/loop-b.yaml: error: the file is a symbolic link that goes round in a loop" in out


@pytest.mark.parametrize("folder", ["schools", "policy_src"])
def test_a_link_out_of_the_folder_is_not_followed(project, tmp_path, folder):
    os.symlink(outside_file(tmp_path), project / folder / "evil.yaml")
    code, out = check(project)
    assert code == 1
    assert f"{folder}/evil.yaml: error: the file is a symbolic link to something outside {folder}/" in out
    assert SECRET not in out


def test_a_link_to_dev_zero_is_refused_unread(project, no_hang):
    os.symlink("/dev/zero", project / "schools" / "zero.yaml")
    code, out = check(project)
    assert code == 1
    assert "schools/zero.yaml: error: the file is a symbolic link to something outside schools/" in out


def test_a_device_is_refused_before_reading(no_hang):
    data, problem = read_regular(Path("/dev/zero"), Path("/dev"), 100)
    assert data is None
    assert problem[0] == "this is not a regular file (it is a device, a pipe or a socket)"


def test_a_fifo_does_not_hang(project, no_hang):
    os.mkfifo(project / "schools" / "pipe.yaml")
    code, out = check(project)
    assert code == 1
    assert "schools/pipe.yaml: error: this is not a regular file (it is a device, a pipe or a socket)" in out


def test_a_huge_file_is_refused_from_its_size(project):
    with open(project / "schools" / "huge.yaml", "wb") as f:
        f.truncate(6_000_000)  # sparse: refused from fstat, never read
    code, out = check(project)
    assert code == 1
    assert "schools/huge.yaml: error: the file is larger than 5 MB" in out


def test_reading_stops_at_the_limit(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_bytes(b"x" * 101)
    assert read_regular(path, tmp_path, 100) == (None, ("the file is larger than 100 bytes",
                                                        "Make it smaller, or split it."))
    assert read_regular(path, tmp_path, 101) == (b"x" * 101, None)


def test_a_link_inside_the_folder_is_followed(project):
    shared = project / "schools" / "shared"
    shared.mkdir()
    (project / "schools" / "demo-school.yaml").rename(shared / "demo-school.yaml")
    os.symlink("shared/demo-school.yaml", project / "schools" / "demo-school.yaml")
    code, out = check(project)
    assert code == 0, out


# ---- logos and template folders -----------------------------------------------------------------

def with_branding(root: Path, key: str, value: str) -> None:
    path = root / "schools" / "demo-school.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  numbering: decimal\n", f"  numbering: decimal\n  branding:\n    {key}: {value}\n"),
                    encoding="utf-8")


def test_a_logo_linked_out_of_schools_is_refused(project, tmp_path):
    target = tmp_path / "logo.svg"
    target.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>', encoding="utf-8")
    (project / "schools" / "assets").mkdir()
    os.symlink(target, project / "schools" / "assets" / "logo.svg")
    with_branding(project, "logo", "assets/logo.svg")
    code, out = check(project)
    assert code == 1
    assert ("schools/demo-school.yaml:8: error: branding logo 'assets/logo.svg': the file is a symbolic link to "
            "something outside schools/") in out


def test_a_logo_path_through_a_linked_folder_is_refused(project, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>',
                                                     encoding="utf-8")
    os.symlink(tmp_path / "elsewhere", project / "schools" / "linked")
    with_branding(project, "logo", "linked/logo.svg")
    code, out = check(project)
    assert code == 1
    assert ("schools/demo-school.yaml:8: error: branding logo 'linked/logo.svg': the path goes through a symbolic "
            "link to something outside schools/") in out


def test_a_template_folder_linked_outside_is_refused(project, tmp_path):
    (tmp_path / "tpl").mkdir()
    (project / "schools" / "templates").mkdir()
    os.symlink(tmp_path / "tpl", project / "schools" / "templates" / "demo-school")
    with_branding(project, "templates", "templates/demo-school")
    code, out = check(project)
    assert code == 1
    assert ("schools/demo-school.yaml:8: error: branding templates 'templates/demo-school': the folder is a symbolic "
            "link to somewhere outside schools/") in out


def test_a_template_folder_holding_a_fifo(project, no_hang):
    folder = project / "schools" / "templates" / "demo-school"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "policy.html.j2")
    with_branding(project, "templates", "templates/demo-school")
    code, out = check(project)
    assert code == 1
    assert ("schools/demo-school.yaml:8: error: branding templates 'templates/demo-school': 'policy.html.j2' is not "
            "a regular file") in out


def test_a_template_folder_holding_a_link_out_warns(project, tmp_path):
    """The template loader never follows it (a template that uses it fails alone, at build)."""
    folder = project / "schools" / "templates" / "demo-school"
    folder.mkdir(parents=True)
    os.symlink(outside_file(tmp_path), folder / "extra.j2")
    with_branding(project, "templates", "templates/demo-school")
    code, out = check(project)
    assert code == 0, out
    assert ("schools/demo-school.yaml:8: warning: branding templates 'templates/demo-school': 'extra.j2' is a "
            "symbolic link to something outside the folder (or to nothing), so it will not be read") in out
    assert SECRET not in out


def test_good_logos_pass():
    from PIL import Image
    for fmt, suffix in (("PNG", ".png"), ("JPEG", ".jpg")):
        buf = io.BytesIO()
        Image.new("RGB", (20, 10), "navy").save(buf, fmt)
        assert check_logo(buf.getvalue(), suffix) is None
    for shipped in sorted((Path(__file__).parent.parent / "schools" / "assets").glob("*.svg")):
        assert check_logo(shipped.read_bytes(), ".svg") is None, shipped


@pytest.mark.parametrize("svg, problem", [
    ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 -5 10"/>',
     "its viewBox '0 0 -5 10' is not four numbers with a positive width and height"),
    ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 nan 10"/>',
     "its viewBox '0 0 nan 10' is not four numbers with a positive width and height"),
    ('<svg xmlns="http://www.w3.org/2000/svg" width="0"/>', "its width '0' is not a positive length"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(x.css);</style></svg>',
     "its style imports another file"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(http://example.org/p)"/></svg>',
     "it refers to 'http://example.org/p' outside itself"),
    ('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "it has an event handler (onload)"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "it holds a <script> element"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><rect', "the SVG is not well-formed XML"),
])
def test_bad_svg(svg, problem):
    assert check_logo(svg.encode(), ".svg").startswith(problem)


def test_a_truncated_png():
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (20, 10), "navy").save(buf, "PNG")
    assert check_logo(buf.getvalue()[:30], ".png").startswith("the image cannot be read")


# ---- characters and names -----------------------------------------------------------------------

def test_key_escape_does_not_reach_the_terminal(project):
    path = project / "schools" / "demo-school.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  numbering: decimal\n", '  numbering: decimal\n  "\\e[2Kok: clean": 1\n'),
                    encoding="utf-8")
    code, out = check(project)
    assert code == 1
    assert "schools/demo-school.yaml:7: error: a key holds the character U+001B" in out
    assert "\x1b" not in out


@pytest.mark.parametrize("text, found", [
    ("x\x01", "\x01"), ("\x0b", "\x0b"), ("\ufffe", "\ufffe"), ("\uffff", "\uffff"), ("a\ud800", "\ud800"),
    ("\x1b[31m", "\x1b"), ("\x7f", "\x7f"), ("\x9b", "\x9b"), ("tab\tnew\nline\r", None), ("caf\u00e9 \u2019", None),
])
def test_bad_char(text, found):
    assert (bad_char(text) or (None, None))[1] == found


@pytest.mark.parametrize("disguise", [
    "Brookfield Primary School",
    "brookfield primary school",
    "BROOKFIELD PRIMARY SCHOOL",
    "Brookfield Primary\u200b School",  # zero-width space
    "Brook\u00adfield Primary School",  # soft hyphen
    "Brookfield\u00a0Primary  School",  # no-break space, two spaces
    "Brookfield\nPrimary School",  # a line break in Markdown source
    "\u202eBrookfield Primary School\u202c",  # bidi override
    "\ufeffBrookfield Primary School",  # byte-order mark
    "Br\u043e\u043ekfield Primary School",  # Cyrillic o
    "Brookf\u0456eld Pr\u0456mary School",  # Cyrillic i
    "BrookfieId Primary School",  # capital I for l
    "\uff22rookfield Primary School",  # fullwidth B
    "\u0392rookfield Primary School",  # Greek capital beta
])
def test_disguised_names_have_one_skeleton(disguise):
    assert skeleton(disguise) == skeleton("Brookfield Primary School")


def test_different_names_have_different_skeletons():
    names = ["Brookfield Primary School", "Brookfield Infant School", "Kestrel Park Academy",
             "Kestrel Learning Trust", "Saltmarsh Infant School", "Saltmarsh Junior School"]
    assert len({skeleton(n) for n in names}) == len(names)


def test_invisible_char():
    assert invisible_char("Demo\u2066 School") == "\u2066"
    assert invisible_char("Ysgol Gymraeg Bro\u0175") is None


def test_names_are_found_however_written_in_one_pass():
    finder = NameFinder([f"The Bench School {n:04d}" for n in range(2000)] + ["The Bench School"], min_length=4)
    text = ("The staff of the school report to the Headteacher. " * 200
            + "Ask THE BENCH\u00a0SCH\u041eOL 0042 or the bench\u200b school today.")
    assert list(finder.find(text)) == ["The Bench School 0042", "The Bench School"]


def test_add_months_never_raises():
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(9999, 12, 31), 12) == dt.date.max
    assert add_months(dt.date(1, 1, 1), -1) == dt.date.min


def _lines(value):
    """A read value with the line of every key, item and string, to compare two readings."""
    from policypack.yamlread import LList, LMap
    if isinstance(value, LMap):
        return ("map", value.line, [(k, value.line_of(k), _lines(v)) for k, v in value.items()])
    if isinstance(value, LList):
        return ("list", value.line, list(value.item_lines), [_lines(v) for v in value])
    return (type(value).__name__, value, getattr(value, "line", None))


def test_libyaml_and_pyyaml_read_every_shipped_file_alike(monkeypatch):
    """libyaml composes when it can (about 5x faster); what it gives must equal PyYAML's reading,
    lines included, for every file we ship, and deep nesting must never reach its C recursion."""
    import policypack.yamlread as yamlread
    from policypack.errors import Report
    root = Path(__file__).resolve().parent.parent
    files = sorted((root / "schools").rglob("*.yaml")) + sorted((root / "policy_src").rglob("*.yaml"))
    monkeypatch.setattr(yamlread, "_FAST", False)
    pure = [_lines(yamlread.read_yaml(f.read_text(encoding="utf-8"), f.name, Report())) for f in files]
    monkeypatch.setattr(yamlread, "_FAST", True)
    assert [_lines(yamlread.read_yaml(f.read_text(encoding="utf-8"), f.name, Report())) for f in files] == pure
    deep = "a: " + "[" * 100_000 + "]" * 100_000 + "\n"
    report = Report()
    assert yamlread.read_yaml(deep, "deep.yaml", report) is None
    assert "nested more than" in report.errors[0].message
