"""Sign-in links, one-time link bookkeeping and signed-in sessions (no HTTP here).

A sign-in link is ``{base_url}/signin/{token}``: an itsdangerous signature over
``{"u": owner id, "n": random nonce, "x": expiry}``. It is single use: using it records the
nonce's digest in ``used_link``. A session is a random token kept in the browser's cookie;
the store keeps only its SHA-256, the owner, a CSRF token for its forms and the expiry.
All datetimes here are aware UTC.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete
from sqlmodel import select as select_rows

from engine.actions.links import LinkError
from engine.errors import InputError
from engine.languages import gettext, language_of, moment
from engine.read.queries import owner_by_id_or_email
from engine.settings import Settings
from engine.store import tables
from engine.store.models import Action, Owner, Plan
from engine.store.web_models import UsedLink, WebSession
from engine.zones import zone

SALT = "planwatch-signin-v1"
MAIL_WINDOW = timedelta(hours=1)  # the sign-in form sends an owner at most Settings.signin_mails_per_hour links in this


class SigninExpired(LinkError):
    """A sign-in link used after ``expires`` (aware UTC): the page says when, in the reader's language."""

    def __init__(self, expires: datetime) -> None:
        super().__init__(f"this sign-in link expired on {expires:%Y-%m-%d %H:%M} UTC; ask for a new one")
        self.expires = expires


@dataclass(frozen=True, slots=True)
class SigninClaim:
    """What a verified sign-in token says: who, its one-time nonce, and when it expires (UTC)."""

    owner_id: str
    nonce: str
    expires: datetime

    @property
    def digest(self) -> str:
        """Return the key under which this link is recorded as used."""
        return digest("signin", self.nonce)


def require_secret(settings: Settings) -> str:
    """Return the signing key, or raise ``InputError`` when none is configured (links would be forgeable)."""
    if not settings.secret_key:
        raise InputError(
            "PLANWATCH_SECRET_KEY is not set: sign-in and action links need a secret key; "
            "set it to a long random value, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    return settings.secret_key


def digest(*parts: str) -> str:
    """Return the SHA-256 (hex) of ``parts`` joined; tokens are stored only this way."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def signin_token(secret: str, owner_id: str, now: datetime, lifetime: timedelta) -> str:
    """Return a new single-use sign-in token for ``owner_id``, valid from ``now`` (aware) for ``lifetime``."""
    payload = {"u": owner_id, "n": secrets.token_urlsafe(16), "x": int((now + lifetime).timestamp())}
    return str(URLSafeSerializer(secret, salt=SALT).dumps(payload))


def signin_url(settings: Settings, owner_id: str, now: datetime) -> str:
    """Return a fresh sign-in URL for ``owner_id`` under the configured base URL."""
    token = signin_token(require_secret(settings), owner_id, now, timedelta(seconds=settings.signin_link_seconds))
    return f"{settings.base_url.rstrip('/')}/signin/{token}"


def read_signin(secret: str, token: str, now: datetime) -> SigninClaim:
    """Return what ``token`` says, or raise ``LinkError`` when it is forged, damaged or expired at ``now``."""
    try:
        data = URLSafeSerializer(secret, salt=SALT).loads(token)
    except BadSignature:
        raise LinkError("this sign-in link is not valid (it was changed or is incomplete)") from None
    if not isinstance(data, dict) or not {"u", "n", "x"} <= set(data):
        raise LinkError("this is not a planwatch sign-in link")
    expires = datetime.fromtimestamp(int(data["x"]), UTC)
    if now >= expires:
        raise SigninExpired(expires)
    return SigninClaim(str(data["u"]), str(data["n"]), expires)


def used(session: Session, key: str) -> UsedLink | None:
    """Return the record of a one-time link already used, or None."""
    return session.get(UsedLink, key)


def mark_used(session: Session, key: str, kind: str, who: str, now: datetime) -> bool:
    """Record a one-time link as used; return False when it already was (also when two requests race)."""
    table = tables.USED_LINK
    maker = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        maker(table)
        .values(digest=key, kind=kind, used_by=who, used_at=now)
        .on_conflict_do_nothing(index_elements=["digest"])
        .returning(table.c.digest)
    )
    return session.connection().execute(statement).first() is not None


def allow_signin_mail(session: Session, owner_id: str, now: datetime, per_hour: int) -> bool:
    """Record a sign-in link e-mailed to ``owner_id`` at ``now`` and return True; or return False when
    ``per_hour`` links went to them in the hour before (0: the form e-mails none).

    The sign-in form is public: without this, anyone could fill an owner's inbox. On PostgreSQL the
    owner's row is locked first, so nodes answering at the same moment count one after the other.
    """
    table = tables.SIGNIN_MAIL
    conn = session.connection()
    conn.execute(select(col(Owner.id)).where(col(Owner.id) == owner_id).with_for_update())
    conn.execute(table.delete().where(table.c.sent_at < now - 24 * MAIL_WINDOW))  # tidy: a day is plenty
    recent = conn.execute(
        select(func.count()).select_from(table).where(table.c.owner_id == owner_id, table.c.sent_at > now - MAIL_WINDOW)
    ).scalar_one()
    if recent >= per_hour:
        return False
    conn.execute(insert(table).values(owner_id=owner_id, sent_at=now))
    return True


def open_session(session: Session, owner_id: str, now: datetime, lifetime: timedelta) -> tuple[str, WebSession]:
    """Start a signed-in session; return the cookie's token (shown once) and the stored row."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=digest("session", token),
        owner_id=owner_id,
        csrf=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.execute(delete(WebSession).where(col(WebSession.expires_at) < now))  # tidy expired ones
    return token, row


def find_session(session: Session, token: str, now: datetime) -> WebSession | None:
    """Return the live session of a cookie token, or None when it is unknown or expired at ``now``."""
    row = session.get(WebSession, digest("session", token))
    return row if row is not None and row.expires_at > now else None


def close_session(session: Session, token: str) -> None:
    """End a session (sign out)."""
    row = session.get(WebSession, digest("session", token))
    if row is not None:
        session.delete(row)


def signin_mail(
    session: Session, wanted: str, settings: Settings, now: datetime
) -> tuple[Owner | None, EmailMessage | None]:
    """Return who ``wanted`` (an e-mail address or owner id asked for on the sign-in form at ``now``) names and the
    e-mail with their sign-in link: (None, None) when nobody is known by it, (owner, None) when the owner was sent
    ``settings.signin_mails_per_hour`` links in the last hour already.

    This is the part of a sign-in request whose work depends on the address; the web runs it off the request path.
    """
    owner = owner_by_id_or_email(session, wanted.strip()) if wanted.strip() else None
    if owner is None or not allow_signin_mail(session, owner.id, now, settings.signin_mails_per_hour):
        return owner, None
    url = signin_url(settings, owner.id, now)
    return owner, signin_message(owner, url, settings, now, reader_language(session, owner))


def reader_language(session: Session, owner: Owner) -> str:
    """Return the language ``owner`` reads: their own, else the language of the plan of their actions (of the
    first plan when they own none), else English."""
    if owner.language:
        return language_of(owner.language)
    plan_id = session.exec(select_rows(Action.plan_id).where(Action.owner_id == owner.id).limit(1)).first()
    plan = (
        session.get(Plan, plan_id)
        if plan_id
        else session.exec(select_rows(Plan).order_by(col(Plan.id)).limit(1)).first()
    )
    return language_of(plan.language if plan else None)


def signin_message(
    owner: Owner, url: str, settings: Settings, now: datetime, language: str | None = None
) -> EmailMessage:
    """Return the e-mail carrying a sign-in link to ``owner`` (plain text; the link is single use), dated ``now``
    in the owner's time zone, with a Message-ID of its own under the sender's domain, in ``language`` (by default
    the owner's own, else English)."""
    lang = language_of(language, owner.language)
    msg = EmailMessage()
    msg["Subject"] = gettext(lang, "Your planwatch sign-in link")
    msg["From"] = settings.sender
    msg["To"] = owner.email
    msg["Date"] = format_datetime(now.astimezone(_zone_of(owner)))
    msg["Message-ID"] = make_msgid("signin", parseaddr(settings.sender)[1].rpartition("@")[2] or "planwatch.invalid")
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    minutes = int(settings.signin_link_seconds // 60)
    words = gettext(
        lang,
        "Hello %(name)s,\n\nOpen this link to sign in to planwatch. It works once, within %(minutes)s minutes:"
        "\n\n%(url)s\n\nIf you did not ask for it, ignore this message.\n",
    )
    msg.set_content(words % {"name": owner.name, "minutes": minutes, "url": url})
    return msg


def expiry_words(expires: datetime, language: str) -> str:
    """Return when a sign-in link expired, for a page in ``language`` (the reader's zone is not known: UTC)."""
    return gettext(language, "This sign-in link expired on %(when)s (UTC). Ask for a new one on the sign-in page.") % {
        "when": moment(expires.astimezone(UTC), language)
    }


def _zone_of(owner: Owner) -> tzinfo:
    try:
        return zone(owner.timezone)
    except ValueError:  # the directory checks zones on import; a row written otherwise is dated in UTC
        return UTC
