"""Tests of ``engine.timeframe.reading``: the skeleton of a phrase and the helpers every clause shares."""

from __future__ import annotations

from datetime import date

from engine.timeframe.dates import Duration, Env, Period
from engine.timeframe.reading import (
    _SKELETONS,
    Ctx,
    Reading,
    clear_skeletons,
    connector,
    due_text,
    label,
    plus,
    set_label,
    start_text,
    tail,
    trim,
    use,
)

ENV = Env(date(1999, 9, 28), None)
MAY = Period(date(2000, 5, 1), date(2000, 5, 31), "month")


def _ctx(text: str) -> Ctx:
    return Ctx(ENV, text, text.lower())


def _tail_of(text: str) -> Reading:
    """The reading of the words after the (first) date of ``text``."""
    ctx = _ctx(text)
    r = Reading("deadline")
    tail(ctx, r, ctx.skel.index("@") + 1, len(ctx.skel))
    return r


def test_the_skeleton_marks_each_token_and_leads_back_to_the_words() -> None:
    ctx = _ctx("First outputs to be completed by May 2000 for the Board")
    assert ctx.skel == "first outputs to be completed by @ for the board"
    mark = ctx.skel.index("@")
    [token] = ctx.within(0, len(ctx.skel))
    assert token.pos == mark and token.value == MAY
    assert ctx.word(token) == "May 2000" and ctx.period(mark) == MAY
    assert ctx.src(mark, len(ctx.skel)) == "May 2000 for the Board"  # positions after a mark shift back
    assert ctx.src(0, mark) == "First outputs to be completed by"
    assert _ctx("within nine months, quarterly").skel == "within #, %"


def test_label_keeps_the_words_that_name_the_work() -> None:
    ctx = _ctx("First outputs to be completed by May 2000")
    assert label(ctx, 0, ctx.skel.index(" by")) == "First outputs"
    done = _ctx("Completed by May 2000")
    assert label(done, 0, done.skel.index(" by")) is None
    numbered, r = _ctx("Phase 2 by May 2000"), Reading("deadline")
    set_label(numbered, r, 0, numbered.skel.index(" by"))
    assert (r.label, r.review) == ("Phase 2", [])
    stray, r = _ctx("Item 2004 x by May 2000"), Reading("deadline")
    set_label(stray, r, 0, stray.skel.index(" by"))
    assert r.review == ["the words 'Item 2004 x' before the date were not read"]


def test_tail_tells_a_purpose_a_condition_and_unread_words_apart() -> None:
    purpose = _tail_of("by May 2000 for 2002-03 P&B")
    assert purpose.qual == "2002-03 P&B" and purpose.review == []
    assert purpose.notes == ["'for 2002-03 P&B' names what the work is for, not its date"]
    assert _tail_of("by May 2000 if funded").review == ["the date is conditional ('if funded')"]
    unread = _tail_of("by May 2000 and 2004 ok")
    assert unread.review == ["the words 'and 2004 ok' were not read"] and unread.extra
    assert _tail_of("by May 2000, ongoing") == Reading("deadline")  # continuing words change nothing
    qualified = _tail_of("by May 2000 -- as part of review")
    assert qualified.qual == "as part of review" and qualified.review == []


def test_connector_names_how_the_words_before_a_token_use_it() -> None:
    for text, how in (("starting May 2000", "start"), ("until May 2000", "end"), ("during May 2000", "span")):
        ctx = _ctx(text)
        assert connector(ctx, 0, ctx.toks[ctx.skel.index("@")]) == how, text
    bare = _ctx("May 2000")
    assert connector(bare, 0, bare.toks[0]) == ""


def test_the_small_helpers() -> None:
    assert trim(" ,abc;: ", 0, 8) == (2, 5)
    assert plus(date(1999, 9, 28), Duration(9, 14)) == date(2000, 7, 12)
    assert plus(date(2000, 1, 31), Duration(1, 0)) == date(2000, 2, 29)
    assert due_text(MAY, "May 2000") == "2000-05-31 (the last day of 'May 2000')"
    assert start_text(MAY, "May 2000") == "2000-05-01 (the first day of 'May 2000')"
    assert due_text(MAY._replace(exact="mod"), "mid-May") == "2000-05-31 (the date 'mid-May' stands for)"
    assert start_text(MAY, "May", date(2000, 5, 2)) == "2000-05-02 ('May')"
    r = use(Reading("deadline"), MAY._replace(review="doubt", note="a note"), MAY._replace(review="doubt"))
    assert (r.review, r.notes) == (["doubt"], ["a note"])  # each doubt once


def test_a_kept_skeleton_is_the_one_built_afresh_for_its_reference_date() -> None:
    clear_skeletons()
    first = _ctx("Completed by May 2000")
    again = _ctx("Completed by May 2000")
    assert (again.skel, again.toks) == (first.skel, first.toks)
    other = Ctx(Env(date(2001, 9, 28), None), "By May", "by may")
    assert other.period(other.skel.index("@")).end == date(2002, 5, 31)  # not the year of a kept 1999 skeleton
    assert _ctx("By May").period(3).end == date(2000, 5, 31)
    clear_skeletons()
    assert (_ctx("Completed by May 2000").skel, _ctx("Completed by May 2000").toks) == (first.skel, first.toks)


def test_the_kept_skeletons_are_bounded() -> None:
    clear_skeletons()
    for year in range(5000):
        Ctx(ENV, f"by {year}", f"by {year}")
    assert 0 < len(_SKELETONS) <= 4096
    clear_skeletons()
    assert not _SKELETONS
