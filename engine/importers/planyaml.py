"""The canonical plan file (YAML) that people edit: read it into a ``PlanDocument``, or write one.

Staff assign owners, correct titles and override time frames here. Workflow state
(done, on hold, ...) is not part of the file: it changes through the CLI, e-mail links and pages.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from engine import yamlfile
from engine.errors import InputError, ValidationErrors
from engine.plandoc import KINDS, ActionRow, PlanDocument, PlanInfo, SectionRow
from engine.zones import ZoneName

REF_RE = r"^[A-Za-z0-9][A-Za-z0-9._()-]*$"
ACCEPTANCE = ("accepted", "partially_accepted", "not_accepted", "under_consideration")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanHeader(_Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str
    symbol: str = ""
    body: str = ""
    ref_date: date = Field(alias="date")
    timezone: ZoneName
    fy_start: int | None = Field(default=None, ge=1, le=12)
    source: str = ""
    language: Literal["en", "fr", "es"] | None = None


class SectionEntry(_Model):
    key: str = Field(pattern=REF_RE)
    parent: str | None = None
    number: str = ""
    title: str
    context: str = ""


class ScheduleOverride(_Model):
    """Explicit values that replace what the time-frame phrase says."""

    kind: str | None = None
    start: date | None = None
    due: date | None = None
    rrule: str | None = None
    event: str | None = None
    after: str | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str | None) -> str | None:
        if value is not None and value not in KINDS:
            raise ValueError(f"expected one of {', '.join(KINDS)}, got {value!r}")
        return value

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from dateutil.rrule import rrulestr

        try:
            # Any fixed start will do: only the rule's syntax is checked here. Plan dates are
            # floating days (like RFC 5545 all-day values), hence no zone.
            rrulestr(value.removeprefix("RRULE:"), dtstart=datetime(2000, 1, 1))  # noqa: DTZ001
        except (ValueError, TypeError) as exc:
            raise ValueError(f"expected an RFC 5545 rule like FREQ=YEARLY ({exc})") from None
        return value.removeprefix("RRULE:")

    @model_validator(mode="after")
    def _order(self) -> ScheduleOverride:
        if self.start and self.due and self.due < self.start:
            raise ValueError(f"due {self.due} is before start {self.start}")
        return self


class ActionEntry(_Model):
    id: str = Field(pattern=REF_RE)
    section: str
    title: str
    timeframe: str = ""
    proposed_timeframe: str | None = None
    subheading: str = ""
    description: str | None = None
    owner: str | None = None
    tags: list[str] = []
    schedule: ScheduleOverride | None = None
    acceptance: str | None = None
    acceptance_note: str | None = None

    @field_validator("acceptance")
    @classmethod
    def _acceptance(cls, value: str | None) -> str | None:
        if value is not None and value not in ACCEPTANCE:
            raise ValueError(f"expected one of {', '.join(ACCEPTANCE)}, got {value!r}")
        return value

    @model_validator(mode="after")
    def _reason(self) -> ActionEntry:
        if self.acceptance == "not_accepted" and not (self.acceptance_note or "").strip():
            raise ValueError("a recommendation not accepted needs the reason: add acceptance_note")
        return self


class PlanFile(_Model):
    plan: PlanHeader
    sections: list[SectionEntry]
    actions: list[ActionEntry]


def looks_like(text: str) -> bool:
    """Return True when a YAML text is a plan file."""
    return bool(re.search(r"^plan:", text, re.MULTILINE) and re.search(r"^actions:", text, re.MULTILINE))


def parse(text: str, source: str) -> PlanDocument:
    """Read a plan file; every error names its line and column."""
    doc = yamlfile.loads(text, source)
    if not isinstance(doc.data, Mapping):
        raise InputError("expected a plan file with 'plan:', 'sections:' and 'actions:'", doc.locate(()))
    parsed = yamlfile.validate(PlanFile, doc)
    _check_references(parsed, doc)
    document = _document(parsed, source)
    for i, row in enumerate(document.actions):
        row.line = doc.locate(("actions", i)).line or 0
    return document


def _check_references(parsed: PlanFile, doc: yamlfile.Document) -> None:
    errors: list[InputError] = []
    keys: dict[str, int] = {}
    for i, section in enumerate(parsed.sections):
        if section.key in keys:
            errors.append(
                doc.error(
                    ("sections", i, "key"),
                    f"duplicate section key {section.key!r} (first is sections[{keys[section.key]}])",
                )
            )
        keys.setdefault(section.key, i)
        if section.parent is not None and section.parent not in keys:
            errors.append(
                doc.error(
                    ("sections", i, "parent"),
                    f"unknown parent {section.parent!r}; a parent must be listed before its sections",
                )
            )
    refs: dict[str, int] = {}
    for i, action in enumerate(parsed.actions):
        if action.id in refs:
            first = doc.locate(("actions", refs[action.id], "id")).line
            errors.append(
                doc.error(
                    ("actions", i, "id"),
                    f"duplicate action id {action.id!r} (first at line {first}); each action needs its own id",
                )
            )
        refs.setdefault(action.id, i)
        if action.section not in keys:
            errors.append(
                doc.error(
                    ("actions", i, "section"),
                    f"unknown section {action.section!r}; expected a key listed under 'sections:'",
                )
            )
    for i, action in enumerate(parsed.actions):
        schedule = action.schedule
        if schedule is not None and schedule.kind == "deadline" and schedule.due is None and schedule.after is None:
            errors.append(
                doc.error(
                    ("actions", i, "schedule", "kind"),
                    "a deadline needs its date; add 'due: YYYY-MM-DD' (or 'after:' another action's id)",
                )
            )
        after = action.schedule.after if action.schedule else None
        if after is not None and after not in refs:
            errors.append(
                doc.error(
                    ("actions", i, "schedule", "after"), f"unknown action {after!r}; expected the id of another action"
                )
            )
    if errors:
        raise ValidationErrors(errors)


def _document(parsed: PlanFile, source: str) -> PlanDocument:
    h = parsed.plan
    info = PlanInfo(h.id, h.title, h.symbol, h.ref_date, h.timezone, h.body, h.fy_start, h.source or source, "yaml")
    info.language = h.language or ""
    sections = [_section_row(s, i, parsed.sections) for i, s in enumerate(parsed.sections, 1)]
    by_key = {s.key: s for s in sections}
    actions = [_action_row(a, i, by_key) for i, a in enumerate(parsed.actions, 1)]
    return PlanDocument(info, sections, actions, path=source)


def _section_row(entry: SectionEntry, ordinal: int, entries: list[SectionEntry]) -> SectionRow:
    parent = next((e for e in entries if e.key == entry.parent), None)
    if entry.parent is None:
        level = "part"
    elif not entry.number:
        level = "subheading"
    else:
        level = "issue" if parent is not None and parent.parent is None else "subissue"
    return SectionRow(entry.key, entry.parent, level, entry.number, entry.title, entry.context, ordinal)


def default_description(section: SectionRow | None) -> str:
    """Return the description an action gets from its section: the heading and its context."""
    if section is None:
        return ""
    return f"{section.title}\n\n{section.context}" if section.context else section.title


def _action_row(entry: ActionEntry, ordinal: int, sections: Mapping[str, SectionRow]) -> ActionRow:
    override = entry.schedule.model_dump(exclude_none=True, mode="json") if entry.schedule else {}
    description = entry.description
    if description is None:
        description = default_description(sections.get(entry.section))
    return ActionRow(
        ref=entry.id,
        section_key=entry.section,
        ordinal=ordinal,
        title=entry.title,
        timeframe=entry.timeframe,
        subheading=entry.subheading,
        description=description,
        timeframe_proposed=entry.proposed_timeframe,
        owner=entry.owner,
        override=override,
        tags=list(entry.tags),
        acceptance=entry.acceptance,
        acceptance_note=entry.acceptance_note,
    )


HEADER_COMMENT = """\
planwatch plan file. Edit owners, titles and time frames here, then run
`planwatch import THIS_FILE`. Keys per action: id, section, title, timeframe (as printed),
owner (an id from the owners directory; wins over rules/owners.yaml), tags (matched by
rule files' `match: {tag: ...}`), schedule
(kind, start, due, rrule, event, after) to override how the time frame is read, and
acceptance (accepted, partially_accepted, not_accepted, under_consideration) with acceptance_note.
"""


def dump(doc: PlanDocument, rule_owners: Mapping[str, str] | None = None) -> str:
    """Return the YAML text of a plan; ``rule_owners`` are shown as comments, not written."""
    root = CommentedMap()
    root.yaml_set_start_comment(HEADER_COMMENT)
    root["plan"] = _plan_map(doc.plan)
    root["sections"] = CommentedSeq(_section_map(s) for s in doc.sections)
    by_key = {s.key: s for s in doc.sections}
    actions = CommentedSeq()
    for row in doc.actions:
        item = _action_map(row, by_key.get(row.section_key))
        owner = (rule_owners or {}).get(row.ref)
        if owner and row.owner is None:
            item.yaml_add_eol_comment(f"owner by rule: {owner}", "title")
        actions.append(item)
    root["actions"] = actions
    yaml = YAML(typ="rt")
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()


def _text(value: str) -> Any:
    return LiteralScalarString(value) if "\n" in value else value


def _plan_map(p: PlanInfo) -> CommentedMap:
    m = CommentedMap(id=p.id, title=p.title, symbol=p.symbol, body=p.body, date=p.ref_date, timezone=p.timezone)
    if p.fy_start is not None:
        m["fy_start"] = p.fy_start
    m["source"] = p.source
    if p.language:
        m["language"] = p.language
    return m


def _section_map(s: SectionRow) -> CommentedMap:
    m = CommentedMap(key=s.key)
    if s.parent_key is not None:
        m["parent"] = s.parent_key
    if s.number:
        m["number"] = s.number
    m["title"] = s.title
    if s.context:
        m["context"] = _text(s.context)
    return m


def _action_map(a: ActionRow, section: SectionRow | None) -> CommentedMap:
    m = CommentedMap(id=a.ref, section=a.section_key, title=a.title, timeframe=a.timeframe)
    if a.timeframe_proposed is not None:
        m["proposed_timeframe"] = a.timeframe_proposed
    if a.subheading:
        m["subheading"] = a.subheading
    if a.description != default_description(section):
        m["description"] = _text(a.description)
    if a.owner is not None:
        m["owner"] = a.owner
    if a.tags:
        m["tags"] = list(a.tags)
    if a.override:
        m["schedule"] = CommentedMap(
            (k, date.fromisoformat(v) if k in {"start", "due"} else v) for k, v in a.override.items()
        )
    if a.acceptance is not None:
        m["acceptance"] = a.acceptance
    if a.acceptance_note:
        m["acceptance_note"] = _text(a.acceptance_note)
    return m
