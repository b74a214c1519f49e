"""The escalation log for ``planwatch escalations``: a supervisor's scope, open entries, since a day, newest first.

The entries are read through ``escalation_review.log_entries``, the same filtered query as the
escalations page and its CSV export; this module only names the CLI's filter and shapes each entry
as the command prints it. Acknowledging is in ``actions.workflow``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from engine.read.escalation_review import ReviewFilter, iso, log_entries
from engine.store.directory import everyone_below
from engine.store.lookups import supervisors


@dataclass(frozen=True, slots=True)
class EscalationFilter:
    """Which log entries to show; None means any. ``since`` is a UTC day."""

    supervisor: str | None = None
    open_only: bool = False
    since: date | None = None


def subordinates(session: Session, supervisor: str) -> set[str]:
    """Return the ids of everyone below ``supervisor``, at any depth (not the supervisor)."""
    return set(everyone_below(supervisor, supervisors(session)))


def escalation_log(session: Session, flt: EscalationFilter = EscalationFilter()) -> list[dict[str, Any]]:
    """Return log entries (newest first) as plain dicts, scoped and filtered."""
    scope: frozenset[str] | None = None
    if flt.supervisor is not None:
        from engine.read.queries import find_owner

        find_owner(session, flt.supervisor)
        scope = frozenset(subordinates(session, flt.supervisor))
    review = ReviewFilter(state="open" if flt.open_only else "all", since=flt.since, sort="recent", tz="UTC")
    return [_entry(row) for row in log_entries(session.connection(), scope, review)]


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": iso(row["at"]),
        "action": row["ref"],
        "plan": row["plan_id"],
        "title": row["title"],
        "owner": row["owner_id"],
        "occurrence": row["occurrence"],
        "level": row["level"],
        "step": row["step"],
        "policy": row["policy"],
        "recipients": list(row["recipients"] or []),
        "days_overdue": row["days_overdue"],
        "acknowledged_by": row["acknowledged_by"],
        "acknowledged_at": iso(row["acknowledged_at"]) or None,
        "note": row["ack_note"],
        "resolution": row["resolution"],
    }
