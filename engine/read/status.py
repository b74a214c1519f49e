"""``planwatch status``: is the engine alive and keeping up, and can mail go out? Read-only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, func, or_, select

from engine.store import tables
from engine.zones import aware_utc

OUT = tables.OUTBOX
STATE = tables.SERVICE_STATE
RECENT = timedelta(minutes=10)
BURST_RECENT = timedelta(days=1)  # a burst of failures is news for a day
# The dispatcher's keys in service_state (engine.drive.delivery writes them; the read side may not import it).
PAUSE_KEY = "mail.paused"
FAILURES_KEY = "mail.failures"


@dataclass(frozen=True, slots=True)
class Status:
    """The figures ``planwatch status`` shows; datetimes are UTC."""

    last_tick: datetime | None
    pending: int
    failed: int
    oldest_pending: datetime | None
    lag_seconds: float
    nodes: tuple[tuple[str, datetime], ...]
    paused: dict[str, Any] | None = None  # the pause in force: kind, reason, since, until (UTC ISO)
    failure_burst: dict[str, Any] | None = None  # the last burst of failures in the past day: at, count, last_error

    @property
    def degraded(self) -> str:
        """Return what is wrong with delivery in a sentence ("" when nothing is)."""
        if self.paused:
            return f"mail delivery paused since {self.paused['since']}: {self.paused['reason']}"
        if self.failure_burst:
            burst = self.failure_burst
            return f"{burst['count']} messages failed at once at {burst['at']}: {burst['last_error']}"
        return ""

    def as_json(self) -> dict[str, Any]:
        """Return the status as JSON-ready values."""
        return {
            "last_tick": _iso(self.last_tick),
            "pending": self.pending,
            "failed": self.failed,
            "oldest_pending": _iso(self.oldest_pending),
            "lag_seconds": round(self.lag_seconds, 1),
            "nodes": [{"node": n, "seen": _iso(at)} for n, at in self.nodes],
            "delivery_paused": self.paused,
            "failure_burst": self.failure_burst,
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
        states: dict[str, datetime] = {}
        values: dict[str, str] = {}
        for key, value, at in conn.execute(select(STATE.c.key, STATE.c.value, STATE.c.updated_at)):
            states[key] = at
            if key in (PAUSE_KEY, FAILURES_KEY):
                values[key] = value
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
        _pause(values.get(PAUSE_KEY)),
        _burst(values.get(FAILURES_KEY), now),
    )


def _pause(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    pause = json.loads(value)
    return {k: pause.get(k) for k in ("kind", "reason", "since", "until")}


def _burst(value: str | None, now: datetime) -> dict[str, Any] | None:
    if not value:
        return None
    burst = json.loads(value)
    if now - datetime.fromisoformat(burst["at"]) > BURST_RECENT:
        return None
    return {k: burst.get(k) for k in ("at", "count", "last_error")}


def action_counts(engine: Engine) -> list[tuple[str, int]]:
    """Return (status, how many) of the actions still in their plans."""
    A = tables.ACTION
    with engine.connect() as conn:
        rows = conn.execute(select(A.c.status, func.count()).where(A.c.removed_at.is_(None)).group_by(A.c.status))
        return [(state, n) for state, n in rows]
