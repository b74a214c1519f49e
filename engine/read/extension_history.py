"""Each action's extensions: its original due date, every extension granted (asked by whom, granted by whom,
from which date to which, why, when) and how many, read from the change log and the extension requests.

An extension is an ``extended`` entry of the action's change log (``workflow.extend``: who granted it, from,
to, the note); the request it answers (``extension_request``, granted, for the same new date) adds who asked,
when and why. An extension nobody asked for (the secretariat's own ``extend``) names no asker. ``until``
(aware UTC) reads the history as it stood before that instant. Read-only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from engine.store import tables

EXTENDED = "extended"  # the change log's field for a granted extension


@dataclass(frozen=True, slots=True)
class Extension:
    """One extension granted: from one due date to a later one."""

    at: datetime  # when it was granted (aware UTC)
    from_due: date | None
    to: date
    granted_by: str  # an owner id (or the name the change log keeps)
    requested_by: str = ""  # empty: nobody asked (granted on the decider's own motion)
    requested_at: datetime | None = None
    reason: str = ""

    @property
    def days(self) -> int:
        """Return the days this extension added to the due date."""
        return (self.to - self.from_due).days if self.from_due is not None else 0


@dataclass(frozen=True, slots=True)
class ExtensionHistory:
    """An action's original due date and its extensions, oldest first."""

    original_due: date | None
    extensions: tuple[Extension, ...] = ()

    @property
    def count(self) -> int:
        """Return how many times the action was extended."""
        return len(self.extensions)

    @property
    def days_added(self) -> int:
        """Return the days all extensions added together."""
        return sum(e.days for e in self.extensions)

    @property
    def extended_to(self) -> date | None:
        """Return the due date the last extension set, or None when never extended."""
        return self.extensions[-1].to if self.extensions else None

    def as_text(self, names: dict[str, str] | None = None) -> str:
        """Return the history in one paragraph, for a calendar event's description or a table cell."""
        if not self.extensions:
            return ""
        names = names or {}
        times = "once" if self.count == 1 else "twice" if self.count == 2 else f"{self.count} times"
        head = f"Extended {times}; originally due {self.original_due.isoformat() if self.original_due else '-'}."
        return " ".join([head, *(_sentence(e, names) for e in self.extensions)])


def _sentence(e: Extension, names: dict[str, str]) -> str:
    granted = names.get(e.granted_by, e.granted_by)
    asked = f" at the request of {names.get(e.requested_by, e.requested_by)}" if e.requested_by else ""
    start = e.from_due.isoformat() if e.from_due else "-"
    why = f" ({e.reason})" if e.reason else ""
    return f"{e.at.date().isoformat()}: {start} to {e.to.isoformat()}, granted by {granted}{asked}{why}."


def extension_histories(
    session: Session, action_ids: Iterable[int] | None = None, until: datetime | None = None, *, dues: bool = True
) -> dict[int, ExtensionHistory]:
    """Return the extension history of each action in ``action_ids`` (None: every action that has one).

    Actions never extended get a history with no extensions only when named in ``action_ids``. ``dues=False``
    leaves the original due dates out (None), for a reader that needs only the extensions.
    """
    wanted = None if action_ids is None else sorted(set(action_ids))
    changes = _granted(session, wanted, until)
    steps = extensions_of(changes, _requests(session, wanted, until))
    due = _original_dues(session, wanted if wanted is not None else sorted(changes)) if dues else {}
    return {
        action_id: ExtensionHistory(due.get(action_id), steps.get(action_id, ()))
        for action_id in (wanted if wanted is not None else sorted(changes))
    }


Change = tuple[datetime, str, str | None, str, str]  # (at, who, old, new, note): an extension in the change log
Asked = tuple[str, datetime, date, str]  # (requested by, requested at, wanted, reason): a granted request


def extensions_of(changes: dict[int, list[Change]], asked: dict[int, list[Asked]]) -> dict[int, tuple[Extension, ...]]:
    """Return each action's extensions from its granted changes (oldest first) and its granted requests."""
    found: dict[int, tuple[Extension, ...]] = {}
    for action_id, granted in changes.items():
        requests = list(asked.get(action_id, ()))
        found[action_id] = tuple(_extension(change, requests) for change in granted)
    return found


def granted_requests(session: Session, until: datetime | None = None) -> dict[int, list[Asked]]:
    """Return every granted extension request decided before ``until`` (None: ever), by action, oldest first."""
    return _requests(session, None, until)


def _extension(change: Change, requests: list[Asked]) -> Extension:
    """Return one granted extension; the request it answers (granted, same new date) gives who asked and why."""
    at, who, old, new, note = change
    to = date.fromisoformat(new)
    match = next((r for r in requests if r[2] == to), None)
    if match is not None:
        requests.remove(match)
    return Extension(
        at=at,
        from_due=date.fromisoformat(old) if old else None,
        to=to,
        granted_by=who,
        requested_by=match[0] if match else "",
        requested_at=match[1] if match else None,
        reason=(match[3] if match else "") or note,
    )


def _granted(session: Session, ids: list[int] | None, until: datetime | None) -> dict[int, list[Change]]:
    C = tables.ACTION_CHANGE
    query = select(C.c.action_id, C.c.at, C.c.who, C.c.old, C.c.new, C.c.note).where(C.c.field == EXTENDED)
    if ids is not None:
        query = query.where(C.c.action_id.in_(ids))
    if until is not None:
        query = query.where(C.c.at < until)
    found: dict[int, list[Change]] = defaultdict(list)
    for action_id, at, who, old, new, note in session.connection().execute(query.order_by(C.c.at, C.c.id)).all():
        if new:
            found[action_id].append((at, who, old, new, note or ""))
    return found


def _requests(session: Session, ids: list[int] | None, until: datetime | None) -> dict[int, list[Asked]]:
    R = tables.EXTENSION_REQUEST
    query = select(R.c.action_id, R.c.requested_by, R.c.requested_at, R.c.wanted, R.c.reason).where(
        R.c.status == "granted"
    )
    if ids is not None:
        query = query.where(R.c.action_id.in_(ids))
    if until is not None:
        query = query.where(R.c.decided_at < until)
    found: dict[int, list[Asked]] = defaultdict(list)
    for action_id, *rest in session.connection().execute(query.order_by(R.c.requested_at, R.c.id)).all():
        found[action_id].append(tuple(rest))
    return found


def _original_dues(session: Session, ids: list[int]) -> dict[int, date | None]:
    A = tables.ACTION
    found: dict[int, date | None] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        found.update(dict(session.connection().execute(select(A.c.id, A.c.due).where(A.c.id.in_(chunk))).all()))
    return found
