"""The FastAPI application: built by ``create_app(settings)``, no module-level app, engine or settings.

Each concern is a router in its own module (``feeds``; the pages' routers are added by
``site.install``); shared services live on ``app.state``.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import FastAPI
from sqlalchemy import Engine

from engine.calendars.feeds import FeedService
from engine.clock import Clock, SystemClock
from engine.read.report import TemplateRefused
from engine.settings import Settings
from engine.store import make_engine
from engine.store.state import recorded_link_key
from engine.web import feeds, import_pages, ops, site
from engine.web.templating import report_refused


def create_app(settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None) -> FastAPI:
    """Return the app for ``settings``; ``clock`` and ``engine`` default to the real clock and the settings'
    database."""
    app = FastAPI(title="planwatch", docs_url=None, redoc_url=None, openapi_url=None)
    engine = engine or make_engine(settings.database_url)
    if not settings.secret_key:  # a demo database keeps the key its messages' links were signed with
        settings = replace(settings, secret_key=recorded_link_key(engine))
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = clock or SystemClock()
    app.state.feeds = FeedService(app.state.engine, settings, app.state.clock)
    app.include_router(feeds.router)
    site.install(app)  # the pages, sign-in and action links
    app.include_router(import_pages.router)  # the secretariat's plan import: upload, preview, confirm
    ops.install(app)  # /healthz and /metrics
    app.add_exception_handler(TemplateRefused, report_refused)  # a user's report template the sandbox refused
    return app
