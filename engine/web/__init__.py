"""The web face of planwatch: ``create_app(settings)`` builds the FastAPI app (feeds, pages, sign-in, action links)."""

from engine.web.app import create_app

__all__ = ["create_app"]
