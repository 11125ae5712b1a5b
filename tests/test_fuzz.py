"""Property-based fuzz test (issue 8): whatever a school, a model author or a template override
writes, policypack answers with a message, never a traceback, a hang or a runaway, writes nothing
outside --out, and puts no active content into the HTML.

Hypothesis mutates real files -- the bad-input corpus' small project (tests/bad_inputs/base, with a
template override added) and the shipped examples (schools/, policy_src/, templates/): it deletes,
duplicates, swaps and re-indents lines, splices in hostile YAML scalars and Jinja snippets, breaks
the UTF-8. Deterministic sweeps add what a random draw might miss: every hostile value and template
snippet once, and each source file replaced by a folder, a link or a FIFO. Each example runs the
command line in-process (click's CliRunner) in a forked child, so that

* a hang, even one inside C code such as a huge `**`, is killed after TIMEOUT seconds and fails
  the example (the child's Python stack at that moment, from faulthandler, says where it hung);
* memory and file size are capped (RLIMIT_AS, RLIMIT_FSIZE), so a runaway fails the example
  instead of the machine;
* the mutated project folder is the child's working directory, and everything around --out is
  compared before and after.

What must hold, for `check` and then `build --format html`: no traceback and no exception out of
the command, no message owning up to "a fault in policypack" (its catch-alls), exit status 0, 1 or
2 (1 with an error message), no output file over 50 MB, nothing created or changed outside --out, no script, event handler,
javascript: URL, frame or object in any HTML page (unless the project's own templates/ were
edited: those are trusted), and a project that `check` passes builds.

CI runs a fixed, derandomized set of examples (under a minute on two cores). Run more locally:

    POLICYPACK_FUZZ_EXAMPLES=2000 .venv/bin/pytest -q tests/test_fuzz.py

(the number is the `check` examples; the build and shipped-project tests scale with it). With
POLICYPACK_FUZZ_LOG=failures.jsonl every failing example is appended to that file, one JSON object
per line (signature, the edits as a diff, the output), and the run carries on instead of stopping
at the first failure: use it to list every distinct bug a long run finds, then
`python tests/test_fuzz.py failures.jsonl` prints each distinct failure once, with its smallest
reproducer. POLICYPACK_FUZZ_RANDOM=1 draws new examples instead of CI's fixed ones.
"""
from __future__ import annotations

import difflib
import faulthandler
import json
import os
import pickle
import re
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from policypack.cli import main

REPO = Path(__file__).resolve().parent.parent
BASE = Path(__file__).parent / "bad_inputs" / "base"

TIMEOUT = float(os.environ.get("POLICYPACK_FUZZ_TIMEOUT", "10"))  # seconds per command
EXAMPLES = int(os.environ.get("POLICYPACK_FUZZ_EXAMPLES", "0")) or None
LOG = os.environ.get("POLICYPACK_FUZZ_LOG")
RANDOM = bool(os.environ.get("POLICYPACK_FUZZ_RANDOM"))  # new examples each run, not CI's fixed ones
MAX_OUTPUT_FILE = 50 * 2**20  # no page of a policy pack is anywhere near 50 MB
EXIT_CODES = {0, 1, 2}

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the fuzz harness forks a child per example")


def _examples(default: int) -> int:
    """CI's count, or POLICYPACK_FUZZ_EXAMPLES scaled to this test (the check test's share is 1)."""
    return default if EXAMPLES is None else max(1, EXAMPLES * default // 150)


def fuzz_settings(default: int):
    return settings(max_examples=_examples(default), deadline=None,  # the fork's TIMEOUT bounds time,
                    derandomize=not RANDOM, database=None, print_blob=False,  # not a flaky wall clock
                    suppress_health_check=list(HealthCheck))


# --------------------------------------------------------------------------------------------
# Hostile material
# --------------------------------------------------------------------------------------------

# YAML scalars as written in a file (escapes are YAML's, so "\x01" is a control character).
HOSTILE_YAML = [
    r'"\x01"', r'"\v"', r'"\x00"', r'"\ud800"', r'"\uFFFE"', r'"\e[2K\rok: all clean\e[0m"',
    r'"Demo\u200b Primary School"', r'"\u202eloohcS yramirP"', r'"Demo Primary School"', r'"DEMO PRIMARY SCHOOL"',
    "1" + "9" * 5000, "-" + "9" * 40, "1e999", ".nan", "-.inf", "0x1F", "0o17", "1_000", "2.5",
    "9999-12-31", "0001-01-01", "2025-02-30", "2025-13-01", "2025-05-16T10:00:00Z", "12:30:00",
    "[" * 1000 + "]" * 1000, "{a: " * 300 + "1" + "}" * 300, "&a [*a]", "*nope", "&x " + "x" * 2000,
    '!!python/object/apply:os.system ["true"]', "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]",
    "!<tag:yaml.org,2002:str> tagged", "!local thing",
    '"{{ 9**99999 }}"', '"{{ 9**999999999 }}"', '"{{ x * 10**9 }}"', '"{{ head * 100000000 }}"',
    "\"{{ 'a' * 10**9 }}\"", "'{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}'",
    '"{{ ' + "(" * 500 + "1" + ")" * 500 + ' }}"', '"{{ 1/0 }}"', "\"{{ 1 + 'a' }}\"", "\"{{ 'x'|int(base=99) }}\"",
    '"{{ ref|capitalize }}"', "\"{{ ref('no-such-clause') }}\"", '"{{ organisation.__class__.__mro__ }}"',
    '"{{"', '"{% if %}"', '"{% for x in range(10**9) %}x{% endfor %}"', '"{{ head|center(999999999) }}"',
    "\"{{ '%999999999s'|format(1) }}\"", "\"{{ '{0:>999999999}'.format(1) }}\"",
    '"</style><script>alert(1)</script><style>"', '"<img src=x onerror=alert(1)>"', '"<script>alert(1)</script>"',
    '"[x](javascript:alert(1))"', '"[x](JaVaScRiPt:alert(1))"', '"[x]( javascript:alert(1))"',
    '"[x](data:text/html,<script>alert(1)</script>)"', '"<a href=\\"javascript:alert(1)\\">x</a>"',
    '"[x](file:///etc/passwd)"', '"![x](/etc/passwd)"', '"[x](http://example.com/track.png)"',
    "../../etc/passwd", "../../../outside", "/etc/passwd", "/dev/zero", "assets/../../../x.svg", ".git/config",
    "index", "..", ".", "''", "CON", "a/b", "-leading-dash", "UPPER", "x" * 300, "N" * 1200,
    '"' + "A" * 100_000 + '"', '"' + "word " * 20_000 + '"',
    '=HYPERLINK("http://example.com","x")', '"+SUM(1)"', '"@cmd"', '"\\tlead"',
    "~", '""', "[]", "{}", "yes", "no", "true", "-1", "0", "[a, b]", "{a: 1}",
]

# Jinja and HTML put into template overrides (and project templates) as they are.
HOSTILE_JINJA = [
    "{{ 9**99999 }}", "{{ 9**999999999 }}", "{{ doc.title * 10**9 }}", "{{ doc.title * 100000000 }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{{ " + "(" * 500 + "1" + ")" * 500 + " }}",
    "</style><script>alert(document.domain)</script><style>", "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>', '<a href=" JAVASCRIPT:alert(1)">x</a>', "<svg onload=alert(1)>",
    '<iframe src="data:text/html,x"></iframe>', '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel="attachment" href=".git/config">', '<img src="../../../etc/passwd">', '<object data="x.swf"></object>',
    "{{ body|replace('must','need not') }}", "{{ body|replace('<','&lt;') }}", "{{ body|safe }}",
    '{% include "policy.html.j2" %}', '{% extends "policy.html.j2" %}', '{% include "pack.html.j2" %}',
    '{% include "../../../../etc/passwd" %}', '{% include "/etc/passwd" %}', '{% import "base/style.css" as s %}',
    "{{ 1/0 }}", "{{ [] + 1 }}", "{{ 'x'|int(base=99) }}", "{{ ref|capitalize }}", "{{ doc.__class__ }}",
    "{{ doc.items() }}", "{{ lipsum() }}", "{{ range(10**9)|list }}", "{{ no_such_name }}", "{{ doc.nope.deeper }}",
    "{{", "{% block heading %}", "{% endblock %}", "{% raw %}", "{% endfor %}", "{% if %}", "{#",
    "{{ doc|pprint }}", "{{ doc.title|center(999999999) }}", "{{ '%999999999s'|format(1) }}",
    "{{ '{0:>999999999}'.format(1) }}", "{{ doc.title|wordwrap(1) }}", "{{ doc.title|truncate(-1) }}",
    "{{ doc.org.name|replace('', 'x' * 1000) }}", "{% for x in doc %}{{ x }}{% endfor %}",
    "{% set x = doc.title %}{% for i in x %}{% for j in x %}{% for k in x %}{{ i ~ j ~ k }}{% endfor %}{% endfor %}{% endfor %}",
    "{{ self }}", "{{ self._TemplateReference__context }}", "{{ super() }}", "{{ caller() }}", "{{ loop }}",
    "{{ '\\x00\\x01\\ud800' }}", "\x0b\x01", "{{ doc.last_reviewed|date }}", "{{ 'not-a-date'|date }}",
]

FILE_BODIES = [  # whole-file replacements
    b"", b"# only a comment\n", b"---\n---\n", b"a: &a [*a]\n", b"[" * 900 + b"]" * 900 + b"\n",
    b"organisation: " + b"{a: " * 400 + b"1" + b"}" * 400 + b"\n", b"\xff\xfe\x00o\x00r\x00g\x00",
    b"\xef\xbb\xbforganisation: {}\n", b"organisation:\n  id: x\n\x00\n", b"- a\n- b\n", b"just a string\n",
    b"a: &a ['lol','lol']\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
    b"a: &a '" + b"x" * 200_000 + b"'\nb: [" + b",".join([b"*a"] * 500) + b"]\n",
]

BAD_BYTES = [b"\xff", b"\xc3(", b"\x00", b"\xef\xbb\xbf", b"\xed\xa0\x80", b"\x1b[2J", b"\r", b"\t", b"\x85", b"\xe2\x80\xa8"]

KEYS = ["id", "name", "text", "title", "extends", "kind", "logo", "templates", "date", "last_reviewed",
        "next_review", "model_revision", "variables", "include", "slot", "optional", "variants", "bogus",
        "<<", "? complex", "numbering", "chairs", "after", "clause", "fill", "policies", "font", "colour"]

INDENTS = ["", " ", "  ", "    ", "\t", "        "]


def _label(value) -> str:
    """A short name for a piece of hostile material, so a failing example prints readably."""
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value
    return text if len(text) <= 60 else f"{text[:40]}...<{len(text)} chars>"


MATERIAL = {_label(v): v for v in HOSTILE_YAML + HOSTILE_JINJA + FILE_BODIES + BAD_BYTES}
assert len(MATERIAL) == len(HOSTILE_YAML + HOSTILE_JINJA + FILE_BODIES + BAD_BYTES), "two labels collide"


def material(values: list):
    """A strategy: the label of one of `values` (apply_edit looks the value up in MATERIAL)."""
    return st.sampled_from([_label(v) for v in values])


# --------------------------------------------------------------------------------------------
# The seed projects
# --------------------------------------------------------------------------------------------

OVERRIDE_POLICY = (REPO / "schools/templates/porthaven-city-council/policy.html.j2").read_text(encoding="utf-8")
OVERRIDE_PACK = """{% extends "base/_pack.html.j2" %}
{% block title %}Our policies – {{ org.name }}{% endblock %}
{% block styles %}h1 { color: var(--brand); }{% endblock %}
"""


def seed_base(dest: Path) -> None:
    """The bad-input corpus' project, with a template override for the school (policy and pack)."""
    shutil.copytree(BASE, dest)
    school = dest / "schools/demo-school.yaml"
    text = school.read_text(encoding="utf-8")
    text = text.replace("  numbering: decimal\n", "  numbering: decimal\n  branding:\n    templates: templates/demo\n", 1)
    school.write_text(text, encoding="utf-8")
    (dest / "schools/templates/demo").mkdir(parents=True)
    (dest / "schools/templates/demo/policy.html.j2").write_text(OVERRIDE_POLICY, encoding="utf-8")
    (dest / "schools/templates/demo/pack.html.j2").write_text(OVERRIDE_PACK, encoding="utf-8")


def seed_shipped(dest: Path) -> None:
    """The shipped examples: the model, every organisation and the project's templates."""
    dest.mkdir()
    for name in ("policy_src", "schools", "templates"):
        shutil.copytree(REPO / name, dest / name)


SEEDS = {"base": seed_base, "shipped": seed_shipped}


def mutable_files(seed: str) -> list[str]:
    """The files a mutation may edit, untrusted ones listed more than once to be picked more often."""
    if seed == "base":
        return (["schools/demo-school.yaml"] * 3 + ["schools/demo-la.yaml", "policy_src/demo.yaml",
                "policy_src/library/common.yaml"] + ["schools/templates/demo/policy.html.j2"] * 2
                + ["schools/templates/demo/pack.html.j2"])
    files = sorted(str(p.relative_to(REPO)) for d in ("schools", "policy_src", "templates")
                   for p in (REPO / d).rglob("*") if p.is_file() and p.suffix in (".yaml", ".j2", ".css"))
    return files + [f for f in files if f.startswith("schools/")]


# --------------------------------------------------------------------------------------------
# Mutations: plain data, so Hypothesis prints them and shrinks them
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    file: str
    op: str
    args: tuple = ()


BLOCKS = ["heading", "styles", "body", "title", "adoption", "page", "meta", "masthead", "key_message", "contents"]


def edits_for(files: list[str]):
    """A strategy: one to three edits of the seed's files; YAML gets hostile values more often,
    templates hostile Jinja and markup, and both get the blind line and byte mutations."""
    n = st.integers(0, 10_000)  # a line or byte position, taken modulo the file's length
    blind = [
        st.tuples(st.just("delete_line"), st.tuples(n)),
        st.tuples(st.just("duplicate_line"), st.tuples(n)),
        st.tuples(st.just("swap_lines"), st.tuples(n, n)),
        st.tuples(st.just("reindent"), st.tuples(n, st.sampled_from(INDENTS))),
        st.tuples(st.just("bad_bytes"), st.tuples(n, material(BAD_BYTES))),
        st.tuples(st.just("truncate"), st.tuples(n)),
        st.tuples(st.just("replace_file"), st.tuples(material(FILE_BODIES))),
        st.tuples(st.just("text"), st.tuples(n, st.text(max_size=30))),
    ]
    set_value = st.tuples(st.just("set_value"), st.tuples(n, material(HOSTILE_YAML)))
    insert_key = st.tuples(st.just("insert_key"), st.tuples(n, st.sampled_from(KEYS), material(HOSTILE_YAML)))
    splice = st.tuples(st.just("splice_jinja"), st.tuples(n, n, material(HOSTILE_JINJA)))
    wrap = st.tuples(st.just("wrap_block"), st.tuples(st.sampled_from(BLOCKS), material(HOSTILE_JINJA)))
    yaml_ops = st.one_of(set_value, set_value, set_value, set_value, insert_key, insert_key, splice, *blind)
    template_ops = st.one_of(wrap, wrap, wrap, wrap, splice, splice, set_value, *blind)
    yaml_files = [f for f in files if f.endswith(".yaml")]
    template_files = [f for f in files if not f.endswith(".yaml")]
    one = st.one_of(st.tuples(st.sampled_from(yaml_files), yaml_ops),
                    st.tuples(st.sampled_from(template_files), template_ops)).map(lambda t: Edit(t[0], *t[1]))
    return st.lists(one, min_size=1, max_size=3)


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


VALUE_RE = re.compile(rb"^(\s*(?:- )?[^\s:#][^:#]*:[ \t]+)(.*?)(\r?\n?)$", re.S)
ITEM_RE = re.compile(rb"^(\s*- )(.*?)(\r?\n?)$", re.S)


MATERIAL_ARGS = {"set_value": (1,), "set_key": (1,), "insert_key": (2,), "splice_jinja": (2,), "wrap_block": (1,), "bad_bytes": (1,),
                 "replace_file": (0,)}  # which of an edit's arguments are labels of MATERIAL


def apply_edit(root: Path, edit: Edit) -> None:
    path = root / edit.file
    if edit.op == "fs":
        _fs_edit(path, edit.args[0])
        return
    if not path.is_file() or path.is_symlink():
        return  # an earlier edit made it something else
    data = path.read_bytes()
    lines = _lines(data)
    at = lambda k: k % len(lines)  # noqa: E731
    op = edit.op
    looked_up = MATERIAL_ARGS.get(op, ())
    a = tuple(MATERIAL[x] if k in looked_up else x for k, x in enumerate(edit.args))
    if op == "delete_line":
        del lines[at(a[0])]
    elif op == "duplicate_line":
        i = at(a[0])
        lines.insert(i, lines[i] if lines[i].endswith(b"\n") else lines[i] + b"\n")
    elif op == "swap_lines":
        i, j = at(a[0]), at(a[1])
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "reindent":
        i = at(a[0])
        lines[i] = a[1].encode() + lines[i].lstrip(b" \t")
    elif op == "set_value":
        i = at(a[0])
        value = a[1].encode("utf-8")
        m = VALUE_RE.match(lines[i]) or ITEM_RE.match(lines[i])
        lines[i] = m.group(1) + value + (m.group(3) or b"\n") if m else value + b"\n" + lines[i]
    elif op == "set_key":  # the value of the first line that starts with this key
        i = next((k for k, line in enumerate(lines) if line.lstrip().startswith(a[0].encode())), None)
        assert i is not None, f"no line starting {a[0]!r} in {edit.file}"
        m = VALUE_RE.match(lines[i])
        lines[i] = m.group(1) + a[1].encode("utf-8") + (m.group(3) or b"\n")
    elif op == "insert_key":
        i = at(a[0])
        indent = re.match(rb"[ \t]*(?:- )?", lines[i]).group(0).replace(b"- ", b"  ")
        lines.insert(i, indent + a[1].encode() + b": " + a[2].encode("utf-8") + b"\n")
    elif op == "splice_jinja":
        i = at(a[0])
        line = lines[i]
        col = a[1] % (len(line) + 1)
        lines[i] = line[:col] + a[2].encode("utf-8", "surrogatepass") + line[col:]
    elif op == "wrap_block":  # the snippet at the start of a block the template has, or in a new one
        tag = f"{{% block {a[0]} %}}".encode()
        snippet = a[1].encode("utf-8", "surrogatepass")
        if tag in data:
            lines = [data.replace(tag, tag + snippet, 1)]
        elif b"{% extends" in data:
            lines.append(tag + snippet + b"{% endblock %}\n")
        else:
            lines.insert(at(len(lines) // 2), tag + snippet + b"{% endblock %}\n")
    elif op == "bad_bytes":
        pos = a[0] % (len(data) + 1)
        lines = [data[:pos], a[1], data[pos:]]
    elif op == "truncate":
        lines = [data[:a[0] % (len(data) + 1)]]
    elif op == "replace_file":
        lines = [a[0]]
    elif op == "text":
        i = at(a[0])
        lines[i] = a[1].encode("utf-8", "surrogatepass") + lines[i]
    path.write_bytes(b"".join(lines))


def _fs_edit(path: Path, what: str) -> None:
    if path.is_symlink() or path.exists():
        if path.is_dir() and not path.is_symlink():
            return
        path.unlink()
    if what == "folder":
        path.mkdir()
        (path / "inside.yaml").write_text("organisation: {}\n")
    elif what == "dangling-link":
        path.symlink_to(path.parent / "no-such-file.yaml")
    elif what == "link-loop":
        path.symlink_to(path.name)
    elif what == "link-outside":  # a readable file outside the project
        path.symlink_to(BASE / "schools/demo-school.yaml")
    elif what == "link-dev-zero":
        path.symlink_to("/dev/zero")
    elif what == "fifo":
        os.mkfifo(path)


# --------------------------------------------------------------------------------------------
# Running one command in a forked, bounded child
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    args: list
    status: str  # "done", "timeout", "killed"
    exit_code: int | None = None
    output: str = ""  # the first and last 4,000 characters
    traceback_in_output: bool = False
    exception: str = ""  # formatted traceback of an exception that escaped the command
    faults: list = field(default_factory=list)  # (message, traceback): "a fault in policypack" messages
    stack: str = ""  # where a timed-out child was (faulthandler)
    seconds: float = 0.0
    signal: int = 0


def _child(args: list, cwd: Path, out_w: int, dump_w: int, timeout: float) -> None:
    """In the forked child: bound it, run the command, send back a pickled summary."""
    try:
        os.setpgid(0, 0)
        os.chdir(cwd)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large file is an OSError, not a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_OUTPUT_FILE + 2**20,) * 2)
        vm = _vm_bytes()
        resource.setrlimit(resource.RLIMIT_AS, (vm + 3 * 2**30, resource.getrlimit(resource.RLIMIT_AS)[1]))
        described = _spy_on_describe_exception()
        faulthandler.dump_traceback_later(max(timeout - 1, timeout / 2), exit=False, file=dump_w)
        runner = CliRunner()
        result = runner.invoke(main, args, catch_exceptions=True)
        faulthandler.cancel_dump_traceback_later()
        output = result.output
        exc = ""
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            exc = "".join(traceback.format_exception(*result.exc_info))[-6000:]
        summary = {"exit_code": result.exit_code, "output": _clip(output),
                   "traceback_in_output": "Traceback" in output, "exception": exc,
                   "faults": _faults(output, described)}
    except BaseException:  # noqa: BLE001 - the harness itself must report, not hang
        summary = {"exit_code": None, "output": "", "traceback_in_output": False,
                   "exception": "harness: " + traceback.format_exc()[-6000:], "faults": []}
    data = pickle.dumps(summary)
    with os.fdopen(out_w, "wb") as fh:
        fh.write(data)
    os._exit(0)


FAULT_TEXT = "fault in policypack"  # policypack's catch-alls say so: the exception was not foreseen


def _spy_on_describe_exception() -> list:
    """policypack turns an exception nobody foresaw into a one-line message with
    errors.describe_exception. Record each exception's traceback as it passes, so that a fault
    report can be traced to where it was raised (in the child only)."""
    import policypack.errors as errors
    original, seen = errors.describe_exception, []

    def spy(exc, *a, **kw):
        text = original(exc, *a, **kw)
        seen.append((text, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-6000:]))
        return text
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("policypack") and getattr(mod, "describe_exception", None) is original:
            mod.describe_exception = spy
    return seen


def _faults(output: str, described: list) -> list:
    """(message, traceback) for each message that says it is a fault in policypack."""
    lines = output.splitlines()
    found = []
    for i, line in enumerate(lines):
        if FAULT_TEXT in line and not line.startswith(" "):  # the fault text on the message's own line
            message = line
        elif FAULT_TEXT in line and i > 0:  # ... or in the hint below it
            message = lines[i - 1]
        else:
            continue
        trace = next((t for text, t in described if text and text in message), "")
        found.append((message[:500], trace))
    return found


def _vm_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 2**32


def _clip(text: str, n: int = 4000) -> str:
    return text if len(text) <= 2 * n else text[:n] + f"\n[... {len(text) - 2 * n} characters ...]\n" + text[-n:]


def run_cli(args: list, cwd: Path, timeout: float | None = None) -> Run:
    timeout = timeout or TIMEOUT
    out_r, out_w = os.pipe()
    dump_r, dump_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(out_r)
        os.close(dump_r)
        _child(args, cwd, out_w, dump_w, timeout)
    os.close(out_w)
    os.close(dump_w)
    chunks, dump, status = [], [], "done"
    fds = {out_r, dump_r}
    while out_r in fds:
        left = start + timeout - time.monotonic()
        if left <= 0:
            status = "timeout"
            break
        ready, _, _ = select.select(list(fds), [], [], left)
        for fd in ready:
            data = os.read(fd, 1 << 16)
            if not data:
                fds.discard(fd)
            (chunks if fd == out_r else dump).append(data)
    if status == "timeout":
        time.sleep(0.2)  # let faulthandler finish writing the stack
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while True:
            ready, _, _ = select.select([dump_r], [], [], 0)
            if not ready or not (data := os.read(dump_r, 1 << 16)):
                break
            dump.append(data)
    _, wait_status = os.waitpid(pid, 0)
    try:  # the child's process group: anything it started and left behind
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    os.close(out_r)
    os.close(dump_r)
    run = Run(args=args, status=status, seconds=round(time.monotonic() - start, 2),
              stack=b"".join(dump).decode("utf-8", "replace")[-6000:])
    if status == "done":
        raw = b"".join(chunks)
        if not raw:
            run.status, run.signal = "killed", (os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else 0)
        else:
            summary = pickle.loads(raw)
            run.exit_code = summary["exit_code"]
            run.output = summary["output"]
            run.traceback_in_output = summary["traceback_in_output"]
            run.exception = summary["exception"]
            run.faults = summary["faults"]
    return run


# --------------------------------------------------------------------------------------------
# What must hold
# --------------------------------------------------------------------------------------------


def snapshot(folder: Path, skip: Path) -> dict:
    """Every file, folder and link under `folder` except `skip`: type, size, mtime, link target."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d != skip]
        for name in dirnames + filenames:
            p = here / name
            st_ = p.lstat()
            seen[str(p.relative_to(folder))] = (st_.st_mode, st_.st_size if not p.is_dir() else 0,
                                                st_.st_mtime_ns if not p.is_dir() else 0,
                                                os.readlink(p) if p.is_symlink() else "")
    return seen


class ActiveContent(HTMLParser):
    """Finds what would run in a browser: script-like elements, event handlers, script URLs."""

    ELEMENTS = {"script", "iframe", "frame", "object", "embed", "applet", "base", "form", "portal"}
    URL_ATTRS = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "srcset", "background"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.ELEMENTS:
            self.found.append(f"<{tag}>")
        if tag == "meta" and any(k == "http-equiv" and (v or "").lower() == "refresh" for k, v in attrs):
            self.found.append("<meta http-equiv=refresh>")
        if tag == "link" and any(k == "rel" and "stylesheet" not in (v or "").lower() for k, v in attrs):
            self.found.append("<link> that is not a stylesheet")
        for k, v in attrs:
            if k.startswith("on"):
                self.found.append(f"<{tag} {k}=>")
            url = re.sub(r"[\x00-\x20]", "", v or "").lower()
            if k in self.URL_ATTRS and url.startswith(("javascript:", "vbscript:", "data:text/html", "file:")):
                self.found.append(f"<{tag} {k}={url.split(':')[0]}:>")

    handle_startendtag = handle_starttag


def active_content(html: bytes) -> list[str]:
    text = html.decode("utf-8", "replace")
    found = ["<script"] if re.search(r"<\s*script", text, re.I) else []
    if len(html) <= 5 * 2**20:
        parser = ActiveContent()
        parser.feed(text)
        parser.close()
        found += parser.found
    return found


FRAME_RE = re.compile(r'File "([^"]+)", line (\d+),? in (\S+)')


def where(trace: str) -> str:
    """The innermost policypack frame of a traceback or a faulthandler stack: file:function."""
    ours = [(f, fn) for f, _, fn in FRAME_RE.findall(trace) if "/policypack/" in f]
    if not ours:
        return "?"
    innermost_first = "Current thread" in trace or "Thread 0x" in trace  # faulthandler's order
    f, fn = ours[0] if innermost_first else ours[-1]
    return f"{f[f.index('/policypack/') + 1:]}:{fn}"


def exception_type(trace: str) -> str:
    last = [ln for ln in trace.strip().splitlines() if ln and not ln.startswith(" ")]
    if not last:
        return "?"
    m = re.match(r"([\w.]+)(?::|$)", last[-1])
    return m.group(1).rsplit(".", 1)[-1] if m else "?"


@dataclass
class Failure:
    kind: str
    detail: str
    trace: str = ""

    @property
    def signature(self) -> str:
        if self.kind in ("exception", "traceback-in-output", "fault"):
            return f"{self.kind}: {exception_type(self.trace)} in {where(self.trace)}"
        if self.kind == "active-content":
            return f"{self.kind}: {self.detail.split(': in ')[0]}"
        if self.kind == "timeout":
            return f"timeout in {where(self.trace)}"
        return f"{self.kind}: {_general(self.detail)}"


def _general(detail: str) -> str:
    """A message without its particulars (file, line, quoted names, numbers), to group failures."""
    text = detail.splitlines()[0] if detail else ""
    text = text.split(": error: ", 1)[-1].split(": ", 1)[0]
    return re.sub(r"\S*[-/\d]\S*", "_", text)[:80]


def failures_of(run: Run) -> list[Failure]:
    name = run.args[0]
    if run.status == "timeout":
        return [Failure("timeout", f"{name} ran over its time bound ({run.seconds} s)", run.stack)]
    if run.status == "killed":
        return [Failure("killed", f"{name} died of signal {run.signal}")]
    found = []
    if run.exception:
        found.append(Failure("exception", f"{name}: an exception escaped", run.exception))
    elif run.traceback_in_output:
        found.append(Failure("traceback-in-output", f"{name} printed a traceback", run.output))
    for message, trace in run.faults:
        found.append(Failure("fault", f"{name}: {message}", trace))
    if run.exit_code not in EXIT_CODES:
        found.append(Failure("exit-code", f"{name} exit status {run.exit_code}"))
    elif run.exit_code == 1 and not found and "error:" not in run.output.lower():
        found.append(Failure("silent-failure", f"{name} exit status 1 without an error message"))
    return found


@dataclass
class Example:
    seed: str
    edits: list
    runs: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    diff: str = ""


def prepare(tmp: Path, seed: str, edits: list) -> tuple[Path, Path, Path, str]:
    """A fresh, mutated copy of the seed: (sandbox, project, out, the edits as a diff)."""
    sandbox = tmp / "a" / "b" / "c"  # room for ../../ to land inside the sandbox, where we look
    if (tmp / "a").exists():
        _rmtree(tmp / "a")
    sandbox.mkdir(parents=True)
    root = sandbox / "p"
    SEEDS[seed](root)
    before = {e.file: (root / e.file).read_bytes() for e in edits if (root / e.file).is_file()}
    for e in edits:
        apply_edit(root, e)
    return sandbox, root, sandbox / "out", describe(root, before, edits)


def _rmtree(path: Path) -> None:
    def fix(func, p, _exc):
        os.chmod(p, 0o700) if os.path.isdir(p) else None
        try:
            os.chmod(os.path.dirname(p), 0o700)
            func(p)
        except OSError:
            pass
    shutil.rmtree(path, onexc=fix) if sys.version_info >= (3, 12) else shutil.rmtree(path, onerror=fix)


def describe(root: Path, before: dict, edits: list) -> str:
    parts = []
    for f, old in before.items():
        p = root / f
        if p.is_symlink() or not p.is_file():
            parts.append(f"{f}: now {'a link to ' + os.readlink(p) if p.is_symlink() else 'a folder or FIFO'}")
            continue
        new = p.read_bytes()
        a = old.decode("utf-8", "backslashreplace").splitlines()
        b = new.decode("utf-8", "backslashreplace").splitlines()
        diff = difflib.unified_diff(a, b, f"a/{f}", f"b/{f}", n=1, lineterm="")
        parts.append("\n".join(ln if len(ln) <= 300 else ln[:300] + f"...[{len(ln)} chars]" for ln in diff))
    for e in edits:
        if e.op == "fs" and e.file not in before:
            parts.append(f"{e.file}: made a {e.args[0]}")
    return "\n".join(parts)


def run_example(tmp: Path, seed: str, edits: list, build: bool, timeout: float | None = None) -> Example:
    sandbox, root, out, diff = prepare(tmp, seed, edits)
    ex = Example(seed, edits, diff=diff)
    mutated_templates = any(e.file.startswith("templates/") for e in edits)  # the project's own: trusted
    before = snapshot(sandbox, out)
    check = run_cli(["check", "--root", str(root)], sandbox, timeout)
    ex.runs.append(check)
    ex.failures += failures_of(check)
    if build and check.status == "done":
        run = run_cli(["build", "--format", "html", "--jobs", "1", "--out", str(out), "--root", str(root)], sandbox, timeout)
        ex.runs.append(run)
        ex.failures += failures_of(run)
        if check.exit_code == 0 and run.status == "done" and run.exit_code not in (0, None):
            ex.failures.append(Failure("check-passed-build-failed",
                                       f"check passed but build exited {run.exit_code}: "
                                       + _first_error(run.output)))
        for p in sorted(out.rglob("*")) if out.is_dir() else []:
            if p.is_symlink() or not p.is_file():
                continue
            size = p.stat().st_size
            if size > MAX_OUTPUT_FILE:
                ex.failures.append(Failure("output-too-large", f"{p.relative_to(out)} is {size} bytes"))
            if p.suffix == ".html" and not mutated_templates:
                bad = active_content(p.read_bytes())
                if bad:
                    ex.failures.append(Failure("active-content", f"{', '.join(sorted(set(bad)))}: in "
                                                                 f"{p.relative_to(out)}"))
    after = snapshot(sandbox, out)
    if after != before:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        ex.failures.append(Failure("outside-out", "written outside --out: " + ", ".join(changed[:10])))
    return ex


def _first_error(output: str) -> str:
    for line in output.splitlines():
        if ": error:" in line:
            return line[:200]
    return output.strip().splitlines()[-1][:200] if output.strip() else ""


def known(failure: Failure) -> str:
    """The KNOWN_FAILURES entry this failure matches, or ''."""
    text = f"{failure.signature} | {failure.detail}"
    return next((pattern for pattern in KNOWN_FAILURES if re.search(pattern, text)), "")


def judge(ex: Example, test: str) -> None:
    """Fail on any failure not listed in KNOWN_FAILURES (or log it, with POLICYPACK_FUZZ_LOG)."""
    new = [f for f in ex.failures if not known(f)]
    if LOG and not ex.failures and sum(r.seconds for r in ex.runs) > 2:  # slow, not failing: worth a look
        ex.failures = [Failure("slow", f"{sum(r.seconds for r in ex.runs):.1f} s")]
        new = []
    if LOG and ex.failures:
        with open(LOG, "a", encoding="utf-8") as fh:
            for f in ex.failures:
                fh.write(json.dumps({"test": test, "signature": f.signature, "known": f not in new,
                                     "detail": f.detail, "seed": ex.seed, "diff": ex.diff,
                                     "edits": [repr(e)[:400] for e in ex.edits],
                                     "trace": f.trace[-3000:],
                                     "output": [r.output[-1500:] for r in ex.runs],
                                     "seconds": [r.seconds for r in ex.runs]}) + "\n")
        return
    if new:
        lines = [f"{len(new)} failure(s) for the {ex.seed} project edited as:", ex.diff, ""]
        for f in new:
            lines += [f"- {f.signature}", f"  {f.detail}"]
            if f.trace:
                lines.append("  " + f.trace[-2500:].replace("\n", "\n  "))
        for r in ex.runs:
            lines += [f"$ policypack {' '.join(r.args[:1])} ... -> {r.status}, exit {r.exit_code}, {r.seconds} s",
                      r.output[-2000:]]
        pytest.fail("\n".join(lines), pytrace=False)


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Known failures: bugs this fuzzer found that are not fixed yet. Each key is a regular expression
# matched against "signature | detail" of a failure (see Failure.signature); the value says what the
# bug is and gives a reproducer (edits of the base seed). An example failing in any way not listed
# here fails its test. Remove an entry once its bug is fixed: test_known_failure_still_fails fails
# until you do, so the list never hides more than it must.
# --------------------------------------------------------------------------------------------
KNOWN_FAILURES: dict[str, tuple] = {  # pattern: (the bug, its reproducer's edits[, seed: "base"])
}

# Bugs this fuzzer found and that are fixed: each reproducer must now pass every check.
FIXED: dict[str, tuple] = {  # name: (the bug, its reproducer's edits[, seed])
    "long-name": ("an organisation name of 1,200 characters ended check in RecursionError (names.py built its "
                  "pattern a level per character); names are now at most 200 characters, with a message",
                  [Edit("schools/demo-la.yaml", "set_key", ("name:", _label("N" * 1200)))]),
    "template-link-loop": ("a template override that is a symbolic link to itself raised RuntimeError in the "
                           "template loader; it is now a template error",
                           [Edit("schools/templates/demo/policy.html.j2", "fs", ("link-loop",))]),
    "project-template-runtime-error": ("check passed a runtime error in the project's own page template that "
                                       "build then reported for every document; check now renders them too",
                                       [Edit("templates/policy.html.j2", "wrap_block", ("heading", "{{ 9**99999 }}"))],
                                       "shipped"),
}


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """Build the seed once in this process, so every forked child starts with everything imported.
    (Caches keyed by path do not carry over: the examples live in other folders.)"""
    tmp = tmp_path_factory.mktemp("warm")
    seed_base(tmp / "p")
    result = CliRunner().invoke(main, ["build", "--format", "html", "--jobs", "1", "--out", str(tmp / "out"),
                                       "--root", str(tmp / "p")])
    assert result.exit_code == 0, result.output
    return True


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """Where the examples are made: memory (/dev/shm) when there is one, as every example copies,
    writes and deletes a project, and a disk's metadata writes would double the test's time."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("fuzz")
        return
    folder = Path(tempfile.mkdtemp(prefix="policypack-fuzz-", dir=shm))
    try:
        yield folder
    finally:
        _rmtree(folder)


def test_harness_sees_a_traceback_a_hang_and_a_stray_file(tmp_path, monkeypatch):
    """The harness itself: it must catch what it is there to catch, or the fuzz tests prove nothing."""
    sandbox = tmp_path
    out = sandbox / "out"
    before = snapshot(sandbox, out)

    def boom(*a, **kw):
        raise ZeroDivisionError("planted")
    monkeypatch.setattr("policypack.cli.load_or_exit", boom)
    run = run_cli(["check", "--root", str(sandbox)], sandbox)  # caught by policypack's last resort
    assert [f.signature for f in failures_of(run)] == ["fault: ZeroDivisionError in policypack/cli.py:check"]
    assert "ZeroDivisionError: planted" in failures_of(run)[0].trace

    def reraise(exc):
        raise exc
    monkeypatch.setattr("policypack.cli._internal_error", reraise)
    run = run_cli(["check", "--root", str(sandbox)], sandbox)  # escaping policypack altogether
    assert [f.signature for f in failures_of(run)] == ["exception: ZeroDivisionError in policypack/cli.py:check"]
    assert "ZeroDivisionError: planted" in run.exception

    def hang(*a, **kw):
        (sandbox / "stray.txt").write_text("x")
        while True:
            pass
    monkeypatch.setattr("policypack.cli.load_or_exit", hang)
    monkeypatch.setattr(sys.modules[__name__], "TIMEOUT", 2.0)
    run = run_cli(["check", "--root", str(sandbox)], sandbox)
    assert run.status == "timeout" and 2.0 <= run.seconds < 5, run
    assert failures_of(run)[0].kind == "timeout" and "in hang" in run.stack
    assert snapshot(sandbox, out) != before

    assert active_content(b'<p>&lt;script&gt; onerror=x javascript:alert(1)</p>') == []
    assert active_content(b"<style></style><SCRIPT>x</SCRIPT>")
    assert active_content(b'<img src=x onerror="a()">') == ["<img onerror=>"]
    assert active_content(b'<a href=" java\tscript:alert(1)">x</a>') == ["<a href=javascript:>"]


def test_seed_projects_are_clean(tmp_path, warm):
    """Unmutated, both seeds check and build cleanly, with no active content: a fuzz failure is the
    mutation's doing."""
    for seed in SEEDS:
        ex = run_example(tmp_path / seed, seed, [], build=True)
        assert ex.failures == [], [f.signature for f in ex.failures]
        assert [r.exit_code for r in ex.runs] == [0, 0], [r.output for r in ex.runs]


@fuzz_settings(150)
@given(edits=edits_for(mutable_files("base")))
def test_fuzz_check(scratch, warm, edits):
    """`check` on the small project, mutated: a message or ok, within the time bound."""
    judge(run_example(scratch, "base", edits, build=False), "check")


@fuzz_settings(40)
@given(edits=edits_for(mutable_files("base")))
def test_fuzz_build(scratch, warm, edits):
    """`check`, then `build --format html`, on the small project with its template override, mutated:
    no traceback, nothing outside --out, no script in the HTML; and what check passes builds."""
    judge(run_example(scratch, "base", edits, build=True), "build")


@fuzz_settings(6)
@given(edits=edits_for(mutable_files("shipped")))
def test_fuzz_shipped(scratch, warm, edits):
    """The same on the shipped examples: fourteen organisations, two policies and the templates."""
    judge(run_example(scratch, "shipped", edits, build=True), "shipped")


SPECIAL = ["folder", "dangling-link", "link-loop", "link-outside", "link-dev-zero", "fifo"]
SPECIAL_TARGETS = ["schools/demo-school.yaml", "policy_src/demo.yaml", "policy_src/library/common.yaml",
                   "schools/templates/demo/policy.html.j2"]


@pytest.mark.parametrize("target", SPECIAL_TARGETS)
@pytest.mark.parametrize("kind", SPECIAL)
def test_special_file(scratch, warm, kind, target):
    """A source file that is a folder, a link (dangling, looping, out of the project, to /dev/zero)
    or a FIFO: a message, quickly (none of these needs more than a moment to refuse)."""
    judge(run_example(scratch, "base", [Edit(target, "fs", (kind,))], build=True, timeout=4), "special")



# Every piece of hostile material at least once, whatever Hypothesis happens to draw: a value in the
# three free-text places an organisation fills (its name, a variable the clauses use, a slot), and a
# snippet at the start of a block of each template override (the policy page and the pack page).
MARKUP = ("{{", "{%", "<", "javascript", "](")


@pytest.mark.parametrize("value", [_label(v) for v in HOSTILE_YAML])
def test_hostile_value(scratch, warm, value):
    edits = [Edit("schools/demo-school.yaml", "set_key", ("name:", value)),
             Edit("policy_src/library/common.yaml", "set_key", ("head:", value)),
             Edit("schools/demo-school.yaml", "set_key", ("local-contacts:", value))]
    build = any(m in MATERIAL[value] for m in MARKUP)  # what could reach the HTML as markup: build it too
    judge(run_example(scratch, "base", edits, build=build), "value")


@pytest.mark.parametrize("snippet", [_label(v) for v in HOSTILE_JINJA])
def test_hostile_template(scratch, warm, snippet):
    edits = [Edit("schools/templates/demo/policy.html.j2", "wrap_block", ("heading", snippet)),
             Edit("schools/templates/demo/pack.html.j2", "wrap_block", ("title", snippet))]
    judge(run_example(scratch, "base", edits, build=True), "template")


@pytest.mark.parametrize("pattern", list(KNOWN_FAILURES))
def test_known_failure_still_fails(scratch, warm, pattern):
    """Each tolerated failure still happens: once its bug is fixed, this fails until the entry is
    removed from KNOWN_FAILURES, so the list never hides more than it must."""
    why, edits, *seed = KNOWN_FAILURES[pattern]
    ex = run_example(scratch, (seed or ["base"])[0], edits, build=True)
    assert any(re.search(pattern, f"{f.signature} | {f.detail}") for f in ex.failures), (
        f"fixed? remove {pattern!r} from KNOWN_FAILURES ({why}); failures now: {[f.signature for f in ex.failures]}")


@pytest.mark.parametrize("name", list(FIXED))
def test_fixed_failure_stays_fixed(scratch, warm, name):
    why, edits, *seed = FIXED[name]
    ex = run_example(scratch, (seed or ["base"])[0], edits, build=True)
    assert not ex.failures, f"{name} is back ({why}): {[f'{f.signature} | {f.detail}' for f in ex.failures]}"


def summarize(log: str) -> str:
    """The distinct failures in a POLICYPACK_FUZZ_LOG file: each signature, how often, and its
    smallest reproducer (the edits as a diff) with the end of its trace and output."""
    best: dict = {}
    counts: dict = {}
    for line in open(log, encoding="utf-8"):
        entry = json.loads(line)
        sig = entry["signature"]
        counts[sig] = counts.get(sig, 0) + 1
        if sig not in best or len(entry["diff"]) < len(best[sig]["diff"]):
            best[sig] = entry
    out = []
    for sig in sorted(best, key=lambda s: (-counts[s], s)):
        e = best[sig]
        out += [f"## {sig}  ({counts[sig]}x, {e['test']}{', known' if e['known'] else ''})", e["detail"], "",
                e["diff"], ""]
        if e["trace"]:
            out += [e["trace"][-1200:], ""]
        out += [o[-600:] for o in e["output"]] + [""]
    return "\n".join(out)


if __name__ == "__main__":  # python tests/test_fuzz.py failures.jsonl
    print(summarize(sys.argv[1]))
