"""``engine.web.app.create_app``: one app per call, wired to the clock and database it is given (or the real ones)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from engine.clock import FixedClock, SystemClock
from engine.store import make_engine, upgrade
from engine.store.state import set_state
from engine.web import create_app

from ..web_support import NOW, web_settings, web_world

STALE = "ok, but no tick for over ten minutes: is `planwatch run` running?"


def test_the_app_uses_the_clock_and_engine_it_is_given(database_url: str) -> None:
    engine = web_world(database_url)
    settings = web_settings(database_url)
    clock = FixedClock(NOW)
    app = create_app(settings, clock=clock, engine=engine)
    assert app.state.settings is settings and app.state.engine is engine and app.state.clock is clock
    feeds = app.state.feeds
    assert (feeds.engine, feeds.settings, feeds.clock) == (engine, settings, clock)
    set_state(engine, "last_tick", NOW.isoformat(), NOW)
    with TestClient(app) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        clock.advance(timedelta(hours=1))  # the app asks the clock it was given
        assert client.get("/healthz").json()["status"] == STALE
    engine.dispose()


def test_without_a_clock_or_engine_it_uses_the_real_clock_and_the_settings_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'planwatch.db'}"
    made = make_engine(url)
    upgrade(made)
    set_state(made, "last_tick", NOW.isoformat(), NOW)  # in 2000: long ago by the real clock
    made.dispose()
    app = create_app(web_settings(url))
    assert isinstance(app.state.clock, SystemClock)
    assert app.state.engine.url.database == str(tmp_path / "planwatch.db")
    with TestClient(app) as client:
        health = client.get("/healthz").json()
    assert health["status"] == STALE and health["last_tick"].startswith("2000-06-01")
    app.state.engine.dispose()


def test_every_part_is_installed_and_the_api_docs_are_not(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'planwatch.db'}"
    upgrade(make_engine(url))
    app = create_app(web_settings(url), clock=FixedClock(NOW))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200  # ops
        assert "planwatch_outbox_pending" in client.get("/metrics").text  # ops
        assert client.get("/signin").status_code == 200  # site: sign-in pages
        assert client.get("/my").status_code == 401  # site: a page that wants a session
        assert client.get("/static/planwatch.css").headers["content-type"].startswith("text/css")  # site
        feed = client.get("/feeds/no-such-token.ics")  # feeds: a plain 404, not the site's page
        assert feed.status_code == 404 and "<html" not in feed.text.lower()
        for path in ("/docs", "/redoc", "/openapi.json"):
            answer = client.get(path)
            assert answer.status_code == 404 and "No such page" in answer.text, path
    app.state.engine.dispose()


def test_two_apps_share_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = create_app(web_settings(f"sqlite:///{tmp_path / 'a.db'}"), clock=FixedClock(NOW))
    second = create_app(web_settings(f"sqlite:///{tmp_path / 'b.db'}"), clock=FixedClock(NOW))
    assert first is not second
    assert first.state.engine is not second.state.engine and first.state.feeds is not second.state.feeds
    first.state.engine.dispose()
    second.state.engine.dispose()
