"""``planwatch status``: is the engine alive and keeping up? Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, func, or_, select

from engine.store import tables
from engine.zones import aware_utc

OUT = tables.OUTBOX
STATE = tables.SERVICE_STATE
RECENT = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Status:
    """The figures ``planwatch status`` shows; datetimes are UTC."""

    last_tick: datetime | None
    pending: int
    failed: int
    oldest_pending: datetime | None
    lag_seconds: float
    nodes: tuple[tuple[str, datetime], ...]

    def as_json(self) -> dict[str, Any]:
        """Return the status as JSON-ready values."""
        return {
            "last_tick": _iso(self.last_tick),
            "pending": self.pending,
            "failed": self.failed,
            "oldest_pending": _iso(self.oldest_pending),
            "lag_seconds": round(self.lag_seconds, 1),
            "nodes": [{"node": n, "seen": _iso(at)} for n, at in self.nodes],
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def engine_status(engine: Engine, now: datetime) -> Status:
    """Return the engine's status at ``now``: lag is how long the oldest message ready to send has waited
    (since it was due, or since its next attempt was, for one retried or deferred by the daily cap)."""
    with engine.connect() as conn:
        counts: dict[str, int] = {
            status: n
            for status, n in conn.execute(
                select(OUT.c.status, func.count()).where(OUT.c.status.in_(["pending", "failed"])).group_by(OUT.c.status)
            )
        }
        # A row waiting for its next attempt (a retry, or deferred by the daily cap) is not late until then.
        ready = case((OUT.c.next_attempt_at > OUT.c.due_at, OUT.c.next_attempt_at), else_=OUT.c.due_at)
        oldest = conn.execute(
            select(func.min(ready)).where(
                OUT.c.status == "pending",
                OUT.c.due_at <= now,
                or_(OUT.c.next_attempt_at.is_(None), OUT.c.next_attempt_at <= now),
            )
        ).scalar()
        states: dict[str, datetime] = {key: at for key, at in conn.execute(select(STATE.c.key, STATE.c.updated_at))}
    oldest = aware_utc(oldest)
    nodes = tuple(
        sorted(
            (key.removeprefix("node:"), at)
            for key, at in states.items()
            if key.startswith("node:") and at is not None and now - at <= RECENT
        )
    )
    return Status(
        states.get("last_tick"),
        counts.get("pending", 0),
        counts.get("failed", 0),
        oldest,
        (now - oldest).total_seconds() if oldest else 0.0,
        nodes,
    )


def action_counts(engine: Engine) -> list[tuple[str, int]]:
    """Return (status, how many) of the actions still in their plans."""
    A = tables.ACTION
    with engine.connect() as conn:
        rows = conn.execute(select(A.c.status, func.count()).where(A.c.removed_at.is_(None)).group_by(A.c.status))
        return [(state, n) for state, n in rows]
