"""The outbox: claim what is due, render it, hand it to a channel, mark it sent or failed.

A row is marked sent right after its channel accepted it, one commit per message, so a crash
can repeat at most the message in flight, and that one carries the same Message-ID.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, or_, select, update

from engine.channels import Channel, DeliveryError
from engine.messages import build_message, headline, long_date, message_id
from engine.render import Renderer
from engine.store.models import Action, Outbox, Owner, Plan, Section
from engine.zones import zone

O = Outbox.__table__  # type: ignore[attr-defined]
A = Action.__table__  # type: ignore[attr-defined]
P = Plan.__table__  # type: ignore[attr-defined]
S = Section.__table__  # type: ignore[attr-defined]
W = Owner.__table__  # type: ignore[attr-defined]

RETRY_FIRST = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)


@dataclass
class DispatchStats:
    """What one dispatch pass did."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    deferred: int = 0


def pending_query(now: datetime, limit: int) -> Any:
    """Return the query of pending rows that may go out at ``now``."""
    return (
        select(O).where(O.c.status == "pending", O.c.due_at <= now,
                        or_(O.c.next_attempt_at.is_(None), O.c.next_attempt_at <= now))
        .order_by(O.c.due_at, O.c.id).limit(limit)
    )


def dispatch(engine: Engine, channel: Channel, renderer: Renderer, now: datetime, *, limit: int = 10_000, cap: int = 10) -> DispatchStats:
    """Deliver the pending messages due at ``now``; return what happened."""
    stats = DispatchStats()
    with engine.connect() as conn:
        rows = list(conn.execute(pending_query(now, limit)).mappings())
        if not rows:
            return stats
        if not getattr(channel, "needs_message", True):
            return _count_only(conn, channel, rows, now)
        contexts = ContextCache(conn)
        counts = _sent_today(conn, rows, now)
        for row in rows:
            who = row["recipient"]
            if counts[who] >= int(row["payload"].get("cap", cap)):
                _defer(conn, row, now)
                stats.deferred += 1
                continue
            outcome = _deliver_one(conn, channel, renderer, contexts, row, now)
            setattr(stats, outcome, getattr(stats, outcome) + 1)
            counts[who] += outcome == "sent"
    return stats


def _count_only(conn: Connection, channel: Channel, rows: list[Mapping[str, Any]], now: datetime) -> DispatchStats:
    """For a channel that reads nothing (simulations): mark the batch sent in one statement."""
    for _ in rows:
        channel.deliver(None)  # type: ignore[arg-type]
    conn.execute(update(O).where(O.c.id == bindparam("b_id")).values(
        status="sent", sent_at=now, attempts=bindparam("b_attempts"), message_id=bindparam("b_mid"), last_error=""),
        [{"b_id": r["id"], "b_attempts": r["attempts"] + 1, "b_mid": message_id(r["key"])} for r in rows])
    conn.commit()
    return DispatchStats(sent=len(rows))


def _deliver_one(conn: Connection, channel: Channel, renderer: Renderer, contexts: ContextCache, row: Mapping[str, Any], now: datetime) -> str:
    try:
        context = contexts.for_row(row)
        msg = build_message(renderer, row["template"], context, (context["recipient"]["name"], row["recipient"]), row["key"])
        msg["Date"] = format_datetime(row["due_at"])
        channel.deliver(msg)
    except DeliveryError as exc:
        return _failed(conn, row, now, str(exc), permanent=exc.permanent)
    conn.execute(update(O).where(O.c.id == row["id"]).values(
        status="sent", sent_at=now, attempts=row["attempts"] + 1, message_id=message_id(row["key"]), last_error=""))
    conn.commit()
    return "sent"


def _failed(conn: Connection, row: Mapping[str, Any], now: datetime, error: str, *, permanent: bool) -> str:
    attempts = row["attempts"] + 1
    if permanent:
        conn.execute(update(O).where(O.c.id == row["id"]).values(status="failed", attempts=attempts, last_error=error))
        conn.commit()
        return "failed"
    wait = RETRY_CAP if attempts > 8 else min(RETRY_FIRST * (2 ** (attempts - 1)), RETRY_CAP)
    conn.execute(update(O).where(O.c.id == row["id"]).values(attempts=attempts, last_error=error, next_attempt_at=now + wait))
    conn.commit()
    return "retried"


def _defer(conn: Connection, row: Mapping[str, Any], now: datetime) -> None:
    later = now + timedelta(days=1)
    conn.execute(update(O).where(O.c.id == row["id"]).values(
        next_attempt_at=later, reason="the recipient's daily cap was reached; deferred by a day"))
    conn.commit()


def _sent_today(conn: Connection, rows: list[Mapping[str, Any]], now: datetime) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    recipients = {r["recipient"] for r in rows}
    if not recipients:
        return counts
    query = (select(O.c.recipient, func.count()).where(O.c.status == "sent", O.c.sent_at > now - timedelta(days=1),
                                                        O.c.recipient.in_(recipients)).group_by(O.c.recipient))
    for recipient, n in conn.execute(query):
        counts[recipient] = n
    return counts


class ContextCache:
    """Builds template contexts, reading each action, plan and owner once per pass."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.actions: dict[int, Mapping[str, Any]] = {}
        self.plans: dict[str, Mapping[str, Any]] = {}
        self.owners: dict[str, Mapping[str, Any]] = {o["id"]: o for o in conn.execute(select(W)).mappings()}
        self.sections: dict[tuple[str, str], Mapping[str, Any]] = {}

    def for_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Return the template context of an outbox row."""
        payload = dict(row["payload"] or {})
        recipient = self.owners.get(row["recipient_id"] or "") or {"name": "", "email": row["recipient"]}
        base = {"recipient": {"name": recipient["name"], "email": row["recipient"]}, "period": payload.get("period", "daily"),
                "items": payload.get("items", [])}
        if row["action_id"] is None:
            return base
        action = self._action(row["action_id"])
        plan = self._plan(action["plan_id"])
        owner = self.owners.get(action["owner_id"] or "")
        kind = row["type"]
        return base | {
            "action": dict(action), "plan": dict(plan), "section": dict(self._section(action["plan_id"], action["section_key"])),
            "owner": dict(owner) if owner else None,
            "notice": payload | {"type": kind, "level": row["level"], "step": row["step"], "occurrence": row["occurrence"],
                                 "what": payload.get("what", "due"), "role": payload.get("role", "owner")},
            "headline": headline(kind, payload), "date_long": long_date(payload.get("date")),
            "days_left": payload.get("days_left"), "days_overdue": payload.get("days_overdue", 0),
            "due": payload.get("date"), "local_tz": str(zone(payload.get("role_tz", "UTC"))), "links": {},
        }

    def _action(self, action_id: int) -> Mapping[str, Any]:
        if action_id not in self.actions:
            self.actions[action_id] = self.conn.execute(select(A).where(A.c.id == action_id)).mappings().one()
        return self.actions[action_id]

    def _plan(self, plan_id: str) -> Mapping[str, Any]:
        if plan_id not in self.plans:
            self.plans[plan_id] = self.conn.execute(select(P).where(P.c.id == plan_id)).mappings().one()
        return self.plans[plan_id]

    def _section(self, plan_id: str, key: str) -> Mapping[str, Any]:
        if (plan_id, key) not in self.sections:
            found = self.conn.execute(select(S).where(S.c.plan_id == plan_id, S.c.key == key)).mappings().first()
            self.sections[(plan_id, key)] = found or {"number": "", "title": "", "key": key}
        return self.sections[(plan_id, key)]
