"""A Maildir mailbox: a real mail folder any mail client (mutt, Thunderbird, Evolution) can open."""

from __future__ import annotations

import mailbox
from email.message import Message
from pathlib import Path

from engine.channels.base import Channel, DeliveryError
from engine.mail.messages import as_bytes


class MaildirChannel(Channel):
    """Delivers each message as one file in ``path/new`` (written to ``tmp/`` first, then renamed).

    ``durable=False`` skips the fsync of each file: for demos and simulations, not for service.
    """

    def __init__(self, path: str | Path, *, durable: bool = True) -> None:
        self.path = Path(path)
        self.durable = durable
        self._box: mailbox.Maildir | None = None

    def deliver(self, message: Message) -> None:
        """Add ``message`` to the mailbox."""
        try:
            if self._box is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._box = mailbox.Maildir(self.path, create=True)
            data = as_bytes(message).replace(b"\r\n", b"\n")  # a mailbox file has local line ends
            if self.durable:
                self._box.add(data)
            else:
                self._add_fast(data)
        except OSError as exc:
            raise DeliveryError(f"cannot write to Maildir {self.path}: {exc}") from exc

    def _add_fast(self, data: bytes) -> None:
        assert self._box is not None
        tmp = self._box._create_tmp()  # type: ignore[attr-defined]  # the Maildir naming rules, without the fsync
        try:
            tmp.write(data)
        finally:
            tmp.close()
        name = Path(tmp.name).name
        Path(tmp.name).rename(self.path / "new" / name)

    def count(self) -> int:
        """Return how many messages the mailbox holds."""
        return len(mailbox.Maildir(self.path, create=True))
