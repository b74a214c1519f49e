"""Replay files: what people did and when (done, progress, extension, acknowledgement, follow-up...).

Used by the simulator and the demo to play a plan's life::

    - at: 2000-04-12
      action: I.1a.1
      event: report        # see EventName: done | progress | extend | ack | hold | reopen | drop | not_mine
      by: jonas            #   | accept | report | verify | return | cause | ask_extension | grant | refuse
      note: guidelines circulated
    - at: 2000-04-18
      action: I.1a.1
      event: verify        # the supervisor confirms it: only now is it done
    - at: 2000-06-20
      action: II.2.2
      event: extend
      to: 2000-09-30

``done`` closes the action (or the occurrence) at once, as one-step closure does. An owner's closure under the
rules' two steps is ``report``: it waits for a later ``verify`` (or ``return``); where the action's rules close in
one step, ``report`` closes it at once too.

The follow-up events go through ``actions.followup`` and ``actions.extensions``, as the CLI and the web do:

- ``accept``: the secretariat's decision, ``acceptance:`` accepted, partially_accepted, not_accepted (the
  reason in ``note:``) or under_consideration;
- ``report``: the owner reports the action implemented, with ``note:``, evidence ``links:`` and their own
  ``rating:`` (implemented, partially_implemented, not_implemented);
- ``verify`` / ``return``: the verifier (``by:``; left out, the verifier named on the report) confirms the
  waiting report with their ``rating:``, or returns it with ``note:`` saying why;
- ``cause``: the owner gives the cause of delay (``cause:``, one of the rules' list; ``note:`` for "other");
- ``ask_extension``: the owner asks for ``to:`` with the reason in ``note:``; ``grant`` / ``refuse``: whoever
  decides (``by:``) grants or refuses the waiting request.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, RootModel
from sqlmodel import Session

from engine import yamlfile
from engine.errors import UsageError
from engine.store.models import Action

if TYPE_CHECKING:
    from engine.rules.loader import RuleSet

EventName = Literal[
    "done",
    "progress",
    "extend",
    "ack",
    "hold",
    "reopen",
    "drop",
    "not_mine",
    "accept",
    "report",
    "verify",
    "return",
    "cause",
    "ask_extension",
    "grant",
    "refuse",
]
FOLLOW_UP = frozenset({"accept", "report", "verify", "return", "cause", "ask_extension", "grant", "refuse"})
Rating = Literal["implemented", "partially_implemented", "not_implemented"]


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
    percent: int | None = None
    acceptance: Literal["accepted", "partially_accepted", "not_accepted", "under_consideration"] | None = None
    links: list[str] = []
    rating: Rating = "implemented"
    cause: str | None = None


class ReplayFile(RootModel[list[ReplayEvent]]):
    """The whole file: a list of events."""


NEEDS = {"extend": "to", "ask_extension": "to", "accept": "acceptance", "cause": "cause"}
SAYS = {
    "to": "the new due date",
    "acceptance": "accepted, partially_accepted, not_accepted or under_consideration",
    "cause": "one of the rules' causes of delay",
}


def load_replay(path: str | Path) -> list[ReplayEvent]:
    """Read a replay file; errors name file:line:col."""
    doc = yamlfile.load(path, what="replay file")
    events = yamlfile.validate(ReplayFile, doc).root
    for i, event in enumerate(events):
        needed = NEEDS.get(event.event)
        if needed is not None and getattr(event, needed) is None:
            raise doc.error((i, needed), f"'{event.event}' needs '{needed}:', {SAYS[needed]}")
        if event.event == "return" and not event.note.strip():
            raise doc.error((i, "event"), "'return' needs 'note:', what the verifier says is missing")
    return sorted(events, key=lambda e: e.at)


def apply_follow_up(
    session: Session, action: Action, event: ReplayEvent, now: datetime, rules: RuleSet | None = None
) -> None:
    """Apply one follow-up event (``FOLLOW_UP``) at ``now`` through the follow-up and extension functions.

    ``rules`` say how each action is closed (without them: in two steps, verified by the owner's supervisor).
    """
    from engine.actions import extensions, followup

    who, note = event.by, event.note
    if event.event == "accept":
        assert event.acceptance is not None
        followup.set_acceptance(session, action, event.acceptance, now, who=who, via="replay", note=note)
    elif event.event == "report":
        followup.report_implemented(
            session,
            action,
            now,
            who=who,
            via="replay",
            note=note,
            links=event.links,
            owner_rating=event.rating,
            occurrence=event.occurrence,
            rules=rules,
        )
    elif event.event in {"verify", "return"}:
        label = event.occurrence.isoformat() if event.occurrence else None
        waiting = followup.pending_report(session, action, label)
        if waiting is None:
            raise UsageError(f"{event.at}: {action.ref} has no report waiting to {event.event}")
        decider = (waiting.verifier_id or who) if who == "replay" else who
        if event.event == "verify":
            followup.verify(session, waiting, now, who=decider, via="replay", comment=note, rating=event.rating)
        else:
            followup.return_report(session, waiting, now, who=decider, via="replay", comment=note)
    elif event.event == "cause":
        assert event.cause is not None
        followup.set_delay_cause(session, action, event.cause, now, who=who, via="replay", note=note)
    elif event.event == "ask_extension":
        assert event.to is not None
        extensions.request_extension(session, action, event.to, now, who=who, via="replay", reason=note)
    else:
        request = extensions.pending_request(session, action)
        if request is None:
            raise UsageError(f"{event.at}: {action.ref} has no extension request waiting to {event.event}")
        extensions.decide(session, request, event.event == "grant", now, who=who, via="replay", note=note)
