"""Delivery channels: each takes a finished message and delivers it, or raises ``DeliveryError``.

A channel may also have ``open()`` and ``close()``: the outbox calls them around a dispatch
batch (``batch``), so an SMTP channel keeps one connection for the whole batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from engine.settings import Settings


class DeliveryError(Exception):
    """A message could not be delivered.

    ``permanent``: trying again cannot help (a 5xx reply); the message fails.
    ``pause``: the channel is misconfigured (authentication or TLS refused); nothing is the
    message's fault, so the queue pauses and the administrator is told.
    ``connection_lost``: the connection dropped; this message is retried and the rest of the
    batch waits for the next pass.
    ``reply``: the server's reply as it was given ("550 5.1.1 no such user"), when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        pause: bool = False,
        connection_lost: bool = False,
        reply: str = "",
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.pause = pause
        self.connection_lost = connection_lost
        self.reply = reply


class Channel(Protocol):
    """Something that delivers e-mail messages."""

    def deliver(self, message: Message) -> None:
        """Deliver one message or raise ``DeliveryError``."""
        ...


@contextmanager
def batch(channel: Channel) -> Iterator[Channel]:
    """Open ``channel`` for a batch (when it can be opened) and close it afterwards, whatever happens."""
    opener = getattr(channel, "open", None)
    if callable(opener):
        opener()
    try:
        yield channel
    finally:
        closer = getattr(channel, "close", None)
        if callable(closer):
            closer()


class NullChannel:
    """Accepts everything and keeps nothing: for simulations whose messages nobody reads.

    ``needs_message = False`` tells the outbox it may skip rendering; claiming, marking and
    counting run exactly as for a real channel.
    """

    needs_message = False

    def __init__(self) -> None:
        self.delivered = 0

    def deliver(self, message: Message | None) -> None:
        """Count the message."""
        self.delivered += 1


class MemoryChannel:
    """Keeps every message in a list: for previews and ``send-test`` dry runs."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def deliver(self, message: Message) -> None:
        """Keep the message."""
        self.messages.append(message)


def channel_for(settings: Settings) -> Channel:
    """Return the configured channel: SMTP when ``PLANWATCH_SMTP_URL`` is set, else the Maildir."""
    if settings.smtp_url:
        from engine.channels.smtp import SmtpChannel, parse_smtp_url

        return SmtpChannel(parse_smtp_url(settings.smtp_url), rate_per_minute=settings.smtp_rate)
    from engine.channels.maildir import MaildirChannel

    return MaildirChannel(settings.maildir)
