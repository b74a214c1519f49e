"""Settings, built once at the entry point from the environment and flags, then passed down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///planwatch.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable; no module keeps a global copy."""

    database_url: str = DEFAULT_DATABASE_URL
    rules_dir: Path = Path("rules")
    debug: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], **overrides: object) -> Settings:
        """Return settings from ``PLANWATCH_*`` variables; non-None ``overrides`` (flags) win."""
        settings = cls(
            database_url=environ.get("PLANWATCH_DATABASE_URL") or DEFAULT_DATABASE_URL,
            rules_dir=Path(environ.get("PLANWATCH_RULES_DIR") or "rules"),
            debug=environ.get("PLANWATCH_DEBUG", "") not in {"", "0", "false"},
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **given)  # type: ignore[arg-type]
