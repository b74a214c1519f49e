"""Feeds over time on SQLite and PostgreSQL: SEQUENCE and UID across changes, cancellations, tokens, the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from engine.actions.workflow import complete, extend, set_schedule, set_status
from engine.calendars.build import Feed, FeedOptions
from engine.calendars.feeds import feed_for_token, issue, revoke, rotate, token_hash
from engine.errors import NotFoundError, UsageError
from engine.read.queries import find_action
from engine.store import transaction
from engine.store.feed_models import FeedToken
from engine.store.models import Escalation

from ..feeds_support import NOW, PLAN, T0, body, by_summary, events, example_engine, parse, service


@pytest.fixture
def store(database_url: str) -> Iterator[tuple[Engine, str]]:
    """The example plan in a fresh database (SQLite file, and PostgreSQL under the marker)."""
    engine = example_engine(database_url)
    yield engine, database_url
    engine.dispose()


def change(engine: Engine, ref: str, at: datetime, fn) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        fn(session, find_action(session, ref), at)


def one(data: bytes, pattern: str):  # type: ignore[no-untyped-def]
    found = by_summary(data, pattern)
    assert len(found) == 1, [str(e["SUMMARY"]) for e in found]
    return found[0]


def test_a_changed_due_date_raises_sequence_and_keeps_the_uid(store: tuple[Engine, str]) -> None:
    engine, url = store
    before = one(body(service(engine, url), "owner:program"), r"^I\.1a\.1 due")
    at = datetime(2000, 4, 20, 9, tzinfo=UTC)
    change(
        engine,
        "I.1a.1",
        at,
        lambda s, a, t: extend(s, a, date(2000, 6, 30), t, who="ed", via="test", reason="late data"),
    )
    after = one(body(service(engine, url, now=at), "owner:program"), r"^I\.1a\.1 due")
    assert str(after["UID"]) == str(before["UID"]) == "gb276-tc2-i.1a.1-due-2000-04-30@planwatch"
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert after["DTSTART"].dt == date(2000, 6, 30)
    assert after["LAST-MODIFIED"].dt == after["DTSTAMP"].dt == at > before["LAST-MODIFIED"].dt
    assert "extended from 30 April 2000" in str(after["DESCRIPTION"])


def test_the_uid_is_made_from_the_plans_own_date_as_in_the_emails(store: tuple[Engine, str]) -> None:
    from engine.calendars.uids import event_uid as email_uid

    engine, url = store
    at = datetime(2000, 4, 20, 9, tzinfo=UTC)  # extended before anything was published
    change(
        engine,
        "I.1a.1",
        at,
        lambda s, a, t: extend(s, a, date(2000, 6, 30), t, who="ed", via="test", reason="late data"),
    )
    event = one(body(service(engine, url, now=at), "owner:program"), r"^I\.1a\.1 due")
    assert event["DTSTART"].dt == date(2000, 6, 30)
    assert (
        str(event["UID"])
        == email_uid(PLAN, "I.1a.1", "due", date(2000, 4, 30))
        == "gb276-tc2-i.1a.1-due-2000-04-30@planwatch"
    )
    start = one(body(service(engine, url, now=at), "owner:codev"), r"^II\.1\.1 starts")
    assert str(start["UID"]) == email_uid(PLAN, "II.1.1", "start", date(2000, 1, 1))


def test_a_change_that_subscribers_cannot_see_changes_nothing(store: tuple[Engine, str]) -> None:
    engine, url = store
    first = body(service(engine, url), "owner:program")
    with transaction(engine) as session:  # touched, but nothing in its events differs
        action = find_action(session, "I.1a.1")
        action.updated_at = datetime(2000, 5, 1, tzinfo=UTC)
        session.add(action)
    assert body(service(engine, url), "owner:program") == first


def test_a_dropped_action_is_cancelled_then_leaves_after_thirty_days(store: tuple[Engine, str]) -> None:
    engine, url = store
    body(service(engine, url, now=T0), "owner:program")  # published once before the change
    at = datetime(2000, 3, 1, 10, tzinfo=UTC)
    change(engine, "I.1a.4", at, lambda s, a, t: set_status(s, a, "dropped", t, who="ed", via="test", note="merged"))
    within = one(body(service(engine, url, now=at + timedelta(days=30)), "owner:program"), r"^I\.1a\.4 due")
    assert str(within["STATUS"]) == "CANCELLED" and int(within["SEQUENCE"]) == 1
    assert not within.walk("VALARM")
    assert by_summary(body(service(engine, url, now=at + timedelta(days=32)), "owner:program"), r"^I\.1a\.4 ") == []


def test_a_done_action_stays_visible_marked_done(store: tuple[Engine, str]) -> None:
    engine, url = store
    at = datetime(2000, 4, 3, 10, tzinfo=UTC)
    change(engine, "I.1a.1", at, lambda s, a, t: complete(s, a, t, who="jonas", via="test"))
    svc = service(engine, url, now=at)
    done = one(body(svc, "owner:program"), r"^I\.1a\.1 due")
    assert str(done["SUMMARY"]).startswith("I.1a.1 due (done): ") and str(done["STATUS"]) == "CONFIRMED"
    todo = one_todo(body(svc, "owner:program", FeedOptions(todo=True)), "I.1a.1 ")
    assert (str(todo["STATUS"]), int(todo["PERCENT-COMPLETE"]), todo["COMPLETED"].dt) == ("COMPLETED", 100, at)


def one_todo(data: bytes, prefix: str):  # type: ignore[no-untyped-def]
    found = [t for t in events(data, "VTODO") if str(t["SUMMARY"]).startswith(prefix)]
    assert len(found) == 1
    return found[0]


def test_a_done_occurrence_is_an_override_and_a_skipped_one_an_exdate(store: tuple[Engine, str]) -> None:
    engine, url = store
    # I.1a.2 recurs yearly from 28 September 2000, counted from the last completion (rules/default.yaml).
    at = datetime(2001, 10, 2, 9, tzinfo=UTC)
    change(
        engine, "I.1a.2", at, lambda s, a, t: complete(s, a, t, who="jonas", via="test", occurrence=date(2001, 9, 28))
    )
    data = body(service(engine, url, now=at), "owner:program")
    parts = by_summary(data, r"^I\.1a\.2 ")
    master = next(e for e in parts if "RECURRENCE-ID" not in e)
    override = next(e for e in parts if "RECURRENCE-ID" in e)
    assert str(master["UID"]) == str(override["UID"])
    assert override["RECURRENCE-ID"].dt == date(2001, 9, 28) and "(done)" in str(override["SUMMARY"])
    assert [d.dt for d in master["EXDATE"].dts] == [date(2000, 9, 28)]  # never done: the planner moved past it


def test_an_event_that_is_no_longer_produced_is_cancelled_not_missing(store: tuple[Engine, str]) -> None:
    engine, url = store
    before = one(body(service(engine, url), "owner:program"), r"^I\.1a\.1 due")
    at = datetime(2000, 2, 1, 9, tzinfo=UTC)
    change(
        engine,
        "I.1a.1",
        at,
        lambda s, a, t: set_schedule(s, a, {"kind": "continuous", "due": None}, t, who="ed", via="test"),
    )
    data = body(service(engine, url, now=at + timedelta(days=1)), "owner:program")
    gone = one(data, r"^I\.1a\.1 due")
    assert str(gone["STATUS"]) == "CANCELLED" and str(gone["UID"]) == str(before["UID"])
    assert int(gone["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert one(data, r"^I\.1a\.1 check-in")


def test_texts_survive_the_round_trip(store: tuple[Engine, str]) -> None:
    engine, url = store
    title = 'Commas, semicolons; back\\slashes \\n "quotes"\nnew line, Genève – Δ 東京 🎉 ' + "long " * 30
    with transaction(engine) as session:
        action = find_action(session, "I.1a.1")
        action.title = title
        action.updated_at = datetime(2000, 1, 5, tzinfo=UTC)
        session.add(action)
    data = body(service(engine, url), "owner:program", FeedOptions(todo=True))
    event = one(data, r"^I\.1a\.1 due")
    assert str(event["SUMMARY"]) == f"I.1a.1 due: {title}"
    assert title in str(event["DESCRIPTION"])
    assert str(one_todo(data, "I.1a.1 ")["SUMMARY"]) == f"I.1a.1 due: {title}"


def test_team_feeds_show_open_escalations_on_the_day_they_fired(store: tuple[Engine, str]) -> None:
    engine, url = store
    fired = datetime(2000, 5, 15, 7, tzinfo=UTC)
    with transaction(engine) as session:
        action = find_action(session, "I.2c.1")  # owned by ro-lima, who reports to codev
        session.add(
            Escalation(
                key="k1",
                at=fired,
                action_id=action.id,
                occurrence="2000-05-01",
                level=2,
                step="escalate:2",
                policy="deadlines",
                recipients=["supervisor"],
                days_overdue=14,
            )
        )
    data = body(service(engine, url), "team:codev")
    entry = one(data, r"escalation level 2")
    assert entry["DTSTART"].dt == date(2000, 5, 15)
    assert str(entry["SUMMARY"]).startswith("I.2c.1 escalation level 2: ") and "(14 days overdue)" in str(
        entry["SUMMARY"]
    )
    assert by_summary(body(service(engine, url), "owner:ro-lima"), "escalation") == []
    with transaction(engine) as session:
        row = session.exec(select(Escalation)).scalars().one()  # type: ignore[call-overload]
        row.acknowledged_at, row.acknowledged_by = fired + timedelta(days=1), "codev"
        session.add(row)
    assert str(one(body(service(engine, url), "team:codev"), r"escalation level 2")["STATUS"]) == "CANCELLED"


# ----------------------------------------------------------------------------------- tokens


def test_tokens_are_long_random_and_stored_only_as_a_hash(store: tuple[Engine, str]) -> None:
    engine, _ = store
    with transaction(engine) as session:
        links = [issue(session, owner, Feed("owner", owner), NOW) for owner in ("pardev", "codev", "hrd")]
    assert len({link.token for link in links}) == 3
    assert all(len(link.token) >= 32 for link in links)  # 24 random bytes, base64url: 192 bits
    with engine.connect() as conn:
        dump = " ".join(str(row) for row in conn.execute(text("SELECT * FROM feed_token")))
        assert not any(link.token in dump for link in links)
        assert all(token_hash(link.token) in dump for link in links)
        assert feed_for_token(conn, links[0].token) == Feed("owner", "pardev")
        changed = links[0].token[:-1] + ("B" if links[0].token.endswith("A") else "A")  # one character off
        for wrong in ["", "x", changed, links[0].token + "/..", "../../etc/passwd"]:
            assert feed_for_token(conn, wrong) is None


def test_revoke_and_rotate(store: tuple[Engine, str]) -> None:
    engine, _ = store
    with transaction(engine) as session:
        old = issue(session, "ed-devcoop", Feed("team", "ed-devcoop"), NOW)
        own = issue(session, "ed-devcoop", Feed("owner", "ed-devcoop"), NOW)
        with pytest.raises(UsageError, match="cannot be shown again"):
            issue(session, "ed-devcoop", Feed("team", "ed-devcoop"), NOW)
    with transaction(engine) as session:
        new = rotate(session, "ed-devcoop", NOW)
    assert [link.feed for link in new] == [Feed("team", "ed-devcoop"), Feed("owner", "ed-devcoop")]
    with engine.connect() as conn:
        assert feed_for_token(conn, old.token) is None and feed_for_token(conn, own.token) is None
        assert feed_for_token(conn, new[0].token) == Feed("team", "ed-devcoop")
    with transaction(engine) as session:
        assert revoke(session, "ed-devcoop", NOW) == [Feed("team", "ed-devcoop"), Feed("owner", "ed-devcoop")]
        assert session.exec(select(FeedToken).where(FeedToken.revoked_at.is_(None))).all() == []  # type: ignore[call-overload, union-attr]
    with engine.connect() as conn:
        assert feed_for_token(conn, new[0].token) is None


@pytest.mark.parametrize(
    ("subscriber", "feed", "message"),
    [
        ("nobody", Feed("owner", "nobody"), "no owner 'nobody'"),
        ("pardev", Feed("plan", "nope"), "no plan 'nope'"),
        ("pardev", Feed("part", PLAN, "IX"), "has no Part 'IX'"),
    ],
    ids=["unknown_owner", "unknown_plan", "unknown_part"],
)
def test_links_to_unknown_feeds_are_refused(
    store: tuple[Engine, str], subscriber: str, feed: Feed, message: str
) -> None:
    engine, _ = store
    with pytest.raises(NotFoundError, match=message), transaction(engine) as session:
        issue(session, subscriber, feed, NOW)


# -------------------------------------------------------------------------------------- CLI


def test_cli_url_rotate_revoke_and_build(cli, monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PLANWATCH_BASE_URL", "https://plans.example.org")
    assert cli("import", "plans/owners.yaml", "plans/gb276-tc2-implementation-plan.txt").code == 0
    first = cli("feeds", "url", "pardev")
    assert first.code == 0, first.err
    lines = first.out.split()
    assert (
        lines[0] == "owner:pardev"
        and lines[1].startswith("https://plans.example.org/feeds/")
        and lines[1].endswith(".ics")
    )
    assert lines[2] == "webcal://plans.example.org/feeds/" + lines[1].rsplit("/", 1)[1]
    again = cli("feeds", "url", "pardev")
    assert again.code == 2 and "feeds rotate pardev" in again.err
    team = cli("feeds", "url", "ed-devcoop", "--team")
    assert team.code == 0 and team.out.startswith("team:ed-devcoop")
    assert cli("feeds", "url", "pardev", "--part", "I").code == 2
    rotated = cli("feeds", "rotate", "pardev")
    assert rotated.code == 0 and rotated.out.split()[1] != lines[1]
    revoked = cli("feeds", "revoke", "pardev")
    assert revoked.code == 0 and "Revoked 1 link(s) of pardev: owner:pardev." in revoked.out
    built = cli("feeds", "build", "--out", "calendars")
    assert built.code == 0 and "rewritten" in built.out
    data = (workdir / "calendars" / "owner-pardev.ics").read_bytes()
    assert parse(data)["X-WR-CALNAME"] == "planwatch: Rafael Quispe"
    assert "https://plans.example.org/actions/" in data.decode()
    rebuilt = cli("feeds", "build", "--out", "calendars")
    assert ", 0 rewritten," in rebuilt.out
    assert not list((workdir / "calendars").glob(".*.tmp"))


def test_cli_refuses_unknown_owners(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml").code == 0
    result = cli("feeds", "url", "nobdy")
    assert result.code == 2 and "no owner 'nobdy'" in result.err
    assert cli("feeds", "rotate", "nobdy").code == 2
