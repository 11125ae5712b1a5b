"""Problems found in user input: each names a file, a line and what to do.

Every stage reports through a `Report`; nothing user-facing is ever a traceback.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Loc:
    """Where something came from: a file (relative to the project) and a 1-based line."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str
    hint: str = ""
    severity: str = "error"  # error | warning

    def format(self) -> str:
        text = f"{self.loc}: {self.severity}: {self.message}"
        if self.hint:
            text += f"\n    {self.hint}"
        return text


@dataclass
class Report:
    """Collects problems; stages keep going after an error so users see them all at once."""

    problems: list[Problem] = field(default_factory=list)

    def error(self, loc: Loc, message: str, hint: str = "") -> None:
        self._add(Problem(loc, message, hint, "error"))

    def warning(self, loc: Loc, message: str, hint: str = "") -> None:
        self._add(Problem(loc, message, hint, "warning"))

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


class Failed(Exception):
    """Raised when a stage cannot go on; carries the report that says why."""

    def __init__(self, report: Report):
        super().__init__("\n".join(p.format() for p in report.problems))
        self.report = report


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""
