"""``/feeds/{token}.ics`` through the real app (FastAPI's TestClient): 200, 304, HEAD, 404, rotation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from engine.actions.workflow import extend
from engine.calendars.build import Feed
from engine.calendars.feeds import issue, rotate
from engine.clock import FixedClock
from engine.read.queries import find_action
from engine.store import transaction
from engine.web import create_app

from ..feeds_support import NOW, example_engine, parse, settings_for


@pytest.fixture
def site(database_url: str) -> Iterator[tuple[TestClient, Engine, str, FixedClock]]:
    """The app over the example plan, with a link for pardev's feed."""
    engine = example_engine(database_url)
    with transaction(engine) as session:
        token = issue(session, "pardev", Feed("owner", "pardev"), NOW).token
    clock = FixedClock(NOW)
    app = create_app(settings_for(database_url), clock=clock, engine=engine)
    with TestClient(app) as client:
        yield client, engine, token, clock
    engine.dispose()


def test_a_feed_is_served_then_revalidated_with_304(site: tuple[TestClient, Engine, str, FixedClock]) -> None:
    client, _, token, _ = site
    first = client.get(f"/feeds/{token}.ics")
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/calendar; charset=utf-8"
    assert first.headers["etag"].startswith('"') and first.headers["last-modified"].endswith(" GMT")
    assert parse(first.content)["X-WR-CALNAME"] == "planwatch: Rafael Quispe"
    both = {"If-None-Match": first.headers["etag"], "If-Modified-Since": first.headers["last-modified"]}
    second = client.get(f"/feeds/{token}.ics", headers=both)
    assert second.status_code == 304 and second.content == b""
    assert second.headers["etag"] == first.headers["etag"]
    by_date = client.get(f"/feeds/{token}.ics", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert by_date.status_code == 304
    stale = client.get(
        f"/feeds/{token}.ics", headers={"If-None-Match": '"old"', "If-Modified-Since": first.headers["last-modified"]}
    )
    assert stale.status_code == 200  # If-None-Match wins over If-Modified-Since
    earlier = format_datetime(datetime(1999, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get(f"/feeds/{token}.ics", headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(f"/feeds/{token}.ics", headers={"If-Modified-Since": "not a date"}).status_code == 200


def test_head_answers_like_get_without_a_body(site: tuple[TestClient, Engine, str, FixedClock]) -> None:
    client, _, token, _ = site
    got = client.get(f"/feeds/{token}.ics")
    head = client.head(f"/feeds/{token}.ics")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-length"] == str(len(got.content))


@pytest.mark.parametrize(
    "path",
    ["/feeds/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics", "/feeds/x.ics", "/feeds/..%2F..%2Fetc.ics", "/feeds/"],
    ids=["unknown", "malformed", "traversal", "no_token"],
)
def test_wrong_tokens_get_a_plain_404(site: tuple[TestClient, Engine, str, FixedClock], path: str) -> None:
    client, _, _, _ = site
    answer = client.get(path)
    assert answer.status_code == 404
    assert "calendar" not in answer.headers.get("content-type", "")


def test_a_rotated_token_works_and_the_old_one_does_not(site: tuple[TestClient, Engine, str, FixedClock]) -> None:
    client, engine, token, _ = site
    assert client.get(f"/feeds/{token}.ics").status_code == 200
    with transaction(engine) as session:
        (new,) = rotate(session, "pardev", NOW)
    gone = client.get(f"/feeds/{token}.ics")
    assert gone.status_code == 404 and gone.text == "Not Found"
    assert client.get(f"/feeds/{new.token}.ics").status_code == 200


def test_options_change_the_feed_and_its_etag(site: tuple[TestClient, Engine, str, FixedClock]) -> None:
    client, _, token, _ = site
    plain = client.get(f"/feeds/{token}.ics")
    quiet = client.get(f"/feeds/{token}.ics?alarms=0&overdue=today&todo=1")
    assert b"BEGIN:VALARM" in plain.content and b"BEGIN:VALARM" not in quiet.content
    assert b"BEGIN:VTODO" in quiet.content and b"BEGIN:VTIMEZONE" in quiet.content
    assert quiet.headers["etag"] != plain.headers["etag"]


def test_a_change_reaches_subscribers_after_the_cache_time(site: tuple[TestClient, Engine, str, FixedClock]) -> None:
    client, engine, token, clock = site
    first = client.get(f"/feeds/{token}.ics")
    with transaction(engine) as session:
        extend(
            session, find_action(session, "III.a.1"), date(2000, 9, 30), NOW, who="ed", via="test", reason="more time"
        )
    clock.advance(timedelta(seconds=1))
    second = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200 and b"20000930" in second.content
    assert second.headers["last-modified"] != first.headers["last-modified"]
