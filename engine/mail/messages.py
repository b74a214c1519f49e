"""Turning a rendered template into an e-mail message that mail clients and people treat well.

The message (stdlib ``email``, the fast ``compat32`` classes with CRLF line ends) is
``multipart/mixed`` holding ``multipart/alternative`` (text, HTML) and, for a message about a
milestone, an ``.ics`` attachment (METHOD:PUBLISH, one all-day event). Its headers:

- ``Message-ID`` from the outbox key: a resend after a crash carries the same id;
- ``In-Reply-To``/``References`` to a per-action thread root, ``Thread-Topic``/``Thread-Index``
  for Outlook; escalations to supervisors have their own root, so their own thread;
- ``Auto-Submitted: auto-generated`` (RFC 3834), ``X-Auto-Response-Suppress: OOF, AutoReply``;
- ``List-Unsubscribe`` + ``List-Unsubscribe-Post`` (RFC 8058) to the recipient's preferences.

No text from the data ever becomes a header line of its own: every value is cut to one line
(``one_line``) and non-ASCII is RFC 2047 encoded, so CR/LF in a name or title cannot inject.

Calendar UIDs are the feeds' (``engine.calendars.uids``), so the attachment and the feed agree:
a milestone's event has the feed event's UID; an occurrence of a recurring action has the feed
series' UID with the occurrence's date as RECURRENCE-ID, so importing it updates that occurrence.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import charset as _charset
from email import policy as _policy
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from functools import lru_cache
from io import BytesIO
from typing import Any

from engine import languages
from engine.languages import gettext, ngettext
from engine.mail.render import MailIdentity, Rendered, one_line


class _Wire(_policy.Compat32):
    """``compat32`` with CRLF line ends and a fast path for the plain headers planwatch writes.

    An ASCII value without CR/LF (``header_value`` made sure) is written as it is when it fits
    in 78 characters, or when it has no space to fold at (a long URL; lines may reach 998);
    anything else (encoded words, long text) is folded by ``compat32`` as usual. This is what
    makes building a message ~10x cheaper than ``EmailMessage`` with the default policy.
    """

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if isinstance(value, str) and value.isascii() and "\n" not in value and "\r" not in value:
            length = len(name) + len(value) + 2
            if length <= (self.max_line_length or 78) or (length <= 998 and " " not in value):
                return f"{name}: {value}{self.linesep}"
        return str(super()._fold(name, value, sanitize))  # type: ignore[misc]


WIRE = _Wire(linesep="\r\n")
UTF8_QP = _charset.Charset("utf-8")  # headers (encoded words) and bodies with over-long lines
UTF8_QP.body_encoding = _charset.QP
UTF8_QP.header_encoding = _charset.BASE64
MAX_LINE = 998  # octets in a line of an 8bit body (RFC 5322 2.1.1)
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


def headline(kind: str, payload: Mapping[str, Any], today: date | None = None, language: str = "en") -> str:
    """Return what changed in the words people use, next to the date: "Due in 7 days (30 April 2000)".

    ``today`` is the recipient's local day when the message goes out; without it the planned
    ``days_left``/``days_overdue`` of the payload are used. Written in ``language`` (en, fr, es).
    """
    when = long_date(payload.get("date"), language)
    day = _day(payload.get("date"))
    asked = _asked(kind, payload)
    if asked == "stale":  # the owner's reminder of a long silence: since when nothing came, never a due date
        return gettext(language, "No update since %(date)s") % {"date": long_date(payload.get("since"), language)}
    if asked == "update":  # a step of the ladder after that reminder went unanswered
        return gettext(language, "No update since the reminder of %(day)s") % {"day": when}
    if asked == "check-in":  # a check-in is unanswered, not late by days
        return gettext(language, "Check-in of %(day)s unanswered") % {"day": when}
    if kind == "reminder":
        left = (day - today).days if today and day else int(payload.get("days_left", 0))
        return _reminder_headline(left, payload.get("what", "due") == "due", when, language)
    if kind in {"overdue", "escalation"}:
        late = max(0, (today - day).days) if today and day else int(payload.get("days_overdue", 0))
        if not late:
            return gettext(language, "Overdue (due %(date)s)") % {"date": when}
        text = ngettext(language, "%(num)d day overdue (due %(date)s)", "%(num)d days overdue (due %(date)s)", late)
        return text % {"num": late, "date": when}
    if kind == "checkin":
        return gettext(language, "Status update requested (%(date)s)") % {"date": when}
    if kind == "verification":
        waited = int(payload.get("days_waiting") or 0)
        if waited:
            text = ngettext(
                language,
                "Reported implemented %(num)d day ago: waiting for verification",
                "Reported implemented %(num)d days ago: waiting for verification",
                waited,
            )
            return text % {"num": waited}
        text = gettext(language, "Reported implemented on %(date)s: please verify")
        return text % {"date": long_date(payload.get("reported_on"), language)}
    if kind == "closure_returned":
        return gettext(language, "Returned: not yet verified as implemented")
    if kind == "closure_verified":
        return gettext(language, "Verified: it counts as implemented")
    if kind == "stale":
        return gettext(language, "No update since %(date)s") % {"date": long_date(payload.get("since"), language)}
    was, wanted = long_date(payload.get("from"), language), long_date(payload.get("to"), language)
    if kind == "extension":
        return gettext(language, "Extended to %(new)s (was due %(old)s)") % {"new": wanted, "old": was}
    if kind == "extension_requested":
        return gettext(language, "Extension requested: to %(new)s (due %(old)s)") % {"new": wanted, "old": was}
    if kind == "extension_refused":
        text = gettext(language, "Extension refused: still due %(old)s (asked for %(new)s)")
        return text % {"new": wanted, "old": was}
    return str(payload.get("occurrence", ""))


def _asked(kind: str, payload: Mapping[str, Any]) -> str:
    """Return what a notice that asked the owner a question is about: "stale" for the reminder of a long silence,
    "update" or "check-in" for a step of the ladder after it went unanswered, "" for anything else (a date)."""
    if kind == "reminder" and str(payload.get("occurrence", "")).startswith("stale "):
        return "stale"
    if kind in {"overdue", "escalation"} and payload.get("missed") in {"update", "check-in"}:
        return str(payload["missed"])
    return ""


def _reminder_headline(left: int, due: bool, when: str, language: str) -> str:
    """Return a reminder's headline: due (or starts) today, tomorrow, in N days; late resends say how long ago."""
    if left < 0:  # only a late resend can say this; the outbox drops such reminders as stale
        if due:
            text = ngettext(
                language, "Was due %(num)d day ago (%(date)s)", "Was due %(num)d days ago (%(date)s)", -left
            )
        else:
            text = ngettext(
                language, "Started %(num)d day ago (%(date)s)", "Started %(num)d days ago (%(date)s)", -left
            )
        return text % {"num": -left, "date": when}
    if left == 0:
        text = gettext(language, "Due today (%(date)s)") if due else gettext(language, "Starts today (%(date)s)")
    elif left == 1:
        text = gettext(language, "Due tomorrow (%(date)s)") if due else gettext(language, "Starts tomorrow (%(date)s)")
    elif due:
        text = ngettext(language, "Due in %(num)d day (%(date)s)", "Due in %(num)d days (%(date)s)", left)
    else:
        text = ngettext(language, "Starts in %(num)d day (%(date)s)", "Starts in %(num)d days (%(date)s)", left)
    return text % {"num": left, "date": when}


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def long_date(value: object, language: str = "en") -> str:
    """Return an ISO date as people write it in ``language``: 30 April 2000, 30 avril 2000, 30 de abril de 2000."""
    try:
        return _long_date(value, language)
    except TypeError:  # an unhashable value (no date): written without the cache
        return _written_date(value, language)


@lru_cache(maxsize=4096)  # a message writes some ten dates, most of them the same few days of the pass (or none)
def _long_date(value: object, language: str) -> str:
    return _written_date(value, language)


def _written_date(value: object, language: str) -> str:
    day = _day(value)
    if day is None:
        return gettext(language, "no date")
    return f"{day.day} {day:%B %Y}" if language == "en" else _long_day(day, language)


@lru_cache(maxsize=4096)
def _long_day(value: date, language: str) -> str:
    return languages.day(value, language)


def message_id(key: str, domain: str = "planwatch.invalid") -> str:
    """Return a Message-ID derived from the outbox key: a resend carries the same id."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def thread_key(plan_id: str, ref: str, thread: str) -> str:
    """Return the key of an action's thread: ``thread`` is "action" (its owner) or "escalation" (supervisors)."""
    return f"{plan_id}/{ref}|thread|{thread}"


@lru_cache(maxsize=4096)  # a thread's messages to its several readers share it
def thread_root(key: str, domain: str = "planwatch.invalid") -> str:
    """Return the Message-ID of a thread's root (never sent itself: clients thread on the reference)."""
    return f"<thread-{hashlib.sha256(key.encode()).hexdigest()[:24]}@{domain}>"


def _filetime(moment: datetime) -> int:
    """Return a Windows FILETIME: 100-nanosecond intervals since 1601-01-01 UTC."""
    return (moment - _FILETIME_EPOCH) // timedelta(microseconds=1) * 10


def thread_index(key: str, started: datetime, sent: datetime) -> str:
    """Return Outlook's Thread-Index ([MS-OXOMSG] 2.2.1.3) of a reply in thread ``key``.

    Header block: the top 6 bytes of the FILETIME of ``started`` and a 16-byte GUID from
    ``key``; one child block for the time from ``started`` to ``sent`` (both aware).
    """
    digest = hashlib.sha256(key.encode()).digest()
    header = _filetime(started).to_bytes(8, "big")[:6] + digest[:16]
    delta = max(0, _filetime(sent) - (int.from_bytes(header[:6], "big") << 16))
    code, value = (0, delta >> 18) if delta < 1 << 49 else (1, delta >> 23)
    child = ((code << 31) | (value & 0x7FFFFFFF)).to_bytes(4, "big") + bytes([digest[16] & 0xF0])
    return base64.b64encode(header + child).decode("ascii")


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One all-day milestone for the ``.ics`` attachment; ``stamp`` (aware) comes from the data.

    ``recurrence_id`` is the occurrence's date when the event is one occurrence of a series.
    """

    uid: str
    day: date
    summary: str
    description: str
    stamp: datetime
    filename: str
    recurrence_id: date | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """Everything about one message except its bodies. Datetimes are aware.

    ``sent`` becomes the Date header (shown in ``zone``); ``thread`` is a ``thread_key`` or None
    (digests stand alone); ``started`` is when the thread began (for Thread-Index).
    """

    key: str
    to: tuple[str, str]
    sent: datetime
    preferences: str
    thread: str | None = None
    started: datetime | None = None
    event: CalendarEvent | None = None
    zone: Any = UTC


def header_value(value: str) -> str | Header:
    """Return ``value`` fit for a header: one line, and RFC 2047 encoded when it is not ASCII."""
    text = one_line(value)
    return text if text.isascii() else Header(text, UTF8_QP)


@lru_cache(maxsize=4096)
def address(name: str, email: str) -> str:
    """Return ``Name <email>`` with the name on one line and encoded when not ASCII; refuse a bad address."""
    if not email or not email.isprintable() or any(ch.isspace() for ch in email) or email.count("@") != 1:
        raise ValueError(f"not a usable e-mail address: {email!r}")
    return formataddr((one_line(name), email), charset=UTF8_QP)


def build_message(rendered: Rendered, envelope: Envelope, identity: MailIdentity) -> Message:
    """Return the complete message for ``rendered`` bodies and ``envelope`` (see the module doc)."""
    seed = hashlib.sha256(envelope.key.encode()).hexdigest()[:24]
    parts = [_text(rendered.text, "plain")] + ([_text(rendered.html, "html")] if rendered.html is not None else [])
    body = _multipart("alternative", f"=_alt_{seed}", parts)
    msg = (
        body if envelope.event is None else _multipart("mixed", f"=_mix_{seed}", [body, calendar_part(envelope.event)])
    )
    _headers(msg, rendered, envelope, identity)
    return msg


def _multipart(subtype: str, boundary: str, parts: list[Message]) -> Message:
    """Return a multipart holding ``parts``; the boundary comes from the outbox key, so output is stable."""
    multi = Message(policy=WIRE)
    multi["Content-Type"] = f'multipart/{subtype}; boundary="{boundary}"'
    for part in parts:
        multi.attach(part)
    return multi


def _text(body: str, subtype: str) -> Message:
    """Return a text part: UTF-8 as it is (7bit/8bit: no encoding cost, readable source), or
    quoted-printable when a line is too long for 8bit."""
    ascii = body.isascii()
    octets = body.encode("utf-8")
    # Octet lines: only LF (and CR before it) ends one on the wire; a UTF-8 sequence never holds an LF.
    if max(map(len, octets.split(b"\n"))) > MAX_LINE:
        encoded = MIMEText(body, subtype, UTF8_QP, policy=WIRE)  # type: ignore[arg-type]  # a Charset picks QP
        del encoded["MIME-Version"]  # only the top of the message says it
        return encoded
    part = Message(policy=WIRE)
    # The two headers as ``part[name] = value`` stores them with compat32, set in one go.
    headers = _text_headers(subtype, ascii)
    part._headers = list(headers[0])  # type: ignore[attr-defined]
    # What MIMEText does for an 8bit charset, without its header parsing: the payload holds the
    # UTF-8 octets (surrogate-escaped), which the bytes generator writes out unchanged (ASCII is its own).
    part.set_payload(body if ascii else octets.decode("ascii", "surrogateescape"))
    # Its bytes on the wire, kept as ``_freeze`` keeps a shared part's: the UTF-8 octets as they are, not the
    # surrogate-escaped text encoded again.
    lines = octets.replace(b"\n", b"\r\n") if b"\r" not in octets else _NEWLINE_OCTETS.sub(b"\r\n", octets)
    part._planwatch_wire = (headers[0], part._payload, headers[1] + lines)  # type: ignore[attr-defined]
    return part


@lru_cache(maxsize=64)
def _text_headers(subtype: str, ascii: bool) -> tuple[list[tuple[str, str]], bytes]:
    """Return a text part's headers and their bytes on the wire (with the blank line that ends them)."""
    headers = [
        ("Content-Type", f'text/{subtype}; charset="utf-8"'),
        ("Content-Transfer-Encoding", "7bit" if ascii else "8bit"),
    ]
    return headers, b"".join(_fold_binary(k, v) for k, v in headers) + b"\r\n"


_NEWLINE_OCTETS = re.compile(rb"\r\n|\r|\n")  # the generator's NLCRE, for octets


def seven_bit(msg: Message) -> Message:
    """Return a copy of ``msg`` whose 8bit parts are quoted-printable: for a server without 8BITMIME."""
    copy = deepcopy(msg)
    for part in copy.walk():
        if part.get("Content-Transfer-Encoding") == "8bit":
            body = part.get_payload(decode=True)
            assert isinstance(body, bytes)
            del part["Content-Transfer-Encoding"]
            part.set_payload(body.decode("utf-8"), UTF8_QP)
    return copy


def _headers(msg: Message, rendered: Rendered, envelope: Envelope, identity: MailIdentity) -> None:
    # Headers go first in a fixed order; the MIME headers the constructors set move below them. The list
    # is set in one go: what ``msg[name] = value`` stores with compat32 (``header_store_parse`` keeps both).
    subject = header_value(rendered.subject)  # a Header is what compat32 encodes
    headers: list[tuple[str, Any]] = [
        ("From", address(identity.sender_name, identity.sender_address)),
        ("To", address(*envelope.to)),
        ("Subject", subject),
        ("Date", _date_header(envelope.sent, envelope.zone)),
        ("Message-ID", message_id(envelope.key, identity.domain)),
    ]
    if envelope.thread is not None:
        root = thread_root(envelope.thread, identity.domain)
        headers += [
            ("In-Reply-To", root),
            ("References", root),
            ("Thread-Topic", subject),
            ("Thread-Index", thread_index(envelope.thread, envelope.started or envelope.sent, envelope.sent)),
        ]
    headers += [
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "OOF, AutoReply"),
        ("List-Unsubscribe", f"<{envelope.preferences}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("X-Planwatch-Key", header_value(envelope.key)),
        ("MIME-Version", "1.0"),
    ]
    assert isinstance(msg.policy, _policy.Compat32)
    msg._headers = headers + list(msg.raw_items())  # type: ignore[attr-defined]


@lru_cache(maxsize=256)  # a pass sends at one instant to readers in a handful of zones
def _date_header(sent: datetime, zone: Any) -> str:
    return format_datetime(sent.astimezone(zone))


@lru_cache(maxsize=4096)
def calendar_part(event: CalendarEvent) -> Message:
    """Return the ``.ics`` attachment of ``event``; one part object serves every recipient of it."""
    part = _text(calendar_text(event), "calendar")
    # What ``part.set_param("method", "PUBLISH")`` makes of the text part's headers, without parsing them:
    # the Content-Type with the parameter added, moved after the others.
    raw = part._headers  # type: ignore[attr-defined]
    ctype = next(v for k, v in raw if k == "Content-Type")
    part._headers = [(k, v) for k, v in raw if k != "Content-Type"] + [  # type: ignore[attr-defined]
        ("Content-Type", f'{ctype}; method="PUBLISH"')
    ]
    part.add_header("Content-Disposition", "attachment", filename=event.filename)
    return _freeze(part)


def calendar_text(event: CalendarEvent) -> str:
    """Return the iCalendar text of one all-day event, METHOD:PUBLISH (never REQUEST: no Accept/Decline).

    Written as ``icalendar`` writes it (canonical property order, escaping, folding at 75 octets;
    a test compares the two) with the feeds' line writer: one message each, so it is a hot path.
    """
    from engine.calendars.text import line, text_line, utc, ymd

    return "".join(
        (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//planwatch//planwatch//EN\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\n",
            text_line("SUMMARY", one_line(event.summary)),
            f"DTSTART;VALUE=DATE:{ymd(event.day)}\r\nDTEND;VALUE=DATE:{ymd(event.day + timedelta(days=1))}\r\n"
            f"DTSTAMP:{utc(event.stamp.astimezone(UTC))}\r\n",
            line("UID", event.uid),
            "" if event.recurrence_id is None else f"RECURRENCE-ID;VALUE=DATE:{ymd(event.recurrence_id)}\r\n",
            text_line("DESCRIPTION", event.description),
            "TRANSP:TRANSPARENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        )
    )


def as_bytes(msg: Message) -> bytes:
    """Return the message as it goes on the wire (CRLF line ends): what ``BytesGenerator`` writes.

    The shapes planwatch builds (text parts, multiparts with a plain ``boundary``) are written
    directly, about 5x faster; anything else (a preamble, a message/* part, a header object
    that writes itself) goes through ``BytesGenerator``. A test compares the two.
    """
    out: list[bytes] = []
    return b"".join(out) if _flat(msg, out) else generated(msg)


def generated(msg: Message) -> bytes:
    """Return the message as ``BytesGenerator`` writes it with the wire policy."""
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=WIRE).flatten(msg)
    return out.getvalue()


_NEWLINES = re.compile(r"\r\n|\r|\n")  # the generator's NLCRE
_BOUNDARY = re.compile(r'multipart/[A-Za-z0-9.+-]+; boundary="([^"\\]+)"')


def _flat(msg: Message, out: list[bytes]) -> bool:
    """Append ``msg`` to ``out`` as ``BytesGenerator`` (policy WIRE, no From mangling) writes it; return False,
    having appended nothing, for any shape this does not know."""
    if hasattr(msg, "_write_headers") or msg.preamble is not None or msg.epilogue is not None:
        return False
    raw = msg._headers  # type: ignore[attr-defined]
    ctype = next((v for k, v in raw if k.lower() == "content-type"), None)
    if not isinstance(ctype, str):
        return False
    kind = ctype.split(";", 1)[0].strip().lower()
    if kind.count("/") != 1:
        return False
    payload = msg._payload  # type: ignore[attr-defined]
    kept = getattr(msg, "_planwatch_wire", None)  # a shared part's bytes, while its headers and payload are those
    if kept is not None and kept[1] is payload and kept[0] == raw:
        out.append(kept[2])
        return True
    head = b"".join(_fold_binary(k, v) for k, v in raw) + b"\r\n"
    if kind.startswith("multipart/"):
        found = _BOUNDARY.fullmatch(ctype)
        if found is None or not isinstance(payload, list):
            return False
        mark = found[1].encode("ascii")
        body: list[bytes] = []
        for n, part in enumerate(payload):
            body.append(b"--" + mark + b"\r\n" if n == 0 else b"\r\n--" + mark + b"\r\n")
            if not _flat(part, body):
                return False
        if not payload:
            body.append(b"--" + mark + b"\r\n")
        body.append(b"\r\n--" + mark + b"--\r\n")
        out.append(head)
        out.extend(body)
        return True
    if kind.startswith("message/") or not (payload is None or isinstance(payload, str)):
        return False
    out.append(head)
    if payload:
        lines = payload.replace("\n", "\r\n") if "\r" not in payload else _NEWLINES.sub("\r\n", payload)
        out.append(lines.encode("ascii", "surrogateescape"))
    return True


def _fold_binary(name: str, value: Any) -> bytes:
    if isinstance(value, str) and value.isascii() and "\n" not in value and "\r" not in value:
        length = len(name) + len(value) + 2
        if length <= 78 or (length <= 998 and " " not in value):
            return f"{name}: {value}\r\n".encode("ascii")
        return _folded(name, value, value)  # long text folded at spaces: the same subject goes to many people
    if isinstance(value, Header):  # encoded words, likewise
        return _folded(name, _header_key(value), value)
    return WIRE.fold_binary(name, value)


def _header_key(h: Header) -> tuple[Any, ...]:
    """What ``Header.encode`` writes depends on: its chunks with their charsets, and its layout."""
    chunks = tuple(
        (text, c.input_charset, c.header_encoding, c.output_charset, c.input_codec, c.output_codec)
        for text, c in h._chunks  # type: ignore[attr-defined]
    )
    return (chunks, h._maxlinelen, h._headerlen, h._continuation_ws)  # type: ignore[attr-defined]


_FOLDED: dict[tuple[str, Any], bytes] = {}


def _folded(name: str, key: Any, value: str | Header) -> bytes:
    """The header folded by ``compat32``, kept for the next message with the same one (``key`` says what it is)."""
    found = _FOLDED.get((name, key))
    if found is None:
        if len(_FOLDED) >= 4096:
            _FOLDED.clear()
        found = _FOLDED[(name, key)] = WIRE.fold_binary(name, value)  # type: ignore[arg-type]  # compat32 folds a Header
    return found


def _freeze(part: Message) -> Message:
    """Keep the wire bytes of a part shared by many messages (``_flat`` checks they still match it)."""
    out: list[bytes] = []
    if _flat(part, out):
        part._planwatch_wire = (list(part._headers), part._payload, b"".join(out))  # type: ignore[attr-defined]
    return part
