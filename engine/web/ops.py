"""Operations endpoints: ``/healthz`` for load balancers, ``/metrics`` for Prometheus.

Both read the database at request time; nothing is kept in module globals. The metrics
registry belongs to the app (``app.state.metrics``).

They tell how the engine is doing (counts, node names, the mail server's last refusal), never a
person's name or a message. To keep them private: set ``PLANWATCH_METRICS_TOKEN`` (then both ask
for ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``), or serve them on an address of their
own with ``ops_app`` (``planwatch run --ops-listen 127.0.0.1:9100``) and keep the public site
from forwarding them.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from engine.clock import Clock, SystemClock
from engine.read.status import action_counts, engine_status
from engine.settings import Settings


class TokenRefused(Exception):
    """The request did not carry the operations token."""


def token_given(request: Request) -> None:
    """Refuse the request unless it carries ``PLANWATCH_METRICS_TOKEN`` (when one is set)."""
    token: str = request.app.state.settings.metrics_token
    if not token:
        return
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else request.query_params.get("token", "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise TokenRefused


router = APIRouter(dependencies=[Depends(token_given)])
STALE_TICK_SECONDS = 600  # no tick for ten minutes: the service is not running


class EngineCollector(Collector):
    """Reads the outbox, the actions and the service's heartbeat at each scrape."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Any]:
        now = self.clock.now()
        status = engine_status(self.engine, now)
        for name, doc, value in (
            ("planwatch_outbox_pending", "Messages waiting to be sent.", status.pending),
            ("planwatch_outbox_failed", "Messages that failed for good.", status.failed),
            ("planwatch_outbox_lag_seconds", "How long the oldest due message has waited.", status.lag_seconds),
            ("planwatch_nodes_seen", "Engine nodes that ticked in the last 10 minutes.", len(status.nodes)),
            (
                "planwatch_delivery_paused",
                "1 while mail delivery is paused (the server refuses us or cannot be reached).",
                float(bool(status.paused)),
            ),
            (
                "planwatch_delivery_failure_burst",
                "Messages failed at once in the last burst of the past day (0: none).",
                status.failure_burst["count"] if status.failure_burst else 0,
            ),
            (
                "planwatch_last_tick_timestamp_seconds",
                "When the last tick ran (Unix time).",
                status.last_tick.timestamp() if status.last_tick else 0.0,
            ),
        ):
            yield GaugeMetricFamily(name, doc, value=value)
        actions = GaugeMetricFamily("planwatch_actions", "Actions by workflow status.", labels=["status"])
        for state, n in action_counts(self.engine):
            actions.add_metric([state], n)
        yield actions


def install(app: Any) -> None:
    """Give the app its own metrics registry and the two routes."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(app.state.engine, app.state.clock))
    app.state.metrics = registry
    app.include_router(router)
    app.add_exception_handler(TokenRefused, _refused)


def _refused(request: Request, exc: Exception) -> Response:
    return JSONResponse(
        {"status": "a token is needed (Authorization: Bearer, or ?token=)"},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="planwatch operations"'},
    )


def ops_app(settings: Settings, engine: Engine, clock: Clock | None = None) -> FastAPI:
    """Return an app that serves only ``/healthz`` and ``/metrics``: for an address of their own,
    apart from the public pages."""
    app = FastAPI(title="planwatch operations", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings, app.state.engine, app.state.clock = settings, engine, clock or SystemClock()
    install(app)
    return app


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    """200 when the database answers (and says when the engine last ticked); 503 otherwise.

    A paused mail queue or a burst of failures makes the status "degraded" (still 200, the web pages
    work); with ``PLANWATCH_HEALTHZ_STRICT`` a paused queue answers 503, for a monitor that only
    reads status codes.
    """
    clock: Clock = request.app.state.clock
    try:
        status = engine_status(request.app.state.engine, clock.now())
    except SQLAlchemyError as exc:
        return JSONResponse({"status": "database unreachable", "error": type(exc).__name__}, status_code=503)
    body = status.as_json() | {"status": "ok"}
    if status.last_tick is not None and (clock.now() - status.last_tick).total_seconds() > STALE_TICK_SECONDS:
        body["status"] = "ok, but no tick for over ten minutes: is `planwatch run` running?"
    if status.degraded:
        body["status"] = f"degraded: {status.degraded}"
    strict = request.app.state.settings.healthz_strict
    return JSONResponse(body, status_code=503 if strict and status.paused else 200)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """The Prometheus text exposition format."""
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
