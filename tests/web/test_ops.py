"""``/healthz`` and ``/metrics``: what operators and Prometheus see."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from engine.clock import FixedClock
from engine.drive.delivery import pause_queue, resume_queue
from engine.store.state import set_state
from engine.web import create_app
from engine.web.ops import ops_app

from ..web_support import NOW, web_settings, web_world


def test_healthz_and_metrics_read_the_database(database_url: str) -> None:
    engine = web_world(database_url)
    clock = FixedClock(NOW)
    with TestClient(create_app(web_settings(database_url), clock=clock, engine=engine)) as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "ok" and health.json()["last_tick"] is None
        set_state(engine, "last_tick", NOW.isoformat(), NOW)
        set_state(engine, "node:a:1", NOW.isoformat(), NOW)
        body = client.get("/metrics")
        assert body.headers["content-type"].startswith("text/plain")
        families = {f.name: f for f in text_string_to_metric_families(body.text)}
        assert families["planwatch_outbox_pending"].samples[0].value == 0
        assert families["planwatch_nodes_seen"].samples[0].value == 1
        assert families["planwatch_last_tick_timestamp_seconds"].samples[0].value == NOW.timestamp()
        by_status = {s.labels["status"]: s.value for s in families["planwatch_actions"].samples}
        assert by_status == {"open": 69}
        clock.advance(timedelta(hours=1))
        assert "no tick for over ten minutes" in client.get("/healthz").json()["status"]
    engine.dispose()


def test_healthz_says_503_when_the_database_is_gone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from engine.store import make_engine

    url = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
    app = create_app(web_settings(f"sqlite:///{tmp_path / 'x.db'}"), clock=FixedClock(NOW), engine=make_engine(url))
    with TestClient(app) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.json()["status"] == "database unreachable"


def test_a_paused_queue_is_degraded_on_healthz_503_when_strict_and_a_gauge_in_metrics(database_url: str) -> None:
    engine = web_world(database_url)
    with engine.connect() as conn:
        pause_queue(conn, None, "config", "554 5.7.1 Relay access denied", NOW)
    for strict, code in ((False, 200), (True, 503)):
        app = create_app(web_settings(database_url, healthz_strict=strict), clock=FixedClock(NOW), engine=engine)
        with TestClient(app) as client:
            health = client.get("/healthz")
            assert health.status_code == code
            assert health.json()["status"].startswith("degraded: mail delivery paused since")
            assert health.json()["delivery_paused"]["reason"] == "554 5.7.1 Relay access denied"
            families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
            assert families["planwatch_delivery_paused"].samples[0].value == 1
    with engine.connect() as conn:
        resume_queue(conn)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200 and client.get("/healthz").json()["status"] == "ok"
        families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
        assert families["planwatch_delivery_paused"].samples[0].value == 0
    engine.dispose()


def test_a_token_guards_healthz_and_metrics_by_header_or_query(database_url: str) -> None:
    engine = web_world(database_url)
    settings = web_settings(database_url, metrics_token="s3cret-token")
    with TestClient(create_app(settings, clock=FixedClock(NOW), engine=engine)) as client:
        for path in ("/healthz", "/metrics"):
            refused = client.get(path)
            assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
            assert "pending" not in refused.text
            assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert client.get(f"{path}?token=s3cret-toke").status_code == 401
            assert client.get(path, headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
            assert client.get(f"{path}?token=s3cret-token").status_code == 200
        assert client.get("/signin").status_code == 200  # the pages do not ask for it
    engine.dispose()


def test_the_operations_app_serves_only_healthz_and_metrics(database_url: str) -> None:
    engine = web_world(database_url)
    with TestClient(ops_app(web_settings(database_url), engine, FixedClock(NOW))) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        assert "planwatch_outbox_pending" in client.get("/metrics").text
        assert client.get("/signin").status_code == 404
    engine.dispose()
