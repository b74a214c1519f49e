"""Operations endpoints: ``/healthz`` for load balancers, ``/metrics`` for Prometheus.

Both read the database at request time; nothing is kept in module globals. The metrics
registry belongs to the app (``app.state.metrics``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from engine.clock import Clock
from engine.read.status import action_counts, engine_status

router = APIRouter()
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
