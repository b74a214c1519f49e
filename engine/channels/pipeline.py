"""Sending on a second thread, so the next message is built while the server takes the last one.

A mail server spends about a millisecond on each message, in four round trips (MAIL, RCPT,
DATA, the message). The sending thread waits for those replies with the GIL released, while the
building thread renders the next message. Messages still go one at a time, in order, over the
channel's one connection, and results come back in that order.

After a failure that ends the batch (a pause, a lost connection, a crash) nothing more is sent:
what is still queued comes back ``SKIPPED``, so its row stays untouched for the next pass.
``Inline`` is the same interface without a thread, for channels that do not wait (a Maildir).
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from engine.channels.base import Channel, DeliveryError

SENT = "sent"
SKIPPED = "skipped"
HANDOVER = 0.0002  # seconds: how soon a waiting thread gets the GIL back during a batch
_STOP = object()


def send_one(channel: Channel, stopped: threading.Event, message: Any) -> Any:
    """Deliver ``message`` (or what the channel's ``wire`` made of it) unless the batch has stopped;
    return ``SENT``, ``SKIPPED`` or the exception."""
    if stopped.is_set():
        return SKIPPED
    try:
        channel.deliver(message)
    except DeliveryError as exc:
        if exc.pause or exc.connection_lost:
            stopped.set()
        return exc
    except BaseException as exc:  # a crash: handed to the building thread, which re-raises it
        stopped.set()
        return exc
    return SENT


class Pipeline:
    """Sends on a worker thread; ``put`` waits while ``depth`` messages are already queued."""

    def __init__(self, channel: Channel, depth: int = 4) -> None:
        self.channel = channel
        self.stopped = threading.Event()
        self._todo: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._done: queue.Queue[tuple[Any, Any]] = queue.Queue()
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name="planwatch-sender", daemon=True)
        self._thread.start()

    def put(self, tag: Any, message: Message) -> None:
        """Queue ``message`` under ``tag``, made ready for the wire by the channel's ``wire``."""
        self._pending += 1
        # Turning a message into bytes is Python work: done here, it does not compete for the
        # GIL with the building thread while the sending thread should only wait on the server.
        self._todo.put((tag, self.channel.wire(message)))

    def ready(self) -> Iterator[tuple[Any, Any]]:
        """Yield the results that are in, without waiting."""
        while self._pending:
            try:
                result = self._done.get_nowait()
            except queue.Empty:
                return
            self._pending -= 1
            yield result

    def finish(self) -> Iterator[tuple[Any, Any]]:
        """Yield every remaining result, waiting for them, and end the worker."""
        self._todo.put(_STOP)
        while self._pending:
            self._pending -= 1
            yield self._done.get()
        self._thread.join()

    def _run(self) -> None:
        while (item := self._todo.get()) is not _STOP:
            tag, message = item
            self._done.put((tag, send_one(self.channel, self.stopped, message)))


class Inline:
    """The ``Pipeline`` interface without a thread: each message is sent as it is put."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.stopped = threading.Event()
        self._done: list[tuple[Any, Any]] = []

    def put(self, tag: Any, message: Message) -> None:
        """Send ``message`` now."""
        self._done.append((tag, send_one(self.channel, self.stopped, message)))

    def ready(self) -> Iterator[tuple[Any, Any]]:
        """Yield the results so far."""
        done, self._done = self._done, []
        yield from done

    def finish(self) -> Iterator[tuple[Any, Any]]:
        """Yield the last results."""
        yield from self.ready()


@contextmanager
def quick_handover(interval: float = HANDOVER) -> Iterator[None]:
    """Let a thread that got its server's reply take the GIL back within ``interval`` (default
    ``HANDOVER``, 0.2 ms) instead of the interpreter's usual 5 ms.

    With the usual 5 ms, the building thread keeps the GIL for up to 5 ms after each reply, and the
    server sits idle; the interpreter-wide setting is restored when the batch ends.
    """
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, interval))
    try:
        yield
    finally:
        sys.setswitchinterval(before)
