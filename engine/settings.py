"""Settings, built once at the entry point from the environment and flags, then passed down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from engine.errors import InputError
from engine.shipped import templates_folder

DEFAULT_DATABASE_URL = "sqlite:///planwatch.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable; no module keeps a global copy."""

    database_url: str = DEFAULT_DATABASE_URL
    rules_dir: Path = Path("rules")
    templates_dir: Path = Path("templates")
    user_templates_dir: Path | None = None
    maildir: Path = Path("out/maildir")
    debug: bool = False
    feed_cache_seconds: float = 10.0  # a served feed is rebuilt from the store at most this often
    # E-mail: the SMTP server (smtp://user:pass@host:587?starttls=true, smtps://...; empty: the
    # Maildir), messages per minute (0: no limit), where action links lead, who sends, who is
    # told about failures, and the key that signs links.
    smtp_url: str = field(default="", repr=False)
    smtp_rate: int = 0
    smtp_connections: int = 8  # SMTP connections a dispatch pass sends over at once (one recipient: one connection)
    base_url: str = "http://localhost:8000"
    sender: str = "planwatch <planwatch@example.org>"
    admin_email: str = ""
    secret_key: str = field(default="", repr=False)
    # Web pages: how long a sign-in link and a signed-in session last; how many sign-in links one
    # owner is e-mailed in an hour at most (the form is public: it must not flood an inbox).
    signin_link_seconds: float = 1800.0
    session_seconds: float = 43200.0
    signin_mails_per_hour: int = 5
    # Operations: a second route that tells the administrator at once when delivery pauses or
    # messages fail in a burst (an SMTP server of its own, a local sendmail, a webhook URL), a
    # 503 from /healthz while the queue is paused, and a token that /healthz and /metrics ask for.
    admin_smtp_url: str = field(default="", repr=False)
    admin_sendmail: str = ""
    admin_webhook: str = field(default="", repr=False)
    healthz_strict: bool = False
    metrics_token: str = field(default="", repr=False)
    # Evidence attached to closure reports and updates: kept in the database, or in this folder (by sha256)
    # when it is set; files larger than ``evidence_max_bytes`` are refused.
    evidence_dir: Path | None = None
    evidence_max_bytes: int = 10 * 1024 * 1024

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], **overrides: object) -> Settings:
        """Return settings from ``PLANWATCH_*`` variables; non-None ``overrides`` (flags) win."""
        settings = cls(
            database_url=environ.get("PLANWATCH_DATABASE_URL") or DEFAULT_DATABASE_URL,
            rules_dir=Path(environ.get("PLANWATCH_RULES_DIR") or "rules"),
            templates_dir=Path(environ.get("PLANWATCH_TEMPLATES_DIR") or "templates"),
            user_templates_dir=Path(environ["PLANWATCH_USER_TEMPLATES"])
            if environ.get("PLANWATCH_USER_TEMPLATES")
            else None,
            maildir=Path(environ.get("PLANWATCH_MAILDIR") or "out/maildir"),
            debug=environ.get("PLANWATCH_DEBUG", "") not in {"", "0", "false"},
            smtp_url=environ.get("PLANWATCH_SMTP_URL", ""),
            smtp_rate=_count(environ, "PLANWATCH_SMTP_RATE", 0, "messages per minute"),
            smtp_connections=max(1, _count(environ, "PLANWATCH_SMTP_CONNECTIONS", 8, "connections")),
            base_url=environ.get("PLANWATCH_BASE_URL") or "http://localhost:8000",
            sender=environ.get("PLANWATCH_SENDER") or "planwatch <planwatch@example.org>",
            admin_email=environ.get("PLANWATCH_ADMIN_EMAIL", ""),
            secret_key=environ.get("PLANWATCH_SECRET_KEY", ""),
            feed_cache_seconds=_seconds(environ, "PLANWATCH_FEED_CACHE_SECONDS", 10.0),
            signin_link_seconds=_seconds(environ, "PLANWATCH_SIGNIN_LINK_SECONDS", 1800.0),
            session_seconds=_seconds(environ, "PLANWATCH_SESSION_SECONDS", 43200.0),
            signin_mails_per_hour=_count(environ, "PLANWATCH_SIGNIN_MAILS_PER_HOUR", 5, "sign-in links an hour"),
            admin_smtp_url=environ.get("PLANWATCH_ADMIN_SMTP_URL", ""),
            admin_sendmail=environ.get("PLANWATCH_ADMIN_SENDMAIL", ""),
            admin_webhook=environ.get("PLANWATCH_ADMIN_WEBHOOK", ""),
            healthz_strict=environ.get("PLANWATCH_HEALTHZ_STRICT", "") not in {"", "0", "false"},
            metrics_token=environ.get("PLANWATCH_METRICS_TOKEN", ""),
            evidence_dir=Path(environ["PLANWATCH_EVIDENCE_DIR"]) if environ.get("PLANWATCH_EVIDENCE_DIR") else None,
            evidence_max_bytes=_count(environ, "PLANWATCH_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024, "bytes"),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **given)  # type: ignore[arg-type]


def _count(environ: Mapping[str, str], name: str, default: int, what: str) -> int:
    value = environ.get(name) or str(default)
    try:
        return max(0, int(value))
    except ValueError:
        raise InputError(f"{name}: expected a whole number of {what}, got {value!r}") from None


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    value = environ.get(name) or str(default)
    try:
        return max(0.0, float(value))
    except ValueError:
        raise InputError(f"{name}: expected a number of seconds, got {value!r}") from None


def template_folders(settings: Settings) -> list[Path]:
    """Return the template folders, the user's own first (it overrides file by file)."""
    folders = [settings.user_templates_dir] if settings.user_templates_dir else []
    shipped = templates_folder()  # the ones planwatch ships, last
    return [*folders, settings.templates_dir, *([shipped] if shipped != settings.templates_dir.resolve() else [])]
