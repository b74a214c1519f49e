"""Sending on other threads, so the next message is built while the servers take the last ones.

A mail server spends about a millisecond on each message, in four round trips (MAIL, RCPT,
DATA, the message); a relay across a network, tens of milliseconds. The sending threads wait for
those replies with the GIL released, while the building thread renders the next message.

``Pool`` sends over several connections at once (``PLANWATCH_SMTP_CONNECTIONS``), one thread
each: a recipient's first message picks the connection with the least queued, and every later
message to that recipient in the batch goes over the same connection, so one person's messages
arrive in the order they were built. A connection's thread hands its channel the message queued next
with the one it sends (``Ahead``), so an SMTP channel can announce it with this one's end of data.
``Pipeline`` is a pool of one connection. Results come back
as they come in; each carries its tag.

After a pause or a crash nothing more is sent on any connection: what is still queued comes back
``SKIPPED``, so its row stays untouched for the next pass. A connection that is lost stops only
its own queue (the others go on). ``Inline`` is the same interface without a thread, for channels
that do not wait (a Maildir).
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any, Protocol, runtime_checkable

from engine.channels.base import Channel, DeliveryError

SENT = "sent"
SKIPPED = "skipped"
HANDOVER = 0.0002  # seconds: how soon a waiting thread gets the GIL back during a batch
_STOP = object()


def send_one(
    channel: Channel, stopped: threading.Event, message: Any, lost: threading.Event | None = None, following: Any = None
) -> Any:
    """Deliver ``message`` (or what the channel's ``wire`` made of it) unless the batch has stopped
    (or, given ``lost``, this connection was lost); return ``SENT``, ``SKIPPED`` or the exception.
    ``following``: the next message queued for the same connection, announced with this one's end
    where the channel can (``Ahead``)."""
    if stopped.is_set() or (lost is not None and lost.is_set()):
        return SKIPPED
    try:
        if following is not None and isinstance(channel, Ahead):
            channel.deliver_ahead(message, following)
        else:
            channel.deliver(message)
    except DeliveryError as exc:
        if exc.pause or (exc.connection_lost and lost is None):
            stopped.set()
        elif exc.connection_lost and lost is not None:
            lost.set()
        return exc
    except BaseException as exc:  # a crash: handed to the building thread, which re-raises it
        stopped.set()
        return exc
    return SENT


@runtime_checkable
class Pooled(Protocol):
    """A channel that can send over several connections at once: ``lanes`` returns one channel a
    connection (the channel itself first), sharing its configuration and rate limit."""

    def lanes(self) -> list[Channel]:
        """Return the channels to send over, one a connection."""
        ...


@runtime_checkable
class Ahead(Protocol):
    """A channel that can announce the next message on its connection with the end of this one
    (SMTP PIPELINING across messages)."""

    def deliver_ahead(self, message: Any, following: Any) -> None:
        """Deliver ``message``, announcing ``following``, the next message on this connection."""
        ...


def lanes_of(channel: Channel) -> list[Channel]:
    """Return the channels ``channel`` sends a batch over: its lanes, or itself alone."""
    return channel.lanes() if isinstance(channel, Pooled) else [channel]


class _Lane:
    """One connection's queue and sending thread (started with its first message)."""

    def __init__(self, channel: Channel, depth: int) -> None:
        self.channel = channel
        self.todo: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.lost = threading.Event()
        self.queued = 0  # messages put on this lane, for the choice of a new recipient's lane
        self.thread: threading.Thread | None = None


class Pool:
    """Sends over one thread a channel of ``channels``; ``put`` waits while a lane has ``depth``
    messages queued. A ``key`` (the recipient) always goes to the same lane within the pool."""

    def __init__(self, channels: list[Channel], depth: int = 4) -> None:
        if not channels:
            raise ValueError("a pool needs at least one channel")
        self.channel = channels[0]
        self.stopped = threading.Event()
        self._lanes = [_Lane(channel, depth) for channel in channels]
        self._lane_of: dict[str, _Lane] = {}
        self._done: queue.Queue[tuple[Any, Any]] = queue.Queue()
        self._pending = 0

    def put(self, tag: Any, message: Message, key: str = "") -> None:
        """Queue ``message`` under ``tag`` on the lane of ``key``, made ready for the wire by the channel's ``wire``."""
        lane = self._lane_for(key)
        self._pending += 1
        lane.queued += 1
        if lane.thread is None:
            lane.thread = threading.Thread(target=self._run, args=(lane,), name="planwatch-sender", daemon=True)
            lane.thread.start()
        # Turning a message into bytes is Python work: done here, it does not compete for the
        # GIL with the building thread while the sending threads should only wait on the servers.
        lane.todo.put((tag, lane.channel.wire(message)))

    def _lane_for(self, key: str) -> _Lane:
        lane = self._lane_of.get(key)
        if lane is None:
            lane = min(self._lanes, key=lambda candidate: candidate.queued)
            self._lane_of[key] = lane
        return lane

    def ready(self) -> Iterator[tuple[Any, Any]]:
        """Yield the results that are in, without waiting."""
        while self._pending and self._done.queue:  # (a deque's length is read atomically: no lock, no Empty raised)
            try:
                result = self._done.get_nowait()
            except queue.Empty:
                return
            self._pending -= 1
            yield result

    def finish(self) -> Iterator[tuple[Any, Any]]:
        """Yield every remaining result, waiting for them, and end the threads."""
        for lane in self._lanes:
            if lane.thread is not None:
                lane.todo.put(_STOP)
        while self._pending:
            self._pending -= 1
            yield self._done.get()
        for lane in self._lanes:
            if lane.thread is not None:
                lane.thread.join()

    def _run(self, lane: _Lane) -> None:
        # With one lane a lost connection ends the batch (the one connection is gone); with several
        # it ends that lane's queue only, and the messages on it wait for the next pass.
        lost = lane.lost if len(self._lanes) > 1 else None
        while (item := lane.todo.get()) is not _STOP:
            tag, message = item
            self._done.put((tag, send_one(lane.channel, self.stopped, message, lost, _next(lane.todo))))


def _next(todo: queue.Queue[Any]) -> Any:
    """Return the message queued next on a lane (None when there is none yet, or the lane ends)."""
    with todo.mutex:
        head = todo.queue[0] if todo.queue else None
    return None if head is None or head is _STOP else head[1]


class Pipeline(Pool):
    """A pool of one channel: messages go one at a time, in order, over its one connection."""

    def __init__(self, channel: Channel, depth: int = 4) -> None:
        super().__init__([channel], depth)


class Inline:
    """The ``Pipeline`` interface without a thread: each message is sent as it is put."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.stopped = threading.Event()
        self._done: list[tuple[Any, Any]] = []

    def put(self, tag: Any, message: Message, key: str = "") -> None:
        """Send ``message`` now (``key`` is there for the ``Pool`` interface)."""
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
