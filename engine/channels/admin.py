"""The administrator's second route: a warning that must not wait in the outbox it is about.

When mail delivery pauses (the server refuses our login, our sender or our relaying) or many
messages fail at once, the administrator's report in the outbox keeps the record, but it goes out
through the very server that refuses, or at the next report hour. So the dispatcher also hands
an ``Alert`` to a route of its own, configured apart from ``PLANWATCH_SMTP_URL``:

- ``PLANWATCH_ADMIN_SMTP_URL``: another SMTP server (same URL form), to ``PLANWATCH_ADMIN_EMAIL``;
- ``PLANWATCH_ADMIN_SENDMAIL``: a local ``sendmail`` program (``/usr/sbin/sendmail``), run with
  ``-t -oi`` and the message on its standard input;
- ``PLANWATCH_ADMIN_WEBHOOK``: a URL that gets a JSON POST ``{"subject", "text", "kind"}`` (a chat
  room's incoming webhook reads ``text``).

Every route configured is tried; a route that fails is logged and never stops the dispatcher.
"""

from __future__ import annotations

import json
import logging
import subprocess
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING

from engine.channels.base import DeliveryError

if TYPE_CHECKING:
    from engine.settings import Settings

log = logging.getLogger("planwatch.admin")
TIMEOUT = 10.0  # seconds for the sendmail program or the webhook


@dataclass(frozen=True, slots=True)
class Alert:
    """A warning for the administrator: ``kind`` is "pause" or "failures"."""

    kind: str
    subject: str
    text: str


class AdminRoute:
    """The routes configured for alerts; ``tell`` tries each and returns the names of those that took it."""

    def __init__(self, settings: Settings) -> None:
        self.address = settings.admin_email
        self.sender = settings.sender
        self.smtp_url = settings.admin_smtp_url
        self.sendmail = settings.admin_sendmail
        self.webhook = settings.admin_webhook

    @property
    def configured(self) -> bool:
        """Return True when at least one route is set."""
        return bool(self.smtp_url or self.sendmail or self.webhook)

    def message(self, alert: Alert) -> EmailMessage:
        """Return the e-mail that carries ``alert``: plain text, from the sender, to the administrator."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = self.address
        message["Subject"] = alert.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=parseaddr(self.sender)[1].rpartition("@")[2] or "planwatch")
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(alert.text)
        return message

    def tell(self, alert: Alert) -> list[str]:
        """Send ``alert`` by every configured route; log each result; return the routes that took it."""
        done: list[str] = []
        routes = (("smtp", self.smtp_url, self._smtp), ("sendmail", self.sendmail, self._sendmail))
        for name, where, send in (*routes, ("webhook", self.webhook, self._webhook)):
            if not where:
                continue
            try:
                send(alert)
            except (DeliveryError, OSError, ValueError, subprocess.SubprocessError) as exc:
                log.error("could not warn the administrator by %s: %s", name, exc)
            else:
                done.append(name)
        if done:
            log.warning("warned the administrator by %s: %s", ", ".join(done), alert.subject)
        return done

    def _needs_address(self) -> None:
        if not self.address:
            raise ValueError("PLANWATCH_ADMIN_EMAIL is not set: no address to send the warning to")

    def _smtp(self, alert: Alert) -> None:
        from engine.channels import batch
        from engine.channels.smtp import SmtpChannel, parse_smtp_url

        self._needs_address()
        with batch(SmtpChannel(parse_smtp_url(self.smtp_url))) as channel:
            channel.deliver(self.message(alert))

    def _sendmail(self, alert: Alert) -> None:
        self._needs_address()
        done = subprocess.run(
            [self.sendmail, "-t", "-oi"],
            input=self.message(alert).as_bytes(),
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ValueError(f"{self.sendmail} ended with code {done.returncode}: {said[0] if said else 'no message'}")

    def _webhook(self, alert: Alert) -> None:
        if not self.webhook.startswith(("https://", "http://")):
            raise ValueError("PLANWATCH_ADMIN_WEBHOOK: expected an http:// or https:// URL")
        body = json.dumps({"subject": alert.subject, "text": f"{alert.subject}\n\n{alert.text}", "kind": alert.kind})
        request = urllib.request.Request(
            self.webhook, data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # the scheme is checked above
            answer.read()


def admin_route(settings: Settings) -> AdminRoute | None:
    """Return the administrator's second route, or None when none is configured."""
    route = AdminRoute(settings)
    return route if route.configured else None
