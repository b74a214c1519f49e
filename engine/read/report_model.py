"""What the progress report holds: per Part and issue, one line per action with its state as of a day.

Shared by the report's reading (``report``) and its pictures (``timeline``).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date

from engine.languages import DEFAULT, day, gettext, ngettext
from engine.store.models import Plan

# "not accepted": not accepted or under consideration as of the day: not followed up, so never overdue
STATES = ("done", "on track", "needs attention", "overdue", "unscheduled", "dropped", "on hold", "not accepted")
EXTENSION_ASKED = "extension requested to "  # an alert, followed by the day asked for (2000-09-30)


def state_words(state: str, language: str = DEFAULT) -> str:
    """Return a report state (one of ``STATES``) or an alert in ``language``."""
    names = {
        "done": gettext(language, "done"),
        "on track": gettext(language, "on track"),
        "needs attention": gettext(language, "needs attention"),
        "overdue": gettext(language, "overdue"),
        "unscheduled": gettext(language, "unscheduled"),
        "dropped": gettext(language, "dropped"),
        "on hold": gettext(language, "on hold"),
        "not accepted": gettext(language, "not accepted"),
        "under consideration": gettext(language, "under consideration"),
        "check-in unanswered": gettext(language, "check-in unanswered"),
        "not started": gettext(language, "not started"),
        "escalated": gettext(language, "escalated"),
        "extension requested": gettext(language, "extension requested"),
        "no progress reported": gettext(language, "no progress reported"),
        "(no owner)": gettext(language, "(no owner)"),
    }
    if state.startswith(EXTENSION_ASKED):
        wanted = state[len(EXTENSION_ASKED) :]
        with suppress(ValueError):
            wanted = day(date.fromisoformat(wanted), language)
        return gettext(language, "extension requested to %(day)s") % {"day": wanted}
    return names.get(state, state)


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
        return self.words_in(DEFAULT)

    def words_in(self, language: str) -> str:
        """Return the state as a person reads it in ``language``: "overdue by 3 days", "en retard de 3 jours"."""
        first = self.state
        if self.state == "overdue":
            n = self.days_overdue
            text = ngettext(language, "overdue by %(n)s day", "overdue by %(n)s days", n) % {"n": n}
        elif self.state == "needs attention" and self.alerts:
            first = self.alerts[0]
            text = state_words(first, language)
        else:
            text = state_words(self.state, language)
        rest = [state_words(a, language) for a in self.alerts if a != first]
        if self.extended_to:
            rest.append(gettext(language, "extended to %(day)s") % {"day": day(self.extended_to, language)})
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
