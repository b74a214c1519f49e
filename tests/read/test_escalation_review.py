"""The escalation review queries on their own: scope, filters, lateness order, pages, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlmodel import select

from engine.actions.access import Viewer, viewer_for
from engine.read.escalation_review import (
    Directory,
    Person,
    ReviewFilter,
    day_words,
    level_words,
    log_entries,
    occurrence_words,
    review_csv,
    review_page,
)
from engine.store import transaction
from engine.store.models import Action, Escalation, Owner

from ..web_support import NOW, web_world


def test_pages_group_by_action_in_lateness_order_and_cover_every_action(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as session:
        idents = list(session.exec(select(Action.id).order_by(Action.id)).all())[10:33]
        for n, ident in enumerate(idents):
            for repeat in range(1 + n % 3):
                session.add(
                    Escalation(
                        key=f"p{n}-{repeat}",
                        at=NOW - timedelta(hours=n, days=repeat),
                        action_id=ident,
                        occurrence="2000-03-31",
                        level=3,
                        step="escalate:3" + (f"#{repeat}" if repeat else ""),
                        policy="p",
                        recipients=["dg-office"],
                        days_overdue=n % 7 + repeat,
                    )
                )
    with engine.connect() as conn:
        pages = [review_page(conn, None, ReviewFilter(level=3, per_page=10, page=n)) for n in (1, 2, 3)]
        everything = review_page(conn, None, ReviewFilter(level=3, per_page=100))
    assert [p.total for p in pages] == [23, 23, 23] and pages[0].pages == 3
    assert everything.entries == sum(1 + n % 3 for n in range(23))
    paged = [g.action_id for p in pages for g in p.groups]
    assert paged == [g.action_id for g in everything.groups] and set(paged) == set(idents)
    worst = [max(n % 7 + r for r in range(1 + n % 3)) for n in range(23)]
    assert [worst[idents.index(g.action_id)] for g in everything.groups] == sorted(worst, reverse=True)
    for group in everything.groups:
        (line,) = group.steps  # a step and its repeats are one line
        assert line.times == 1 + idents.index(group.action_id) % 3 and len(line.ids) == line.times
        assert line.sent_to == ["Office of the Director-General"] and line.level == "3rd level"
    engine.dispose()


def test_scope_owner_part_state_dates_and_one_action_filter(database_url: str) -> None:
    engine = web_world(database_url)
    with engine.connect() as conn:

        def refs(scope: frozenset[str] | None, **given: object) -> set[str]:
            return {g.ref for g in review_page(conn, scope, ReviewFilter(**given)).groups}  # type: ignore[arg-type]

        assert refs(None, state="all") == {"I.2b.1", "I.2a.1", "III.d.1", "I.3b.3"}
        assert refs(None) == {"I.2b.1", "I.2a.1", "III.d.1"}  # open by default
        assert refs(None, state="acknowledged") == {"I.3b.3"}
        assert refs(frozenset({"codev", "ro-bangkok", "ro-lima"}), state="all") == {"I.2b.1", "I.2a.1"}
        assert refs(None, state="all", part="III") == {"III.d.1"}
        assert refs(None, state="all", owner="norms") == {"I.3b.3"}
        assert refs(None, state="all", level=2) == {"I.2b.1", "III.d.1"}
        assert refs(None, state="all", since=date(2000, 5, 31), until=date(2000, 5, 31), tz="Europe/Zurich") == {
            "I.2a.1"
        }
        assert refs(frozenset(), state="all") == set()
        assert refs(None, state="all", action="I.2a.1") == {"I.2a.1"}
        assert refs(None, state="all", action="gb276-tc2/I.2a.1") == {"I.2a.1"}
        assert refs(None, state="all", action="nowhere/I.2a.1") == set()
    engine.dispose()


def test_log_entries_are_the_same_filter_flat(database_url: str) -> None:
    engine = web_world(database_url)
    with engine.connect() as conn:
        flat = list(log_entries(conn, None, ReviewFilter(state="all", sort="recent")))
        late = list(log_entries(conn, None, ReviewFilter(state="all")))
        scoped = list(log_entries(conn, frozenset({"codev", "ro-bangkok"}), ReviewFilter(state="all")))
    assert [r["ref"] for r in flat] == ["I.2a.1", "III.d.1", "I.2b.1", "I.3b.3"]  # newest first
    assert [r["days_overdue"] for r in late] == [60, 30, 20, 5]  # most overdue first
    assert {r["ref"] for r in scoped} == {"I.2b.1", "I.2a.1"}
    engine.dispose()


def test_occurrences_and_levels_in_plain_words() -> None:
    assert occurrence_words("check-in 2000-03-28") == ("Check-in of 28 March 2000 unanswered", None)
    assert occurrence_words("2000-03-31") == ("Due 31 March 2000, not done", date(2000, 3, 31))
    assert occurrence_words("2000-03-31", "recurring") == ("The work of 31 March 2000 not done", date(2000, 3, 31))
    assert occurrence_words("start 2000-02-01") == ("Not started by 1 February 2000", None)
    assert occurrence_words("") == ("Escalated", None)
    assert occurrence_words("2026-06-30 reopened 2026-12-06") == (
        "Due 30 June 2026, reopened 6 December 2026, not done",
        date(2026, 6, 30),
    )  # dated: the page counts its days late
    assert occurrence_words("2026-06-30 reopened 2026-12-06", language="fr")[0] == (
        "Échéance du 30 juin 2026, rouverte le 6 décembre 2026, non réalisée"
    )
    assert [level_words(n) for n in (0, 1, 2, 3, 4, 11, 12, 21)] == [
        "to the owner",
        "1st level",
        "2nd level",
        "3rd level",
        "4th level",
        "11th level",
        "12th level",
        "21st level",
    ]
    assert day_words(date(2001, 1, 5)) == "5 January 2001"


def test_the_directory_resolves_roles_names_and_who_may_acknowledge() -> None:
    people = Directory(
        [
            Person("top", "Top Office", "top@example.org"),
            Person("boss", "Ann Boss", "boss@example.org", "top"),
            Person("kwame", "Kwame Mensah", "kwame@example.org", "boss", delegate_id="deputy"),
            Person("deputy", "Dee Puty", "dee@example.org", "boss"),
            Person("sec", "The Secretariat", "sec@example.org", role="secretariat"),
        ]
    )
    names = ["supervisor", "supervisor.supervisor", "committee@example.org"]
    assert people.recipients(names, "kwame") == {"boss", "top", "committee@example.org"}
    assert people.recipients(["owner", "delegate", "secretariat", "dee@example.org"], "kwame") == {
        "kwame",
        "deputy",
        "sec",
        "dee@example.org",
    }
    assert people.recipients(["supervisor.supervisor.supervisor"], "kwame") == set()
    assert people.shown(names, "kwame", "boss") == ["you", "Top Office", "committee@example.org"]
    assert people.addressed_to(["supervisor"], "kwame", "boss") and not people.addressed_to(
        ["supervisor"], "kwame", "top"
    )
    assert people.may_acknowledge(["supervisor"], "kwame", "top")  # above the recipient
    assert not people.may_acknowledge(["supervisor.supervisor"], "kwame", "boss")  # over her head
    assert people.name_of("kwame") == "Kwame Mensah" and people.name_of(None) == "no owner"
    assert people.name_of("boss@example.org") == "Ann Boss" and people.name_of("x@y.org") == "x@y.org"
    assert people.chain("kwame") == ["boss", "top"]


def test_csv_has_every_entry_and_defuses_formulas(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as session:
        entry = session.exec(select(Escalation).where(Escalation.acknowledged_by.is_not(None))).one()  # type: ignore[union-attr]
        entry.ack_note = '=HYPERLINK("http://evil")'
        session.add(entry)
        action = session.exec(select(Action).where(Action.ref == "I.3b.3")).one()
        action.title = "=1+1 " + action.title
        session.add(action)
    rows = list(csv.reader(io.StringIO("".join(review_csv(engine, None, ReviewFilter(state="all"))))))
    assert rows[0][:4] == ["id", "fired_utc", "plan", "action"] and len(rows) == 5
    row = next(r for r in rows if r[3] == "I.3b.3")
    assert row[13].startswith("'=") and row[4].startswith("'=1+1 ")
    engine.dispose()


def test_viewers_reach_follows_the_directory(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as session:

        def viewer(ident: str) -> Viewer:
            owner = session.get(Owner, ident)
            assert owner is not None
            return viewer_for(session, owner)

        codev, pardev, secretariat, top = viewer("codev"), viewer("pardev"), viewer("secretariat"), viewer("dg-office")
    assert codev.scope() == {"codev", "ro-bangkok", "ro-lima"} and codev.is_supervisor
    assert codev.can_supervise("ro-lima") and not codev.can_supervise("codev") and not codev.can_see("pardev")
    assert pardev.scope() == {"pardev"} and not pardev.is_supervisor and not pardev.can_see(None)
    assert secretariat.scope() is None and secretariat.can_see(None) and secretariat.can_supervise("dg-office")
    assert top.can_supervise("ro-lima") and "dg-office" not in top.below
    engine.dispose()


def test_everyone_below_goes_to_any_depth_and_never_includes_the_supervisor() -> None:
    from engine.store.directory import everyone_below

    bosses = {"top": None, "mid": "top", "a": "mid", "b": "mid", "c": "a", "x": "y", "y": "x"}
    assert everyone_below("top", bosses) == {"mid", "a", "b", "c"}
    assert everyone_below("a", bosses) == {"c"} and everyone_below("c", bosses) == frozenset()
    assert everyone_below("x", bosses) == {"y"}  # a loop in a broken directory stops at the supervisor


def test_a_silence_escalated_reads_as_no_news_never_as_a_date() -> None:
    assert occurrence_words("stale 2027-04-06") == ("No update since the reminder of 6 April 2027", None)
    said, late_from = occurrence_words("stale 2027-04-06", language="es")
    assert (said, late_from) == ("Sin información actualizada desde el recordatorio del 6 de abril de 2027", None)
