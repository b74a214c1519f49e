"""The UIDs of calendar events: one scheme for the feeds, the action sheet and the e-mail attachments.

A UID is ``{plan}-{ref}-{what}-{date}@planwatch``, lower-cased, each character other than
``a-z 0-9 . -`` written as ``-``. ``what`` is ``due``, ``start``, ``recurring`` (a recurring
action's series), ``checkin``, ``done`` (a completion off the series), ``todo``, ``overdue`` or
``escalation-N``. ``date`` is the day the event was first published with: a milestone's own
date (the plan's due or start date, not an extension), a series' anchor (``series_uid_day``).
The registry of published events keeps that day (``feed_event.uid_day``, under ``event_key``),
so a UID never changes once published. An e-mail about one occurrence of a series carries the
series' UID and the occurrence's date as RECURRENCE-ID.
"""

from __future__ import annotations

import re
from datetime import date

UNSAFE_UID = re.compile(r"[^a-z0-9.\-]")


def event_uid(plan_id: str, ref: str, what: str, day: date | str) -> str:
    """Return the UID of an action's event ``what`` made from ``day`` (see the module doc).

    ``starts`` (the planner's word) is ``start``; ``done-DATE`` (a registry key's tail) is ``done``.
    """
    kind = "start" if what == "starts" else "done" if what.startswith("done-") else what
    day_text = day.isoformat() if isinstance(day, date) else str(day)
    return f"{UNSAFE_UID.sub('-', f'{plan_id}-{ref}-{kind}-{day_text}'.lower())}@planwatch"


def event_key(plan_id: str, ref: str, what: str) -> str:
    """Return the key of an event in the registry of published events: ``{plan}|{ref}|{what}``."""
    return f"{plan_id}|{ref}|{what}"


def series_uid_day(start: date | None, plan_date: date) -> date:
    """Return the day a recurring action's series UID is made from: its rule's anchor (start, else the plan's date).

    It depends on neither the rule nor the completions, so the feeds and the e-mails about an
    occurrence make the same UID without the policy at hand.
    """
    return start or plan_date


__all__ = ["UNSAFE_UID", "event_key", "event_uid", "series_uid_day"]
