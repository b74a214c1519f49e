"""The escalation review queries on their own: scope, filters, lateness order, pages, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlmodel import select

from engine.actions.access import Viewer, viewer_for
from engine.read.escalation_review import ReviewFilter, review_csv, review_page
from engine.store import transaction
from engine.store.models import Action, Escalation, Owner

from ..web_support import NOW, web_world


def test_pages_follow_the_lateness_order_and_cover_every_entry(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as session:
        ident = session.exec(select(Action.id).where(Action.ref == "II.5.1")).one()
        for n in range(23):
            session.add(
                Escalation(
                    key=f"p{n}",
                    at=NOW - timedelta(hours=n),
                    action_id=ident,
                    occurrence="x",
                    level=3,
                    step="escalate:3",
                    policy="p",
                    recipients=[],
                    days_overdue=n % 7,
                )
            )
    flt = ReviewFilter(level=3, per_page=10)
    with engine.connect() as conn:
        pages = [review_page(conn, None, ReviewFilter(level=3, per_page=10, page=n)) for n in (1, 2, 3)]
        everything = review_page(conn, None, ReviewFilter(level=3, per_page=100))
    assert [p.total for p in pages] == [23, 23, 23] and pages[0].pages == 3
    paged = [r["id"] for p in pages for r in p.rows]
    assert paged == [r["id"] for r in everything.rows] and len(set(paged)) == 23
    lateness = [(r["days_overdue"], r["at"]) for r in everything.rows]
    assert lateness == sorted(lateness, reverse=True)
    assert flt.page == 1
    engine.dispose()


def test_scope_owner_part_state_and_dates_filter(database_url: str) -> None:
    engine = web_world(database_url)
    with engine.connect() as conn:

        def refs(scope: frozenset[str] | None, **given: object) -> set[str]:
            return {r["ref"] for r in review_page(conn, scope, ReviewFilter(**given)).rows}  # type: ignore[arg-type]

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
    engine.dispose()


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
