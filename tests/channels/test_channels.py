"""The channels package's front: the configured channel (``channel_for``), batches, and the counting and keeping
channels, with a real SMTP server on 127.0.0.1 and real Maildir folders."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from engine.channels import MemoryChannel, NullChannel, batch, channel_for
from engine.channels.maildir import MaildirChannel
from engine.channels.smtp import SmtpChannel, SmtpConfig
from engine.errors import InputError
from engine.settings import Settings

from ..smtpserver import Recorder, smtp_server


def message(n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "planwatch <planwatch@example.org>"
    msg["To"] = "Zora Vidal <zora@example.org>"
    msg["Subject"] = f"[I.1.1] reminder {n}"
    msg["Message-ID"] = f"<front-{n}@example.org>"
    msg.set_content(f"Message {n}.\n")
    return msg


def test_without_an_smtp_url_the_configured_channel_is_the_maildir(tmp_path: Path) -> None:
    channel = channel_for(Settings(maildir=tmp_path / "box"))
    assert isinstance(channel, MaildirChannel)
    with batch(channel):
        channel.deliver(message(1))
    assert [str(m["Subject"]) for m in mailbox.Maildir(tmp_path / "box", create=False)] == ["[I.1.1] reminder 1"]


def test_with_an_smtp_url_the_configured_channel_sends_there_at_its_rate(tmp_path: Path) -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        settings = Settings(maildir=tmp_path / "box", smtp_url=f"smtp://127.0.0.1:{port}?timeout=5", smtp_rate=600)
        channel = channel_for(settings)
        assert isinstance(channel, SmtpChannel)
        assert channel.config == SmtpConfig("127.0.0.1", port, security="none", timeout=5.0)
        assert channel.pacer.interval == pytest.approx(0.1)
        with batch(channel):
            channel.deliver(message(1))
    assert [r.rcpt_tos for r in recorder.received] == [["zora@example.org"]]
    assert not (tmp_path / "box").exists()  # nothing went to the Maildir


def test_a_bad_smtp_url_is_an_input_error() -> None:
    with pytest.raises(InputError, match="PLANWATCH_SMTP_URL: expected smtp://"):
        channel_for(Settings(smtp_url="imap://host"))


def test_a_batch_is_one_connection_and_the_next_batch_opens_a_new_one() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        channel = SmtpChannel(SmtpConfig("127.0.0.1", port, security="none", timeout=5))
        with batch(channel):
            channel.deliver(message(1))
            channel.deliver(message(2))
        assert channel.connections == 1
        with pytest.raises(RuntimeError), batch(channel):
            channel.deliver(message(3))
            raise RuntimeError("the building thread failed")
        assert channel.connections == 2
        with batch(channel):  # closed by the failed batch: a new connection
            channel.deliver(message(4))
        assert channel.connections == 3
    assert recorder.message_ids() == [f"<front-{n}@example.org>" for n in (1, 2, 3, 4)]


def test_the_counting_channel_counts_deliveries_and_tallies_and_reads_nothing() -> None:
    counting = NullChannel()
    assert counting.needs_message is False
    with batch(counting):
        counting.deliver(message(1))
        counting.tally(41)
    assert counting.delivered == 42


def test_the_memory_channel_keeps_each_message_in_order() -> None:
    memory = MemoryChannel()
    sent = [message(n) for n in range(3)]
    with batch(memory):
        for m in sent:
            memory.deliver(m)
    assert memory.messages == sent and all(a is b for a, b in zip(memory.messages, sent, strict=True))
    memory.tally(5)  # a channel that reads messages ignores a tally
    assert len(memory.messages) == 3
