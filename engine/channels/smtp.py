"""SMTP delivery with smtplib: a few connections per dispatch batch, a rate limit, replies mapped to decisions.

``PLANWATCH_SMTP_URL`` says where: ``smtp://user:pass@host:587?starttls=true`` (STARTTLS),
``smtps://user:pass@host:465`` (TLS from the start), ``smtp://127.0.0.1:8025`` (plain, for a
relay on the same machine). STARTTLS is the default when there is a user name or the port is
587. Query options: ``starttls`` (true/false), ``timeout`` (seconds), ``cafile`` (a CA bundle
to trust, e.g. a company CA).

How replies become decisions (``DeliveryError``):
- 4xx, a dropped connection, a timeout: try again later (``connection_lost`` when the link broke);
- 5xx about the recipient (550 5.1.1 no such user, a full mailbox): the message fails for good,
  the server's reply kept;
- 530/534/535/538, a refused STARTTLS or a TLS handshake failure, and a 5xx that refuses the
  sender or the relaying (any 5xx to MAIL FROM, 553, 5.7.x policy codes, 5.1.7/5.1.8 about the
  sender): a configuration fault (``pause``): nothing is the message's fault, so the queue pauses
  and the administrator is told.
A channel made with ``pool=N`` (``PLANWATCH_SMTP_CONNECTIONS``, 8 by default) sends a batch over up to
N connections at once (``lanes``; ``engine.channels.pipeline.Pool`` keeps each recipient on one of them),
all under one rate limit. Where the server offers PIPELINING (RFC 2920), each connection sends a message's
envelope (MAIL FROM, RCPT TO, DATA) in one write, and, when the next message is already queued for it,
with the last message's end of data (``deliver_ahead``): one round trip a message.
Each message has one recipient, so a refused recipient fails its own message and no other. A 5xx
with no such code that comes back the same for several recipients in a row is the dispatcher's to
judge (``engine.drive.dispatch``).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from engine.channels.base import Channel, DeliveryError
from engine.errors import InputError
from engine.mail.messages import as_bytes, seven_bit

AUTH_CODES = frozenset({530, 534, 535, 538})
SENDER_CODES = frozenset({553})  # "mailbox name not allowed": the sender's address, for a relay
# Enhanced status codes (RFC 3463) that refuse the sender or the relaying rather than the recipient.
CONFIG_STATUS = re.compile(r"^5\.(7\.\d{1,3}|1\.[78])\b")
DOT_LINE = re.compile(rb"(?m)^\.")
TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to connect; ``security`` is "starttls", "ssl" or "none"; ``timeout`` in seconds."""

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    security: str = "starttls"
    timeout: float = 30.0
    cafile: str | None = None

    def describe(self) -> str:
        """Return the server as people name it, without the password."""
        who = f"{self.username}@" if self.username else ""
        return f"{'smtps' if self.security == 'ssl' else 'smtp'}://{who}{self.host}:{self.port} ({self.security})"


def parse_smtp_url(url: str) -> SmtpConfig:
    """Return the configuration in ``url``; raise ``InputError`` (without echoing a password) when it is not one."""
    expected = "expected smtp://user:pass@host:587?starttls=true or smtps://user:pass@host:465"
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise InputError(f"PLANWATCH_SMTP_URL: {expected}, got scheme {parts.scheme or '(none)'!r}")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    ssl_mode = parts.scheme == "smtps"
    # STARTTLS unless told otherwise when a password is sent or on the submission port (587);
    # a plain relay on another port (a local aiosmtpd, port 25 without login) goes without.
    secure = bool(parts.username) or parts.port in (None, 587)
    starttls = not ssl_mode and query.get("starttls", "true" if secure else "false").lower() in TRUE
    try:
        port = parts.port or (465 if ssl_mode else 587 if starttls else 25)
        timeout = float(query.get("timeout", "30"))
    except ValueError:
        raise InputError(f"PLANWATCH_SMTP_URL: {expected}; the port and timeout must be numbers") from None
    return SmtpConfig(
        parts.hostname,
        port,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        "ssl" if ssl_mode else "starttls" if starttls else "none",
        timeout,
        query.get("cafile"),
    )


class Pacer:
    """Spaces sends to at most ``per_minute`` a minute (0: no limit).

    It measures elapsed time with a performance counter (an interval, not the time of day; the
    clock module stays the only reader of the time), and both it and ``sleep`` can be injected.
    The connections of one channel share it: each takes the next free slot under a lock, then sleeps
    until its slot without holding the lock.
    """

    def __init__(
        self,
        per_minute: int,
        counter: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self.counter, self.sleep = counter, sleep
        self.next_at = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Return when the next message may go."""
        if not self.interval:
            return
        with self._lock:
            now = self.counter()
            slot = max(self.next_at, now)
            self.next_at = slot + self.interval
        if slot > now:
            self.sleep(slot - now)


@dataclass(frozen=True, slots=True)
class Wire:
    """A message ready for the wire: envelope sender, recipients and bytes (8bit as built; a
    server without 8BITMIME gets it made 7bit when it is sent)."""

    message: Message
    sender: str
    recipients: list[str]
    data: bytes


class SmtpChannel(Channel):
    """Delivers messages over one SMTP connection, opened at ``open`` and reused until ``close``;
    with ``pool`` above 1, ``lanes`` gives the dispatcher that many connections to send over at once."""

    waits = True  # on the server's replies: the dispatcher sends on a second thread and builds meanwhile

    def __init__(
        self,
        config: SmtpConfig,
        *,
        rate_per_minute: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        envelope_from: str | None = None,
        pool: int = 1,
    ) -> None:
        self.config = config
        self.pacer = Pacer(rate_per_minute)
        self._context = ssl_context
        self.envelope_from = envelope_from
        self._smtp: smtplib.SMTP | None = None
        self.connections = 0
        self.pool = max(1, pool)
        self._siblings: list[SmtpChannel] = []
        self._primed: Wire | None = None  # sent ahead: its envelope went with the last message's end of data

    def lanes(self) -> list[Channel]:
        """Return this channel and ``pool - 1`` more like it, one a connection, sharing the rate limit
        and the TLS context; each connects when its first message comes."""
        while len(self._siblings) < self.pool - 1:
            context = self.context if self.config.security != "none" else None
            sibling = SmtpChannel(self.config, ssl_context=context, envelope_from=self.envelope_from)
            sibling.pacer = self.pacer
            self._siblings.append(sibling)
        return [self, *self._siblings]

    @property
    def opened(self) -> int:
        """Return how many connections this channel and its lanes have opened."""
        return self.connections + sum(s.connections for s in self._siblings)

    def open(self) -> None:
        """Connect, secure and log in; raise ``DeliveryError`` (``pause`` for configuration faults)."""
        if self._smtp is not None:
            return
        try:
            self._smtp = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            raise smtp_error(exc, f"cannot use the mail server {self.config.describe()}") from None
        self.connections += 1

    @property
    def context(self) -> ssl.SSLContext:
        """Return the TLS context: the system's trusted CAs (or ``cafile``), made once when first needed."""
        if self._context is None:
            self._context = ssl.create_default_context(cafile=self.config.cafile)
        return self._context

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        smtp: smtplib.SMTP
        if cfg.security == "ssl":
            smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=self.context)
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        try:
            smtp.ehlo()
            if cfg.security == "starttls":
                smtp.starttls(context=self.context)
                smtp.ehlo()
            if cfg.username:
                smtp.login(cfg.username, cfg.password)
        except BaseException:
            _quietly_close(smtp)
            raise
        return smtp

    def deliver(self, message: Message | Wire) -> None:
        """Send one message over the open connection (opening it when needed) and wait for the reply."""
        self.start(message)
        self.finish()

    def deliver_ahead(self, message: Message | Wire, following: Any) -> None:
        """Send ``message``, and with its end of data the envelope of ``following`` (the next message on
        this connection, a ``Wire``), then wait for ``message``'s verdict.

        RFC 2920 lets the next MAIL FROM, RCPT TO and DATA follow a message's end of data in one write
        when the server offers PIPELINING: a message then costs one round trip instead of two. The next
        ``deliver`` or ``deliver_ahead`` of ``following`` reads the replies to its envelope and sends
        its content; ``close`` before that drops the connection instead of saying QUIT, and the server
        forgets the unfinished message.
        """
        self.start(message, following if isinstance(following, Wire) else None)
        self.finish()

    def wire(self, message: Message) -> Wire:
        """Return ``message`` made ready to send: its envelope and its bytes.

        The dispatcher calls this on the thread that builds messages, so that the sending thread
        does little but wait on the server (see ``pipeline``).
        """
        sender = self.envelope_from or _address_in(str(message["From"]))
        recipients = list(_addresses_in(tuple(str(v) for v in message.get_all("To", []))))
        return Wire(message, sender, recipients, as_bytes(message))

    def start(self, message: Message | Wire, following: Wire | None = None) -> None:
        """Send one message up to its final dot, without waiting for the server's verdict (``finish`` reads it);
        with ``following``, that message's envelope goes in the same write (see ``deliver_ahead``).

        Splitting the two lets the dispatcher build the next message while the server takes this
        one in; the replies are still read one by one, in order.
        """
        primed, self._primed = self._primed, None
        if primed is not None and primed is not message:  # not what was announced: end that transaction unsent
            self._drop()
        self.open()
        smtp = self._smtp
        assert smtp is not None
        wire = message if isinstance(message, Wire) else self.wire(message)
        data, options = _prepared(smtp, wire)
        if primed is not None and primed is message:
            self._guard(lambda: _envelope_replies(smtp, wire.sender, wire.recipients))
        elif smtp.has_extn("pipelining"):
            self._guard(lambda: _envelope_pipelined(smtp, wire.sender, wire.recipients, options))
        else:
            self._guard(lambda: _envelope(smtp, wire.sender, wire.recipients, options))
        ahead = following is not None and smtp.has_extn("pipelining")
        tail = _envelope_commands(following, _prepared(smtp, following)[1]) if following and ahead else ""
        self.pacer.wait()
        self._guard(lambda: smtp.send(_content(data) + tail.encode("ascii")))
        if following is not None and ahead:
            self._primed = following

    def finish(self) -> None:
        """Read the server's verdict on the message ``start`` sent; raise ``DeliveryError`` if it is not 250."""
        smtp = self._smtp
        assert smtp is not None
        self._guard(lambda: self._verdict(smtp))

    def _verdict(self, smtp: smtplib.SMTP) -> None:
        code, reply = smtp.getreply()
        if code != 250:
            if code == 421 or self._primed is None:  # (the next envelope's replies follow: no RSET between)
                _end_transaction(smtp, code)
            raise smtplib.SMTPDataError(code, reply)

    def _guard(self, step: Callable[[], None]) -> None:
        """Run one protocol step; map what goes wrong to a ``DeliveryError`` and drop a broken connection."""
        try:
            step()
        except (smtplib.SMTPException, OSError) as exc:
            error = smtp_error(exc, "the mail server refused the message")
            if error.connection_lost or self._smtp is None or self._smtp.sock is None:
                error.connection_lost = True
                self._drop()
            raise error from None

    def close(self) -> None:
        """Say goodbye to the server (QUIT) on every connection; a connection that already broke is just dropped."""
        for sibling in self._siblings:
            sibling.close()
        if self._smtp is None:
            return
        if self._primed is None:  # a message announced: the server waits for its content, and would read QUIT as it
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
        self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            _quietly_close(self._smtp)
        self._smtp = None
        self._primed = None


# Parsing an address is some ten microseconds of pure Python; a pass has one sender and a few messages a recipient.
@lru_cache(maxsize=4096)
def _address_in(header: str) -> str:
    """Return the address in a From header's value."""
    return parseaddr(header)[1]


@lru_cache(maxsize=4096)
def _addresses_in(headers: tuple[str, ...]) -> tuple[str, ...]:
    """Return the addresses in the values of To headers (the empty ones left out)."""
    return tuple(addr for _, addr in getaddresses(list(headers)) if addr)


@lru_cache(maxsize=4096)
def _quoted(address: str) -> str:
    """Return ``address`` as MAIL FROM and RCPT TO write it (``smtplib.quoteaddr``)."""
    return smtplib.quoteaddr(address)


def _envelope(smtp: smtplib.SMTP, sender: str, recipients: list[str], options: list[str]) -> None:
    """MAIL FROM, each RCPT TO and DATA, each waiting for its reply; raise as smtplib does on a refusal."""
    code, reply = smtp.mail(sender, options)
    if code != 250:
        _end_transaction(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for rcpt in recipients:
        code, reply = smtp.rcpt(rcpt)
        if code not in (250, 251):
            refused[rcpt] = (code, reply)
    if len(refused) == len(recipients):
        _end_transaction(smtp, max(c for c, _ in refused.values()))
        raise smtplib.SMTPRecipientsRefused(refused)
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        _end_transaction(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


def _prepared(smtp: smtplib.SMTP, wire: Wire) -> tuple[bytes, list[str]]:
    """Return the bytes to send for ``wire`` on this connection (made 7bit for a server without 8BITMIME)
    and its MAIL FROM options."""
    data = wire.data
    if not data.isascii() and not smtp.has_extn("8bitmime"):
        data = as_bytes(seven_bit(wire.message))
    options = ["BODY=8BITMIME"] if not data.isascii() else []
    if smtp.has_extn("size"):
        options.append(f"SIZE={len(data)}")
    return data, options


def _content(data: bytes) -> bytes:
    """Return the message's content as sent after DATA: dot-stuffed (RFC 5321 4.5.2), ended by a lone dot."""
    body = DOT_LINE.sub(b"..", data)
    return body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n"


def _envelope_commands(wire: Wire, options: list[str]) -> str:
    """Return MAIL FROM, every RCPT TO and DATA of ``wire`` as one pipelined group."""
    extra = "".join(f" {option}" for option in options)
    commands = [
        f"MAIL FROM:{_quoted(wire.sender)}{extra}",
        *(f"RCPT TO:{_quoted(r)}" for r in wire.recipients),
        "DATA",
    ]
    return "".join(f"{command}\r\n" for command in commands)


def _envelope_pipelined(smtp: smtplib.SMTP, sender: str, recipients: list[str], options: list[str]) -> None:
    """The same with PIPELINING (RFC 2920), for servers that offer it: MAIL FROM, every RCPT TO and
    DATA go in one write and their replies are read after, one round trip instead of two plus one
    a recipient (a relay across a network: about 1 ms each on a LAN, tens across the Internet)."""
    smtp.send(_envelope_commands(Wire(Message(), sender, recipients, b""), options))
    _envelope_replies(smtp, sender, recipients)


def _envelope_replies(smtp: smtplib.SMTP, sender: str, recipients: list[str]) -> None:
    """Read the replies to a pipelined MAIL FROM, RCPT TO... and DATA; raise as smtplib does on a refusal."""
    count = len(recipients) + 2
    replies: list[tuple[int, bytes]] = []
    for _ in range(count):
        replies.append(smtp.getreply())
        if replies[-1][0] == 421:  # the server is closing: no more replies will come
            smtp.close()
            break
    mail, rcpts, data = (
        replies[0],
        replies[1 : 1 + len(recipients)],
        replies[-1] if len(replies) == count else (421, b""),
    )
    refused = {r: reply for r, reply in zip(recipients, rcpts, strict=False) if reply[0] not in (250, 251)}
    refused.update({r: data for r in recipients[len(rcpts) :]})  # cut short by a 421
    failed = mail[0] != 250 or len(refused) == len(recipients)
    if failed and data[0] == 354:  # the server took DATA though nothing can be delivered: end it empty
        smtp.send(".\r\n")
        data = smtp.getreply()
    if mail[0] != 250:
        _end_transaction(smtp, mail[0])
        raise smtplib.SMTPSenderRefused(mail[0], mail[1], sender)
    if len(refused) == len(recipients):
        _end_transaction(smtp, max(code for code, _ in refused.values()))
        raise smtplib.SMTPRecipientsRefused(refused)
    if data[0] != 354:
        _end_transaction(smtp, data[0])
        raise smtplib.SMTPDataError(*data)


def _end_transaction(smtp: smtplib.SMTP, code: int) -> None:
    """After a refusal: 421 means the server is closing; otherwise RSET, so the connection serves the next message."""
    if code == 421:
        smtp.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):  # the refusal is what matters, as in smtplib
        smtp.rset()


def _quietly_close(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        smtp.close()


def smtp_error(exc: BaseException, context: str) -> DeliveryError:
    """Return the ``DeliveryError`` an smtplib or socket error means (see the module doc)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = max(exc.recipients.values(), key=lambda r: r[0])
        return _reply_error(code, text, context)
    if isinstance(exc, smtplib.SMTPSenderRefused) and exc.smtp_code >= 500:
        return _reply_error(exc.smtp_code, exc.smtp_error, context, sender=True)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryError(f"{context}: {exc}", pause=True, reply=str(exc))
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_error(exc.smtp_code, exc.smtp_error, context)
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return DeliveryError(f"{context}: TLS refused: {exc}", pause=True, reply=f"TLS: {exc}")
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError | socket.timeout | TimeoutError | OSError):
        return DeliveryError(
            f"{context}: connection lost: {exc or type(exc).__name__}",
            connection_lost=True,
            reply=f"connection lost: {exc or type(exc).__name__}",
        )
    return DeliveryError(f"{context}: {exc}", reply=str(exc))


def _reply_error(code: int, text: bytes | str, context: str, *, sender: bool = False) -> DeliveryError:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    reply = f"{code} {' '.join(words.split())}"
    if code in AUTH_CODES:
        return DeliveryError(f"{context}: authentication refused: {reply}", pause=True, reply=reply)
    if refuses_sender_or_relay(code, words) or (sender and code >= 500):
        return DeliveryError(f"{context}: the sender or the relaying is refused: {reply}", pause=True, reply=reply)
    return DeliveryError(f"{context}: {reply}", permanent=code >= 500, connection_lost=code == 421, reply=reply)


def refuses_sender_or_relay(code: int, text: str) -> bool:
    """Return True when a 5xx reply refuses the sender or the relaying (553, 5.7.x, 5.1.7, 5.1.8),
    not one recipient: a fault of the server's configuration or of ours, never of one message."""
    return code >= 500 and (code in SENDER_CODES or CONFIG_STATUS.match(text.strip()) is not None)
