"""What the progress report holds: per Part and issue, one line per action with its state as of a day.

Shared by the report's reading (``report``) and its pictures (``timeline``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from engine.store.models import Plan

STATES = ("done", "on track", "needs attention", "overdue", "unscheduled", "dropped", "on hold")


@dataclass(frozen=True, slots=True)
class ActionLine:
    """One action in the report."""

    ref: str
    title: str
    owner: str
    state: str
    kind: str
    start: date | None
    due: date | None
    days_overdue: int = 0
    reason: str = ""
    extended_to: date | None = None
    recurring: bool = False
    alerts: tuple[str, ...] = ()  # what is open about it, in plain words: "check-in unanswered", ...

    @property
    def words(self) -> str:
        """Return the state as a person reads it: "overdue by 3 days", "check-in unanswered", ..."""
        if self.state == "overdue":
            text = f"overdue by {self.days_overdue} day{'' if self.days_overdue == 1 else 's'}"
        elif self.state == "needs attention" and self.alerts:
            text = self.alerts[0]
        else:
            text = self.state
        rest = [a for a in self.alerts if a != text]
        if self.extended_to:
            rest.append(f"extended to {self.extended_to}")
        return text + (f" ({'; '.join(rest)})" if rest else "")


@dataclass
class IssueBlock:
    """An issue (or sub-issue) and its actions."""

    number: str
    title: str
    lines: list[ActionLine] = field(default_factory=list)


@dataclass
class PartBlock:
    """A Part, its counts and its issues."""

    number: str
    title: str
    issues: list[IssueBlock] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Return how many of the Part's actions are in each state."""
        found: dict[str, int] = dict.fromkeys(STATES, 0)
        for issue in self.issues:
            for line in issue.lines:
                found[line.state] += 1
        return found


@dataclass
class Report:
    """The whole report as of a day."""

    plan: Plan
    as_of: date
    parts: list[PartBlock]
    extensions: list[tuple[str, str, str, str]]  # ref, from, to, reason

    def totals(self) -> dict[str, int]:
        """Return counts per state over the whole plan."""
        total: dict[str, int] = dict.fromkeys(STATES, 0)
        for part in self.parts:
            for state, n in part.counts().items():
                total[state] += n
        return total

    def lines(self) -> list[ActionLine]:
        """Return every action line in plan order."""
        return [line for part in self.parts for issue in part.issues for line in issue.lines]
