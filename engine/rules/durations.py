"""Durations in rule files: ``30d``, ``2w``, ``3mo``, ``1y``, ``36h``, ``5bd`` (business days), ISO ``P1M``.

Pure: calendar arithmetic with dateutil's relativedelta, business days with a ``BusinessCalendar``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from dateutil.relativedelta import relativedelta

SHORT_RE = re.compile(r"^\s*(\d+)\s*(bd|d|w|mo|m|y|h)\s*$", re.IGNORECASE)
ISO_RE = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?)?$", re.IGNORECASE)
EXPECTED = 'expected a duration like "30d", "2w", "3mo", "1y", "36h", "5bd" (business days) or "P1M"'


@dataclass(frozen=True, slots=True, order=True)
class Duration:
    """A non-negative span; ``business_days`` excludes weekends and holidays."""

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0
    business_days: int = 0

    def __str__(self) -> str:
        return _text(self)  # a step's key names its offset: asked once per notice planned

    @property
    def approx_days(self) -> float:
        """Return the length in days, months counted as 30.44 (for ordering checks only)."""
        return self.years * 365.25 + self.months * 30.44 + self.days + self.hours / 24 + self.business_days * 7 / 5

    @property
    def is_zero(self) -> bool:
        """Return True for a zero-length duration."""
        return self.approx_days == 0

    def delta(self) -> relativedelta:
        """Return the calendar part (not business days) as a relativedelta."""
        return relativedelta(years=self.years, months=self.months, days=self.days, hours=self.hours)

    def before(self, day: date, calendar: BusinessCalendar) -> date:
        """Return the day this long before ``day`` (business days counted back on ``calendar``)."""
        result = day - self._calendar_part()
        return calendar.add_business_days(result, -self.business_days) if self.business_days else result

    def after_day(self, day: date, calendar: BusinessCalendar) -> date:
        """Return the day this long after ``day``."""
        result = day + self._calendar_part()
        return calendar.add_business_days(result, self.business_days) if self.business_days else result

    def _calendar_part(self) -> timedelta | relativedelta:
        # relativedelta is only needed for months and years (month ends, 29 February); it is slow.
        if self.years or self.months:
            return relativedelta(years=self.years, months=self.months, days=self.days)
        return timedelta(days=self.days)

    def after(self, instant: datetime, calendar: BusinessCalendar) -> datetime:
        """Return the instant this long after ``instant`` (aware in, aware out)."""
        if self.years or self.months:
            moved: datetime = instant + self.delta()
        else:  # the common case, without relativedelta's cost
            moved = instant + timedelta(days=self.days, hours=self.hours)
        if self.business_days:
            day = calendar.add_business_days(moved.date(), self.business_days)
            moved = moved + timedelta(days=(day - moved.date()).days)
        return moved


@lru_cache(maxsize=256)
def _text(d: Duration) -> str:
    parts = [(d.years, "y"), (d.months, "mo"), (d.days, "d"), (d.hours, "h"), (d.business_days, "bd")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0d"


def parse_duration(text: object) -> Duration:
    """Return the ``Duration`` written as ``text``; raise ``ValueError`` saying what was expected."""
    if isinstance(text, int) and not isinstance(text, bool):
        raise ValueError(f"{EXPECTED}, got a bare number {text} (add a unit: {text}d)")
    if not isinstance(text, str):
        raise ValueError(f"{EXPECTED}, got {text!r}")
    value = text.strip()
    if value.startswith("-"):
        raise ValueError(
            f"a duration cannot be negative, got {text!r}; expected {value[1:].strip()!r}: "
            "'before' counts back from the date and 'after' forward by themselves"
        )
    if m := SHORT_RE.match(value):
        n, unit = int(m[1]), m[2].lower()
        if unit == "m":
            # "30m" reads as minutes to some and months to others: make the writer say which.
            raise ValueError(f'{text!r} is ambiguous; expected "{n}mo" for months (rules count no minutes)')
        return {
            "bd": Duration(business_days=n),
            "d": Duration(days=n),
            "w": Duration(days=7 * n),
            "mo": Duration(months=n),
            "y": Duration(years=n),
            "h": Duration(hours=n),
        }[unit]
    if (m := ISO_RE.match(value)) and value.upper() not in {"P", "PT"}:
        y, mo, w, d, h = (int(g) if g else 0 for g in m.groups())
        return Duration(years=y, months=mo, days=d + 7 * w, hours=h)
    raise ValueError(f"{EXPECTED}, got {text!r}")


class BusinessCalendar:
    """Weekends (Saturday, Sunday) and a set of holidays; ``enabled=False`` makes every day a business day."""

    def __init__(self, holidays: Iterable[date] = (), *, enabled: bool = True) -> None:
        self.holidays = frozenset(holidays)
        self.enabled = enabled

    def is_business_day(self, day: date) -> bool:
        """Return True when ``day`` is neither a weekend day nor a holiday."""
        return not self.enabled or (day.weekday() < 5 and day not in self.holidays)

    def on_or_before(self, day: date) -> date:
        """Return ``day`` or the nearest business day before it."""
        while not self.is_business_day(day):
            day -= timedelta(days=1)
        return day

    def on_or_after(self, day: date) -> date:
        """Return ``day`` or the nearest business day after it."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def add_business_days(self, day: date, n: int) -> date:
        """Return the day ``n`` business days after (``n`` < 0: before) ``day``."""
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        while remaining:
            day += timedelta(days=step)
            if self.is_business_day(day):
                remaining -= 1
        return day
