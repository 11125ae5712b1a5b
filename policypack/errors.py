"""Problems found in user input: each names a file, a line and what to do.

Every stage reports through a `Report`; nothing user-facing is ever a traceback.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Optional

# What a terminal would act on rather than print: escape sequences (CSI, OSC and the other string
# sequences, two-character ESC sequences, and their 8-bit forms), then any other C0/C1 control
# character, DEL, and the bidi controls that reorder what is shown. Newlines are kept.
_ESCAPES = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"                      # CSI
                      r"|(?:\x1b[\]P^_X]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|$)"  # OSC, DCS ...
                      r"|\x1b[ -/]*[0-~]?", re.S)                                 # other ESC sequences
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def terminal_safe(text) -> str:
    """`text` as a terminal may show it: no escape sequences and no control characters except
    newline (a tab becomes a space), so input cannot move the cursor, recolour the screen, retitle
    the window or fake a line such as "ok: ..."; a lone surrogate, which no terminal encoding can
    write, becomes U+FFFD."""
    text = str(text)
    if text.isprintable():  # the common case: one line of ordinary text
        return text
    text = _ESCAPES.sub("", text.replace("\t", " "))
    return _SURROGATES.sub("\ufffd", _CONTROLS.sub("", text))


def json_safe(text: str) -> str:
    """JSON text for a terminal: the controls json.dumps(ensure_ascii=False) leaves raw (C1, DEL,
    bidi) and lone surrogates written as \\u escapes. They occur only inside strings, so the JSON
    means the same."""
    return _SURROGATES.sub(lambda m: f"\\u{ord(m[0]):04x}", _CONTROLS.sub(lambda m: f"\\u{ord(m[0]):04x}", text))


FieldPath = tuple  # a field path: the keys and list positions from the top of a YAML file to a value


@dataclass(frozen=True, order=True)
class Loc:
    """Where something came from: a file (relative to the project) and a 1-based line, and, when the
    loader knows it, the field path in that file, e.g. ('organisation', 'policies', 'acceptable-use',
    'fill', 'local-it-contacts'). The path does not take part in comparing or hashing: two Locs of
    one file and line are the same place."""

    file: str
    line: int = 0
    path: Optional[FieldPath] = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def dotted(path: Optional[FieldPath]) -> str:
    """A field path written with dots, as the schema's messages and editors show it:
    organisation.policies.acceptable-use.fill.local-it-contacts (a list position is a number)."""
    return ".".join(str(p) for p in path) if path else ""


@dataclass(frozen=True)
class Problem:
    """One message: where (`loc`), what and what to do. `path` is the field the message is about
    within `loc.file` (None when it is not about one field, or not known), so an editor can show
    the message beside that field; the text output (`format`) stays file:line."""

    loc: Loc
    message: str
    hint: str = ""
    severity: str = "error"  # error | warning
    path: Optional[FieldPath] = field(default=None, compare=False)

    def __post_init__(self):
        if self.path is None and self.loc.path is not None:  # the field of the place, when known
            object.__setattr__(self, "path", self.loc.path)

    def format(self) -> str:
        """`file:line: severity: message`, and the hint indented on the next line; safe to print:
        control characters and escape sequences from the input are removed."""
        text = f"{terminal_safe(self.loc)}: {self.severity}: {terminal_safe(self.message)}"
        if self.hint:
            text += f"\n    {terminal_safe(self.hint)}"
        return text


@dataclass
class Report:
    """Collects problems; stages keep going after an error so users see them all at once."""

    problems: list[Problem] = field(default_factory=list)

    def error(self, loc: Loc, message: str, hint: str = "", path: Optional[FieldPath] = None) -> None:
        """Add an error; its field path is `path`, else the one `loc` carries."""
        self._add(Problem(loc, message, hint, "error", path))

    def warning(self, loc: Loc, message: str, hint: str = "", path: Optional[FieldPath] = None) -> None:
        self._add(Problem(loc, message, hint, "warning", path))

    def _add(self, problem: Problem) -> None:
        if problem not in self.problems:
            self.problems.append(problem)

    def extend(self, other: "Report") -> None:
        for p in other.problems:
            self._add(p)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def __bool__(self) -> bool:  # a report is "truthy" when it holds errors
        return bool(self.errors)


class LayoutWarning(UserWarning):
    """A renderer could not do an optional pass (LibreOffice's layout of a DOCX for the page numbers
    in its contents); the build turns it into a warning on the organisation's file. Its text is why."""


class Failed(Exception):
    """Raised when a stage cannot go on; carries the report that says why."""

    def __init__(self, report: Report):
        super().__init__("\n".join(p.format() for p in report.problems))
        self.report = report


def describe_exception(exc: BaseException, limit: int = 300) -> str:
    """One line saying what went wrong, for a message on the input that caused it."""
    if isinstance(exc, RecursionError):
        return "it is nested too deeply (Python's recursion limit was reached)"
    if isinstance(exc, MemoryError):
        return "it needs more memory than there is"
    message = getattr(exc, "message", None)  # a Jinja TemplateError: its message says it all
    if message and isinstance(message, str) and type(exc).__module__.startswith(("jinja2", "policypack")):
        text = message
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    else:
        try:
            text = str(exc)
        except Exception:  # a str() that fails (e.g. an integer too long to print)
            text = ""
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    text = " ".join(terminal_safe(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""
