"""The Maildir channel: each message one file in ``new/`` that a mail client reads back, and typed failures."""

from __future__ import annotations

import mailbox
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from engine.channels import DeliveryError
from engine.channels.maildir import MaildirChannel


def message(n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "planwatch <planwatch@example.org>"
    msg["To"] = "Zora Vidal <zora@example.org>"
    msg["Subject"] = f"[I.1.1] Erinnerung {n}: fällig am 31. März"
    msg["Message-ID"] = f"<maildir-{n}@example.org>"
    msg.set_content(f"Message {n}: Genève, 東京.\nSecond line.\n")
    return msg


@pytest.mark.parametrize("durable", [True, False], ids=["durable", "fast"])
def test_each_message_is_one_file_in_new_that_reads_back_whole(tmp_path: Path, durable: bool) -> None:
    box = tmp_path / "deep" / "er" / "maildir"  # the folders above are made as needed
    channel = MaildirChannel(box, durable=durable)
    for n in range(3):
        channel.deliver(message(n))
    files = sorted((box / "new").iterdir())
    assert len(files) == 3 and list((box / "tmp").iterdir()) == []
    data = files[0].read_bytes()
    assert b"\r\n" not in data  # a mailbox file has local line ends
    read = {}
    for path in files:
        parsed = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        assert isinstance(parsed, EmailMessage)
        read[str(parsed["Message-ID"])] = parsed
    got = read["<maildir-1@example.org>"]
    assert str(got["Subject"]) == "[I.1.1] Erinnerung 1: fällig am 31. März"
    assert str(got["To"]) == "Zora Vidal <zora@example.org>"
    body = got.get_body()
    assert body is not None and body.get_content() == "Message 1: Genève, 東京.\nSecond line.\n"


def test_count_is_what_a_mail_client_sees(tmp_path: Path) -> None:
    box = tmp_path / "maildir"
    channel = MaildirChannel(box)
    assert channel.count() == 0
    channel.deliver(message(1))
    channel.deliver(message(2))
    assert channel.count() == 2 == len(mailbox.Maildir(box, create=False))


def test_a_folder_that_cannot_be_written_is_a_delivery_error_to_retry(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(DeliveryError, match=r"cannot write to Maildir .*a-file/maildir") as caught:
        MaildirChannel(blocked / "maildir").deliver(message(1))
    assert (caught.value.permanent, caught.value.pause, caught.value.connection_lost) == (False, False, False)
