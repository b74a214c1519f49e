"""Digests: people who prefer one message get their held notices bundled daily or weekly.

Only what is held for a recipient goes in; a day with nothing held sends nothing.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import Engine, select, update

from engine.messages import headline
from engine.store.bulk import insert_ignoring_duplicates
from engine.store.models import Action, Outbox, Owner
from engine.zones import zone

O = Outbox.__table__  # type: ignore[attr-defined]
A = Action.__table__  # type: ignore[attr-defined]
W = Owner.__table__  # type: ignore[attr-defined]
DIGEST_HOUR = time(9, 0)


def digest_due(period: str, local: datetime) -> bool:
    """Return True when a digest of ``period`` may go out at the recipient's local time ``local``."""
    if local.time() < DIGEST_HOUR:
        return False
    return period == "daily" or (period == "weekly" and local.weekday() == 0)


def build_digests(engine: Engine, now: datetime) -> int:
    """Bundle held notices into digest rows for every recipient whose digest time has come; return how many."""
    made = 0
    with engine.begin() as conn:
        waiting = select(O.c.recipient_id).where(O.c.status == "held").distinct().scalar_subquery()
        owners = conn.execute(select(W.c.id, W.c.email, W.c.timezone, W.c.digest)
                              .where(W.c.digest.in_(["daily", "weekly"]), W.c.id.in_(waiting))).all()
        for owner_id, email, tz, period in owners:
            local = now.astimezone(zone(tz))
            if not digest_due(period, local):
                continue
            held = conn.execute(
                select(O.c.id, O.c.type, O.c.payload, A.c.ref, A.c.title).join(A, A.c.id == O.c.action_id)
                .where(O.c.recipient_id == owner_id, O.c.status == "held", O.c.due_at <= now).order_by(O.c.due_at)
            ).all()
            if not held:
                continue
            key = f"digest|{owner_id}|{local.date().isoformat()}"
            items = [{"ref": ref, "title": title, "headline": headline(kind, payload or {})} for _, kind, payload, ref, title in held]
            if not insert_ignoring_duplicates(conn, O, [_digest_row(key, owner_id, email, period, items, now)]):
                continue  # today's digest went out already: these wait for the next one
            conn.execute(update(O).where(O.c.id.in_([h[0] for h in held])).values(status="digested", reason=f"sent in {key}"))
            made += 1
    return made


def _digest_row(key: str, owner_id: str, email: str, period: str, items: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return {
        "key": key, "plan_id": None, "action_id": None, "occurrence": now.date().isoformat(), "step": "digest",
        "type": "digest", "level": 0, "recipient": email, "recipient_id": owner_id, "template": "digest",
        "due_at": now, "status": "pending", "reason": "", "attempts": 0, "last_error": "",
        "payload": {"items": items, "period": period}, "created_at": now, "sent_at": None,
        "next_attempt_at": None, "message_id": None,
    }
