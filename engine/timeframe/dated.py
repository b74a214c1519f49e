"""Dated clauses of the time-frame grammar: deadlines, starts and windows (pure).

In a clause with one period mark, the connecting words just before it (by, starting, during,
before, since ...) say how the period is used; the words before them are a label, the words
after the mark qualify it. Two marks may form a range ("from mid-2002 to end 2003").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from typing import NamedTuple

from engine.timeframe.dates import Period, after, shift_years
from engine.timeframe.reading import (
    IMMEDIATE,
    SESSION,
    SESSION_TAIL,
    Ctx,
    Reading,
    due_text,
    fmt,
    set_label,
    start_text,
    tail,
    use,
)

_H = r"^(?P<head>[^@]*?)"
_THE = r"(?:(?:the|its|their)\s+)?"
_P = _THE + r"(?P<p>@)"
_Q = _THE + r"(?P<q>@)"
# "end of the 39th session of the Conference (June 2015)": a meeting dated by the month in brackets
_MEETING = (
    r"(?:(?:the\s+)?(?:end|close|opening|beginning|start)\s+of\s+)?(?:the\s+)?[^@()]{0,80}?"
    r"\b(?:session|meeting|conference|assembly)\b[^@()]{0,80}?\(\s*"
)
_RP = _THE + rf"(?P<pm>{_MEETING})?(?P<p>@)(?(pm)\s*\))"
_RQ = _THE + rf"(?P<qm>{_MEETING})?(?P<q>@)(?(qm)\s*\))"
_T = r"(?P<tail>.*)$"
_BEGIN_FINISH = re.compile(
    _H + r"\b(?:to\s+)?(?:begin|start|starting|beginning|commence|commencing|launch(?:ed)?"
    r"|initiated?)\s+(?:in\s+|on\s+|from\s+)?" + _P + r"[\s,]*(?:and\s+|with\s+|but\s+)?(?:(?:to\s+)?"
    r"(?:be\s+)?(?:finish(?:ed)?|end(?:ing|ed)?|complet(?:e|ed|ion)|conclud(?:e|ed)|finali[sz]ed?"
    r"|done)(?:\s+(?:by|in|at|on|before))?|until|till|through|to)\s+" + _Q + _T
)


def _range(p: str, q: str) -> re.Pattern[str]:
    return re.compile(
        _H + r"(?:\b(?P<c>from|between|beginning|starting|commencing|as\s+from|during|throughout|in"
        r"|over|for|within|covering)\s+)?(?:the\s+)?(?:period\s+)?(?:from\s+)?"
        + p
        + r"(?:\s*(?P<sep>-+>|-|to|until|till|through|thru|and|up\s+to|to\s+the\s+end\s+of)\s*"
        r"|(?P<sl>\s+/\s*|\s*/\s+)|/)" + q + _T
    )


_RANGE = _range(_P, _Q)
_MEETING_RANGE = _range(_RP, _RQ)  # tried only where a meeting is named: it costs twice as much
_MEETING_WORD = re.compile(r"\b(?:session|meeting|conference|assembly)\b")
_ONWARDS = re.compile(
    r"\s*,?\s*(?:onwards?|and\s+onwards?|and\s+beyond|and\s+thereafter|and\s+after"
    r"|forward|and\s+continuing|and\s+ongoing|on|-\s*(?:ongoing|on-going))(?![a-z])"
)

# The words just before a period say how it is used: st(art), si(nce), du(ring), be(fore) or
# d(ead)l(ine). Looked up word by word, longest first, which is several times faster than a
# pattern that tries every connector at every word of a long label.
_START_VERBS = (
    "start starts starting started begin begins beginning began begun commence "
    "commences commencing commenced launch launched launching initiate initiated "
    "initiating"
)
_CONNECTOR_WORDS = {
    "dl": [
        "no later than",
        "not later than",
        "nlt",
        "on or before",
        "at the latest by",
        "latest by",
        "by",
        "until",
        "till",
        "up to",
        "to",
        "in",
        "on",
        "at",
        "for",
        "within",
        "around",
        "about",
        "approximately",
        "circa",
        "ca",
        "ca.",
        "not beyond",
        "due",
        "due date",
        "deadline",
        "target",
        "target date",
        "end date",
        "completion",
        "completion date",
        "timeline",
        "expected",
        "scheduled for",
        "planned for",
        "cob",
        "by cob",
        "c.o.b.",
        "by c.o.b.",
        "close of business",
        "by close of business",
        "eod",
        "by eod",
        "end of day",
        "by end of day",
    ],
    "be": ["before", "prior to", "ahead of"],
    "du": ["during", "throughout", "over", "in the course of", "across", "for the duration of", "within the period"],
    "si": ["since", "started in", "begun in", "underway since", "under way since"],
    "st": [
        *(
            f"{to}{verb}{then}"
            for verb in _START_VERBS.split()
            for to in ("", "to ")
            for then in ("", " in", " on", " from", " as of", " at", " by")
        ),
        *(
            f"{w}{then}"
            for w in (
                "effective",
                "effective date",
                "start date",
                "starting date",
                "commencement date",
                "date of entry into force",
                "entry into force",
                "with effect from",
                "wef",
                "w.e.f.",
                "w.e.f",
                "as from",
                "as of",
                "from",
                "not before",
                "no earlier than",
                "not earlier than",
                "after",
            )
            for then in ("", " in", " on", " from", " as of", " at", " by")
        ),
    ],
}
# later kinds win a clash ("started in" starts), as the order of a pattern's alternatives would
CONNECTORS = {w: kind for kind, words in _CONNECTOR_WORDS.items() for w in words}
_LONGEST = max(len(w.split()) for w in CONNECTORS)


class Spans(NamedTuple):
    """Where the parts of a dated clause lie in the skeleton."""

    head: tuple[int, int]  # the words before the connector: a label
    p: int  # the (first) period mark
    q: int  # the second period mark of a range, or -1
    tail: tuple[int, int]  # the words after the last mark
    conn: str | None  # the connecting words ("by", "starting from"), None when bare


_new_spans = tuple.__new__  # Spans without the named tuple's Python-level __new__


def dated(ctx: Ctx, a: int, b: int) -> Reading | None:
    """Read a clause with at least one period mark."""
    seg = ctx.skel[a:b]
    shape = _SHAPES.get(seg)
    if shape is None:
        shape = _shape(seg)
    if not shape:
        return None
    ranges, p, head_end, read, conn = shape
    for m in ranges:
        if (r := _window(ctx, a, m)) is not None:
            return r
    return read(ctx, _new_spans(Spans, ((a, a + head_end), a + p, -1, (a + p + 1, b), conn)))


_Shape = tuple[tuple[re.Match[str], ...], int, int, Callable[[Ctx, Spans], Reading], str | None]
_SHAPES: dict[str, _Shape | tuple[()]] = {}


def _shape(seg: str) -> _Shape | tuple[()]:
    """How a dated clause's skeleton reads, whatever its dates: the matches of the ranges it may be, where its
    first mark and the end of its label lie, the reader of its connector and the connector's words (``()``
    without a mark). Kept per skeleton (4,096 at most): a plan's clauses share a few shapes ("by @")."""
    n = seg.count("@")
    shape: _Shape | tuple[()] = ()
    if n:
        ranges: tuple[re.Match[str], ...] = ()
        if n > 1:
            patterns = (_BEGIN_FINISH, _MEETING_RANGE if _MEETING_WORD.search(seg) else _RANGE)
            ranges = tuple(m for m in (pattern.match(seg) for pattern in patterns) if m is not None)
        p = seg.index("@")
        head_end, kind, conn = _connector(seg[:p])
        if kind == "st" or (kind in (None, "du", "si") and _ONWARDS.match(seg, p + 1)):
            read = _start
        else:
            read = _READERS.get(kind or "", _deadline)
        shape = ranges, p, head_end, read, conn
    if len(_SHAPES) >= 4096:
        _SHAPES.clear()
    _SHAPES[seg] = shape
    return shape


@lru_cache(maxsize=4096)  # the words before a date repeat: "by ", "completed by ", "to be done by "
def _connector(head: str) -> tuple[int, str | None, str | None]:
    """The end of the label, and the kind and words of the connector that ends ``head``."""
    words = head.split()
    dropped = 1 if words and words[-1] in ("the", "its", "their") else 0
    if dropped:
        words.pop()
    for n in range(min(_LONGEST, len(words)), 0, -1):
        key = " ".join(words[-n:]).rstrip(": ")
        if (kind := CONNECTORS.get(key)) is not None:
            return (len(head.rsplit(None, n + dropped)[0]) if len(words) > n else 0), kind, key
    if not dropped:
        return len(head.rstrip()), None, None
    return (len(head.rsplit(None, 1)[0]) if words else 0), None, None


def clear_connectors() -> None:
    """Forget the connecting words looked up and the shapes of dated clauses (``engine.timeframe.clear_caches``)."""
    _connector.cache_clear()
    _SHAPES.clear()


def _spans(a: int, m: re.Match[str]) -> Spans:
    q = a + m.start("q") if m.groupdict().get("q") else -1
    return Spans(
        (a + m.start("head"), a + m.end("head")), a + m.start("p"), q, (a + m.start("tail"), a + m.end("tail")), None
    )


def _finish(ctx: Ctx, r: Reading, sp: Spans, *periods: Period) -> Reading:
    ha, hb = sp.head
    set_label(ctx, r, ha, hb)
    if r.label and IMMEDIATE.fullmatch(r.label.lower()):
        r.notes.append(f"'{r.label}' asks for the work as soon as possible before that date")
        r.label = None
    session = ha < hb and SESSION.search(ctx.skel[ha:hb]) is not None
    if session:
        r.notes.append(f"the meeting '{ctx.src(ha, hb).rstrip(' (')}' is taken to be held in that period")
    ta, tb = sp.tail
    tail(ctx, r, ta, tb)
    if periods[0].unit == "year" and (session or SESSION_TAIL.match(ctx.skel[ta:tb].strip(" ,;:.-()"))):
        r.review.append("the meeting's month is not given, so the end of the year is used")
    return use(r, *periods)


def _word(ctx: Ctx, pos: int) -> str:
    return ctx.word(ctx.toks[pos])


def _window(ctx: Ctx, a: int, m: re.Match[str]) -> Reading | None:
    groups = m.groupdict()
    sp = _spans(a, m)
    p, q = ctx.period(sp.p), ctx.period(sp.q)
    joined = groups.get("sl") or (groups.get("sep") == "and" and groups.get("c") != "between")
    if joined and not (p.yearless and not q.yearless):
        return None  # "March 2004 and October 2004" are two dates; "August and September 2019" one span
    if p.yearless and not q.yearless:  # "between April and June 2003": April of 2003
        k = q.start.year - p.start.year
        p = shift_years(p, k - 1 if shift_years(p, k).start > q.start else k)
    if q.yearless and not p.yearless and q.end < p.start:
        q = shift_years(q, p.start.year - q.start.year + (q.start.month < p.start.month))
    r = Reading("window", start=min(p.start, q.start), due=max(q.end, p.end))
    r.main = f"Read as a window from {start_text(p, _word(ctx, sp.p), r.start)} to {due_text(q, _word(ctx, sp.q))}"
    if q.end < p.start:
        r.review.append("the range runs backwards")
    return _finish(ctx, r, sp, p, q)


def _start(ctx: Ctx, sp: Spans) -> Reading:
    p = ctx.period(sp.p)
    word = _word(ctx, sp.p)
    if p.span:
        return _during(ctx, sp)
    if (sp.conn or "").startswith("after"):
        begin = after(p)
        r = Reading("start", start=begin, main=f"Read as a start on {fmt(begin)} (the day after '{word}')")
    else:
        r = Reading("start", start=p.start, main=f"Read as a start on {start_text(p, word)}")
    return _finish(ctx, r, sp, p)


def _since(ctx: Ctx, sp: Spans) -> Reading:
    p = ctx.period(sp.p)
    r = Reading("continuous", start=p.start)
    r.main = f"Read as continuous work since {start_text(p, _word(ctx, sp.p))}"
    return _finish(ctx, r, sp, p)


def _during(ctx: Ctx, sp: Spans) -> Reading:
    p = ctx.period(sp.p)
    s, e = min(p.start, p.end), max(p.start, p.end)
    r = Reading("window", start=s, due=e)
    r.main = f"Read as a window over '{_word(ctx, sp.p)}', {fmt(s)} to {fmt(e)}"
    return _finish(ctx, r, sp, p)


def _before(ctx: Ctx, sp: Spans) -> Reading:
    p = ctx.period(sp.p)
    word = _word(ctx, sp.p)
    if p.exact == "period":
        due = p.start - timedelta(days=1)
        r = Reading("deadline", due=due, main=f"Read as a deadline on {fmt(due)}, the day before '{word}' begins")
    else:
        r = Reading("deadline", due=p.end, main=f"Read as a deadline on {due_text(p, word)}")
    return _finish(ctx, r, sp, p)


def _deadline(ctx: Ctx, sp: Spans) -> Reading:
    p = ctx.period(sp.p)
    if p.span and sp.conn in (None, "in", "for"):
        return _during(ctx, sp)
    r = Reading("deadline", due=p.end, main=f"Read as a deadline on {due_text(p, _word(ctx, sp.p))}")
    r.bare = sp.conn is None
    return _finish(ctx, r, sp, p)


_READERS = {"si": _since, "du": _during, "be": _before}
