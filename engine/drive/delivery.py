"""Delivery decisions of the dispatcher: retry waits, giving up, staleness, and the paused queue.

Pure functions of a row and ``now`` (aware UTC), except the pause, which lives in
``service_state`` so that every process and every restart sees it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, select

from engine.mail.context import Row, local_day, recipient_zone
from engine.mail.messages import long_date
from engine.store import tables
from engine.store.bulk import upsert_state

STATE = tables.SERVICE_STATE
PAUSE_KEY = "mail.paused"
FAILURES_KEY = "mail.failures"  # the last burst of failures (``planwatch status`` reads both keys)
RETRY_FIRST = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=3)
CONFIG_PAUSE = timedelta(minutes=15)
TELL_UNREACHABLE_AFTER = timedelta(minutes=15)  # a server down this long is the administrator's to hear of
BURST = 5  # this many messages failed for good in one pass: the administrator hears at once
BURST_QUIET = timedelta(hours=1)  # ... and then not again for an hour
JITTER = 0.2  # each wait is stretched or shrunk by up to 20%, so retries of a burst spread out


def retry_wait(key: str, attempts: int) -> timedelta:
    """Return how long to wait before attempt ``attempts + 1``: about 1, 2, 4... minutes, capped near an hour.

    The jitter is derived from ``key`` and ``attempts`` (no random state): the same row always
    waits the same, and a burst of rows spreads over +-20%.
    """
    base = min(RETRY_FIRST * (2 ** min(max(attempts - 1, 0), 12)), RETRY_CAP)  # 2**12 minutes is past the cap
    digest = hashlib.sha256(f"{key}|{attempts}".encode()).digest()
    spread = (int.from_bytes(digest[:4], "big") / 0xFFFFFFFF) * 2 - 1
    return timedelta(seconds=base.total_seconds() * (1 + JITTER * spread))


def first_try(row: Row, now: datetime) -> datetime:
    """Return when the row was first attempted (UTC), ``now`` for a first attempt."""
    stamp = (row["payload"] or {}).get("first_try")
    return datetime.fromisoformat(stamp) if stamp else now


def gives_up(row: Row, now: datetime) -> bool:
    """Return True when a retried row has been failing for three days: it fails for good."""
    return row["attempts"] > 0 and now - first_try(row, now) >= GIVE_UP_AFTER


def stale_reason(row: Row, now: datetime) -> str | None:
    """Return why the row's message is no longer true at ``now``, or None when it still is.

    A reminder whose date has passed in the recipient's zone would say "due tomorrow" about
    yesterday: it is not sent, and the action is planned again.
    """
    payload = row["payload"] or {}
    if row["type"] != "reminder" or not payload.get("date"):
        return None
    today = local_day(now, recipient_zone(row, None))
    if today.isoformat() > str(payload["date"]):
        return f"no longer true: its date {long_date(payload['date'])} had passed when it could be sent; planned again"
    return None


@dataclass(frozen=True, slots=True)
class Pause:
    """The queue is paused: ``kind`` is "config" (authentication, TLS, sender or relay refused) or
    "unreachable"; datetimes UTC ISO; ``told``: the administrator was warned of it at once."""

    kind: str
    reason: str
    since: str
    until: str
    count: int = 1
    told: bool = False

    @property
    def until_at(self) -> datetime:
        """Return when the next attempt may be made (aware UTC)."""
        return datetime.fromisoformat(self.until)


def read_pause(conn: Connection) -> Pause | None:
    """Return the pause in force (possibly over), or None."""
    value = conn.execute(select(STATE.c.value).where(STATE.c.key == PAUSE_KEY)).scalar()
    return Pause(**json.loads(value)) if value else None


def pause_queue(
    conn: Connection, previous: Pause | None, kind: str, reason: str, now: datetime, *, told: bool = False
) -> Pause:
    """Record a pause of ``kind`` from ``now``; a repeated one waits longer (up to an hour). Returns it.

    ``told``: the administrator has just been warned (once told, a pause stays told until it ends)."""
    count = previous.count + 1 if previous and previous.kind == kind else 1
    wait = CONFIG_PAUSE if kind == "config" else retry_wait(PAUSE_KEY, count)
    since = previous.since if previous else now.astimezone(UTC).isoformat()
    told = told or (previous is not None and previous.told)
    pause = Pause(kind, reason, since, (now + wait).astimezone(UTC).isoformat(), count, told)
    upsert_state(conn, STATE, PAUSE_KEY, json.dumps(asdict(pause)), now)
    conn.commit()
    return pause


def resume_queue(conn: Connection) -> None:
    """Forget the pause: the channel works again."""
    conn.execute(delete(STATE).where(STATE.c.key == PAUSE_KEY))
    conn.commit()


def needs_telling(previous: Pause | None, kind: str, now: datetime) -> bool:
    """Return True when a pause of ``kind`` at ``now`` should be told to the administrator now: a
    configuration fault at once, a server unreachable once it has been so for a quarter of an hour;
    each pause once."""
    if previous is not None and previous.told:
        return False
    since = datetime.fromisoformat(previous.since) if previous else now
    return kind == "config" or now - since >= TELL_UNREACHABLE_AFTER


def record_failures(conn: Connection, count: int, last_error: str, now: datetime) -> bool:
    """Record a burst of ``count`` messages failed for good at ``now``; return True when the
    administrator should hear of it now (no burst was told in the hour before)."""
    value = conn.execute(select(STATE.c.value).where(STATE.c.key == FAILURES_KEY)).scalar()
    before = str(json.loads(value)["told"]) if value else None
    tell = before is None or now - datetime.fromisoformat(before) >= BURST_QUIET
    told = now.astimezone(UTC).isoformat() if tell or before is None else before
    record = {"at": now.astimezone(UTC).isoformat(), "count": count, "last_error": last_error, "told": told}
    upsert_state(conn, STATE, FAILURES_KEY, json.dumps(record), now)
    conn.commit()
    return tell
