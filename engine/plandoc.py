"""What every importer produces: a plan, its sections and its action rows, with source lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

# The kinds of time frame an action has (``engine.timeframe`` reads a phrase into one).
KINDS = ("deadline", "start", "window", "recurring", "continuous", "event", "unscheduled")
# What a plan file's ``schedule:`` (and ``planwatch set``) may set instead of what the time frame says.
OVERRIDE_KEYS = ("kind", "start", "due", "rrule", "event", "after")


def effective_due(due: date | None, extended_to: date | None) -> date | None:
    """Return the due date in force: the extension's when one was granted, else the plan's."""
    return extended_to or due


@dataclass(slots=True)
class PlanInfo:
    """The plan's identity: ``ref_date`` is the plan's own date, ``timezone`` an IANA name."""

    id: str
    title: str
    symbol: str
    ref_date: date
    timezone: str
    body: str = ""
    fy_start: int | None = None
    source: str = ""
    source_format: str = ""
    place: str = ""  # the date line's place, when the file has one (its time zone comes from it)
    language: str = ""  # en, fr or es as the file says; "" when it does not (the import guesses it)


@dataclass(slots=True)
class SectionRow:
    """A Part, issue, sub-issue or sub-heading; ``key`` is readable (``I.1a``)."""

    key: str
    parent_key: str | None
    level: str
    number: str
    title: str
    context: str = ""
    ordinal: int = 0
    line: int = 0


@dataclass(slots=True)
class ActionRow:
    """One action as read from a file; ``None`` means "the file does not say"."""

    ref: str
    section_key: str
    ordinal: int
    title: str
    timeframe: str
    subheading: str = ""
    description: str = ""
    timeframe_proposed: str | None = None
    owner: str | None = None
    status: str | None = None
    status_note: str | None = None
    override: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    # the secretariat's decision on the recommendation (accepted, partially_accepted, not_accepted,
    # under_consideration) and its reason; None: the file does not say
    acceptance: str | None = None
    acceptance_note: str | None = None
    line: int = 0
    places: dict[str, str] = field(default_factory=dict)  # a field's own place when finer than the line (a cell)


@dataclass(slots=True)
class PlanDocument:
    """A whole plan as one importer read it."""

    plan: PlanInfo
    sections: list[SectionRow]
    actions: list[ActionRow]
    positional_refs: bool = False
    path: str = ""
    warnings: list[str] = field(default_factory=list)  # what the reader assumed or left unused (``--date``)
