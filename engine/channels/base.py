"""The channel contract: everything the dispatcher asks of a channel, declared once.

A channel delivers finished e-mail messages. The dispatcher calls, in this order:
``open()`` before a batch, ``wire(message)`` for each message when the channel ``waits`` (on the
building thread), ``deliver(...)`` for each message, and ``close()`` after the batch, whatever
happened. A channel that reads no messages (``needs_message = False``) is told with
``tally(n)`` how many rows a batch settled instead, and its messages are never built.
Only ``deliver`` must be written; every other hook has a default that does nothing.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from email.message import Message
from typing import Any


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


class Channel(metaclass=ABCMeta):
    """Base class of every channel: ``deliver`` is required, the other hooks default to nothing."""

    needs_message: bool = True
    """False: the channel reads no messages (simulations, benchmarks); the dispatcher builds none,
    skips the pause and the daily cap, and calls ``tally`` instead of ``deliver``."""

    waits: bool = False
    """True: ``deliver`` waits on a server; the dispatcher then delivers on a second thread while it
    builds the next message, and hands ``deliver`` what ``wire`` returned."""

    def open(self) -> None:  # noqa: B027  (a hook that does nothing unless overridden)
        """Get ready for a batch (connect, log in); raise ``DeliveryError`` if the channel cannot be used.

        Called before every batch, so it must do nothing when the channel is open already.
        """

    def close(self) -> None:  # noqa: B027  (a hook that does nothing unless overridden)
        """End a batch (say goodbye, free the connection); never raises."""

    def wire(self, message: Message) -> Any:
        """Return ``message`` made ready for ``deliver`` (by default the message itself).

        Called on the building thread of a channel that ``waits``, so that the delivering thread
        does little but wait; ``deliver`` then gets this value instead of the message.
        """
        return message

    @abstractmethod
    def deliver(self, message: Message) -> None:
        """Deliver one message (or what ``wire`` made of it) or raise ``DeliveryError``."""

    def tally(self, count: int) -> None:  # noqa: B027  (a hook that does nothing unless overridden)
        """Take note that a batch settled ``count`` rows without building their messages.

        Only called on a channel with ``needs_message = False``; by default it does nothing.
        """
