"""Pipelining across messages (RFC 2920) against a real aiosmtpd server: the next message's MAIL FROM,
RCPT TO and DATA go with the last message's end of data when the server offers PIPELINING; every
message arrives once, whole and in order; a refusal of one does not disturb the one announced after it;
and a batch that stops with a message announced never sends it, not even empty."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest

from engine.channels import DeliveryError
from engine.channels.pipeline import SENT, Pool
from engine.channels.smtp import SmtpChannel, SmtpConfig, Wire

from ..smtpserver import Recorder, smtp_server
from .test_smtp import Refusing

ANNOUNCED = b"\r\n.\r\nMAIL FROM:"  # a message's end of data and the next one's envelope, in one write


class Spy:
    """The client's socket, keeping a copy of every write (the server is real; this only watches)."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.writes: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


def channel_with_spy(port: int) -> tuple[SmtpChannel, Spy]:
    channel = SmtpChannel(SmtpConfig("127.0.0.1", port, security="none", timeout=5))
    channel.open()
    assert channel._smtp is not None
    spy = Spy(channel._smtp.sock)
    channel._smtp.sock = spy  # type: ignore[assignment]
    return channel, spy


def message(n: int, to: str = "") -> EmailMessage:
    built = EmailMessage()
    built["From"] = "planwatch@example.org"
    built["To"] = to or f"person{n}@example.org"
    built["Subject"] = f"Message {n}"
    built["Message-ID"] = f"<m{n}@example.org>"
    built.set_content(f"Line one of {n}.\n.a line that starts with a dot\n")
    return built


def ids(recorder: Recorder) -> list[str]:
    return [str(r.message["Message-ID"]) for r in recorder.received]


@pytest.mark.parametrize("pipelining", [True, False], ids=["offered", "not-offered"])
def test_a_pool_announces_each_next_message_with_the_end_of_the_last_where_the_server_offers_it(
    pipelining: bool,
) -> None:
    recorder = Recorder(pipelining=pipelining)
    count = 20
    with smtp_server(recorder) as port:
        channel, spy = channel_with_spy(port)
        pool = Pool([channel])
        for n in range(count):
            pool.put(n, message(n))
        results = dict(pool.finish())
        channel.close()
    assert results == dict.fromkeys(range(count), SENT)
    assert ids(recorder) == [f"<m{n}@example.org>" for n in range(count)]  # once each, in order
    assert all(".a line that starts" in r.message.get_content() for r in recorder.received)  # dot-stuffed
    assert recorder.connections == 1 and recorder.data_commands == count
    announced = sum(ANNOUNCED in w for w in spy.writes)
    if pipelining:  # the building side queues faster than a round trip: most messages went announced
        assert announced >= count // 2, announced
    else:
        assert announced == 0


def test_a_message_refused_at_its_end_does_not_disturb_the_one_announced_after_it() -> None:
    recorder = Refusing(data_refuse={"person1@example.org": "554 5.6.0 message content rejected"})
    wires: list[Wire] = []
    with smtp_server(recorder) as port:
        channel, spy = channel_with_spy(port)
        wires = [channel.wire(message(n)) for n in range(4)]
        outcomes: list[Any] = []
        for n, wire in enumerate(wires):
            try:
                if n + 1 < len(wires):
                    channel.deliver_ahead(wire, wires[n + 1])
                else:
                    channel.deliver(wire)
                outcomes.append(SENT)
            except DeliveryError as exc:
                outcomes.append(exc)
        channel.close()
    assert outcomes[0] == SENT and outcomes[2:] == [SENT, SENT]
    assert isinstance(outcomes[1], DeliveryError) and outcomes[1].permanent and "554" in outcomes[1].reply
    assert ids(recorder) == ["<m0@example.org>", "<m2@example.org>", "<m3@example.org>"]
    assert recorder.connections == 1 and sum(ANNOUNCED in w for w in spy.writes) == 3
    assert not any(w.startswith(b"RSET") for w in spy.writes)  # the next transaction was under way: no RSET


def test_a_batch_stopped_with_a_message_announced_never_sends_it() -> None:
    """The first message's end of data is refused as a fault of ours (the queue pauses): the message
    announced with it must not arrive, not even empty, and QUIT must not be read as its content."""
    recorder = Refusing(data_refuse={"person0@example.org": "530 5.7.0 Authentication required"})
    with smtp_server(recorder) as port:
        channel, spy = channel_with_spy(port)
        first, second = channel.wire(message(0)), channel.wire(message(1))
        with pytest.raises(DeliveryError) as paused:
            channel.deliver_ahead(first, second)
        assert paused.value.pause
        channel.close()
        again = SmtpChannel(SmtpConfig("127.0.0.1", port, security="none", timeout=5))
        again.deliver(message(2))
        again.close()
    assert ids(recorder) == ["<m2@example.org>"]
    assert recorder.data_commands == 1  # the third message's: the second's content never came
    assert not any(w.startswith(b"QUIT") for w in spy.writes)
