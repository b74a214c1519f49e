"""The only place planwatch reads the system clock.

Everything that decides what is due takes ``now`` as an argument; the entry points get it
from a ``Clock``. Tests pass a ``FixedClock`` and never patch ``datetime``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that says what time it is, as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current time, aware, in UTC."""
        return datetime.now(UTC)


class ShiftedClock:
    """The real clock moved to start at ``at``: it runs forward from there at the real pace.

    ``planwatch serve --as-of`` uses it to walk through a plan's past (the demo's links, signed in
    2000, open as they did then)."""

    def __init__(self, at: datetime) -> None:
        self._shift = require_aware(at, "at").astimezone(UTC) - datetime.now(UTC)

    def now(self) -> datetime:
        """Return the real time moved by the shift, aware, in UTC."""
        return datetime.now(UTC) + self._shift


class FixedClock:
    """A clock that says what it is told; ``advance`` moves it forward."""

    def __init__(self, at: datetime) -> None:
        self._at = require_aware(at, "at").astimezone(UTC)

    def now(self) -> datetime:
        """Return the fixed time, aware, in UTC."""
        return self._at

    def set(self, at: datetime) -> None:
        """Move the clock to ``at`` (aware)."""
        self._at = require_aware(at, "at").astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._at += delta


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` unchanged, or raise ``ValueError`` naming ``name`` if it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value.isoformat()}")
    return value
