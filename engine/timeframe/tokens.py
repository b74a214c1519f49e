"""Tokens of the time-frame grammar: dates, periods, durations and recurrences (pure, no clock).

``token_pattern()`` is one alternation of every token form; ``scan`` tries only the
alternatives that can begin with each word of a lower-cased phrase (each group of them compiled
on its first use: a command that reads no time frame does not pay for it), and a small builder per
alternative turns a match into a ``Period``, a ``Duration`` or a ``Recurrence``. The conventions
are stated in ``engine.timeframe``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from functools import cache

from engine.timeframe.dates import (
    YEARLESS,
    Duration,
    Env,
    Period,
    Recurrence,
    Value,
    anchor,
    day,
    days_in,
    fy_base,
    fy_pair,
    mrange,
    year_of,
    yearless_day,
)

MONTH_NO = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "eighteen": 18,
    "twenty": 20,
    "twenty-four": 24,
    "thirty": 30,
    "thirty-six": 36,
    "forty-eight": 48,
    "sixty": 60,
    "ninety": 90,
    "other": 2,
    "second": 2,
    "third": 3,
    "half a": 0,
    "half an": 0,
}
ORDINAL = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "last": 0,
    "final": 0,
    "latter": 0,
}
NEXT_WORDS = ("next", "following", "coming")

_NEXT_WORD = re.compile(r"\s+[a-z]")
_VERB_NEXT = re.compile(r"\s+(?!and\b|or\b|to\b|through\b|until\b|till\b|of\b)[a-z]")
_JOINER = re.compile(r"[\s-]")
_MOD_NAMES = {"close": "end", "middle": "mid", "start": "beginning"}


# ---------------------------------------------------------------- builders, one per alternative

Builder = Callable[[re.Match[str], Env, str | None], Value | None]


def _b_iso(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    return day(int(m["iso_y"]), int(m["iso_m"]), int(m["iso_d"]))


def _b_num(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    a, b, y = int(m["num_a"]), int(m["num_b"]), year_of(m["num_y"])
    first = day(y, b, a)
    if env.dayfirst:
        return first
    second = day(y, a, b)
    if first is None:
        note = "read month-first, the only valid reading"
        return second._replace(note=note) if second is not None else None
    if second is not None and a != b and m["num_s"] != ".":
        if _month_first_partner(m):
            return second._replace(note="read month-first, as the other end of the range must be")
        why = f"the numeric date could also be read month-first as {second.start.isoformat()}"
        return first._replace(review=why)
    return first


_NUM_AFTER = re.compile(r"\s*(?:-|to|until|through|thru)\s*\d\d?/(?P<d>\d\d?)/\d")
_NUM_BEFORE = re.compile(r"\d\d?/(?P<d>\d\d?)/(?:\d\d){1,2}\s*(?:-|to|until|through|thru)\s*$")


def _month_first_partner(m: re.Match[str]) -> bool:
    """ "10/04/2023 - 10/29/2023": the other end of the range can only be month-first."""
    after = _NUM_AFTER.match(m.string, m.end())
    before = _NUM_BEFORE.search(m.string, max(0, m.start() - 24), m.start())
    return any(x is not None and int(x["d"]) > 12 for x in (after, before))


def _b_dmy(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    month, d = MONTH_NO[m["dmy_m"][:3]], int(m["dmy_d"].rstrip("stndrh"))
    year = m["dmy_y"] or m["dmy_yy"]
    return day(year_of(year), month, d) if year else yearless_day(month, d, env.ref)


def _b_mdy(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    month, d = MONTH_NO[m["mdy_m"][:3]], int(m["mdy_d"].rstrip("stndrh"))
    year = m["mdy_y"]
    return day(int(year), month, d) if year else yearless_day(month, d, env.ref)


def _b_wk(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    """ "w/c 24 October 2022", "the week of 30 October": the seven days from that day."""
    month = MONTH_NO[(m["wk_m"] or m["wk_m2"])[:3]]
    d, y = int((m["wk_d"] or m["wk_d2"]).rstrip("stndrh")), m["wk_y"] or m["wk_y2"]
    first = day(int(y), month, d) if y else yearless_day(month, d, env.ref)
    if first is None or mod is not None:
        return None
    return first._replace(end=first.start + timedelta(days=6), unit="week", exact="period")


def _b_yf(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    """Year first, as timelines list them: "2016 April 8", "2016 May-June", "2015 December- 2016 March"."""
    y, month = int(m["yf_y"]), MONTH_NO[m["yf_m"][:3]]
    if m["yf_m2"]:
        if mod is not None or m["yf_d"]:
            return None
        month2 = MONTH_NO[m["yf_m2"][:3]]
        y2 = int(m["yf_y2"]) if m["yf_y2"] else y + (month2 < month)
        i0, i1 = y * 12 + month - 1, y2 * 12 + month2 - 1
        return mrange(i0, i1 - i0 + 1, None, "months", span=True) if i0 < i1 <= i0 + 120 else None
    if m["yf_d2"]:
        a, b = int(m["yf_d"].rstrip("stndrh")), int(m["yf_d2"].rstrip("stndrh"))
        first = day(y, month, a)
        if first is None or mod is not None or not a < b <= days_in(y, month):
            return None
        return first._replace(end=first.start.replace(day=b), unit="days", exact="period", span=True)
    if m["yf_d"]:
        return day(y, month, int(m["yf_d"].rstrip("stndrh")))
    return mrange(y * 12 + month - 1, 1, mod, "month")


def _b_mdr(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    """ "April 14-15, 2025": the days of one month, a window standing alone."""
    month = MONTH_NO[m["mdr_m"][:3]]
    a, b = int(m["mdr_a"].rstrip("stndrh")), int(m["mdr_b"].rstrip("stndrh"))
    first = day(int(m["mdr_y"]), month, a) if m["mdr_y"] else yearless_day(month, a, env.ref)
    if first is None or not a < b <= days_in(first.start.year, month) or mod is not None:
        return None
    last = first.start.replace(day=b)
    return first._replace(end=last, unit="days", exact="period", span=True)


def _b_dmr(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    """ "18-23 November 2009", "27 to 29 March 2019": the days of one month, a window standing alone."""
    month = MONTH_NO[m["dmr_m"][:3]]
    a, b = int(m["dmr_a"].rstrip("stndrh")), int(m["dmr_b"].rstrip("stndrh"))
    first = day(int(m["dmr_y"]), month, a) if m["dmr_y"] else yearless_day(month, a, env.ref)
    if first is None or not a < b <= days_in(first.start.year, month) or mod is not None:
        return None
    return first._replace(end=first.start.replace(day=b), unit="days", exact="period", span=True)


def _b_my(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    y = year_of(m["my_y"] or m["my_yy"])
    return mrange(y * 12 + MONTH_NO[m["my_m"][:3]] - 1, 1, mod, "month")


def _b_ym(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    return mrange(int(m["ym_y"]) * 12 + int(m["ym_m"]) - 1, 1, mod, "month")


def _b_span(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    a, raw = int(m["sp_a"]), m["sp_b"]
    b = int(raw) if len(raw) == 4 else a // 100 * 100 + int(raw)
    named = bool(m["sp_w"] or m["sp_w2"])
    if len(raw) < 4 and b <= a and 1 <= int(raw) <= 12 and not named:
        return mrange(a * 12 + int(raw) - 1, 1, mod, "month")  # "2011/06" is year/month
    if len(raw) < 4 and b < a:
        b += 100
    if not a < b <= a + (30 if m["sp_yrs"] or len(raw) == 4 else 10):  # "2019 - 2034", "the years 2000-2015"
        return None
    if len(raw) < 4 and 1 <= int(raw) <= 12 and b > a + 1 and not named and m["sp_s"] == "-":
        why = f"'{m.group()}' could also be a range of years"
        return mrange(a * 12 + int(raw) - 1, 1, mod, "month", review=why)
    if b == a + 1 and env.fy not in (None, 1) and not named:
        why = "a fiscal year is assumed because a fiscal-year start is set (it could be a biennium)"
        return mrange(a * 12 + env.fy - 1, 12, mod, "fiscal year", review=why)
    unit = "biennium" if b == a + 1 else "period of years"
    return mrange(a * 12, (b - a + 1) * 12, mod, unit, span=mod != "end")


def _subyear_of(m: re.Match[str], p: str, env: Env, k: int, n: int, mod: str | None) -> Period:
    """A quarter (n=3) or half (n=6) number ``k`` (0-based) of the year the match names."""
    unit = "quarter" if n == 3 else "half-year"
    fyy, y, rel = m[p + "fyy"], m[p + "y"], m[p + "rel"]
    if fyy:
        base, why = fy_base(year_of(fyy), env.fy)
        return mrange(base + k * n, n, mod, "fiscal " + unit, review=why)
    if y and m[p + "y2"]:  # "Q2 2009/10": a quarter of the fiscal year 2009/10
        a, raw = int(y), m[p + "y2"]
        b = int(raw) if len(raw) == 4 else a // 100 * 100 + int(raw) + (100 if int(raw) < a % 100 else 0)
        if b == a + 1:
            base, why = fy_pair(a, b, env.fy)
            return mrange(base + k * n, n, mod, "fiscal " + unit, review=why)
    if y or rel:
        year = int(y) if y else env.ref.year + (rel.split()[-1] in NEXT_WORDS)
        return mrange(year * 12 + k * n, n, mod, unit)
    i0 = anchor(env.ref, k * n, n, mod == "end")
    return mrange(i0, n, mod, unit, review=YEARLESS, yearless=True)


def _b_qtr(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    raw = m["q_a"] or m["q_b"] or m["q_c"]
    q = int(raw) if raw else ORDINAL[m["q_w"]] or 4
    return _subyear_of(m, "q_", env, q - 1, 3, mod)


def _b_half(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    raw = m["h_a"] or m["h_b"] or m["h_c"]
    word = m["h_w"] or m["h_s"] or m["h_x"]
    h = int(raw) if raw else ORDINAL[word] or 2
    return _subyear_of(m, "h_", env, h - 1, 6, mod)


def _b_qy(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    return _year_first(m, "qy_", env, 3, mod)


def _b_hy(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    return _year_first(m, "hy_", env, 6, mod)


def _year_first(m: re.Match[str], p: str, env: Env, n: int, mod: str | None) -> Period:
    k, year = int(m[p + "n"]) - 1, int(m[p + "y"])
    unit = "quarter" if n == 3 else "half-year"
    if m[p + "fy"]:
        base, why = fy_base(year, env.fy)
        return mrange(base + k * n, n, mod, "fiscal " + unit, review=why)
    return mrange(year * 12 + k * n, n, mod, unit)


_SEASON_START = {"spring": 2, "summer": 5, "autumn": 8, "fall": 8, "winter": 11}


def _b_season(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    name, y, y2 = m["se_n"], m["se_y"], m["se_y2"]
    m0 = _SEASON_START[name]
    if y is None:
        if name == "fall" and _NEXT_WORD.match(m.string, m.end()):
            return None  # the verb: "fall within ..."
        i0 = anchor(env.ref, m0, 3, mod == "end")
        return mrange(i0, 3, mod, "season", review=YEARLESS, yearless=True)
    why = ""
    if name == "winter" and y2 is None:
        why = f"winter {y} is read as December {y} to February {int(y) + 1}"
    elif y2 is not None and year_of(y2) != int(y) + 1:
        return None
    return mrange(int(y) * 12 + m0, 3, mod, "season", review=why)


def _b_fy(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    a = year_of(m["fy_a"])
    if m["fy_b"]:
        if year_of(m["fy_b"]) != a + 1:
            return None
        base, why = fy_pair(a, a + 1, env.fy)
    else:
        base, why = fy_base(a, env.fy)
    return mrange(base, 12, mod, "fiscal year", review=why)


def _b_yr(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    return mrange(int(m["yr_y"]) * 12, 12, mod, "year")


def _b_ye(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    return mrange(env.ref.year * 12, 12, "end", "year")


def _b_mon(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    name = m["mo_m"]
    if name == "may" and _VERB_NEXT.match(m.string, m.end()):
        return None  # the verb: "may continue"
    month = MONTH_NO[name[:3]]
    i0 = anchor(env.ref, month - 1, 1, mod == "end")
    return mrange(i0, 1, mod, "month", review=YEARLESS, yearless=True, month=month)


def _b_rel(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    word, unit = (m["rel_w"] or "").split(), " ".join(m["rel_u"].split())
    if not word and mod is None:
        return None
    step = 1 if word and word[-1] in NEXT_WORDS else 0
    ref = env.ref
    if unit in _SEASON_START:
        i0 = anchor(ref, _SEASON_START[unit], 3, not step or mod == "end")
        if word == ["the"]:  # "the spring session": which spring is not said, unlike "this" or "next spring"
            if i0 // 12 > ref.year:
                return mrange(i0, 3, mod, "season", review=YEARLESS, yearless=True)
            if i0 <= ref.year * 12 + ref.month - 1:
                why = f"'the {unit}' has begun by the reference date: this one is assumed, not the next"
                return mrange(i0, 3, mod, "season", review=why)
        return mrange(i0, 3, mod, "season")
    if unit in ("fiscal year", "financial year"):
        return _current_fy(env, step, mod)
    n = {"year": 12, "month": 1, "quarter": 3, "semester": 6, "biennium": 24}[unit]
    r = ref.year * 12 + ref.month - 1
    base = ref.year * 12 - (ref.year % 2) * 12 if n == 24 else r - (r % n)
    return mrange(base + step * n, n, mod, unit, span=n == 24 and mod != "end")


def _current_fy(env: Env, step: int, mod: str | None) -> Period:
    fy = env.fy or 1
    r = env.ref.year * 12 + env.ref.month - 1
    base = r - (r - (fy - 1)) % 12 + step * 12
    why = "" if env.fy else "no fiscal-year start is set, so the calendar year is used"
    return mrange(base, 12, mod, "fiscal year", review=why)


def _b_dur(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    unit, n2 = m["du_u"], m["du_n2"]
    raw = n2 or m["du_n"]
    n = int(raw) if raw.isdigit() else NUMBERS.get(" ".join(raw.split()), 0)
    note = f"the upper bound of '{m.group().strip()}' is used" if n2 else ""
    if raw.startswith("half"):
        return Duration(6, 0) if unit == "year" else None
    months = {"month": 1, "quarter": 3, "year": 12, "biennium": 24}.get(unit, 0) * n
    days = {"day": 1, "week": 7, "fortnight": 14}.get(unit, 0) * n
    return Duration(months, days, note) if n else None


# ---------------------------------------------------------------- recurrences

_UNIT_RULE = {
    "day": ("DAILY", 1),
    "week": ("WEEKLY", 1),
    "fortnight": ("WEEKLY", 2),
    "month": ("MONTHLY", 1),
    "quarter": ("MONTHLY", 3),
    "semester": ("MONTHLY", 6),
    "half year": ("MONTHLY", 6),
    "half-year": ("MONTHLY", 6),
    "year": ("YEARLY", 1),
    "annum": ("YEARLY", 1),
    "biennium": ("YEARLY", 2),
}
_WORD_RULE = {
    "annually": "FREQ=YEARLY",
    "annual": "FREQ=YEARLY",
    "yearly": "FREQ=YEARLY",
    "perannum": "FREQ=YEARLY",
    "peryear": "FREQ=YEARLY",
    "biennially": "FREQ=YEARLY;INTERVAL=2",
    "biennial": "FREQ=YEARLY;INTERVAL=2",
    "biannually": "FREQ=MONTHLY;INTERVAL=6",
    "biannual": "FREQ=MONTHLY;INTERVAL=6",
    "semiannually": "FREQ=MONTHLY;INTERVAL=6",
    "semiannual": "FREQ=MONTHLY;INTERVAL=6",
    "halfyearly": "FREQ=MONTHLY;INTERVAL=6",
    "biyearly": "FREQ=MONTHLY;INTERVAL=6",
    "triennially": "FREQ=YEARLY;INTERVAL=3",
    "triennial": "FREQ=YEARLY;INTERVAL=3",
    "quarterly": "FREQ=MONTHLY;INTERVAL=3",
    "monthly": "FREQ=MONTHLY",
    "bimonthly": "FREQ=MONTHLY;INTERVAL=2",
    "semimonthly": None,
    "weekly": "FREQ=WEEKLY",
    "biweekly": "FREQ=WEEKLY;INTERVAL=2",
    "fortnightly": "FREQ=WEEKLY;INTERVAL=2",
    "daily": "FREQ=DAILY",
}
_AMBIGUOUS = {"biyearly", "bimonthly", "biweekly", "semimonthly"}
_PER_UNIT = {
    "year": 12,
    "yearly": 12,
    "annually": 12,
    "annum": 12,
    "biennium": 24,
    "quarter": 3,
    "month": 1,
    "monthly": 1,
}
_NOT_NOUN = re.compile(
    r"\s+(?:basis|thereafter|intervals?|and|or|to|by|from|in|on|at|for|"
    r"with|until|starting|beginning|each|every|as|through|during)\b"
)


def rule(freq: str, interval: int) -> str:
    if freq == "MONTHLY" and interval % 12 == 0:
        freq, interval = "YEARLY", interval // 12
    return f"FREQ={freq}" if interval == 1 else f"FREQ={freq};INTERVAL={interval}"


def _b_rec(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    if m["rc_mon"]:
        return Recurrence(f"FREQ=YEARLY;BYMONTH={MONTH_NO[m['rc_mon'][:3]]}")
    if m["rc_u"]:
        freq, k = _UNIT_RULE[" ".join(m["rc_u"].split())]
        raw = m["rc_n"]
        n = 1 if raw is None else int(raw) if raw.isdigit() else NUMBERS[raw]
        return Recurrence(rule(freq, k * n)) if n else None
    if m["rc_t"]:
        return _times(m["rc_t"], m["rc_tu"])
    if m["rc_w"]:
        word = _JOINER.sub("", m["rc_w"])
        adjective = (  # "annual reports" names no rhythm alone; "annually" is never an adjective
            not word.endswith("ally")
            and bool(_NEXT_WORD.match(m.string, m.end()))
            and not _NOT_NOUN.match(m.string, m.end())
        )
        why = f"'{m['rc_w']}' is ambiguous (every other period, or twice a period)" if (word in _AMBIGUOUS) else ""
        return Recurrence(_WORD_RULE[word], adjective=adjective, review=why)
    return None


def _b_vague(m: re.Match[str], env: Env, mod: str | None) -> Value | None:
    occasion = m["rc_x"] or m["rc_y"]
    event = occasion.strip() if occasion else None
    return Recurrence(None, event=event)


def _times(count: str, unit: str) -> Recurrence:
    word = count.split()[0]
    n = {"once": 1, "twice": 2, "thrice": 3}.get(word) or (int(word) if word.isdigit() else NUMBERS.get(word, 0))
    if unit in ("week", "weekly", "day", "daily"):
        base = "WEEKLY" if unit.startswith("week") else "DAILY"
        return Recurrence(f"FREQ={base}" if n == 1 else None)
    months = _PER_UNIT[unit]
    if n and months % n == 0:
        return Recurrence(rule("MONTHLY", months // n))
    return Recurrence(None)


# ---------------------------------------------------------------- the token alternation

_Y = r"(?:19|20|21)\d\d(?!\d)"
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?(?!\d)"
_NUMW = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|eighteen"
    r"|twenty-four|twenty|thirty-six|thirty|forty-eight|sixty|ninety"
)
_FYW = r"fy|f\.y\.|fiscal\s+year|financial\s+year"
_OCCASIONS = (
    r"session|meeting|visit|mission|review|round|cycle|conference|assembly|p&b|budget"
    r"|programme|program|biennium|phase|board|committee|council|report|audit|election"
)
_UNITS = r"day|week|fortnight|month|quarter|year|biennium|semester|half[\s-]year|annum"


def _mon(name: str) -> str:
    return rf"(?P<{name}>{_MONTHS})(?![a-z])\.?"


def _yearpart(p: str) -> str:
    return (
        rf"(?:(?:\s+of|\s+in|\s*,)?(?:\s+the)?[\s/-]*(?:(?P<{p}fy>{_FYW})\s*-?\s*'?"
        rf"(?P<{p}fyy>{_Y}|\d\d(?!\d))|'?(?P<{p}y>{_Y})(?:/(?P<{p}y2>{_Y}|\d\d(?!\d)))?"
        rf"|(?P<{p}rel>this|the\s+current|current"
        rf"|next|the\s+following|following|the\s+next|the\s+coming|the)\s+year(?![a-z])))?"
    )


_REC = (
    rf"(?:every|each)\s+{_mon('rc_mon')}"
    rf"|(?:every|each|once\s+(?:every|each|a|an|per))\s+(?:(?P<rc_n>\d{{1,2}}|{_NUMW}|other"
    rf"|second|third)\s*)?(?P<rc_u>{_UNITS})s?(?![a-z])"
    rf"|(?P<rc_t>once|twice|thrice|(?:two|three|four|six|twelve|\d{{1,2}})\s+times)[\s-]+"
    r"(?:(?:a|an|per|each|every|in\s+a)\s+)?(?P<rc_tu>year|yearly|annually|annum|month|monthly"
    r"|week|weekly|quarter|day|daily|biennium)(?![a-z])"
    r"|(?P<rc_w>annually|annual|yearly|per\s+annum|per\s+year|biennially|biennial|bi-?annually"
    r"|bi-?annual|semi-?annually|semi-?annual|half-?yearly|bi-?yearly|triennially|triennial"
    r"|quarterly|monthly|bi-?monthly|semi-?monthly|weekly|bi-?weekly|fortnightly|daily)(?![a-z])"
)
_VAGUE = (  # a rhythm that is no calendar rule
    r"on\s+an?\s+(?:regular|periodic|continuing|rolling|recurrent|recurring)\s+basis|regularly"
    r"|periodically|periodic|at\s+regular\s+intervals|from\s+time\s+to\s+time"
    r"|recurr(?:ent(?:ly)?|ing)|repeatedly"
    rf"|(?:at|after|before|for|during|following|with|on|upon|in)\s+(?:each|every)\s+"
    rf"(?!(?:\d+\s+|other\s+)?(?:{_UNITS}|{_MONTHS})s?(?![a-z]))(?P<rc_x>[^,;()]+)"
    rf"|(?:each|every)\s+(?=[^,;()]*?\b(?:{_OCCASIONS})s?\b)(?P<rc_y>[^,;()]+)"
)

_ALTERNATIVES: tuple[tuple[str, str, Builder], ...] = (
    ("iso", rf"(?P<iso_y>{_Y})-(?P<iso_m>[01]?\d)-(?P<iso_d>[0-3]?\d)(?!\d)", _b_iso),
    (
        "num",
        r"(?P<num_a>\d\d?)(?P<num_s>[./-])(?P<num_b>\d\d?)(?P=num_s)"
        r"(?P<num_y>(?:19|20|21)\d\d|\d\d)(?!\d)",
        _b_num,
    ),
    ("ym", rf"(?P<ym_m>0?[1-9]|1[0-2])/(?P<ym_y>{_Y})", _b_ym),
    (
        "dmr",
        rf"(?P<dmr_a>{_DAY})(?:\s*,\s*{_DAY})*\s*,?\s*(?:-|to|and|&)\s*(?P<dmr_b>{_DAY})(?:\s+of)?\s+{_mon('dmr_m')}"
        rf"(?:,?\s+(?P<dmr_y>{_Y}))?(?![a-z0-9])",
        _b_dmr,
    ),
    (
        "dmy",
        rf"(?P<dmy_d>{_DAY})(?:\s+of)?(?:\s+|-|/){_mon('dmy_m')}(?:(?:,?\s+|-|/)(?P<dmy_y>{_Y})"
        rf"|-(?P<dmy_yy>\d\d)(?!\d)(?!\s*(?:{_MONTHS})(?![a-z])))?",
        _b_dmy,
    ),
    (
        "wk",
        r"(?:w/c|w\.c\.|week\s+(?:commencing|beginning|starting|of))\s+(?:the\s+)?(?:"
        rf"(?P<wk_d>{_DAY})(?:\s+of)?\s+{_mon('wk_m')}(?:,?\s+(?P<wk_y>{_Y}))?"
        rf"|{_mon('wk_m2')}\s+(?P<wk_d2>{_DAY})(?:,?\s*(?P<wk_y2>{_Y}))?)(?![a-z0-9])",
        _b_wk,
    ),
    (
        "yf",
        rf"(?P<yf_y>{_Y})\s+{_mon('yf_m')}(?:\s*(?P<yf_d>{_DAY})(?:\s*-\s*(?P<yf_d2>{_DAY}))?)?"
        rf"(?:\s*-\s*(?:(?P<yf_y2>{_Y})\s+)?{_mon('yf_m2')})?(?![a-z0-9])",
        _b_yf,
    ),
    (
        "mdr",
        rf"{_mon('mdr_m')}\s*(?P<mdr_a>{_DAY})\s*-\s*(?P<mdr_b>{_DAY})(?![a-z])(?:,?\s*(?P<mdr_y>{_Y}))?",
        _b_mdr,
    ),
    ("mdy", rf"{_mon('mdy_m')}\s*(?P<mdy_d>{_DAY})(?:,?\s*(?P<mdy_y>{_Y}))?", _b_mdy),
    ("my", rf"{_mon('my_m')}(?:(?:\s+of)?,?\s*(?P<my_y>{_Y})|\s*[-/']\s*(?P<my_yy>\d\d)(?!\d))", _b_my),
    ("qy", rf"(?:(?P<qy_fy>{_FYW})\s*-?\s*)?(?P<qy_y>{_Y})\s*[-/]?\s*q(?P<qy_n>[1-4])(?![a-z0-9])", _b_qy),
    ("hy", rf"(?:(?P<hy_fy>{_FYW})\s*-?\s*)?(?P<hy_y>{_Y})\s*[-/]?\s*h(?P<hy_n>[12])(?![a-z0-9])", _b_hy),
    (
        "span",
        rf"(?:(?P<sp_w>biennium|triennium)\s+|(?P<sp_yrs>years)\s+)?(?P<sp_a>{_Y})\s*(?P<sp_s>[-/])\s*"
        r"(?P<sp_b>(?:19|20|21)\d\d|\d\d?)(?!\d)(?:\s+(?P<sp_w2>biennium|triennium))?",
        _b_span,
    ),
    (
        "qtr",
        r"(?:q(?P<q_a>[1-4])|(?P<q_b>[1-4])q|(?P<q_w>first|second|third|fourth|final|last|1st"
        r"|2nd|3rd|4th)\s+(?:calendar\s+)?quarter|quarter\s+(?P<q_c>[1-4]))(?![a-z0-9])" + _yearpart("q_"),
        _b_qtr,
    ),
    (
        "half",
        r"(?:(?P<h_w>first|second|1st|2nd|last|latter|final)\s+half(?:[\s-]+year)?"
        r"|h(?P<h_a>[12])|(?P<h_b>[12])h|(?P<h_s>first|second|1st|2nd)\s+semester"
        r"|semester\s+(?P<h_c>[12])|(?P<h_x>first|last|final)\s+six\s+months)(?![a-z0-9])" + _yearpart("h_"),
        _b_half,
    ),
    (
        "season",
        rf"(?P<se_n>spring|summer|autumn|fall|winter)(?:\s+(?:of\s+)?(?P<se_y>{_Y})"
        r"(?:\s*[-/]\s*(?P<se_y2>(?:19|20|21)\d\d|\d\d)(?!\d))?)?(?![a-z])",
        _b_season,
    ),
    (
        "fy",
        rf"(?:the\s+)?(?P<fy_w>{_FYW}|fiscal)\s*-?\s*'?(?P<fy_a>{_Y}|\d\d(?!\d))"
        r"(?:\s*[-/]\s*(?P<fy_b>(?:19|20|21)\d\d|\d\d)(?!\d))?",
        _b_fy,
    ),
    ("rec", _REC, _b_rec),
    ("vague", _VAGUE, _b_vague),
    (
        "dur",
        rf"(?P<du_n>\d{{1,3}}|{_NUMW}|an?|half\s+an?)(?:\s*(?:-|to|or)\s*(?P<du_n2>\d{{1,3}}"
        rf"|{_NUMW}))?[\s-]*(?P<du_u>day|week|fortnight|month|quarter|year|biennium)s?"
        r"(?![a-z])",
        _b_dur,
    ),
    ("yr", rf"(?:(?:the\s+)?(?:calendar\s+)?year\s+)?(?P<yr_y>{_Y})", _b_yr),
    ("ye", r"year[\s-]?end(?![a-z])", _b_ye),
    (
        "rel",
        r"(?:(?P<rel_w>this|next|the\s+following|following|the\s+coming|coming|the\s+current"
        r"|current|the\s+next|the\s+present|present|the)\s+|(?(mod)|(?!)))(?P<rel_u>year|month|quarter"
        r"|biennium|fiscal\s+year|financial\s+year|semester|spring|summer|autumn|fall|winter)"
        r"(?![a-z])",
        _b_rel,
    ),
    ("mon", _mon("mo_m"), _b_mon),
)

_MOD = (
    r"(?:(?:the\s+)?(?P<mod>end|close|mid|middle|early|late|beginning|year[\s-]?end"
    r"|start(?=\s+of))(?:\s+(?:of|in))?(?:\s+the)?[\s-]+)?"
)
_TOKEN = r"(?<![a-z0-9])" + _MOD + "(?:" + "|".join(f"(?P<{n}>{p})" for n, p, _ in _ALTERNATIVES) + ")"
_BUILDERS = {n: b for n, _, b in _ALTERNATIVES}
# The scanner tries a pattern only where a token can begin (a digit or one of these words), and
# only the alternatives that can begin with that word: several times faster than letting one
# alternation try every word. Words not listed in a group get the whole token pattern.
_GROUP_WORDS = {
    "month": "jan january feb february mar march apr april may jun june jul july aug august sep "
    "sept september oct october nov november dec december",
    "part": "q h first second third fourth final last latter quarter semester",
    "season": "spring summer autumn fall winter",
    "week": "w week",
    "fiscal": "fy f fiscal financial",
    "every": "every each",
    "rec": "once twice thrice annually annual yearly per biennially biennial bi biannually "
    "biannual semi semiannually semiannual halfyearly biyearly triennially triennial "
    "quarterly monthly bimonthly semimonthly weekly biweekly fortnightly daily",
    "vague": "on regularly periodically periodic at from recurrent recurrently recurring "
    "repeatedly after before for during with upon in",
    "count": "a an half one two three four five six seven eight nine ten eleven twelve fifteen "
    "eighteen twenty thirty forty sixty ninety",
    "full": "the calendar year years yearend this next coming current present following month biennium "
    "triennium end close mid middle early late beginning start",
}
_GROUP_ALTERNATIVES = {
    "year": ("iso", "yf", "qy", "hy", "span", "yr"),  # a word of four digits
    "number": ("num", "ym", "dmr", "dmy", "qtr", "half", "rec", "dur"),  # of one to three digits
    "month": ("mdr", "mdy", "my", "mon"),
    "part": ("qtr", "half"),
    "season": ("season",),
    "week": ("wk",),
    "fiscal": ("qy", "hy", "fy"),
    "every": ("rec", "vague"),
    "rec": ("rec",),
    "vague": ("vague",),
    "count": ("rec", "dur"),
}


def _group(names: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(f"(?P<{n}>{p})" for n, p, _ in _ALTERNATIVES if n in names)
    # "mod" never matches here; it keeps the group that ``build`` reads
    return re.compile(r"(?<![a-z0-9])(?P<mod>(?!))?(?:" + alternatives + ")")


@cache
def pattern(group: str) -> re.Pattern[str]:
    """The pattern of a group of alternatives ("full": every one), compiled on first use."""
    return re.compile(_TOKEN) if group == "full" else _group(_GROUP_ALTERNATIVES[group])


def token_pattern() -> re.Pattern[str]:
    """One alternation of every token form (what ``scan`` finds, tried at every word)."""
    return pattern("full")


_NAMED = re.compile(r"\(\?P<\w+>")


def _sieve(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` without its groups, matching wherever it matches (and perhaps more): a failed match costs a
    third as much when the engine keeps no group; the back-reference and the condition on "mod" are widened."""
    return re.compile(_NAMED.sub("(?:", pattern.pattern).replace("(?P=num_s)", "[./-]").replace("(?(mod)|(?!))", ""))


def _full_sieve() -> re.Pattern[str]:
    """The sieve of the token pattern: after "end of the", "mid-", "early" ... it only asks that a word a token
    can begin with follows (every alternative begins with a word of ``_GROUP_WORDS`` or a digit, and "the" in one
    is followed by such a word), instead of trying every alternative there and again after each shorter reading of
    the modifier."""
    assert _MOD.startswith("(?:") and _MOD.endswith(")?")
    words = {w for group in _GROUP_WORDS.values() for w in group.split()} - {"the"}  # "the" is always followed by one
    first_words = "|".join(sorted(words, key=len, reverse=True))
    bare = "|".join(p for _, p, _ in _ALTERNATIVES).replace("(?(mod)|(?!))", "(?!)")  # no modifier: no bare unit
    body = _NAMED.sub("(?:", _MOD[3:-2] + rf"(?=(?:the\s+)?(?:{first_words})(?![a-z])|\d)|(?:{bare})")
    return re.compile(r"(?<![a-z0-9])(?:" + body.replace("(?P=num_s)", "[./-]") + ")")


@cache
def sieve(group: str) -> re.Pattern[str]:
    """The sieve of a group's pattern, compiled on first use (the full one takes milliseconds, which a command
    that reads no time frame does not pay)."""
    return _full_sieve() if group == "full" else _sieve(pattern(group))


def _sieve_full(low: str, pos: int) -> re.Match[str] | None:
    return sieve("full").match(low, pos)


def _sieve_vague(low: str, pos: int) -> re.Match[str] | None:
    return sieve("vague").match(low, pos)


# The words after which a token is rare ("the", "end", "in") try the sieve first.
SIEVED = {"full": _sieve_full, "vague": _sieve_vague}
_BY_WORD = {w: (SIEVED.get(g), g) for g, words in _GROUP_WORDS.items() for w in words.split()}
_MATCH: dict[str, Callable[[str, int], re.Match[str] | None]] = {}  # each group's ``match``, once compiled


def _matcher(group: str) -> Callable[[str, int], re.Match[str] | None]:
    match = _MATCH[group] = pattern(group).match
    return match


def _trie(words: list[str]) -> str:
    """``words`` as one pattern that branches letter by letter: the engine tries a few branches at each letter,
    not every word (a longer word before the word it extends)."""
    heads = sorted({w[0] for w in words if w})
    parts = [re.escape(c) + _trie([w[1:] for w in words if w[:1] == c]) for c in heads]
    if "" in words:
        parts.append("")
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


# Where a token can begin: a word of ``_BY_WORD`` or a number of one to four digits. One search finds the next
# such word; the words between are never looked at.
_START = re.compile(r"(?<![a-z])" + _trie(sorted(_BY_WORD)) + r"(?![a-z])|(?<!\d)\d{1,4}(?!\d)")


def scan(low: str) -> list[re.Match[str]]:
    """Return the token matches of a lower-cased phrase, left to right, not overlapping."""
    out: list[re.Match[str]] = []
    find = _START.search
    pos = 0
    while (w := find(low, pos)) is not None:
        start, pos = w.span()
        word = w[0]
        if word[0].isdigit():
            group = "number" if len(word) < 4 else "year"
        else:
            sieve, group = _BY_WORD[word]
            if sieve is not None and sieve(low, start) is None:
                continue
        if (m := (_MATCH.get(group) or _matcher(group))(low, start)) is not None:
            out.append(m)
            pos = m.end()
    return out


def scan_slowly(low: str) -> list[re.Match[str]]:
    """``scan`` without the word dispatch (the reference the tests compare ``scan`` with)."""
    return list(token_pattern().finditer(low))


MARKS = {Period: "@", Duration: "#", Recurrence: "%"}


def build(m: re.Match[str], env: Env) -> Value | None:
    """Return the value of one token match, or None when the words are no valid date."""
    mod = m["mod"]
    if mod is not None:
        mod = "end" if "end" in mod else _MOD_NAMES.get(mod, mod)
    return _BUILDERS[m.lastgroup or ""](m, env, mod)
