"""The owners directory: people (or offices) with e-mail, time zone and supervisor.

Read from YAML (``owners:`` list) or CSV (header ``id,name,email,timezone,supervisor``).
An owner may be away for a period (``away: {from, to, deputy}``; CSV ``away_from,away_to,deputy``):
the deputy receives in their place. ``country`` (ISO 3166 alpha-2) says whose holidays the owner keeps
when the rules name that country's (``holidays_by_country``). ``language`` (en, fr or es) is the one
their e-mails, pages and calendar feeds are written in; left empty, the plan's language. ``unit`` names
the unit the implementation report counts the owner's actions under (and their people's, when they head it).
``REQUIRED`` keys (and CSV columns) must be there; an optional one that is left out keeps what
is stored for an owner already known (``given`` says which ones an entry carries).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine import yamlfile
from engine.countries import CountryCode
from engine.errors import InputError, Location, ValidationErrors, display_path
from engine.languages import language_problem
from engine.zones import ZoneName

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ID_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
CSV_COLUMNS = (
    "id",
    "name",
    "email",
    "timezone",
    "supervisor",
    "delegate",
    "digest",
    "role",
    "away_from",
    "away_to",
    "deputy",
    "country",
    "language",
    "unit",
)
AWAY_COLUMNS = ("away_from", "away_to", "deputy")
REQUIRED = ("id", "name", "email", "timezone")


class Away(BaseModel):
    """A period (first and last day, in the owner's zone) when a deputy receives in the owner's place."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    first: date = Field(alias="from")
    last: date = Field(alias="to")
    deputy: str = Field(pattern=ID_RE)

    @model_validator(mode="after")
    def _order(self) -> Away:
        if self.last < self.first:
            raise ValueError(f"'to' ({self.last}) is before 'from' ({self.first}); expected the last day away")
        return self


class OwnerEntry(BaseModel):
    """One person in the directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_RE)
    name: str = Field(min_length=1)
    email: str
    timezone: ZoneName
    supervisor: str | None = None
    delegate: str | None = None
    digest: Literal["none", "daily", "weekly"] = "none"
    role: Literal["owner", "secretariat", "admin"] = "owner"
    away: Away | None = None
    country: CountryCode | None = None
    language: str | None = None
    unit: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL_RE.match(value):
            raise ValueError(f"expected an e-mail address like name@example.org, got {value!r}")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = language_problem(value)
        if problem:
            raise ValueError(problem)
        return value.strip().lower()

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = " ".join(value.split())
        if not 1 <= len(name) <= 200:
            raise ValueError(f"expected the unit's name, like PARDEV or Partnerships Department, got {value!r}")
        return name

    @property
    def given(self) -> frozenset[str]:
        """The keys the file gave for this owner (required ones always; optional ones when written)."""
        return frozenset(self.model_fields_set)


class OwnersFile(BaseModel):
    """The YAML form of the directory."""

    model_config = ConfigDict(extra="forbid")

    owners: list[OwnerEntry]


def looks_like_yaml(text: str) -> bool:
    """Return True when a YAML text is an owners directory."""
    return bool(re.search(r"^owners:\s*$", text, re.MULTILINE)) and not re.search(r"^actions:", text, re.MULTILINE)


def looks_like_csv(text: str) -> bool:
    """Return True when the first line is the owners CSV header."""
    header = text.lstrip("\ufeff").split("\n", 1)[0].strip().lower()
    return [c.strip() for c in header.split(",")][:3] == ["id", "name", "email"]


def load(path: str | Path, known: Iterable[str] = ()) -> list[OwnerEntry]:
    """Read and check an owners file; ``known`` are ids already in the database."""
    name = display_path(path)
    text = yamlfile.read_text(path, what="owners file")
    if looks_like_csv(text):
        entries, lines = _from_csv(text, name)
    else:
        doc = yamlfile.loads(text, name)
        if not isinstance(doc.data, Mapping) or "owners" not in doc.data:
            raise InputError("expected an owners file with a top-level 'owners:' list", Location(name, 1, 1))
        entries = yamlfile.validate(OwnersFile, doc).owners
        lines = [doc.locate(("owners", i)) for i in range(len(entries))]
    check_directory(entries, lines, known)
    return entries


def _from_csv(text: str, name: str) -> tuple[list[OwnerEntry], list[Location]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = [c.strip() for c in reader.fieldnames or () if c]
    unknown = set(columns) - set(CSV_COLUMNS)
    if unknown:
        raise InputError(
            f"unknown column(s) {sorted(unknown)}; expected {', '.join(CSV_COLUMNS)}", Location(name, 1, 1)
        )
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(
            f"missing required column(s) {', '.join(missing)}; expected the header {','.join(CSV_COLUMNS)} "
            f"(only {', '.join(c for c in CSV_COLUMNS if c not in REQUIRED)} may be left out)",
            Location(name, 1, 1),
        )
    entries, lines, errors = [], [], []
    for row in reader:
        where = Location(name, reader.line_num)
        cells = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        values: dict[str, object] = {k: v for k, v in cells.items() if v and k not in AWAY_COLUMNS}
        if any(k in cells for k in AWAY_COLUMNS):  # all empty: not away (it clears); else all three are needed
            parts = {"from": cells.get("away_from"), "to": cells.get("away_to"), "deputy": cells.get("deputy")}
            values["away"] = {k: v for k, v in parts.items() if v} or None
        # an empty cell of an optional column says "none" (it clears); a column left out keeps what is stored
        cleared = ("supervisor", "delegate", "country", "language", "unit")
        values.update({k: None for k in cleared if k in cells and not cells[k]})
        values.update({k: v for k, v in (("digest", "none"), ("role", "owner")) if k in cells and not cells[k]})
        try:
            entries.append(OwnerEntry.model_validate(values))
            lines.append(where)
        except ValueError as exc:
            for err in getattr(exc, "errors", lambda: [])():
                field = ".".join(str(p) for p in err["loc"])
                msg = str(err["msg"]).removeprefix("Value error, ")
                if err["type"] == "missing":
                    msg = "required, got an empty cell"
                errors.append(InputError(f"{field}: {msg}", where))
    if errors:
        raise ValidationErrors(errors)
    return entries, lines


def check_directory(entries: list[OwnerEntry], lines: list[Location], known: Iterable[str] = ()) -> None:
    """Refuse duplicate ids, unknown supervisors and supervisor loops, naming the line."""
    errors: list[InputError] = []
    seen: dict[str, Location] = {}
    for entry, where in zip(entries, lines, strict=True):
        if entry.id in seen:
            errors.append(InputError(f"duplicate owner id {entry.id!r} (first at line {seen[entry.id].line})", where))
        seen.setdefault(entry.id, where)
    ids = set(seen) | set(known)
    for entry, where in zip(entries, lines, strict=True):
        if entry.supervisor and entry.supervisor not in ids:
            errors.append(
                InputError(f"unknown supervisor {entry.supervisor!r} for {entry.id!r}; expected an owner id", where)
            )
        if entry.delegate and entry.delegate not in ids:
            errors.append(
                InputError(f"unknown delegate {entry.delegate!r} for {entry.id!r}; expected an owner id", where)
            )
        if entry.away and (entry.away.deputy not in ids or entry.away.deputy == entry.id):
            what = "the owner as their own deputy" if entry.away.deputy == entry.id else "unknown deputy"
            errors.append(
                InputError(f"away: {what} {entry.away.deputy!r} for {entry.id!r}; expected another owner's id", where)
            )
    errors.extend(_loops(entries, seen))
    if errors:
        raise ValidationErrors(errors)


def _loops(entries: list[OwnerEntry], where: Mapping[str, Location]) -> list[InputError]:
    boss = {e.id: e.supervisor for e in entries}
    reported: set[str] = set()
    errors = []
    for entry in entries:
        chain = [entry.id]
        current = boss.get(entry.id)
        while current is not None and current in boss and current not in chain:
            chain.append(current)
            current = boss.get(current)
        if current is not None and current in chain and not reported & set(chain):
            loop = [*chain[chain.index(current) :], current]
            reported.update(loop)
            errors.append(
                InputError(
                    f"supervisor loop: {' -> '.join(loop)}; a chain must end with someone who has no supervisor",
                    where[current],
                )
            )
    return errors


def supervisor_chain(owner_id: str, bosses: Mapping[str, str | None]) -> list[str]:
    """Return ``owner_id``'s supervisors, nearest first (the directory is loop-free)."""
    chain: list[str] = []
    current = bosses.get(owner_id)
    while current is not None and current not in chain and current != owner_id:
        chain.append(current)
        current = bosses.get(current)
    return chain
