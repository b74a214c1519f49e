"""The reading of a time-frame phrase, and the helpers every clause shares (pure).

The phrase is lower-cased and every token ``timeframe.tokens.scan`` finds is replaced by one
mark (``@`` a period, ``#`` a duration, ``%`` a recurrence), giving a short "skeleton" such as
``first outputs by @``. Clause patterns are matched against the skeleton, so they only have to
know connecting words; the marks lead back to the tokens and to the original wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from engine.timeframe.dates import Duration, Env, Period, Value, add_months
from engine.timeframe.tokens import MARKS, build, scan


class Token(NamedTuple):
    pos: int  # position of its mark in the skeleton
    lo: int  # span in the phrase
    hi: int
    value: Value


_new_token = tuple.__new__  # a Token without the named tuple's Python-level __new__


@dataclass(slots=True)
class Reading:
    """The reading of a phrase or of one part of it, before it becomes a ``Schedule``."""

    kind: str
    start: date | None = None
    due: date | None = None
    rrule: str | None = None
    event: str | None = None
    main: str = ""  # the first clause of the reason
    label: str | None = None  # words before the date ("First outputs")
    qual: str | None = None  # what the work is for ("for annual reports")
    notes: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)  # why the reading is uncertain
    bare: bool = False  # a period with no connecting word of its own
    extra: bool = False  # a further date was left unread (perhaps a list)
    milestones: list[tuple[str, date | None, date | None]] = field(default_factory=list)


class Ctx:
    """One phrase: its original words, its skeleton and its tokens."""

    __slots__ = ("back", "env", "orig", "skel", "toks")

    def __init__(self, env: Env, orig: str, low: str, back: Callable[[int, bool], int] | None = None) -> None:
        self.env, self.orig, self.back = env, orig, back
        self.skel, self.toks = _SKELETONS.get((low, env)) or _skeleton(low, env)

    def src(self, a: int, b: int) -> str:
        """The original words under skeleton positions ``a .. b``."""
        da = db = 0
        for t in self.toks.values():
            if t.pos < a:
                da += t.hi - t.lo - 1
            if t.pos < b:
                db += t.hi - t.lo - 1
        if self.back is not None:
            return self.orig[self.back(a + da, False) : self.back(b + db, False)].strip()
        return self.orig[a + da : b + db].strip()

    def word(self, t: Token) -> str:
        if self.back is not None:
            return self.orig[self.back(t.lo, True) : self.back(t.hi, False)]
        return self.orig[t.lo : t.hi]

    def period(self, pos: int) -> Period:
        value = self.toks[pos].value
        assert isinstance(value, Period)
        return value

    def within(self, a: int, b: int) -> list[Token]:
        return [t for p, t in self.toks.items() if a <= p < b]


_SKELETONS: dict[tuple[str, Env], tuple[str, dict[int, Token]]] = {}


def _skeleton(low: str, env: Env) -> tuple[str, dict[int, Token]]:
    """The skeleton of ``low`` and its tokens by their marks' positions; kept per phrase and ``Env`` (4,096 at
    most: a plan's phrases repeat, and a plan is read again by every command that reads its time frames)."""
    pieces: list[str] = []
    toks: dict[int, Token] = {}
    last = shift = 0
    for m in scan(low):
        value = build(m, env)
        if value is None:
            continue
        lo, hi = m.span()
        pieces.append(low[last:lo])
        pieces.append(MARKS[type(value)])
        toks[lo - shift] = _new_token(Token, (lo - shift, lo, hi, value))
        shift += hi - lo - 1
        last = hi
    pieces.append(low[last:])
    got = "".join(pieces), toks
    if len(_SKELETONS) >= 4096:
        _SKELETONS.clear()
    _SKELETONS[low, env] = got
    return got


def clear_skeletons() -> None:
    """Forget the phrases' skeletons (``engine.timeframe.clear_caches``)."""
    _SKELETONS.clear()


PUNCT = " ,;:.-'\"!?*"


def trim(s: str, a: int, b: int, chars: str = PUNCT) -> tuple[int, int]:
    while a < b and s[a] in chars:
        a += 1
    while b > a and s[b - 1] in chars:
        b -= 1
    return a, b


def fmt(d: date | None) -> str:
    return d.isoformat() if d else "-"


# ---------------------------------------------------------------- shared helpers

# Words that end a label without naming the work: "First part done by", "Draft report to be
# completed by". Dropped from the end of the label, word by word.
_TRAILING_WORDS = """
    completed complete done finished finalized finalised submitted ready achieved implemented
    delivered issued launched adopted established prepared approved available produced
    published presented reached expected scheduled planned held concluded undertaken due
    targeted target deadline timeline timeframe frame date completion to be should will must
    is are was were has have been and or but then in place carried out
"""
_TRAILING = frozenset(_TRAILING_WORDS.split())
SESSION = re.compile(r"\b(?:session|meeting|sitting|conference|assembly)s?\b")
SESSION_TAIL = re.compile(r"(?:session|meeting|sitting|conference|assembly)(?:\s+of\b.*|\s*)$")
_FOR = re.compile(r"(?:for|towards?|in\s+preparation\s+for|to\s+feed(?:\s+into)?)\s+(?=\S)")
_CONDITION = re.compile(
    r"\b(?:subject\s+to|pending|depending\s+on|dependent\s+on|if|provided"
    r"|assuming|contingent|conditional|unless)\b"
)
_UNREAD = re.compile(r"[@#\d]|[^\x00-\x7f]")
_FILLER_WORDS = (
    r"and|or|at\s+least|at\s+a\s+minimum|at\s+most|starting|start|from|beginning|as\s+of"
    r"|commencing|effective|in|on|by|until|till|through|to|each|every|thereafter|onwards?|of|the"
    r"|with|then|since|an?|reviewed|review|reviews|updated|update|reported|reporting|evaluated"
    r"|assessed|monitored|basis|during|throughout|over|ongoing|continuing|on-going"
)
_FILLER = re.compile(r"(?:[\s,;:.()\[\]'-]|[@#]|\b(?:" + _FILLER_WORDS + r")\b)*")
_CONTINUING = re.compile(
    r"(?:and\s+)?(?:continuing|ongoing|on-going|onwards?|thereafter|beyond"
    r"|continuing\s+thereafter|to\s+be\s+continued)"
)


_NO_LABEL = frozenset(
    (
        "",
        "completed",
        "complete",
        "done",
        "finished",
        "to be completed",
        "to be done",
        "due",
        "deadline",
        "target",
        "target date",
        "completion",
        "completion date",
        "end date",
        "timeline",
        "time frame",
        "timeframe",
    )
)


_LABEL_EDGE = PUNCT + "(["


def label(ctx: Ctx, a: int, b: int) -> str | None:
    """Words before the date that name a part of the work ("First outputs"), if any."""
    if a == b:
        return None
    low = ctx.skel[a:b]
    if low.strip(_LABEL_EDGE) in _NO_LABEL or SESSION.search(low):
        return None
    words = ctx.src(a, b).split()
    while words and words[-1].strip(_LABEL_EDGE).lower() in _TRAILING:
        words.pop()
    text = " ".join(words).strip(_LABEL_EDGE)
    if not text or text.lower() in ("the", "to", "and", "or", "by", "in", "on", "at", "it"):
        return None
    return text


_NUMBERED = re.compile(
    r"\b(?:phase|part|step|stage|output|item|activity|component|milestone"
    r"|deliverable|objective|tranche|round|module|task|report|action|no\.?|#)"
    r"\s*(?:\d+|[ivx]+)[a-z]?$",
    re.I,
)


_DIGIT = re.compile(r"\d")


def set_label(ctx: Ctx, r: Reading, a: int, b: int) -> None:
    """Set the label from the words ``a .. b``; a number among them that names no part is unread."""
    r.label = text = label(ctx, a, b)
    if text and _DIGIT.search(text) and not _NUMBERED.search(text):
        r.review.append(f"the words '{text}' before the date were not read")


_TAIL_EDGE = PUNCT + "()[]"


def tail(ctx: Ctx, r: Reading, a: int, b: int) -> None:
    """Read the words after the date: a qualifier, a session, or something left unread."""
    if a >= b:
        return
    a, b = trim(ctx.skel, a, b, _TAIL_EDGE)
    low = ctx.skel[a:b]
    if not low or _CONTINUING.fullmatch(low):
        return
    text = ctx.src(a, b)
    if SESSION_TAIL.match(low):
        r.notes.append(f"'{text}' is taken to be held in that period")
    elif m := _FOR.match(low):
        r.qual = ctx.src(a + m.end(), b)
        r.notes.append(f"'{text}' names what the work is for, not its date")
    elif _UNREAD.search(low.replace("%", "")) and not _NUMBERED.search(text):
        r.extra = "@" in low or "#" in low
        r.review.append(f"the words '{text}' were not read")
    elif _CONDITION.search(low):
        r.review.append(f"the date is conditional ('{text}')")
    else:
        r.qual = text
        r.notes.append(f"the words '{text}' qualify it without changing the date")


def leftover(ctx: Ctx, r: Reading, a: int, b: int, rhythm: bool = False) -> None:
    """Note the words of ``a .. b`` unless they are only connecting words and marks.

    With ``rhythm``, a recurrence among them was read (a review rhythm) and needs no note.
    """
    a, b = trim(ctx.skel, a, b)
    low = ctx.skel[a:b].replace("%", " ") if rhythm else ctx.skel[a:b]
    if a < b and not _FILLER.fullmatch(low):
        r.notes.append(f"the words '{ctx.src(a, b)}' qualify it")


def due_text(p: Period, word: str) -> str:
    if p.exact == "point":
        return f"{p.end.isoformat()} ('{word}')"
    if p.exact == "mod":
        return f"{p.end.isoformat()} (the date '{word}' stands for)"
    return f"{p.end.isoformat()} (the last day of '{word}')"


def start_text(p: Period, word: str, d: date | None = None) -> str:
    d = d or p.start
    if p.exact == "point" or d != p.start:
        return f"{d.isoformat()} ('{word}')"
    if p.exact == "mod":
        return f"{d.isoformat()} (the date '{word}' stands for)"
    return f"{d.isoformat()} (the first day of '{word}')"


def use(r: Reading, *periods: Period) -> Reading:
    """Carry the periods' own doubts and notes into the reading."""
    for p in periods:
        if p.review and p.review not in r.review:
            r.review.append(p.review)
        if p.note and p.note not in r.notes:
            r.notes.append(p.note)
    return r


def plus(ref: date, d: Duration) -> date:
    return add_months(ref, d.months) + timedelta(days=d.days)


_START_BEFORE = re.compile(
    r"(?:starting|start|started|from|beginning|begin|as\s+of|as\s+from"
    r"|commencing|effective|since|with\s+effect\s+from|in)\s+(?:in\s+|on\s+"
    r"|from\s+)?(?:the\s+)?$"
)
_ONWARDS_AFTER = re.compile(r"\s*,?\s*(?:onwards?|-\s*(?:ongoing|on-going)(?![a-z]))")
_SPAN_BEFORE = re.compile(r"(?:during|throughout|over|in\s+the\s+course\s+of|within)\s+(?:the\s+)?$")
_END_BEFORE = re.compile(
    r"(?:until|till|through|to|ending|up\s+to|by|before|no\s+later\s+than"
    r"|not\s+later\s+than|due)\s+(?:the\s+)?$"
)


def connector(ctx: Ctx, a: int, t: Token) -> str:
    """ "start", "end", "span" or "" for the words just before a token."""
    before = ctx.skel[max(a, t.pos - 40) : t.pos]
    if _START_BEFORE.search(before) or _ONWARDS_AFTER.match(ctx.skel, t.pos + 1):
        return "start"
    if _SPAN_BEFORE.search(before):
        return "span"
    return "end" if _END_BEFORE.search(before) else ""


IMMEDIATE = re.compile(
    r"(?:(?P<st>(?:to\s+)?(?:start(?:s|ing)?|begin(?:s|ning)?|commenc(?:e|es|ing)|effective"
    r"|with\s+effect\s+from|from|as\s+of|action\s+to\s+start))\s+)?(?P<w>immediately|immediate"
    r"(?:\s+effect)?|now|at\s+once|forthwith|without\s+delay|right\s+away|straight\s+away"
    r"|with\s+immediate\s+effect|asap|a\.s\.a\.p\.?|as\s+soon\s+as\s+(?:possible|practicable"
    r"|feasible)|urgent(?:ly)?|promptly)(?![a-z])"
)
