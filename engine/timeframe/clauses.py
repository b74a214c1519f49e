"""Clauses of the time-frame grammar other than dated ones, and the dispatch of one clause (pure).

``clause`` reads one span of a phrase's skeleton (see ``timeframe.reading``): a term the phrase
defines itself, continuous work, an unscheduled phrase, a recurrence, a dated clause, a period
counted from the reference date, an event, or "immediately"; anything else is unscheduled.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from engine.timeframe.dated import CONNECTORS, dated
from engine.timeframe.dates import Duration, Period, Recurrence
from engine.timeframe.reading import (
    IMMEDIATE,
    PUNCT,
    SESSION,
    Ctx,
    Reading,
    Token,
    connector,
    fmt,
    label,
    leftover,
    plus,
    set_label,
    tail,
    trim,
    use,
)

Clause = Callable[[Ctx, int, int], "Reading | None"]
_T = r"(?P<tail>.*)$"
_VAGUE_NOW = frozenset(("asap", "a.s.a.p", "a.s.a.p.", "urgent", "urgently", "promptly"))


# ---------------------------------------------------------------- terms, continuous, unscheduled

_TERM = re.compile(
    r"((?:short|medium|mid|long|near)(?:[\s-]+to[\s-]+(?:medium|long))?)[\s-]*term"
    r"(?![a-z])"
)


def term(ctx: Ctx, a: int, b: int) -> Reading | None:
    m = _TERM.match(ctx.skel, a, b)
    if m is None:
        return None
    word = ctx.src(a, m.end())
    rest = ctx.skel[m.end() : b].lstrip()
    if rest and rest[0] not in "(:=-,[" and any(c in rest for c in "@#"):
        return None  # "mid-term review in 2004": the term is not defined here
    ta, tb = trim(ctx.skel, m.end(), b, PUNCT + "()[]=")
    if any(c in ctx.skel[ta:tb] for c in "@#"):
        inner = clause(ctx, ta, tb)  # the definition is itself a clause
        if inner.start or inner.due:
            inner.main = f"The phrase defines '{word}' itself: {inner.main[0].lower()}{inner.main[1:]}"
            return inner
    return Reading("unscheduled", main=f"Read as unscheduled: '{word}' names no date")


_CONT = re.compile(
    r"(?:(?P<imm>immediate(?:ly)?)(?:\s+and|,)\s+(?:continuing|ongoing|on-going|continuous(?:ly)?)"
    r"|continuous(?:ly)?|on-?\s?going|continuing|continual(?:ly)?|constant(?:ly)?|permanent(?:ly)?"
    r"|(?:an?\s+)?permanent\s+(?:function|task|activity|process|responsibility|feature)"
    r"|started,?\s+(?:and\s+)?to\s+be\s+continued|to\s+be\s+continued|perpetual|at\s+all\s+times"
    r"|(?:already\s+)?(?:started|underway|under\s+way|in\s+progress)(?:,?\s+and\s+(?:continuing"
    r"|ongoing))?|throughout(?=\s*$)|all\s+year(?:\s+round)?)(?![a-z])"
)


def continuous(ctx: Ctx, a: int, b: int) -> Reading | None:
    m = _CONT.match(ctx.skel, a, b)
    if m is None:
        return None
    r = Reading("continuous", start=ctx.env.ref if m["imm"] else None)
    for t in ctx.within(m.end(), b):
        v = t.value
        if isinstance(v, Recurrence):
            r.rrule = r.rrule or v.rrule
        elif isinstance(v, Period) and (how := connector(ctx, a, t)):
            r.start = v.start if how in ("start", "span") else r.start
            r.due = v.end if how in ("end", "span") else r.due
            use(r, v)
        else:
            r.extra = True
            r.review.append(f"'{ctx.word(t)}' was not read")
    return _continuous_text(ctx, r, a, m.end(), b)


def _continuous_text(ctx: Ctx, r: Reading, a: int, e: int, b: int) -> Reading:
    word = ctx.src(a, e)
    if r.due is not None:
        r.kind = "window" if r.start else "deadline"
        r.main = f"Read as work that continues until {r.due.isoformat()} ('{ctx.src(a, b)}')"
        return r
    since = f" since {r.start.isoformat()}" if r.start else ""
    rhythm = f", reviewed {r.rrule}" if r.rrule else ""
    r.main = f"Read as continuous work with no end date{since}{rhythm} ('{word}')"
    leftover(ctx, r, e, b, rhythm=True)
    return r


_FUNDS = (
    r"(?:the\s+)?(?:(?:availability|receipt|mobili[sz]ation|securing)\s+of\s+)?(?:adequate\s+"
    r"|sufficient\s+|additional\s+|extra-?budgetary\s+|donor\s+|external\s+)?(?:funding|funds"
    r"|resources|financing|budget)"
)
_UNSCHED = re.compile(
    r"(?:as\s+(?:and\s+when\s+)?(?:required|necessary|needed|appropriate|applicable|relevant"
    r"|feasible|possible|warranted|requested)|(?:when|where|if)\s+(?:required|necessary|needed"
    r"|appropriate|applicable|possible|feasible|requested|funded)|(?:under|in)\s+(?:negotiation"
    r"|discussion|consideration|preparation|review|development)|t\.?b\.?[dca]\.?"
    r"|to\s+be\s+(?:determined|decided|confirmed|defined|agreed|announced|scheduled|fixed|set"
    r"|established|identified)|n\.?\s?a\.?|n/a|not\s+applicable|not\s+available|none|nil"
    r"|unknown|open|unspecified|not\s+specified|no\s+(?:date|deadline|time\s*-?frame)(?:\s+set)?"
    r"|not\s+yet\s+(?:determined|decided|scheduled|known|fixed|set|agreed)|ad[\s-]hoc"
    r"|case[\s-]by[\s-]case|on\s+(?:an?\s+)?(?:ad[\s-]hoc|case[\s-]by[\s-]case|as[\s-]needed"
    r"|needs?|demand|request)(?:\s+basis)?|upon\s+request|at\s+the\s+request\s+of"
    r"|(?:pending|subject\s+to|depending\s+on|dependent\s+on|contingent\s+(?:on|upon)"
    r"|conditional\s+(?:on|upon)|if|when|once|as|upon)\s+"
    + _FUNDS
    + r"|as\s+(?:funds|resources|funding|time|budget)\s+(?:allows?|permits?)"
    r"|(?:resources|funds|funding|time)\s+permitting|as\s+soon\s+as\s+(?:funds|resources|funding))"
    r"(?![a-z])"
)


def unscheduled(ctx: Ctx, a: int, b: int) -> Reading | None:
    if "@" in ctx.skel[a:b] or "%" in ctx.skel[a:b]:
        return None
    m = _UNSCHED.match(ctx.skel, a, b)
    if m is None:
        return None
    return Reading("unscheduled", main=f"Read as unscheduled: '{ctx.src(a, b)}' names no date")


# ---------------------------------------------------------------- recurrences

_OR_BOUND = re.compile(
    r"\bor\s+(?:at\s+least\s+|at\s+a\s+minimum\s+|at\s+minimum\s+|at\s+most\s+)?"
    r"(?:every\s+)?$"
)
_PER_YEAR = {"FREQ=YEARLY": 1, "FREQ=MONTHLY;INTERVAL=6": 2, "FREQ=MONTHLY;INTERVAL=4": 3, "FREQ=MONTHLY;INTERVAL=3": 4}


def recurring(ctx: Ctx, a: int, b: int) -> Reading | None:
    marks = [t for t in ctx.within(a, b) if isinstance(t.value, Recurrence)]
    main = next((t for t in marks if not (_rec(t).adjective and t.pos > a)), None)
    if main is None:
        return None
    rec = _rec(main)
    r = Reading("recurring", rrule=rec.rrule, event=rec.event)
    months: list[tuple[int, int]] = []
    bounds = [t for t in ctx.within(a, b) if t is not main and not _rec_part(ctx, r, a, t, months)]
    r.rrule = _by_month(r.rrule, months)
    if rec.review:
        r.review.append(rec.review)
    _rec_text(ctx, r, main)
    if not bounds:  # a looser bound explains the rest of the phrase
        leftover(ctx, r, main.pos + 1, b)
    return r


def _rec(t: Token) -> Recurrence:
    assert isinstance(t.value, Recurrence)
    return t.value


def _rec_part(ctx: Ctx, r: Reading, a: int, t: Token, months: list[tuple[int, int]]) -> bool:
    """Read one more token of a recurrence; False for a looser bound ("or at least ...")."""
    v = t.value
    if isinstance(v, Recurrence):
        if m := _OR_BOUND.search(ctx.skel, a, t.pos):
            rule = f" ({v.rrule})" if v.rrule else ""
            words = f"{ctx.src(m.start() + 2, t.pos)} {ctx.word(t)}".strip()
            r.notes.append(f"the looser bound '{words}'{rule} is kept here for the escalation rules")
            return False
        if r.rrule is None or (v.rrule and v.rrule.startswith(r.rrule + ";")):
            r.rrule = v.rrule  # "Annually, each April": the more precise rule
    elif isinstance(v, Period) and v.yearless:  # "every year in October", "yearly in Q1"
        whole_month = v.unit == "month" and v.exact == "period"
        months.append((v.end.month, 0 if whole_month else v.end.day if v.unit == "day" else -1))
    elif isinstance(v, Period):
        how = connector(ctx, a, t)
        if how in ("start", "span") or v.span:
            r.start = r.start or v.start
        if how != "start":
            r.due = v.end
        use(r, v)
    else:
        r.notes.append(f"'{ctx.word(t)}' gives the time allowed for each occurrence")
    return True


def _by_month(rrule: str | None, months: list[tuple[int, int]]) -> str | None:
    if not rrule or not months:
        return rrule
    if rrule == "FREQ=YEARLY" and len(months) == 1 and months[0][1]:
        return f"FREQ=YEARLY;BYMONTH={months[0][0]};BYMONTHDAY={months[0][1]}"
    ms = sorted({m for m, _ in months})
    if rrule == "FREQ=YEARLY" or _PER_YEAR.get(rrule) == len(ms):
        return "FREQ=YEARLY;BYMONTH=" + ",".join(str(m) for m in ms)
    return rrule


def _rec_text(ctx: Ctx, r: Reading, main: Token) -> None:
    word = ctx.word(main)
    if r.rrule is None:
        r.main = f"Read as recurring with no calendar rule ('{word}')"
        r.review.append("the rhythm is not a calendar rule")
    else:
        r.main = f"Read as recurring, {r.rrule} ('{word}')"
    if r.start:
        r.main += f", starting {r.start.isoformat()}"
    if r.due:
        r.main += f", with {r.due.isoformat()} as due date"
    if r.event:
        r.main += f", tied to each '{r.event}'"


# ---------------------------------------------------------------- relative periods and events

_REL_EVENT = re.compile(
    r"^(?P<head>[^#]*?)(?:\b(?:within|in|after|by|about|some|at\s+the\s+latest)\s+)?(?:the\s+|a\s+)?"
    r"(?:first\s+|next\s+)?(?P<p>#)(?:\s+(?:period|span))?\s+(?:of|after|following|from|since|upon"
    r"|counted\s+from|beginning\s+with|starting\s+(?:from|with)|before|prior\s+to)\s+(?P<ev>.+)$"
)
_REL_LATER = re.compile(
    r"^\s*(?:(?:within|in|during)\s+)?(?:the\s+)?(?:about\s+|some\s+|approximately\s+)?#\s+"
    r"(?:later|following|thereafter|afterwards)\s*[.;]?\s*$"
)
# "6-12 months post-adoption", "2 to 5 years post-launch": periods after an event the phrase names
_REL_POST = re.compile(
    r"#[^#]*?\bpost[\s-]+(?P<ev>[a-z][a-z\s-]*?)\s*$|^\s*post[\s-]+(?P<ev2>[a-z][a-z-]*)\b[^#]*#[^#]*$"
)
_REL_WINDOW = re.compile(
    r"^(?P<head>[^#]*?)\b(?:over|during|for|throughout|in\s+the\s+course\s+of|across)\s+"
    r"(?:the\s+|a\s+(?:period|span)\s+of\s+)?(?:next\s+|coming\s+|following\s+|upcoming\s+)?"
    r"(?P<p>#)" + _T
)
_REL_DEADLINE = re.compile(
    r"^(?P<head>[^#]*?)(?:\b(?:within|in|by|after|not\s+later\s+than|no\s+later\s+than"
    r"|before\s+the\s+end\s+of|at\s+the\s+latest\s+in)\s+)?(?:the\s+)?(?:next\s+|coming\s+"
    r"|following\s+|first\s+)?(?:a\s+(?:period|span)\s+of\s+)?(?P<p>#)" + _T
)


def relative(ctx: Ctx, a: int, b: int) -> Reading | None:
    seg = ctx.skel[a:b]
    if "#" not in seg:
        return None
    shape = _RELATIVE_SHAPES.get(seg)
    if shape is None:
        shape = _relative_shape(seg)
    kind, m = shape
    if m is None:
        return None if kind is None else _event_reading(ctx, a, b, "it counts from an earlier step")
    if kind is None:
        ev = a + (m.start("ev") if m["ev"] else m.start("ev2"))
        return _event_reading(ctx, ev, b, f"'{ctx.src(a, b)}' counts from it")
    ref = ctx.env.ref
    t = ctx.toks[a + m.start("p")]
    assert isinstance(t.value, Duration)
    due = plus(ref, t.value)
    r = Reading(kind, start=ref if kind == "window" else None, due=due)
    span = f"'{ctx.word(t)}' after the reference date {ref.isoformat()}"
    r.main = (
        f"Read as a window from the reference date to {fmt(due)}, {span}"
        if kind == "window"
        else f"Read as a deadline on {fmt(due)}, {span}"
    )
    if t.value.note:
        r.notes.append(t.value.note)
    set_label(ctx, r, a + m.start("head"), a + m.end("head"))
    tail(ctx, r, a + m.start("tail"), b)
    return r


# How a skeleton with a duration mark reads whatever its words and dates: (None, None) not as a period counted from
# the reference date, ("later", None) after a step the phrase does not name ("One month later"), (None, match)
# after an event it names, ("window" or "deadline", match) from the reference date. Kept per skeleton (4,096 at
# most), as the clauses' plans are.
_RelativeShape = tuple["str | None", "re.Match[str] | None"]
_RELATIVE_SHAPES: dict[str, _RelativeShape] = {}


def _relative_shape(seg: str) -> _RelativeShape:
    shape: _RelativeShape = (None, None)
    if _REL_LATER.match(seg):
        shape = ("later", None)
    elif m := _REL_EVENT.match(seg) or _REL_POST.search(seg):
        shape = (None, m)
    elif m := _REL_WINDOW.match(seg):
        shape = ("window", m)
    elif m := _REL_DEADLINE.match(seg):
        shape = ("deadline", m)
    if len(_RELATIVE_SHAPES) >= 4096:
        _RELATIVE_SHAPES.clear()
    _RELATIVE_SHAPES[seg] = shape
    return shape


_EVENT = re.compile(
    r"^(?P<head>.*?)\b(?P<t>linked\s+to|tied\s+to|(?:to\s+be\s+)?integrated\s+(?:in|into|with)"
    r"|to\s+be\s+(?:aligned|coordinated|synchroni[sz]ed|linked)\s+with|aligned\s+with"
    r"|in\s+line\s+with|in\s+conjunction\s+with|in\s+parallel\s+with|in\s+the\s+context\s+of"
    r"|in\s+accordance\s+with|as\s+part\s+of|to\s+coincide\s+with|coinciding\s+with|following"
    r"|after|upon|once|prior\s+to|before|in\s+time\s+for|ahead\s+of|depending\s+on|dependent\s+on"
    r"|depends\s+on|contingent\s+(?:on|upon)|conditional\s+(?:on|upon)|subject\s+to|pending"
    r"|awaiting|when|at|on|during|by|with|for)\s+(?P<ev>\S.*)$"
)
_WEAK = frozenset(("at", "on", "during", "by", "with", "for"))
_EVENT_WORD = re.compile(
    r"\b(?:sessions?|meetings?|conference|assembly|board|committee|council|review|evaluation"
    r"|audit|approval|adoption|completion|launch|start|end|close|conclusion|decision|signature"
    r"|signing|ratification|entry\s+into\s+force|restructuring|reform|process|exercise|cycle"
    r"|mission|visit|report|election|appointment|recruitment|establishment|finali[sz]ation"
    r"|publication|receipt|outcome|results?|next|first|periods?)\b"
)
_NEXT_EVENT = re.compile(
    r"^(?:the\s+)?(?:next|following|forthcoming|upcoming|coming|subsequent)"
    r"\s+\S"
)
_ARTICLE = re.compile(r"^(?:the|its|their)\s+", re.I)
_FUNDS_RE = re.compile(r"\b(?:funding|funds|resources|financing|budget)\b")


def event(ctx: Ctx, a: int, b: int) -> Reading | None:
    seg = ctx.skel[a:b]
    ev = _EVENT_SHAPES.get(seg)
    if ev is None:
        ev = _event_shape(seg)
    if ev >= 0:
        return _event_reading(ctx, a + ev, b, "")
    if ev == _FUNDED:
        return Reading(
            "unscheduled", main=f"Read as unscheduled: '{ctx.src(a, b)}' depends on funding, which has no date"
        )
    return None


# Where the event a skeleton is tied to begins in it, whatever its words: _NO_EVENT when it names none, _FUNDED
# when it depends on funding. Kept per skeleton (4,096 at most), as the clauses' plans are.
_NO_EVENT, _FUNDED = -1, -2
_EVENT_SHAPES: dict[str, int] = {}


def _event_shape(seg: str) -> int:
    m = _EVENT.match(seg)
    if m is not None and m["t"] in _WEAK and not _EVENT_WORD.search(m["ev"]):
        m = None
    if m is not None:
        ev = _FUNDED if _FUNDS_RE.search(m["ev"]) and not _EVENT_WORD.search(m["ev"]) else m.start("ev")
    else:
        ev = 0 if _NEXT_EVENT.match(seg) or SESSION.search(seg) else _NO_EVENT
    if len(_EVENT_SHAPES) >= 4096:
        _EVENT_SHAPES.clear()
    _EVENT_SHAPES[seg] = ev
    return ev


def _event_reading(ctx: Ctx, a: int, b: int, note: str) -> Reading:
    text = _ARTICLE.sub("", ctx.src(a, b).strip(PUNCT + "()"))
    if not text:  # "Sous réserve des": the words name no event
        return Reading("unscheduled", main=f"Read as unscheduled: '{ctx.src(0, b)}' names no event")
    r = Reading("event", event=text, main=f"Read as tied to an event, '{text}', not to a date")
    if note:
        r.notes.append(note)
    return r


def immediate(ctx: Ctx, a: int, b: int) -> Reading | None:
    m = IMMEDIATE.match(ctx.skel, a, b)
    if m is None:
        return None
    ref = ctx.env.ref
    r = Reading("start", start=ref)
    r.main = f"Read as a start on the reference date {ref.isoformat()} ('{ctx.src(a, m.end())}')"
    if m["w"] in _VAGUE_NOW or m["w"].startswith("as soon"):
        r.review.append(f"'{ctx.src(a, m.end())}' names no date, so the reference date is used")
    leftover(ctx, r, m.end(), b)
    return r


# ---------------------------------------------------------------- one clause

_STATUS = re.compile(
    r"(?:already\s+|fully\s+|partially\s+|partly\s+)?(?:completed?|done|implemented"
    r"|closed|achieved|finished|cancel+ed|superseded|withdrawn|delivered|met"
    r"|deferred|postponed|suspended|on\s+hold|not\s+(?:started|implemented|done))"
)
_CONT_WORD = re.compile(
    r"\b(?:continuous(?:ly)?|continual(?:ly)?|permanent(?:ly)?|constant(?:ly)?|ongoing|on-going|at\s+all\s+times)\b"
)
_COLON = re.compile(r"(?P<label>[^:@#%]{1,60}?)\s*[:=]\s*(?=\S)")
_CONT_FIRST_WORDS = """
    continuous continuously ongoing on-going on continuing continual continually constant
    constantly permanent permanently a an started to perpetual at already underway under in
    throughout all immediate immediately
"""
_CONT_FIRST = frozenset(_CONT_FIRST_WORDS.split())  # words the continuous phrases begin with


def _candidates(seg: str) -> list[Clause]:
    """The clause readers worth trying on ``seg``, in order (cheap checks first)."""
    out: list[Clause] = []
    first = seg.split(None, 1)[0].rstrip(",;:.") if seg else ""
    if first in _CONT_FIRST:
        out.append(continuous)
    if "%" in seg:
        out.append(recurring)
    elif "@" not in seg:
        out.append(unscheduled)
    if "@" in seg:
        out.append(dated)
        return out
    if "#" in seg:
        out.append(relative)
    out += (event, immediate)
    return out


def clause(ctx: Ctx, a: int, b: int) -> Reading:
    """Read the skeleton span ``a .. b`` as one clause; never None (the last resort is unscheduled)."""
    plan = _PLANS.get((ctx.skel, a, b))
    if plan is None:
        plan = _plan(ctx.skel, a, b)
    a, b, has_term, label_end, c, reads = plan
    if has_term and (r := term(ctx, a, b)) is not None:
        return r
    named = None
    if label_end >= 0:
        named = label(ctx, a, label_end)
        a = c
    for read in reads:
        r = read(ctx, a, b)
        if r is not None:
            r.label = r.label or named
            return r
    text, seg = ctx.src(a, b), ctx.skel[a:b]
    if "@" not in seg and "#" not in seg and _CONT_WORD.search(seg):  # "an ongoing process", "permanently monitored"
        return Reading("continuous", label=named, main=f"Read as continuous work with no end date ('{text}')")
    if _STATUS.fullmatch(ctx.skel, a, b):
        return Reading("unscheduled", main=f"Read as unscheduled: '{text}' is a status, not a time frame")
    return Reading(
        "unscheduled",
        label=named,
        main=f"Read as unscheduled: no date, period, rhythm or event was recognised in '{text}'",
    )


# What a clause's skeleton span says whatever its words and dates: where it lies once trimmed, whether it names
# a term, where a label before a colon ends (-1: none) and the clause after it begins, and the readers to try.
# Kept per skeleton and span (4,096 at most): a plan's phrases repeat.
_Plan = tuple[int, int, bool, int, int, tuple[Clause, ...]]
_PLANS: dict[tuple[str, int, int], _Plan] = {}


def _plan(skel: str, a0: int, b0: int) -> _Plan:
    a, b = trim(skel, a0, b0)
    seg = skel[a:b]
    has_term = "term" in seg
    label_end = c = -1
    if ":" in seg or "=" in seg:
        m = _COLON.match(skel, a, b)
        starts = m is not None and CONNECTORS.get(m["label"].strip()) == "st"  # "Start date: March 2022"
        if m is not None and not starts and any(x in skel[m.end() : b] for x in "@#%"):
            label_end, c = m.end("label"), m.end()
            seg = skel[c:b]
    plan = a, b, has_term, label_end, c, tuple(_candidates(seg))
    if len(_PLANS) >= 4096:
        _PLANS.clear()
    _PLANS[skel, a0, b0] = plan
    return plan


def clear_plans() -> None:
    """Forget the clauses' plans and the shapes of relative and event clauses (``engine.timeframe.clear_caches``)."""
    _PLANS.clear()
    _RELATIVE_SHAPES.clear()
    _EVENT_SHAPES.clear()
