"""Replay files: what people did and when (done, progress, extension, acknowledgement...).

Used by the simulator and the demo to play a plan's life::

    - at: 2000-04-12
      action: I.1a.1
      event: done          # done | progress | extend | ack | hold | reopen | drop | not_mine
      by: jonas
      note: guidelines circulated
    - at: 2000-06-20
      action: II.2.2
      event: extend
      to: 2000-09-30
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, RootModel

from engine import yamlfile

EventName = Literal["done", "progress", "extend", "ack", "hold", "reopen", "drop", "not_mine"]


class ReplayEvent(BaseModel):
    """One thing that happened to an action on a day (applied at noon in the plan's zone)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: date
    action: str
    event: EventName
    by: str = "replay"
    note: str = ""
    to: date | None = None
    level: int | None = None
    occurrence: date | None = None
    state: Literal["on track", "at risk"] = "on track"


class ReplayFile(RootModel[list[ReplayEvent]]):
    """The whole file: a list of events."""


def load_replay(path: str | Path) -> list[ReplayEvent]:
    """Read a replay file; errors name file:line:col."""
    doc = yamlfile.load(path, what="replay file")
    events = yamlfile.validate(ReplayFile, doc).root
    for i, event in enumerate(events):
        if event.event == "extend" and event.to is None:
            raise doc.error((i, "to"), "an extension needs 'to:', the new due date")
    return sorted(events, key=lambda e: e.at)
