"""Reminder, check-in and escalation policies (``rules/*.yaml``), as pydantic models.

A rule file holds ``policies:``; the first policy whose ``match`` fits an action applies.
``defaults:`` at the top of a file fill ``delivery`` and ``limits`` of its policies.
Durations are ``30d``, ``2w``, ``3mo``, ``5bd`` or ISO ``P1M`` (see ``durations``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from difflib import get_close_matches
from fnmatch import fnmatchcase
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from engine.countries import country_problem
from engine.plandoc import KINDS
from engine.rules.durations import Duration, parse_duration
from engine.zones import zone_problem

# Which kinds of action have the date a reminder counts back from.
DATED = {"due": ("deadline", "window", "recurring", "event"), "start": ("start", "window")}
WHICH = {"due": "reminders before a due date", "start": "reminders with anchor: start"}
CHECKIN_KINDS = ("continuous", "start", "event", "unscheduled")  # the kinds ``wants_checkin`` may say yes to
ROLE_RE = re.compile(r"^(owner|delegate|secretariat|supervisor(\.supervisor)*)$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

DurationField = Annotated[
    Duration, BeforeValidator(lambda v: v if isinstance(v, Duration) else parse_duration(v)), PlainSerializer(str)
]


def wants_checkin(kind: str, due: date | None) -> bool:
    """Whether an action gets its policy's check-ins: ongoing work, or an event without a due date."""
    return kind in CHECKIN_KINDS and (kind != "event" or due is None)


def matching_kind(kind: str, due: date | None) -> str:
    """The kind a policy is chosen by: an event-linked action resolved to a date is a deadline (owner first)."""
    return "deadline" if kind == "event" and due is not None else kind


def _recipient(value: str) -> str:
    if ROLE_RE.match(value) or EMAIL_RE.match(value):
        return value
    raise ValueError(
        f"unknown recipient {value!r}; expected owner, delegate, supervisor, supervisor.supervisor "
        "(one '.supervisor' per level up), secretariat, or an e-mail address"
    )


Recipients = Annotated[
    list[Annotated[str, BeforeValidator(lambda v: _recipient(str(v)))]],
    BeforeValidator(lambda v: [v] if isinstance(v, str) else v),
    Field(min_length=1),
]


def _problems(*found: tuple[tuple[str | int, ...], str, Any]) -> ValidationError:
    """Return one error per problem, each at its own place below the field being validated.

    pydantic prefixes the places with the field's own, so a rule-file error names the exact key.
    """
    details = [
        InitErrorDetails(type=PydanticCustomError("value_error", msg), loc=loc, input=value)
        for loc, msg, value in found
    ]
    return ValidationError.from_exception_data("rules", details)


def _kinds(info: ValidationInfo) -> set[str] | None:
    """Return the kinds the policy's ``match`` allows, or None when ``match`` itself is invalid."""
    match = info.data.get("match")
    return set(match.kind or KINDS) if isinstance(match, Match) else None


def _said(kinds: set[str]) -> str:
    return " and ".join(k for k in KINDS if k in kinds)


def _either(words: Sequence[str]) -> str:
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else "".join(words)


def _unknown_kind(kind: str) -> str:
    close = get_close_matches(kind, KINDS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown kind {kind!r}{hint}; expected one of {', '.join(KINDS)}"


def _clock_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24:
        return time(value)
    m = re.match(r"^(\d{1,2}):(\d{2})$", str(value).strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ValueError(f'expected a time of day like "09:00", got {value!r}')
    return time(int(m[1]), int(m[2]))


ClockTime = Annotated[time, BeforeValidator(_clock_time), PlainSerializer(lambda t: t.strftime("%H:%M"))]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_of(*words: str) -> BeforeValidator:
    """A check for a word field that says what was expected in a rule writer's terms."""

    def check(value: Any) -> Any:
        if value not in words:
            raise ValueError(f"expected {_either(words)}, got {value!r}")
        return value

    return BeforeValidator(check)


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Match(_Model):
    """Which actions a policy applies to; every given field must fit, each may list alternatives."""

    kind: Annotated[list[str] | None, BeforeValidator(_as_list)] = None
    section: Annotated[list[str] | None, BeforeValidator(_as_list)] = None
    owner: Annotated[list[str] | None, BeforeValidator(_as_list)] = None
    tag: Annotated[list[str] | None, BeforeValidator(_as_list)] = None

    @field_validator("kind", "section", "owner", "tag")
    @classmethod
    def _not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError(
                "an empty list matches nothing; expected at least one value, or leave the key out to match all"
            )
        return value

    @field_validator("kind")
    @classmethod
    def _kinds(cls, value: list[str] | None) -> list[str] | None:
        wrong = [(i, kind) for i, kind in enumerate(value or ()) if kind not in KINDS]
        if wrong:
            raise _problems(*(((i,), _unknown_kind(kind), kind) for i, kind in wrong))
        return value


class RemindStep(_Model):
    """A reminder this long before the due date (or the start date)."""

    before: DurationField
    anchor: Annotated[Literal["due", "start"], _one_of("due", "start")] = "due"
    to: Recipients = ["owner"]
    template: str = "reminder"


class CheckinRule(_Model):
    """Ask for a status update this often; a missing answer escalates after ``escalate_after``.

    An unanswered check-in counts as missed ``escalate_after`` after it was sent; the policy's
    ``escalate`` ladder then runs from that moment, as it runs from a missed due date.
    """

    every: DurationField
    to: Recipients = ["owner"]
    template: str = "checkin"
    escalate_after: DurationField | None = None

    @field_validator("every")
    @classmethod
    def _positive(cls, value: Duration) -> Duration:
        if value.is_zero:
            raise ValueError("a check-in rhythm of zero would never end; expected e.g. 3mo")
        return value


class EscalateStep(_Model):
    """A step of the ladder: this long after the missed date, tell ``to``; repeat until the bound.

    ``after`` and ``until`` count from the missed date (a due date, the bound of a completion-based
    recurrence, or the moment a check-in went unanswered), not from the step before.
    """

    after: DurationField
    to: Recipients
    template: str = "escalation"
    repeat: DurationField | None = None
    until: DurationField | None = None

    @model_validator(mode="after")
    def _bounds(self) -> EscalateStep:
        found: list[tuple[tuple[str | int, ...], str, Any]] = []
        if self.repeat is not None and self.repeat.is_zero:
            found.append(
                (
                    ("repeat",),
                    "a zero interval would repeat forever; expected an interval like 1d or 1w",
                    str(self.repeat),
                )
            )
        if self.until is not None and self.until.approx_days <= self.after.approx_days:
            found.append(
                (
                    ("until",),
                    f"{self.until} is not later than after ({self.after}), so this step can never fire; "
                    f"expected a bound later than {self.after}",
                    str(self.until),
                )
            )
        if found:
            raise _problems(*found)
        return self


class Delivery(_Model):
    """When messages go out, in each recipient's own time zone."""

    hour: ClockTime = time(9, 0)
    business_days: bool = True
    holidays: list[date] = []
    # A recipient whose IANA zone is named here follows that zone's holidays instead of ``holidays``.
    holidays_by_zone: dict[str, list[date]] = {}
    # A recipient whose country (ISO 3166 alpha-2, in the owners file) is named here follows that country's
    # holidays, before their zone's and ``holidays``.
    holidays_by_country: dict[str, list[date]] = {}
    quiet_hours: tuple[ClockTime, ClockTime] | None = None
    digest: Annotated[Literal["none", "daily", "weekly"], _one_of("none", "daily", "weekly")] = "none"

    @field_validator("holidays_by_zone")
    @classmethod
    def _known_zones(cls, value: dict[str, list[date]]) -> dict[str, list[date]]:
        for name in value:
            if (problem := zone_problem(name)) is not None:
                raise ValueError(f"holidays_by_zone: {problem}")
        return value

    @field_validator("holidays_by_country")
    @classmethod
    def _known_countries(cls, value: dict[str, list[date]]) -> dict[str, list[date]]:
        for code in value:
            if (problem := country_problem(code)) is not None:
                raise ValueError(f"holidays_by_country: {problem}")
        return value

    def holidays_for(self, tz: str | None, country: str | None = None) -> list[date]:
        """Return the holidays of a recipient in zone ``tz`` from ``country``: their country's list, else their
        zone's, else ``holidays``."""
        if country is not None and country in self.holidays_by_country:
            return self.holidays_by_country[country]
        return self.holidays_by_zone.get(tz, self.holidays) if tz is not None else self.holidays

    def has_own_holidays(self, tz: str | None, country: str | None = None) -> bool:
        """Whether a recipient in zone ``tz`` from ``country`` keeps holidays other than ``holidays``."""
        return country in self.holidays_by_country or tz in self.holidays_by_zone


class Limits(_Model):
    """Noise limits."""

    max_per_day: int = 10
    backoff_after: DurationField = parse_duration("7d")
    backoff_every: DurationField = parse_duration("1w")
    catch_up: DurationField = parse_duration("30d")

    @field_validator("max_per_day")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"expected a whole number of messages, at least 1, got {value}")
        return value

    @field_validator("backoff_every")
    @classmethod
    def _not_zero(cls, value: Duration) -> Duration:
        if value.is_zero:
            raise ValueError("a zero interval would repeat without pause; expected an interval like 1w")
        return value


class Recurrence(_Model):
    """Recurring obligations counted from the last completion, escalating only past ``bound``."""

    completion_based: bool = False
    bound: DurationField | None = None


MAX_CAMPAIGN_DAYS = 366  # how far ahead a campaign may look (``within``)
DEFAULT_DELAY_CAUSES = ("resources", "depends on another action", "awaiting a decision", "external factors", "other")
ACCEPTANCE_STATES = ("accepted", "partially_accepted", "not_accepted", "under_consideration")


def _verifier(value: Any) -> str:
    text = str(value).strip()
    if not text or not re.match(r"^[\w.@-]+$", text):
        raise ValueError(f"expected supervisor, secretariat or an owner id, got {value!r}")
    return text


def _steps(value: Any) -> Any:
    if value not in (1, 2) or isinstance(value, bool):
        raise ValueError(f"expected 1 (the owner closes) or 2 (the owner reports, a verifier confirms), got {value!r}")
    return value


class Closure(_Model):
    """How an action is closed: by the owner alone (``steps: 1``), or reported and then verified (``steps: 2``).

    ``verifier``: ``supervisor`` (the owner's first supervisor; the secretariat when there is none),
    ``secretariat``, or an owner id. A report waiting longer than ``remind_after`` reminds the verifier every
    ``remind_after``; one waiting longer than ``escalate_after`` goes to the verifier's supervisor.
    """

    steps: Annotated[Literal[1, 2], BeforeValidator(_steps)] = 2
    verifier: Annotated[str, BeforeValidator(_verifier)] = "supervisor"
    remind_after: DurationField = parse_duration("7d")
    escalate_after: DurationField = parse_duration("21d")

    @model_validator(mode="after")
    def _order(self) -> Closure:
        if self.remind_after.is_zero:
            raise _problems((("remind_after",), "a zero interval would remind without pause; expected e.g. 7d", "0d"))
        if self.escalate_after.approx_days <= self.remind_after.approx_days:
            raise _problems(
                (
                    ("escalate_after",),
                    f"{self.escalate_after} is not later than remind_after ({self.remind_after}); "
                    f"expected a delay longer than {self.remind_after}",
                    str(self.escalate_after),
                )
            )
        return self


class Stale(_Model):
    """Remind the owner of an open action with no update for ``after``; escalate by the ladder when it stays stale.

    The ladder runs from ``escalate_after`` past the stale reminder, as it runs from a missed check-in.
    """

    after: DurationField
    escalate_after: DurationField | None = parse_duration("14d")
    template: str = "stale"

    @field_validator("after")
    @classmethod
    def _positive(cls, value: Duration) -> Duration:
        if value.is_zero:
            raise ValueError("an action cannot be stale at once; expected a delay like 60d")
        return value


def _states(value: Any) -> Any:
    values = [value] if isinstance(value, str) else value
    if isinstance(values, list):
        wrong = [v for v in values if v not in ACCEPTANCE_STATES]
        if wrong:
            raise ValueError(f"unknown acceptance {wrong[0]!r}; expected some of {', '.join(ACCEPTANCE_STATES)}")
    return values


class Acceptance(_Model):
    """Which acceptance states get reminders and escalations (the others are left alone)."""

    remind: Annotated[list[str], BeforeValidator(_states)] = ["accepted", "partially_accepted"]


class Policy(_Model):
    """What to say, to whom and when, for the actions that ``match``."""

    name: str = Field(min_length=1)
    match: Match = Match()
    remind: list[RemindStep] = []
    checkin: CheckinRule | None = None
    escalate: list[EscalateStep] = []
    delivery: Delivery = Delivery()
    limits: Limits = Limits()
    recurrence: Recurrence = Recurrence()
    closure: Closure = Closure()
    stale: Stale | None = None
    acceptance: Acceptance = Acceptance()

    @field_validator("remind")
    @classmethod
    def _remind_dates(cls, steps: list[RemindStep], info: ValidationInfo) -> list[RemindStep]:
        kinds = _kinds(info)
        if kinds is None:
            return steps
        found = [
            (
                (i,),
                f"can never fire: {_said(kinds)} actions have no {step.anchor} date to remind before; "
                f"expected {WHICH[step.anchor]} only on policies matching {_either(DATED[step.anchor])} actions",
                step.anchor,
            )
            for i, step in enumerate(steps)
            if not kinds & set(DATED[step.anchor])
        ]
        if found:
            raise _problems(*found)
        return steps

    @field_validator("checkin")
    @classmethod
    def _checkin_kinds(cls, rule: CheckinRule | None, info: ValidationInfo) -> CheckinRule | None:
        kinds = _kinds(info)
        if rule is not None and kinds is not None and not kinds & set(CHECKIN_KINDS):
            raise ValueError(
                f"can never fire: {_said(kinds)} actions get no check-ins; "
                f"expected checkin only on policies matching {_either(CHECKIN_KINDS)} actions"
            )
        return rule

    @field_validator("escalate")
    @classmethod
    def _ladder(cls, steps: list[EscalateStep]) -> list[EscalateStep]:
        found = [
            (
                (i, "after"),
                f"{step.after} is not later than the step before ({before.after}), so the ladder can never reach it; "
                "expected the steps in order, each 'after' later than the one before",
                str(step.after),
            )
            for i, (before, step) in enumerate(pairwise(steps), 1)
            if step.after.approx_days <= before.after.approx_days
        ]
        if found:
            raise _problems(*found)
        return steps

    @field_validator("recurrence")
    @classmethod
    def _recurring_only(cls, rule: Recurrence, info: ValidationInfo) -> Recurrence:
        kinds = _kinds(info)
        if kinds is not None and "recurring" not in kinds:
            raise ValueError(
                f"can never apply: {_said(kinds)} actions do not recur; "
                "expected recurrence only on policies matching recurring actions"
            )
        return rule

    @model_validator(mode="after")
    def _escalation_target(self) -> Policy:
        if self.checkin is not None and self.checkin.escalate_after is not None and not self.escalate:
            raise _problems(
                (
                    ("checkin", "escalate_after"),
                    "a missed check-in has nowhere to escalate: the policy has no escalate ladder; "
                    "expected an escalate: list of steps (the first may be 'after: 0d'), or no escalate_after",
                    str(self.checkin.escalate_after),
                )
            )
        return self


class Defaults(_Model):
    """File-wide defaults for every policy of the file."""

    delivery: Delivery = Delivery()
    limits: Limits = Limits()
    closure: Closure = Closure()
    stale: Stale | None = None
    acceptance: Acceptance = Acceptance()


def _causes(value: Any) -> Any:
    if isinstance(value, list):
        if not value:
            raise ValueError("an empty list leaves nothing to choose; expected at least one cause, or leave it out")
        seen = [str(v).strip() for v in value]
        if any(not v for v in seen):
            raise ValueError("expected a cause in words, got an empty one")
        if len(set(seen)) != len(seen):
            raise ValueError("a cause is named twice; expected each cause once")
    return value


class CampaignRule(_Model):
    """An update campaign the rules start: every ``every`` months (counted from January), on day ``day`` of the
    month (or the next business day), every owner is asked in one message to update their open actions due
    within ``within`` (and the overdue ones, unless ``overdue: false``)."""

    every: DurationField
    day: int = 1
    within: DurationField = parse_duration("45d")
    overdue: bool = True

    @field_validator("every")
    @classmethod
    def _months(cls, value: Duration) -> Duration:
        if value.months < 1 or value.months > 12 or value != Duration(months=value.months):
            raise ValueError(f"expected a number of months from 1mo to 12mo (like 1mo or 3mo), got {value}")
        return value

    @field_validator("day")
    @classmethod
    def _day_of_month(cls, value: int) -> int:
        if not 1 <= value <= 28:
            raise ValueError(f"expected a day of the month from 1 to 28 (every month has those), got {value}")
        return value

    @field_validator("within")
    @classmethod
    def _days(cls, value: Duration) -> Duration:
        if value != Duration(days=value.days) or not 1 <= value.days <= MAX_CAMPAIGN_DAYS:
            raise ValueError(f"expected a number of days from 1d to {MAX_CAMPAIGN_DAYS}d (like 45d), got {value}")
        return value

    def starts_in(self, year: int, month: int) -> bool:
        """Return True when a campaign of this rule is due in ``month`` of ``year``."""
        return (year * 12 + month - 1) % self.every.months == 0


class RuleFile(_Model):
    """One rule file."""

    defaults: Defaults = Defaults()
    policies: list[Policy] = []
    delay_causes: Annotated[list[str] | None, BeforeValidator(_causes)] = None
    campaigns: list[CampaignRule] = []


@dataclass(frozen=True, slots=True)
class ActionFacts:
    """What matching needs to know about an action."""

    ref: str
    sections: Sequence[str]
    kind: str
    owner: str | None
    tags: Sequence[str] = ()


def _fits(patterns: list[str] | None, values: Sequence[str]) -> bool:
    return patterns is None or any(fnmatchcase(v, p) for p in patterns for v in values)


def fits(match: Match, facts: ActionFacts) -> bool:
    """Return whether ``match`` fits the action (what ``explain_match`` says, without the sentence)."""
    return (
        _fits(match.kind, (facts.kind,))
        and _fits(match.section, (facts.ref, *facts.sections))
        and _fits(match.owner, (facts.owner or "",))
        and _fits(match.tag, facts.tags)
    )


class PolicyChooser:
    """The first of ``policies`` whose ``match`` fits an action (as ``RuleSet.policy_of`` chooses), worked out once
    per distinct kind, sections, owner and tags: the actions of a batch share a few of each. An action's own ref
    (which ``section`` patterns also match) is the only fact looked at action by action."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        self._policies = tuple(policies)
        # per (kind, sections, owner, tags): the policies that can apply, in order, each with the section patterns
        # its ref must match (None: it applies whatever the ref); the list ends at the first that always applies
        self._found: dict[tuple[Any, ...], tuple[tuple[Policy, tuple[str, ...] | None], ...]] = {}

    def policy_of(
        self, ref: str, sections: tuple[str, ...], kind: str, owner: str | None, tags: tuple[str, ...]
    ) -> Policy | None:
        """Return the first policy whose ``match`` fits the action (``fits`` of ``ActionFacts`` of these facts)."""
        key = (kind, sections, owner, tags)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = self._choices(sections, kind, owner, tags)
        for policy, patterns in found:
            if patterns is None or any(fnmatchcase(ref, p) for p in patterns):
                return policy
        return None

    def _choices(
        self, sections: tuple[str, ...], kind: str, owner: str | None, tags: tuple[str, ...]
    ) -> tuple[tuple[Policy, tuple[str, ...] | None], ...]:
        out: list[tuple[Policy, tuple[str, ...] | None]] = []
        for policy in self._policies:
            match = policy.match
            if not (_fits(match.kind, (kind,)) and _fits(match.owner, (owner or "",)) and _fits(match.tag, tags)):
                continue
            if _fits(match.section, sections):
                out.append((policy, None))
                break
            assert match.section is not None  # None fits every section
            out.append((policy, tuple(match.section)))
        return tuple(out)


def explain_match(match: Match, facts: ActionFacts) -> tuple[bool, str]:
    """Return whether ``match`` fits the action, and a sentence saying why (or why not)."""
    checks = [
        ("kind", match.kind, [facts.kind], facts.kind),
        ("section", match.section, [facts.ref, *facts.sections], facts.sections[0] if facts.sections else ""),
        ("owner", match.owner, [facts.owner or ""], facts.owner or "(none)"),
        ("tag", match.tag, list(facts.tags), ", ".join(facts.tags) or "(none)"),
    ]
    said = []
    for name, patterns, values, shown in checks:
        if patterns is None:
            continue
        if not _fits(patterns, values):
            return False, f"{name} {shown} is not {' or '.join(patterns)}"
        said.append(f"{name} {shown} fits {' or '.join(patterns)}")
    return True, "; ".join(said) or "it matches every action"
