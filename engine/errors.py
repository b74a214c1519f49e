"""The error tree: every error a user can cause or fix carries an exit code and a location.

``cli`` maps these to one line on stderr; nothing below ``cli`` prints or exits.
Exit codes: 2 for bad input or usage (the user can fix it), 1 for an operational
failure (a database or mail server that cannot be reached).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Location:
    """A place in an input file; ``line`` and ``col`` are 1-based."""

    path: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


def display_path(path: str | Path) -> str:
    """Return ``path`` relative to the working directory when it lies below it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


class PlanwatchError(Exception):
    """Base of every error planwatch raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"


class InputError(PlanwatchError):
    """Bad input the user can fix: a plan, rule or owners file, or a command-line value."""

    exit_code = 2


class UsageError(InputError):
    """A command was called in a way that cannot work (unknown id, conflicting options)."""


class NotFoundError(UsageError):
    """An id that names nothing in the database."""


class ValidationErrors(InputError):
    """Several input errors found in one pass; each is reported on its own line."""

    def __init__(self, errors: Iterable[InputError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors), None)

    def __str__(self) -> str:
        return self.message


class OperationalError(PlanwatchError):
    """Something outside planwatch failed: the database or a mail server is unreachable."""

    exit_code = 1
