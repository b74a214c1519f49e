"""``engine.web.app.create_app``: one app per call, wired to the clock and database it is given (or the real ones);
no path parameter, whatever it holds, makes a server error."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Route

from engine.clock import FixedClock, SystemClock
from engine.store import make_engine, upgrade
from engine.store.state import set_state
from engine.web import create_app

from ..web_support import NOW, csrf_of, web_settings, web_world

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


# Path parts a browser or a person typing an address can send: random text, numbers far past any id
# column, signs and decimals, digits from other scripts, slashes (raw or encoded), dots.
PATH_PARTS = st.one_of(
    st.text(min_size=1, max_size=30),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        ["99999999999999999999999", str(2**31), str(2**63), "0", "-1", "1.5", "1e9", "²", "٣", "１", "..", "a/b", "%2F"]
    ),
)


def routes_with_path_parameters(app: FastAPI) -> list[tuple[str, str]]:
    """Return (method, path) of every route of ``app`` whose path has parameters, in included routers too."""
    found: list[tuple[str, str]] = []

    def walk(routes: list[BaseRoute], prefix: str) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)  # an included router (FastAPI keeps it whole)
            if included is not None:
                walk(included.routes, prefix + getattr(getattr(route, "include_context", None), "prefix", ""))
            elif isinstance(route, Route) and route.param_convertors:
                methods = sorted(route.methods or ())
                found.extend((method, prefix + route.path) for method in methods if method != "HEAD")

    walk(app.routes, "")
    return found


def test_every_route_with_path_parameters_is_known_to_the_property_test(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    paths = {path for _method, path in routes_with_path_parameters(client(None).app)}
    assert {"/actions/{key}", "/actions/{action_id}/done", "/escalations/{entry_id}/acknowledge"} <= paths
    assert {"/feeds/{token}.ics", "/a/{token}/{verb}", "/static/{name}", "/plan/review/{action_id}"} <= paths


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_path_parameter_makes_a_server_error(site, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    secretariat = client("secretariat")  # sees every action, so an id is looked up, not refused early
    csrf = csrf_of(secretariat.get("/my").text)
    method, template = data.draw(st.sampled_from(routes_with_path_parameters(secretariat.app)))
    path = template
    for name in re.findall(r"{(\w+)}", template):
        part = data.draw(PATH_PARTS, label=name)
        encoded = data.draw(st.booleans(), label="percent-encoded")
        value = quote(part, safe="") if encoded else quote(part, safe="/")
        path = path.replace("{" + name + "}", value)
    answer = secretariat.request(method, path, data={"csrf": csrf} if method == "POST" else None)
    assert answer.status_code < 500, (method, path, answer.text[:300])


@pytest.mark.parametrize("number", ["99999999999999999999999", str(2**63), str(2**31), "0", "²"])
def test_an_id_no_column_can_hold_is_the_404_page(site, number: str) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    secretariat = client("secretariat")
    answer = secretariat.get(f"/actions/{number}")
    assert answer.status_code == 404 and "No such action" in answer.text
    csrf = csrf_of(secretariat.get("/my").text)
    for path in (
        f"/actions/{number}/done",
        f"/actions/{number}/not-mine",
        f"/escalations/{number}/acknowledge",
        f"/extensions/{number}/grant",
        f"/plan/review/{number}",
    ):
        posted = secretariat.post(path, data={"csrf": csrf}, follow_redirects=False)
        assert posted.status_code == 404 and "No such" in posted.text, path
    assert secretariat.get(f"/my?action={number}").status_code == 200


QUERY_KEYS = ["action", "level", "page", "state", "part", "owner", "since", "until", "sort", "as_of", "plan", "ok"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/my", "/escalations", "/escalations.csv", "/plan", "/report", "/signin"]),
    query=st.dictionaries(st.sampled_from(QUERY_KEYS), PATH_PARTS, max_size=4),
)
def test_no_query_value_makes_a_server_error(site, path: str, query: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    answer = client("secretariat").get(path, params=query)
    assert answer.status_code < 500, (path, query, answer.text[:300])


def test_odd_numbers_in_any_query_key_make_no_server_error(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    secretariat = client("secretariat")
    for path in ("/my", "/escalations", "/escalations.csv", "/plan", "/report"):
        for key in QUERY_KEYS:
            for value in ("²", "٣", "99999999999999999999999", "-1", "0"):
                answer = secretariat.get(path, params={key: value})
                assert answer.status_code < 500, (path, key, value)
