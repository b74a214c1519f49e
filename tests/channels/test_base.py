"""The channel contract (``engine.channels.base.Channel``), run against every channel.

SMTP talks to a real aiosmtpd server on 127.0.0.1, the Maildir writes to a folder under
``tmp_path``, the counting channel counts, the memory channel keeps. Each case says how to read
back what arrived, and the same tests run over all of them.
"""

from __future__ import annotations

import mailbox
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage, Message
from pathlib import Path

import pytest

from engine.channels import Channel, DeliveryError, MemoryChannel, NullChannel, batch
from engine.channels.maildir import MaildirChannel
from engine.channels.pipeline import SENT, Inline, Pipeline
from engine.channels.smtp import SmtpChannel, SmtpConfig

from ..smtpserver import Recorder, smtp_server


@dataclass
class Case:
    """A channel under test and how to read back what arrived (subjects; ``None`` for a channel that keeps no
    message)."""

    channel: Channel
    arrived: Callable[[], list[str] | None]
    count: Callable[[], int]


def message(n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "planwatch <planwatch@example.org>"
    msg["To"] = "Zora Vidal <zora@example.org>"
    msg["Subject"] = f"[I.1.1] reminder {n}"
    msg["Message-ID"] = f"<contract-{n}@example.org>"
    msg.set_content(f"Message {n}: due on 31 March 2000.\n")
    return msg


@pytest.fixture(params=["smtp", "maildir", "counting", "memory"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    kind = request.param
    if kind == "smtp":
        recorder = Recorder()
        with smtp_server(recorder) as port:
            smtp = SmtpChannel(SmtpConfig("127.0.0.1", port, security="none"))
            yield Case(
                smtp,
                lambda: [str(r.message["Subject"]) for r in recorder.received],
                lambda: len(recorder.received),
            )
            smtp.close()
    elif kind == "maildir":
        box = tmp_path / "maildir"
        maildir = MaildirChannel(box)
        yield Case(
            maildir,
            lambda: sorted(str(m["Subject"]) for m in mailbox.Maildir(box, create=True)),
            maildir.count,
        )
    elif kind == "counting":
        counting = NullChannel()
        yield Case(counting, lambda: None, lambda: counting.delivered)
    else:
        memory = MemoryChannel()
        yield Case(memory, lambda: [str(m["Subject"]) for m in memory.messages], lambda: len(memory.messages))


def test_every_channel_is_a_channel(case: Case) -> None:
    assert isinstance(case.channel, Channel)
    assert isinstance(case.channel.needs_message, bool) and isinstance(case.channel.waits, bool)


def test_a_batch_delivers_each_message_once(case: Case) -> None:
    with batch(case.channel) as channel:
        for n in range(3):
            channel.deliver(message(n))
    assert case.count() == 3
    arrived = case.arrived()
    assert arrived is None or sorted(arrived) == [f"[I.1.1] reminder {n}" for n in range(3)]


def test_open_and_close_may_be_repeated(case: Case) -> None:
    case.channel.open()
    case.channel.open()  # open already: nothing happens
    case.channel.deliver(message(1))
    case.channel.close()
    case.channel.close()  # closed already: nothing happens
    with batch(case.channel):  # and it opens again for the next batch
        case.channel.deliver(message(2))
    assert case.count() == 2


def test_a_batch_closes_the_channel_when_delivery_fails(case: Case) -> None:
    with pytest.raises(RuntimeError), batch(case.channel) as channel:
        channel.deliver(message(1))
        raise RuntimeError("the building thread failed")
    assert case.count() == 1
    with batch(case.channel) as channel:  # a closed channel serves the next batch
        channel.deliver(message(2))
    assert case.count() == 2


def test_what_wire_makes_is_what_deliver_takes(case: Case) -> None:
    with batch(case.channel) as channel:
        channel.deliver(channel.wire(message(7)))
    assert case.count() == 1
    arrived = case.arrived()
    assert arrived is None or arrived == ["[I.1.1] reminder 7"]


def test_the_dispatchers_sending_loops_deliver_through_the_contract(case: Case) -> None:
    """``Pipeline`` (for a channel that waits) and ``Inline`` (for one that does not) send in order and report SENT."""
    pipe: Pipeline | Inline = Pipeline(case.channel) if case.channel.waits else Inline(case.channel)
    with batch(case.channel):
        for n in range(4):
            pipe.put(n, message(n))
        results = [*pipe.ready(), *pipe.finish()]
    assert sorted(results) == [(n, SENT) for n in range(4)]
    assert case.count() == 4


def test_tally_counts_unbuilt_messages_only_where_nothing_is_read(case: Case) -> None:
    case.channel.tally(5)
    assert case.count() == (5 if not case.channel.needs_message else 0)


def test_a_refusal_is_a_delivery_error(tmp_path: Path) -> None:
    """Each channel that can fail says so with ``DeliveryError``: here SMTP's 550 and an unwritable Maildir."""
    recorder = Recorder(refuse={"zora@example.org": "550 5.1.1 no such user"})
    with (
        smtp_server(recorder) as port,
        batch(SmtpChannel(SmtpConfig("127.0.0.1", port, security="none"))) as smtp,
        pytest.raises(DeliveryError) as refused,
    ):
        smtp.deliver(message(1))
    assert refused.value.permanent and refused.value.reply.startswith("550")
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(DeliveryError):
        MaildirChannel(blocked / "maildir").deliver(message(1))


def test_a_channel_must_say_how_it_delivers() -> None:
    class Silent(Channel):
        pass

    with pytest.raises(TypeError):
        Silent()  # type: ignore[abstract]

    class Minimal(Channel):
        def __init__(self) -> None:
            self.got: list[Message] = []

        def deliver(self, message: Message) -> None:
            self.got.append(message)

    minimal = Minimal()
    assert (minimal.needs_message, minimal.waits) == (True, False)
    with batch(minimal):  # every other hook has a default
        minimal.deliver(minimal.wire(message(1)))
    minimal.tally(3)
    assert len(minimal.got) == 1
