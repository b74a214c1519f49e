"""E-mail speed, side by side: building messages and delivering them to a local aiosmtpd.

    .venv/bin/python bench/bench_email.py [--messages 10000] [--build 2000]

1. Build: the same rendered templates made into complete messages (text + HTML + .ics, every
   header), the naive way (``EmailMessage``, default policy, ``set_content``/``add_alternative``/
   ``add_attachment``) against planwatch's (``engine.mail.messages``: compat32 with a fast header
   policy, the calendar part built once per milestone). A sample of each is parsed back and
   checked. Goal: planwatch >= 1,000 complete messages/s. The CPU time per message of each
   (``process_time``, which moves little with the machine's load) is printed at the end.
2. Connections: already-built messages sent with a new SMTP connection per message against one
   reused connection (planwatch's channel either way).
3. End to end: N pending outbox rows in SQLite -> ``outbox.dispatch`` (context, render, build,
   send, mark sent, one commit per message) -> aiosmtpd in its own process. Goal: >= 500/s.
Building and sending run ``--rounds`` rounds (3) on each side, in turn; medians are printed, the
best beside them. Not a test: nothing here runs in ``make test``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage, Message
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import _world  # noqa: E402
from sqlalchemy import Engine, insert, select  # noqa: E402

from engine.channels.smtp import SmtpChannel, SmtpConfig  # noqa: E402
from engine.drive.dispatch import dispatch  # noqa: E402
from engine.mail.compose import ContextCache, compose  # noqa: E402
from engine.mail.context import envelope_for  # noqa: E402
from engine.mail.messages import as_bytes, calendar_text, message_id, thread_index, thread_root  # noqa: E402
from engine.mail.render import MailIdentity, Renderer  # noqa: E402
from engine.store import make_engine, upgrade  # noqa: E402
from engine.store.models import Action, Outbox, Owner, Plan, Section  # noqa: E402
from tests.smtpserver import free_port  # noqa: E402

NOW = datetime(2000, 3, 31, 7, 0, tzinfo=UTC)
ZONES = ("Europe/Zurich", "Asia/Bangkok", "America/Lima", "Africa/Nairobi", "America/New_York")
IDENTITY = MailIdentity(
    sender="planwatch <planwatch@example.org>", base_url="https://plans.example.org", secret_key="bench"
)
HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Thread-Topic",
    "Thread-Index",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)


def make_world(path: Path, actions: int, recipients: int) -> Engine:
    """Return a SQLite database with ``actions`` x ``recipients`` pending reminders due at NOW."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(Plan.__table__),
            [
                {  # type: ignore[attr-defined]
                    "id": "bench",
                    "title": "Benchmark plan",
                    "symbol": "B/1",
                    "body": "",
                    "ref_date": date(2000, 1, 1),
                    "timezone": "Europe/Zurich",
                    "fy_start": None,
                    "source": "",
                    "source_format": "",
                    "imported_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )
        conn.execute(
            insert(Section.__table__),
            [  # type: ignore[attr-defined]
                {
                    "plan_id": "bench",
                    "key": "I",
                    "parent_key": None,
                    "level": "part",
                    "number": "I",
                    "title": "Part one",
                    "context": "",
                    "ordinal": 1,
                },
                {
                    "plan_id": "bench",
                    "key": "I.1",
                    "parent_key": "I",
                    "level": "issue",
                    "number": "1",
                    "title": "Everything",
                    "context": "",
                    "ordinal": 2,
                },
            ],
        )
        conn.execute(
            insert(Owner.__table__),
            [  # type: ignore[attr-defined]
                {
                    "id": f"o{j}",
                    "name": f"Owner Number {j} Müller",
                    "email": f"owner{j}@example.org",
                    "timezone": ZONES[j % len(ZONES)],
                    "supervisor_id": None,
                    "delegate_id": None,
                    "digest": "none",
                    "role": "owner",
                }
                for j in range(recipients)
            ],
        )
        conn.execute(insert(Action.__table__), [_action(i) for i in range(actions)])  # type: ignore[attr-defined]
        ids = [r[0] for r in conn.execute(select(Action.__table__.c.id).order_by(Action.__table__.c.id))]  # type: ignore[attr-defined]
        rows = [_row(a, i, j) for i, a in enumerate(ids) for j in range(recipients)]
        for start in range(0, len(rows), 2000):
            conn.execute(insert(Outbox.__table__), rows[start : start + 2000])  # type: ignore[attr-defined]
    return engine


def _action(i: int) -> dict[str, Any]:
    return {
        "plan_id": "bench",
        "ref": f"I.1.{i + 1}",
        "section_key": "I.1",
        "subheading": "",
        "ordinal": i + 1,
        "title": f"Action {i + 1}: prepare and circulate the report on technical cooperation in the region",
        "description": "",
        "timeframe": "By April 2000",
        "timeframe_proposed": None,
        "owner_id": "o0",
        "owner_source": "",
        "status": "open",
        "status_note": "",
        "kind": "deadline",
        "start": None,
        "due": date(2000, 4, 30),
        "rrule": None,
        "milestones": [],
        "event": None,
        "after_ref": None,
        "needs_review": False,
        "reason": "",
        "override": {},
        "created_at": NOW,
        "updated_at": NOW,
        "removed_at": None,
        "tags": [],
        "next_fire_at": None,
        "planned_through": NOW,
        "extended_to": None,
        "last_completed": None,
        "last_progress_at": None,
        "policy": "deadlines",
    }


def _row(action_id: int, i: int, j: int) -> dict[str, Any]:
    return {
        "key": f"bench/I.1.{i + 1}|2000-04-30|remind:due:30d|o{j}",
        "plan_id": "bench",
        "action_id": action_id,
        "occurrence": "2000-04-30",
        "step": "remind:due:30d",
        "type": "reminder",
        "level": 0,
        "recipient": f"owner{j}@example.org",
        "recipient_id": f"o{j}",
        "template": "reminder",
        "due_at": NOW,
        "status": "pending",
        "reason": "",
        "attempts": 0,
        "last_error": "",
        "payload": {
            "role": "owner",
            "date": "2000-04-30",
            "days_left": 30,
            "what": "due",
            "role_tz": ZONES[j % len(ZONES)],
        },
        "created_at": NOW,
        "sent_at": None,
        "next_attempt_at": None,
        "message_id": None,
    }


def pending(engine: Engine, limit: int) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(Outbox.__table__)
                .where(Outbox.__table__.c.status == "pending")  # type: ignore[attr-defined]
                .order_by(Outbox.__table__.c.id)
                .limit(limit)
            ).mappings()
        )  # type: ignore[attr-defined]


def naive(renderer: Renderer, contexts: ContextCache, row: Any) -> bytes:
    """The message as the stdlib makes it with the defaults: EmailMessage and the default policy."""
    context, facts = contexts.context_and_facts(row, NOW)
    rendered = renderer.render(row["template"], context)
    envelope = envelope_for(row, context, facts, NOW)
    msg = EmailMessage()
    msg["From"] = formataddr((IDENTITY.sender_name, IDENTITY.sender_address))
    msg["To"] = formataddr(envelope.to)
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = message_id(row["key"], IDENTITY.domain)
    assert envelope.thread is not None and envelope.event is not None
    msg["In-Reply-To"] = msg["References"] = thread_root(envelope.thread, IDENTITY.domain)
    msg["Thread-Topic"] = rendered.subject
    msg["Thread-Index"] = thread_index(envelope.thread, envelope.started or NOW, NOW)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    msg["List-Unsubscribe"] = f"<{envelope.preferences}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html or "", subtype="html")
    msg.add_attachment(
        calendar_text(envelope.event).encode(),
        maintype="text",
        subtype="calendar",
        filename=envelope.event.filename,
        params={"method": "PUBLISH"},
    )
    return msg.as_bytes(policy=email_policy.SMTP)


def planwatch(renderer: Renderer, contexts: ContextCache, row: Any) -> bytes:
    """The message as the outbox makes it."""
    return as_bytes(compose(renderer, contexts, row, NOW))


def check(raw: bytes) -> None:
    """Parse a built message back: every header, text + HTML, and the calendar attachment."""
    msg = message_from_bytes(raw, policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    missing = [h for h in HEADERS if not msg[h]]
    assert not missing, missing
    assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
    assert [p.get_content_type() for p in msg.iter_attachments()] == ["text/calendar"]


def measure(
    build: Callable[[Renderer, ContextCache, Any], bytes], engine: Engine, rows: list[Any]
) -> tuple[float, list[bytes], float]:
    """Return (messages per second, the messages, CPU ms per message) for building every row once, contexts read
    as the outbox does (a pass's rows read ahead). The CPU time (``process_time``) moves little with the load."""
    renderer = Renderer([ROOT / "templates"], IDENTITY)
    with engine.connect() as conn:
        contexts = ContextCache(conn, IDENTITY)
        contexts.preload(rows)
        build(renderer, contexts, rows[0])  # templates compiled, caches warm, as in a running service
        started, cpu = time.perf_counter(), time.process_time()
        built = [build(renderer, contexts, row) for row in rows]
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    for raw in built[:: max(1, len(built) // 50)]:
        check(raw)
    return len(rows) / elapsed, built, cpu * 1000 / len(rows)


class Sink:
    """aiosmtpd in its own process, counting what it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def stop(self) -> dict[str, int]:
        out, _ = self.proc.communicate("", timeout=60)
        return dict(json.loads(out.strip().splitlines()[-1]))


def connections(port: int, messages: list[Message]) -> tuple[float, float]:
    """Return messages/s with a new connection per message, and over one reused connection."""
    config = SmtpConfig("127.0.0.1", port, security="none")
    channel = SmtpChannel(config)
    started = time.perf_counter()
    for msg in messages:
        channel.open()
        channel.deliver(msg)
        channel.close()
    fresh = len(messages) / (time.perf_counter() - started)
    channel = SmtpChannel(config)
    started = time.perf_counter()
    channel.open()
    for msg in messages:
        channel.deliver(msg)
    channel.close()
    return fresh, len(messages) / (time.perf_counter() - started)


def end_to_end(engine: Engine, port: int, total: int) -> float:
    """Return messages/s for dispatching every pending row to the sink (one pass, one connection)."""
    renderer = Renderer([ROOT / "templates"], IDENTITY)
    started = time.perf_counter()
    stats = dispatch(engine, SmtpChannel(SmtpConfig("127.0.0.1", port, security="none")), renderer, NOW, cap=total)
    elapsed = time.perf_counter() - started
    assert stats.sent == total, stats
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="end to end: outbox rows to deliver")
    parser.add_argument("--build", type=int, default=2_000, help="messages built by each builder")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of building and of sending, both sides")
    args = parser.parse_args()
    _world.header("planwatch e-mail benchmark")
    with tempfile.TemporaryDirectory(prefix="planwatch-bench-") as tmp:
        recipients = 10
        engine = make_world(Path(tmp) / "bench.db", max(args.messages, args.build) // recipients, recipients)
        rows = pending(engine, args.build)
        naive_runs, fast_runs, built = [], [], []
        for _ in range(args.rounds):  # in turns: a machine that speeds up or slows down favours neither
            rate, _, cpu = measure(naive, engine, rows)
            naive_runs.append((rate, cpu))
            rate, built, cpu = measure(planwatch, engine, rows)
            fast_runs.append((rate, cpu))
        sink = Sink()
        try:
            sample = [message_from_bytes(raw) for raw in built[:500]]
            sends = [connections(sink.port, sample) for _ in range(args.rounds)]
            e2e = end_to_end(engine, sink.port, len(pending(engine, args.messages)))
        finally:
            counted = sink.stop()
        engine.dispose()
    assert counted["received"] == 2 * len(sample) * args.rounds + args.messages, counted
    median = statistics.median
    naive_rate, fast_rate = median(r for r, _ in naive_runs), median(r for r, _ in fast_runs)
    fresh, reused = median(f for f, _ in sends), median(r for _, r in sends)
    print(f"medians of {args.rounds} rounds on each side; the best rounds below the table")
    report(naive_rate, fast_rate, fresh, reused, e2e, args.messages)
    print(
        f"best rounds: build naive {max(r for r, _ in naive_runs):,.0f}/s, "
        f"planwatch {max(r for r, _ in fast_runs):,.0f}/s; "
        f"send new connection {max(f for f, _ in sends):,.0f}/s, reused {max(r for _, r in sends):,.0f}/s"
    )
    naive_cpu, fast_cpu = median(c for _, c in naive_runs), median(c for _, c in fast_runs)
    print(
        f"CPU per message built (context, render, build, bytes), median: planwatch {fast_cpu:.3f} ms "
        f"(best {min(c for _, c in fast_runs):.3f}), naive {naive_cpu:.3f} ms "
        f"(best {min(c for _, c in naive_runs):.3f}): "
        f"planwatch {naive_cpu / fast_cpu:.1f}x less"
    )
    _world.footer()


def report(naive_rate: float, fast_rate: float, fresh: float, reused: float, e2e: float, total: int) -> None:
    print(f"{'':44} {'msg/s':>9}  ratio")
    print(f"{'build: naive (EmailMessage, default policy)':44} {naive_rate:9,.0f}  1.00")
    print(
        f"{'build: planwatch':44} {fast_rate:9,.0f}  {fast_rate / naive_rate:4.2f}  "
        f"(goal >= 1,000: {'ok' if fast_rate >= 1000 else 'MISSED'})"
    )
    print(f"{'send: new connection per message':44} {fresh:9,.0f}  1.00")
    print(f"{'send: one reused connection':44} {reused:9,.0f}  {reused / fresh:4.2f}")
    print(
        f"{f'end to end: {total:,} outbox rows -> aiosmtpd':44} {e2e:9,.0f}  {e2e / fresh:4.2f}  "
        f"(goal >= 500: {'ok' if e2e >= 500 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
