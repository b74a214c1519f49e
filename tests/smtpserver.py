"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, on a free port picked first.

``Controller(port=0)`` is avoided on purpose (aiosmtpd issues #276/#388): we bind a socket to
port 0, read the port the kernel chose, close it, and start the server on that port.
The handler records every message it accepts and can be told to misbehave: refuse some
recipients (550), answer 451 to the first try of each message, drop the connection in the
middle of the N-th message (after keeping it, or before), or answer each message ``latency``
seconds late, as a relay across a network would (the wait does not hold up other connections).
Each message keeps the connection it came over and when it arrived, so tests can check the order
per recipient and per connection and how late a message left.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from engine.clock import SystemClock


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    login: str | None
    peer: Any = None  # the client's address and port: one per connection
    at: datetime | None = None  # when it arrived (aware UTC)

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=email_policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it accepts and misbehaves on request."""

    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply, e.g. "550 5.1.1 no such user"
    defer_first: bool = False  # 451 the first DATA of every Message-ID
    drop_at: int | None = None  # close the connection during the N-th DATA (1-based), after keeping the data
    drop_before: int | None = None  # close the connection during the N-th DATA without keeping it
    latency: float = 0.0  # seconds before the reply to each message (after it has been kept)
    always: str | None = None  # answer every DATA with this reply
    received: list[Received] = field(default_factory=list)
    tries: dict[str, int] = field(default_factory=dict)
    without_8bit: bool = False  # a server that does not offer 8BITMIME
    # offer PIPELINING (RFC 2920), as Postfix, Exim and Exchange do; aiosmtpd reads pipelined commands in order
    pipelining: bool = True
    data_commands: int = 0
    connections: int = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.connections += 1 if not getattr(session, "_counted", False) else 0
        session._counted = True
        kept = [r for r in responses if not (self.without_8bit and "8BITMIME" in r)]
        return [*kept[:-1], "250-PIPELINING", kept[-1]] if self.pipelining else kept

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        if self.drop_before is not None and self.data_commands == self.drop_before:
            server.transport.close()  # lost on the way: the server never kept it, the client never hears
            return "421 4.4.2 connection dropped"
        data = bytes(envelope.original_content or envelope.content)
        msgid = str(message_from_bytes(data)["Message-ID"])
        self.tries[msgid] = self.tries.get(msgid, 0) + 1
        if self.always:
            return self.always
        if self.defer_first and self.tries[msgid] == 1:
            return "451 4.3.0 Mailbox busy, try again later"
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                data,
                session.ssl is not None,
                login,
                session.peer,
                SystemClock().now(),
            )
        )
        if self.drop_at is not None and self.data_commands == self.drop_at:
            server.transport.close()  # the message arrived, but the client never hears "250"
        if self.latency:
            await asyncio.sleep(self.latency)
        return "250 OK: queued"

    def message_ids(self) -> list[str]:
        """Return the Message-ID of every message received, in order."""
        return [str(r.message["Message-ID"]) for r in self.received]

    def by_recipient(self) -> dict[str, list[Received]]:
        """Return the messages received for each recipient, in the order they arrived."""
        seen: dict[str, list[Received]] = {}
        for received in self.received:
            for rcpt in received.rcpt_tos:
                seen.setdefault(rcpt, []).append(received)
        return seen


class Authenticator:
    """Accepts one user name and password."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.user,
            self.password,
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)


@contextmanager
def smtp_server(handler: Recorder, **kwargs: Any) -> Iterator[int]:
    """Run aiosmtpd with ``handler`` on 127.0.0.1 on a free port; yield the port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def tls_server_context(ca: Any) -> ssl.SSLContext:
    """Return a server TLS context with a certificate for 127.0.0.1 issued by the test CA (trustme)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context
