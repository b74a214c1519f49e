"""Signing in by a personal link (by e-mail, or printed by ``planwatch users login-link``) and out.

Opening a link (GET) only shows a button: mail scanners open links, and a single-use link
must survive them. Pressing it (POST) uses the link up and starts a session whose cookie is
HttpOnly, SameSite=Lax, and Secure behind https.

Asking for a link on the form does the same work whatever the address: the request only hands
the address to the app's ``SigninMailer`` and answers; the mailer's thread looks the address up,
counts the links sent lately and sends the e-mail a moment later, off the request path. So
neither the answer nor its timing tells whether an address is in the directory.
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from datetime import datetime, timedelta
from email.message import EmailMessage

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine

from engine.actions.links import LinkError
from engine.actions.signin import (
    SigninClaim,
    SigninExpired,
    close_session,
    expiry_words,
    mark_used,
    open_session,
    read_signin,
    require_secret,
    signin_mail,
    used,
)
from engine.errors import InputError
from engine.settings import Settings
from engine.store import transaction
from engine.store.models import Owner
from engine.web.auth import (
    SESSION_COOKIE,
    AnonymousPost,
    PageError,
    Posted,
    engine_of,
    now_of,
    settings_of,
)
from engine.web.templating import N_, is_https, page, page_language, secure_headers

router = APIRouter(include_in_schema=False)
log = logging.getLogger("planwatch.web")


@router.get("/")
def home() -> RedirectResponse:
    """Send visitors to their actions (which asks them to sign in first if needed)."""
    return RedirectResponse("/my", status_code=303)


@router.get("/signin")
def signin_form(request: Request) -> HTMLResponse:
    """Show the form that asks for a sign-in link by e-mail."""
    return page(request, "signin.html.j2", sent=False)


@router.post("/signin")
def signin_request(request: Request, form: AnonymousPost) -> HTMLResponse:
    """Hand the address to the mailer and answer; the answer is the same whether or not the address is known."""
    settings = settings_of(request)
    _secret(settings)
    mailer_of(request.app).ask(form.get("who", ""), now_of(request))
    return page(request, "signin.html.j2", sent=True, per_hour=settings.signin_mails_per_hour)


class SigninMailer:
    """Sign-in links asked for on the form, looked up, counted, made and sent by a thread of their own.

    ``ask`` only puts the address on a queue: no database statement, no lookup, the same for every
    address. A thread started when the queue fills waits ``delay`` seconds, handles everything asked
    by then, and ends when the queue is empty. A link asked for when the queue holds ``limit`` requests
    already (a flood) is dropped and logged. When the app shuts down it waits for the requests still
    queued; a process killed outright loses them: the person asks again.
    """

    THREAD_NAME = "planwatch-signin-mail"

    def __init__(self, settings: Settings, engine: Engine, *, delay: float = 0.2, limit: int = 1000) -> None:
        self.settings, self.engine, self.delay = settings, engine, delay
        self._queue: queue.Queue[tuple[str, datetime]] = queue.Queue(maxsize=limit)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ask(self, wanted: str, now: datetime) -> None:
        """Queue a request for a sign-in link to ``wanted`` (an address or owner id) made at ``now``."""
        try:
            self._queue.put_nowait((wanted[:320], now))
        except queue.Full:
            log.warning("sign-in link not sent: %d requests are waiting already", self._queue.maxsize)
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.THREAD_NAME)
                self._thread.start()

    def wait(self, timeout: float = 30.0) -> None:
        """Return once every request asked so far is handled (or ``timeout`` seconds have passed)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        threading.Event().wait(self.delay)
        while True:
            with self._lock:
                try:
                    wanted, now = self._queue.get_nowait()
                except queue.Empty:
                    self._thread = None
                    return
            try:
                self._handle(wanted, now)
            except Exception:  # one request's fault must not stop the others
                log.exception("sign-in link asked for %r not sent", wanted)

    def _handle(self, wanted: str, now: datetime) -> None:
        with transaction(self.engine) as session:
            owner, message = signin_mail(session, wanted, self.settings, now)
        if owner is None:
            log.info("sign-in link asked for an address that is not in the directory")
        elif message is None:
            log.warning(
                "sign-in link to %s not sent: %d went out in the last hour (PLANWATCH_SIGNIN_MAILS_PER_HOUR)",
                owner.id,
                self.settings.signin_mails_per_hour,
            )
        else:
            _send(self.settings, message)


_MAILER_LOCK = threading.Lock()
_MAILERS: weakref.WeakSet[SigninMailer] = weakref.WeakSet()


def mailer_of(app: FastAPI) -> SigninMailer:
    """Return the app's sign-in mailer (made on first use)."""
    with _MAILER_LOCK:
        mailer: SigninMailer | None = getattr(app.state, "signin_mailer", None)
        if mailer is None:
            mailer = app.state.signin_mailer = SigninMailer(app.state.settings, app.state.engine)
            _MAILERS.add(mailer)
        return mailer


def _send_what_was_asked() -> None:
    """At shutdown: send the sign-in links still queued before the process ends."""
    with _MAILER_LOCK:
        mailers = list(_MAILERS)
    for mailer in mailers:
        mailer.wait()


router.on_shutdown.append(_send_what_was_asked)


def _send(settings: Settings, message: EmailMessage) -> None:
    from engine.channels import DeliveryError, batch, channel_for

    try:
        with batch(channel_for(settings)) as channel:
            channel.deliver(message)
    except (DeliveryError, OSError) as exc:
        log.warning("sign-in link to %s not sent: %s", message["To"], exc)


def _secret(settings: Settings) -> str:
    try:
        return require_secret(settings)
    except InputError:
        raise PageError(
            503,
            N_("Sign-in is not configured"),
            N_(
                "This planwatch has no secret key (PLANWATCH_SECRET_KEY), so it cannot sign anyone in. "
                "Tell its administrator."
            ),
        ) from None


def _claim(request: Request, token: str) -> tuple[SigninClaim, Owner]:
    settings = settings_of(request)
    try:
        claim = read_signin(_secret(settings), token, now_of(request))
    except SigninExpired as exc:
        raise PageError(
            400,
            N_("This sign-in link does not work"),
            "%(words)s",
            words=expiry_words(exc.expires, page_language(request)),
        ) from None
    except LinkError as exc:
        raise PageError(400, N_("This sign-in link does not work"), f"{str(exc).capitalize()}.") from None
    with transaction(engine_of(request)) as session:
        owner = session.get(Owner, claim.owner_id)
        spent = used(session, claim.digest)
    if spent is not None:
        raise PageError(
            410,
            N_("This sign-in link was already used"),
            N_("Each sign-in link works once. Ask for a new one on the sign-in page."),
        )
    if owner is None:
        raise PageError(
            400, N_("This sign-in link does not work"), N_("The person it was made for is no longer in the directory.")
        )
    return claim, owner


@router.get("/signin/{token}")
def signin_confirm(request: Request, token: str) -> HTMLResponse:
    """Show who the link signs in, with a button; nothing is used up yet."""
    _, owner = _claim(request, token)
    return page(request, "signin_confirm.html.j2", owner=owner, token=token)


@router.post("/signin/{token}")
def signin_use(request: Request, token: str, form: AnonymousPost) -> Response:
    """Use the link up, start a session, set its cookie, and go to the person's actions."""
    claim, owner = _claim(request, token)
    settings, now = settings_of(request), now_of(request)
    with transaction(engine_of(request)) as session:
        if not mark_used(session, claim.digest, "signin", owner.id, now):
            raise PageError(
                410, N_("This sign-in link was already used"), N_("Each sign-in link works once. Ask for a new one.")
            )
        close_session(session, request.cookies.get(SESSION_COOKIE, ""))  # whoever was signed in here before
        cookie, _ = open_session(session, owner.id, now, timedelta(seconds=settings.session_seconds))
    response = RedirectResponse("/my", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(settings.session_seconds),
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    return secure_headers(response)


@router.post("/signout")
def signout(request: Request, posted: Posted) -> Response:
    """End the session and forget its cookie."""
    with transaction(engine_of(request)) as session:
        close_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/signin?ok=signed_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return secure_headers(response)
