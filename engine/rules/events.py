"""Named events with dates (``rules/events.yaml``), so event-linked actions get a due date.

Example::

    events:
      - name: Governing Body, 277th Session
        aka: ["March 2000 session", "GB.277"]
        date: 2000-03-31
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from engine import yamlfile
from engine.errors import InputError


@dataclass(frozen=True, slots=True)
class NamedEvent:
    """An event with a known date, from ``rules/events.yaml``; ``names`` are matched in phrases."""

    name: str
    names: tuple[str, ...]
    date: date


class EventEntry(BaseModel):
    """One dated event; ``name`` and every ``aka`` are matched in time-frame phrases."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    aka: list[str] = []
    date: date


class EventsFile(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventEntry] = []


def load(path: str | Path) -> tuple[NamedEvent, ...]:
    """Read ``rules/events.yaml``; a missing file means no named events."""
    if not Path(path).exists():
        return ()
    doc = yamlfile.load(path, what="events file")
    if not isinstance(doc.data, Mapping):
        raise InputError("expected a mapping with an 'events:' list", doc.locate(()))
    parsed = yamlfile.validate(EventsFile, doc)
    return tuple(NamedEvent(e.name, (e.name, *e.aka), e.date) for e in parsed.events)
