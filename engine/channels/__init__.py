"""Delivery channels: each takes a finished message and delivers it, or raises ``DeliveryError``.

``base.Channel`` declares the contract (``deliver``, and ``open``/``close`` around a batch, so an
SMTP channel keeps one connection for the whole batch). The channels: ``smtp``, ``maildir``, and
here ``NullChannel`` (counts) and ``MemoryChannel`` (keeps).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import TYPE_CHECKING

from engine.channels.base import Channel, DeliveryError

if TYPE_CHECKING:
    from engine.settings import Settings

__all__ = ["Channel", "DeliveryError", "MemoryChannel", "NullChannel", "batch", "channel_for"]


@contextmanager
def batch(channel: Channel) -> Iterator[Channel]:
    """Open ``channel`` for a batch and close it afterwards, whatever happens."""
    channel.open()
    try:
        yield channel
    finally:
        channel.close()


class NullChannel(Channel):
    """Accepts everything and keeps nothing: for simulations whose messages nobody reads.

    ``needs_message = False`` tells the dispatcher it may skip rendering; screening, marking and
    counting run exactly as for a real channel.
    """

    needs_message = False

    def __init__(self) -> None:
        self.delivered = 0

    def deliver(self, message: Message) -> None:
        """Count the message."""
        self.delivered += 1

    def tally(self, count: int) -> None:
        """Count ``count`` messages settled without being built."""
        self.delivered += count


class MemoryChannel(Channel):
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

        config = parse_smtp_url(settings.smtp_url)
        return SmtpChannel(config, rate_per_minute=settings.smtp_rate, pool=settings.smtp_connections)
    from engine.channels.maildir import MaildirChannel

    return MaildirChannel(settings.maildir)
