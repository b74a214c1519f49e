"""The sending loops: ``Pipeline`` (a second thread, for channels that wait on a server), ``Pool`` (a thread a
connection) and ``Inline``; results in order, a refusal that fails one message, a failure that ends the batch,
a lost connection that ends only its own queue in a pool, and the quick GIL hand-over."""

from __future__ import annotations

import sys
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from engine.channels import DeliveryError
from engine.channels.maildir import MaildirChannel
from engine.channels.pipeline import HANDOVER, SENT, SKIPPED, Inline, Pipeline, Pool, quick_handover
from engine.channels.smtp import SmtpChannel, SmtpConfig

from ..smtpserver import Recorder, smtp_server


def message(n: int, to: str = "zora@example.org") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "planwatch <planwatch@example.org>"
    msg["To"] = to
    msg["Subject"] = f"[I.1.1] reminder {n}"
    msg["Message-ID"] = f"<pipe-{n}@example.org>"
    msg.set_content(f"Message {n}.\n")
    return msg


def smtp(port: int) -> SmtpChannel:
    return SmtpChannel(SmtpConfig("127.0.0.1", port, security="none", timeout=5))


def run(pipe: Pipeline | Inline, messages: list[EmailMessage]) -> list[tuple[Any, Any]]:
    results: list[tuple[Any, Any]] = []
    for n, msg in enumerate(messages):
        pipe.put(n, msg)
        results.extend(pipe.ready())
    results.extend(pipe.finish())
    return results


def test_the_pipeline_sends_in_order_and_a_refusal_fails_that_message_alone() -> None:
    recorder = Recorder(refuse={"nobody@example.org": "550 5.1.1 no such user"})
    with smtp_server(recorder) as port:
        channel = smtp(port)
        pipe = Pipeline(channel, depth=2)
        messages = [message(n, "nobody@example.org" if n == 2 else "zora@example.org") for n in range(6)]
        results = run(pipe, messages)
        channel.close()
    assert [tag for tag, _ in results] == list(range(6))
    assert [result for tag, result in results if tag != 2] == [SENT] * 5
    refused = results[2][1]
    assert isinstance(refused, DeliveryError) and refused.permanent and refused.reply.startswith("550")
    assert not pipe.stopped.is_set()
    assert recorder.message_ids() == [f"<pipe-{n}@example.org>" for n in (0, 1, 3, 4, 5)]


def test_a_lost_connection_ends_the_batch_and_the_rest_comes_back_skipped() -> None:
    recorder = Recorder(drop_at=2)
    with smtp_server(recorder) as port:
        channel = smtp(port)
        pipe = Pipeline(channel, depth=1)
        results = run(pipe, [message(n) for n in range(5)])
        channel.close()
    assert results[0] == (0, SENT)
    lost = results[1][1]
    assert isinstance(lost, DeliveryError) and lost.connection_lost
    assert results[2:] == [(2, SKIPPED), (3, SKIPPED), (4, SKIPPED)]
    assert pipe.stopped.is_set() and len(recorder.received) == 2  # nothing more went out after the drop


def test_a_pool_keeps_each_key_on_one_connection_and_a_lost_one_stops_only_its_own_queue() -> None:
    dropping, steady = Recorder(drop_before=2), Recorder()
    with smtp_server(dropping) as first, smtp_server(steady) as second:
        lanes = [smtp(first), smtp(second)]
        pool = Pool(lanes, depth=1)  # a new key takes the connection with the least queued: "a" the first
        results: list[tuple[Any, Any]] = []
        for n in range(3):
            for key in ("a", "b"):
                pool.put(f"{key}{n}", message(n, f"{key}@example.org"), key)
                results.extend(pool.ready())
        results.extend(pool.finish())
        for lane in lanes:
            lane.close()
    outcome = dict(results)
    assert outcome["a0"] == SENT and outcome["a2"] == SKIPPED
    lost = outcome["a1"]
    assert isinstance(lost, DeliveryError) and lost.connection_lost
    assert [outcome[f"b{n}"] for n in range(3)] == [SENT] * 3  # the other connection went on
    assert not pool.stopped.is_set()
    assert [r.rcpt_tos for r in dropping.received] == [["a@example.org"]]
    assert [r.rcpt_tos for r in steady.received] == [["b@example.org"]] * 3


def test_inline_sends_as_each_message_is_put(tmp_path: Path) -> None:
    channel = MaildirChannel(tmp_path / "maildir")
    inline = Inline(channel)
    inline.put("a", message(1))
    assert channel.count() == 1 and list(inline.ready()) == [("a", SENT)]
    assert list(inline.ready()) == []  # each result is handed over once
    inline.put("b", message(2))
    assert list(inline.finish()) == [("b", SENT)] and channel.count() == 2


def test_a_crash_is_handed_back_and_stops_the_batch(tmp_path: Path) -> None:
    channel = MaildirChannel(tmp_path / "maildir")
    inline = Inline(channel)
    inline.put(1, "not a message")  # type: ignore[arg-type]  # the channel fails with a plain exception
    inline.put(2, message(2))
    (first, crash), second = inline.finish()
    assert first == 1 and isinstance(crash, Exception) and not isinstance(crash, DeliveryError)
    assert second == (2, SKIPPED) and channel.count() == 0 and inline.stopped.is_set()


def test_quick_handover_lowers_the_switch_interval_for_the_batch_only() -> None:
    before = sys.getswitchinterval()
    with quick_handover():
        assert sys.getswitchinterval() == pytest.approx(min(before, HANDOVER))
    assert sys.getswitchinterval() == before
    with pytest.raises(RuntimeError), quick_handover(0.001):
        assert sys.getswitchinterval() == pytest.approx(min(before, 0.001))
        raise RuntimeError("the batch failed")
    assert sys.getswitchinterval() == before
