"""Delivery channels: each takes a finished message and delivers it, or raises ``DeliveryError``."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class DeliveryError(Exception):
    """A message could not be delivered; ``permanent`` says whether trying again can help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    """Something that delivers e-mail messages."""

    def deliver(self, message: EmailMessage) -> None:
        """Deliver one message or raise ``DeliveryError``."""
        ...


class NullChannel:
    """Accepts everything and keeps nothing: for simulations whose messages nobody reads.

    ``needs_message = False`` tells the outbox it may skip rendering; claiming, marking and
    counting run exactly as for a real channel.
    """

    needs_message = False

    def __init__(self) -> None:
        self.delivered = 0

    def deliver(self, message: EmailMessage | None) -> None:
        """Count the message."""
        self.delivered += 1
