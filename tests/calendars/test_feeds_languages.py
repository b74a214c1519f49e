"""Calendar feeds in their reader's language: an owner's feed in the owner's language (else the plan's), a plan's
feed in the plan's; the same events (UID, SEQUENCE, dates) whatever the language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from engine.actions.followup import report_implemented
from engine.actions.workflow import set_schedule
from engine.calendars.build import Feed, FeedOptions
from engine.read.queries import find_action
from engine.store import tables, transaction

from ..feeds_support import NOW, body, events, example_engine, parse, service


@pytest.fixture
def store(database_url: str) -> Iterator[tuple[Engine, str]]:
    """The example plan with its owners: Lucía Fernández (Lima) reads Spanish, Claire Dubois French."""
    engine = example_engine(database_url)
    yield engine, database_url
    engine.dispose()


def texts(data: bytes) -> tuple[list[str], str]:
    found = events(data)
    return [str(e["SUMMARY"]) for e in found], "\n".join(str(e.get("DESCRIPTION", "")) for e in found)


def test_an_owners_feed_is_in_the_owners_language_with_the_same_events(store: tuple[Engine, str]) -> None:
    engine, url = store
    svc = service(engine, url)
    spanish = body(svc, "owner:ro-lima")
    summaries, descriptions = texts(spanish)
    assert any(" inicio: " in s for s in summaries) and any(" consulta de seguimiento: " in s for s in summaries)
    assert "Responsable: Lucía Fernández <lucia.fernandez@example.org>" in descriptions
    assert "Comienza el " in descriptions and "Starts " not in descriptions and "Time frame" not in descriptions
    assert svc.language_of(Feed("owner", "ro-lima")) == "es" and svc.language_of(Feed("owner", "dcomm")) == "fr"
    french = texts(body(svc, "owner:dcomm"))[1]
    assert "Responsable : Claire Dubois" in french and "Délai : " in french
    english = texts(body(svc, "owner:codev"))[1]
    assert "Owner: Mei Tanaka" in english
    with engine.begin() as conn:  # Lucía now reads English: the same events, in English
        conn.execute(update(tables.OWNER).where(tables.OWNER.c.id == "ro-lima").values(language="en"))
    again = body(service(engine, url), "owner:ro-lima")
    uids = [(str(e["UID"]), int(e.get("SEQUENCE", 0)), e["DTSTART"].dt) for e in events(spanish)]
    assert [(str(e["UID"]), int(e.get("SEQUENCE", 0)), e["DTSTART"].dt) for e in events(again)] == uids
    assert "Owner: Lucía Fernández" in texts(again)[1]


def test_a_plans_feed_is_in_the_plans_language_and_written_files_follow_each_feed(
    store: tuple[Engine, str], tmp_path: Path
) -> None:
    engine, url = store
    with engine.begin() as conn:
        conn.execute(update(tables.PLAN).values(language="fr"))
    svc = service(engine, url)
    assert "Échéance le " in texts(body(svc, "plan:gb276-tc2"))[1]
    assert "Owner: Mei Tanaka" not in texts(body(svc, "owner:codev"))[1]  # no language of her own: the plan's
    written = dict(svc.write_all(tmp_path))
    lima = next(path for path in written if "ro-lima" in path.name)
    assert "Comienza el " in lima.read_text(encoding="utf-8").replace("\r\n ", "")


def _lines(data: bytes) -> str:
    return data.decode().replace("\r\n ", "")


def test_every_text_of_a_feed_is_in_its_readers_language(store: tuple[Engine, str]) -> None:
    """The calendar's name and description, the check-in rhythm, the overdue copies and the kinds, read with
    icalendar: nothing of the English words is left in a French or Spanish feed."""
    engine, url = store
    late = service(engine, url, now=datetime(2001, 6, 1, 12, tzinfo=UTC))
    french = body(late, "owner:dcomm", FeedOptions(overdue_today=True))
    calendar = parse(french)
    described = str(calendar["X-WR-CALDESC"]).replace("\\,", ",")  # icalendar keeps an X- property's escapes
    assert described == "Échéances, débuts et points d'étape des actions dont Claire Dubois est responsable"
    summaries, descriptions = texts(french)
    assert "II.5.1 échéance : 5 action 1 (text not in source)" in summaries
    assert any(
        s.startswith("II.5.1 en retard (échéance le ") and s.endswith(" : 5 action 1 (text not in source)")
        for s in summaries
    )
    assert "Point d'étape tous les 3 mois : planwatch demande au responsable un point de situation" in descriptions
    kinds = {str(c) for e in events(french) for c in e["CATEGORIES"].cats}
    assert {"Partie II", "date butoir", "en retard"} <= kinds and not kinds & {"deadline", "overdue", "continuous"}
    with engine.begin() as conn:  # Mei Tanaka reads Spanish: her team's feed is in Spanish
        conn.execute(update(tables.OWNER).where(tables.OWNER.c.id == "codev").values(language="es"))
    spanish = body(service(engine, url, now=datetime(2001, 6, 1, 12, tzinfo=UTC)), "team:codev")
    calendar = parse(spanish)
    assert str(calendar["X-WR-CALNAME"]) == "planwatch: equipo de Mei Tanaka"
    with engine.begin() as conn:  # in French, "de" before a name beginning with a vowel is "d'"
        conn.execute(
            update(tables.OWNER).where(tables.OWNER.c.id == "codev").values(language="fr", name="Amélie Tanaka")
        )
    named = parse(body(service(engine, url, now=datetime(2001, 6, 1, 12, tzinfo=UTC)), "team:codev"))
    assert str(named["X-WR-CALNAME"]) == "planwatch : équipe d'Amélie Tanaka"
    assert str(named["X-WR-CALDESC"]).startswith("Actions des personnes placées sous la responsabilité d'Amélie")
    words = _lines(spanish)
    for english in ("Check-in every", "3mo", " overdue (due ", "Due dates", "Actions of everyone", "'s team"):
        assert english not in words and english not in _lines(french), english


@pytest.mark.parametrize(
    ("owner", "ref", "label", "status_line"),
    [
        ("dcomm", "II.5.1", "échéance (signalée comme mise en œuvre)", "Statut : signalée comme mise en œuvre"),
        ("program", "I.1a.1", "due (reported implemented)", "Status: reported implemented"),
    ],
)
def test_a_reported_action_is_in_process_nearly_complete_and_says_so(
    store: tuple[Engine, str], owner: str, ref: str, label: str, status_line: str
) -> None:
    """Reported implemented, waiting for its verifier: IN-PROCESS at 90 % (COMPLETED comes with the verifier's
    confirmation), no alarm, and its summary says so in the owner's language."""
    engine, url = store
    with transaction(engine) as session:
        report_implemented(session, find_action(session, ref), NOW - timedelta(days=1), who=owner, via="web")
    data = body(service(engine, url), f"owner:{owner}", FeedOptions(todo=True))
    todo = next(t for t in events(data, "VTODO") if str(t["SUMMARY"]).startswith(f"{ref} "))
    assert (str(todo["STATUS"]), int(todo["PERCENT-COMPLETE"])) == ("IN-PROCESS", 90)
    assert str(todo["SUMMARY"]).startswith(f"{ref} {label}")
    event = next(e for e in events(data) if str(e["SUMMARY"]).startswith(f"{ref} {label}"))
    assert str(event["STATUS"]) == "CONFIRMED" and not event.walk("VALARM")
    assert status_line in str(event["DESCRIPTION"])


def test_a_withdrawn_event_says_so_in_the_feeds_language(store: tuple[Engine, str]) -> None:
    """An event no longer produced stays as CANCELLED for a while; in a Spanish feed its texts are Spanish."""
    engine, url = store
    before = body(service(engine, url), "owner:ro-lima")  # the registry knows the events
    assert "I.2c.1 inicio: 2(c) action 1 (text not in source)" in texts(before)[0]
    at = NOW + timedelta(days=1)
    with transaction(engine) as session:
        set_schedule(
            session, find_action(session, "I.2c.1"), {"kind": "continuous", "start": None}, at, who="ed", via="test"
        )
    data = body(service(engine, url, now=at + timedelta(days=1)), "owner:ro-lima")
    gone = [e for e in events(data) if str(e["STATUS"]) == "CANCELLED"]
    assert [str(e["SUMMARY"]) for e in gone] == ["I.2c.1 inicio: 2(c) action 1 (text not in source)"]
    assert [str(e["DESCRIPTION"]) for e in gone] == [
        "Ya no figura en el calendario del plan: esta entrada se ha retirado."
    ]
