"""``planwatch campaign start|status``: owners asked once each, a table of who answered, bad input refused."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from ...conftest import snapshot

PLAN = "plans/gb276-tc2-implementation-plan.txt"


@pytest.fixture
def plan(cli):  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    return cli


def _rows(url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(query))]
    finally:
        engine.dispose()


def test_start_asks_each_owner_once_and_status_shows_who_answered(plan) -> None:  # type: ignore[no-untyped-def]
    started = plan("campaign", "start", "--within", "30", "--note", "for the interim report", "--by", "sec")
    assert started.code == 0, started.err
    owners = _rows(plan.url, "SELECT owner_id FROM campaign_request ORDER BY owner_id")
    messages = _rows(plan.url, "SELECT recipient_id FROM outbox WHERE template = 'campaign' ORDER BY recipient_id")
    assert owners == messages and len(owners) >= 5  # every dated action of the example is overdue by now
    assert started.out.startswith("Campaign 1 (Update of ")
    assert f"{len(owners)} owner(s) asked about" in started.out
    shown = plan("campaign", "status")
    assert shown.code == 0, shown.err
    assert f"0 of {len(owners)} answered" in shown.out
    assert "Mei Tanaka" in shown.out and "not yet" in shown.out
    assert plan("campaign", "status", "1").out == shown.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("start", "--within", "0"), "planwatch: --within 0: expected a number of days from 1 to 366"),
        (
            ("start", "--respond-by", "15/06/2000"),
            "planwatch: --respond-by: expected a date YYYY-MM-DD, got '15/06/2000'",
        ),
        (("start", "--respond-by", "2000-06-15"), "planwatch: --respond-by 2000-06-15 is before today"),
        (("start", "--plan", "nope"), "planwatch: no plan 'nope'; the plans are: gb276-tc2"),
        (("status",), "planwatch: no campaign yet"),
        (("status", "7"), "planwatch: no campaign 7"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(plan, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(plan.url)
    refused = plan("campaign", *args)
    assert refused.code == 2, refused.out
    assert refused.err.startswith(message), refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert snapshot(plan.url) == before


def test_help_has_an_example(cli) -> None:  # type: ignore[no-untyped-def]
    for command in ("start", "status"):
        shown = cli("campaign", command, "--help")
        assert shown.code == 0 and "Example:" in shown.out and f"planwatch campaign {command}" in shown.out


def test_close_stops_counting_and_says_so_twice(plan) -> None:  # type: ignore[no-untyped-def]
    assert plan("campaign", "start").code == 0
    closed = plan("campaign", "close", "1")
    assert (closed.code, closed.out.strip()) == (0, "Campaign 1 is now closed.")
    assert plan("campaign", "close", "1").out.strip() == "Campaign 1 is already closed."
    assert _rows(plan.url, "SELECT closed_at IS NOT NULL FROM campaign") == [(True,)]
    missing = plan("campaign", "close", "9")
    assert missing.code == 2 and missing.err.startswith("planwatch: no campaign 9")
