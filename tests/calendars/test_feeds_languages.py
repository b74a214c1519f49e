"""Calendar feeds in their reader's language: an owner's feed in the owner's language (else the plan's), a plan's
feed in the plan's; the same events (UID, SEQUENCE, dates) whatever the language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from engine.calendars.build import Feed
from engine.store import tables

from ..feeds_support import body, events, example_engine, service


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
    assert "Responsable : Claire Dubois" in french and "Calendrier : " in french
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
