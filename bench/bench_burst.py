"""Bursts and firing with the real work, side by side with APScheduler 3.

    .venv/bin/python bench/bench_burst.py [--burst 1000] [--latency-ms 30] [--peak 10000] [--fire 1000]

1. Burst: ``--burst`` messages due at one instant, delivered to a relay that answers each message
   ``--latency-ms`` late (aiosmtpd in its own process; the wait does not hold up its other
   connections). planwatch: the service's dispatch step (passes of 200 rows, each rendered, built,
   sent over ``PLANWATCH_SMTP_CONNECTIONS`` connections, marked sent) with 8 connections (the
   default) and 16. APScheduler 3: one date job a message, its default thread pool (10 threads),
   each job sending the same message with smtplib (a connection per job, as a job does), once with
   ``misfire_grace_time=None`` (every job runs, however late) and once with its default grace of
   1 s (a job that starts later is dropped: counted and printed).
2. Peak: ``planwatch run --interval 60`` in its own process, ``--peak`` messages queued for one
   instant a few seconds after it started (a 09:00 peak), to a relay without latency: how late each
   message arrived (p50, p99, the last), measured by the relay's clock.
3. Firing with the real work: ``--fire`` messages due at one instant, delivered to a Maildir and to
   a local SMTP server without latency. planwatch: one dispatch pass (render, build, deliver, mark);
   without rendering: the counting pass the simulator uses (no message built). APScheduler 3
   (``misfire_grace_time=None``, 10 threads): one date job a message that renders the same Jinja2
   templates with the same context (``email/reminder.txt.j2`` and ``.html.j2``), builds the message
   with ``EmailMessage`` and writes it to a Maildir (``mailbox.Maildir``) or sends it with smtplib;
   without rendering: each job delivers the same finished message. Busy tick: the same with
   planwatch's whole tick (plan 1,000 due actions of a 10,000-action world, then dispatch).

Each burst and firing row is the median of ``--rounds`` rounds (3), the same on both sides, run in
turn; the best is printed beside it. The load average at the start and the machine are printed:
the machine may be shared. Not a test.
"""

from __future__ import annotations

import argparse
import json
import logging
import mailbox
import os
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import _world as world  # noqa: E402  (the repository root and bench/ must be importable first)
from bench_email import IDENTITY, NOW, make_world  # noqa: E402
from sqlalchemy import Engine, select, text, update  # noqa: E402

from engine.channels import Channel, NullChannel  # noqa: E402
from engine.channels.maildir import MaildirChannel  # noqa: E402
from engine.channels.smtp import SmtpChannel, SmtpConfig  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.drive.dispatch import dispatch  # noqa: E402
from engine.drive.tick import dispatch_step, run_tick  # noqa: E402
from engine.mail.compose import ContextCache, compose  # noqa: E402
from engine.mail.messages import as_bytes  # noqa: E402
from engine.mail.render import Renderer  # noqa: E402
from engine.rules.loader import load_rules  # noqa: E402
from engine.store import make_engine  # noqa: E402
from engine.store.tables import OUTBOX  # noqa: E402
from tests.smtpserver import free_port  # noqa: E402

TEMPLATES = ROOT / "templates"
ROWS: list[tuple[str, str, str, str]] = []  # what, planwatch, peer, ratio


def add(what: str, ours: str, peer: str, ratio: str = "") -> None:
    ROWS.append((what, ours, peer, ratio))
    print(f"  {what}: planwatch {ours} | APScheduler 3 {peer} {ratio}", flush=True)


# ----- a relay in its own process -------------------------------------------------------------


def serve_relay(port: int, latency: float, network: bool = False) -> None:
    """Run an aiosmtpd relay offering PIPELINING (as Postfix, Exim and Exchange do); print "ready", and
    when standard input closes, a JSON line: how many messages, how many Message-IDs, the arrival times
    and the relay's CPU seconds.

    ``network`` False: the relay answers each message ``latency`` s late (its end-of-data reply: the
    time a relay takes to queue a message), one message after another on a connection. True: the relay
    answers at once, and every reply reaches the client ``latency`` s later (a relay across a network:
    a delay line in front of it, so replies to pipelined commands overlap in flight)."""
    import asyncio

    from aiosmtpd.controller import Controller

    class Relay:
        def __init__(self) -> None:
            self.arrivals: list[float] = []
            self.ids: set[bytes] = set()

        async def handle_EHLO(
            self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
        ) -> list[str]:
            session.host_name = hostname
            return [*responses[:-1], "250-PIPELINING", responses[-1]]

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.arrivals.append(time.time())
            data = bytes(envelope.original_content or envelope.content)
            start = data.find(b"\nMessage-ID: ")
            self.ids.add(data[start : data.find(b"\r", start + 1)] if start >= 0 else data[:200])
            if latency and not network:
                await asyncio.sleep(latency)
            return "250 OK: queued"

    relay = Relay()
    inner = free_port() if network else port
    controller = Controller(relay, hostname="127.0.0.1", port=inner)
    controller.start()
    if network:
        threading.Thread(target=lambda: asyncio.run(delay_line(port, inner, latency)), daemon=True).start()
        time.sleep(0.3)
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    got = {"received": len(relay.arrivals), "unique": len(relay.ids), "arrivals": relay.arrivals}
    print(json.dumps(got | {"cpu": time.process_time()}))


async def delay_line(port: int, inner: int, latency: float) -> None:
    """Forward ``port`` to ``inner`` on 127.0.0.1: what the client sends at once, every byte the server
    sends back ``latency`` s later, in order (a network path with that much latency on the replies)."""
    import asyncio

    async def pump_back(source: Any, sink: Any) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                at, chunk = await queue.get()
                await asyncio.sleep(max(0.0, at - loop.time()))
                if not chunk:
                    sink.close()
                    return
                sink.write(chunk)

        task = asyncio.create_task(deliver())
        while chunk := await source.read(65536):
            queue.put_nowait((loop.time() + latency, chunk))
        queue.put_nowait((loop.time() + latency, b""))
        await task

    async def pump(source: Any, sink: Any) -> None:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
        sink.close()

    async def handle(reader: Any, writer: Any) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", inner)
        await asyncio.gather(pump(reader, server_writer), pump_back(server_reader, writer), return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


class Relay:
    """The relay process: ``port`` to send to; ``stop`` returns what it received."""

    def __init__(self, latency: float, *, network: bool = False) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-relay", str(self.port), str(latency), "net" if network else "sleep"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def stop(self) -> dict[str, Any]:
        out, _ = self.proc.communicate("", timeout=120)
        return dict(json.loads(out.strip().splitlines()[-1]))


def smtp_channel(port: int, pool: int) -> SmtpChannel:
    return SmtpChannel(SmtpConfig("127.0.0.1", port, security="none", timeout=30), pool=pool)


# ----- worlds ----------------------------------------------------------------------------------


def burst_world(folder: Path, count: int, recipients: int = 1000) -> Path:
    """Return a SQLite file with ``count`` reminders due at NOW, to ``recipients`` people (built once)."""
    path = folder / f"burst-{count}.db"
    if not path.exists():
        make_world(path, max(1, count // recipients), min(count, recipients)).dispose()
    return path


def fresh(template: Path, name: str) -> Engine:
    copy = template.with_name(name)
    shutil.copy(template, copy)
    return make_engine(f"sqlite:///{copy}")


def one_message(engine: Engine) -> tuple[bytes, dict[str, Any], Any]:
    """Return the first due row's finished message, its template context, and the row."""
    renderer = Renderer([TEMPLATES], IDENTITY)
    with engine.connect() as conn:
        row = conn.execute(select(OUTBOX).order_by(OUTBOX.c.id).limit(1)).mappings().one()
        contexts = ContextCache(conn, IDENTITY)
        context, _ = contexts.context_and_facts(row, NOW)
        return as_bytes(compose(renderer, contexts, row, NOW)), dict(context), row


# ----- APScheduler 3 --------------------------------------------------------------------------


def apscheduler_run(count: int, job: Callable[[int], None], grace: int | None) -> tuple[int, int, float]:
    """Run ``count`` date jobs due at one instant (10 threads); return (ran, dropped, seconds from
    the instant to the last job's end)."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger

    defaults = {} if grace == 1 else {"misfire_grace_time": grace}
    scheduler = BackgroundScheduler(timezone=UTC, job_defaults=defaults)
    done, lock = threading.Event(), threading.Lock()
    tally = {EVENT_JOB_EXECUTED: 0, EVENT_JOB_MISSED: 0, EVENT_JOB_ERROR: 0}
    last = [0.0]

    def seen(event: Any) -> None:
        with lock:
            tally[event.code] += 1
            last[0] = time.time()
            if sum(tally.values()) >= count:
                done.set()

    scheduler.add_listener(seen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    scheduler.start(paused=True)
    at = datetime.now(UTC) + timedelta(seconds=1)
    for n in range(count):
        scheduler.add_job(job, DateTrigger(at), args=(n,), id=f"j{n}")
    scheduler.resume()
    done.wait(600)
    scheduler.shutdown(wait=True)
    if tally[EVENT_JOB_ERROR]:
        raise SystemExit(f"{tally[EVENT_JOB_ERROR]} APScheduler jobs failed")
    return tally[EVENT_JOB_EXECUTED], tally[EVENT_JOB_MISSED], last[0] - at.timestamp()


def smtplib_job(port: int, data: bytes) -> Callable[[int], None]:
    def job(n: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.sendmail("planwatch@example.org", [f"owner{n % 1000}@example.org"], data)

    return job


def rendering_job(context: dict[str, Any], deliver: Callable[[int, EmailMessage], None]) -> Callable[[int], None]:
    """A job as an APScheduler user writes it: render the templates, build the message, deliver it."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],  # the templates' words go through _() (English: no catalogue needed)
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]

    def job(n: int) -> None:
        text_template = env.get_template("email/reminder.txt.j2")
        ctx = text_template.new_context(dict(context))
        subject = " ".join("".join(text_template.blocks["subject"](ctx)).split())
        body = "".join(text_template.root_render_func(ctx))
        html = env.get_template("email/reminder.html.j2").render(context)
        msg = EmailMessage()
        msg["From"] = "planwatch <planwatch@example.org>"
        msg["To"] = f"owner{n % 1000}@example.org"
        msg["Subject"] = subject
        msg["Message-ID"] = f"<aps-{n}@example.org>"
        msg.set_content(body)
        msg.add_alternative(html, subtype="html")
        deliver(n, msg)

    return job


def to_smtp(port: int) -> Callable[[int, EmailMessage], None]:
    def deliver(n: int, msg: EmailMessage) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.send_message(msg)

    return deliver


def to_maildir(folder: Path) -> Callable[[int, EmailMessage], None]:
    box = mailbox.Maildir(folder, create=True)

    def deliver(n: int, msg: EmailMessage) -> None:
        box.add(msg)

    return deliver


# ----- 1. burst --------------------------------------------------------------------------------


def planwatch_burst(
    template: Path, count: int, latency: float, pool: int, network: bool = False
) -> tuple[float, int, int, float]:
    """Return (seconds, marked sent, distinct messages the relay got, the relay's CPU seconds) for the
    service's dispatch step."""
    engine = fresh(template, f"burst-pool{pool}.db")
    relay = Relay(latency, network=network)
    started, cpu = time.perf_counter(), time.process_time()
    stats = dispatch_step(engine, smtp_channel(relay.port, pool), Renderer([TEMPLATES], IDENTITY), FixedClock(NOW))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    got = relay.stop()
    engine.dispose()
    print(f"    (node CPU {cpu / max(stats.sent, 1) * 1000:.2f} ms a message, all its threads)", flush=True)
    return seconds, stats.sent, int(got["unique"]), float(got["cpu"])


def apscheduler_burst(
    data: bytes, count: int, latency: float, grace: int | None, network: bool = False
) -> tuple[int, int, float, int]:
    relay = Relay(latency, network=network)
    ran, dropped, seconds = apscheduler_run(count, smtplib_job(relay.port, data), grace)
    return ran, dropped, seconds, int(relay.stop()["received"])


def med(times: list[float]) -> str:
    """Return "median s (best s)" of equal rounds."""
    median, best = world.rounds(times)
    return f"{median:.2f} s (best {best:.2f} s)"


def measure_burst(folder: Path, count: int, latency_ms: float, rounds: int) -> None:
    latency = latency_ms / 1000
    template = burst_world(folder, count)
    engine = make_engine(f"sqlite:///{template}")
    data, _, _ = one_message(engine)
    engine.dispose()
    for network in (False, True):
        relay = (
            f"every reply {latency_ms:g} ms late (a relay across a network; replies to pipelined commands overlap)"
            if network
            else f"the relay answering each message {latency_ms:g} ms late, one after another on a connection"
        )
        print(f"1. burst of {count:,} due at one instant, {relay}; {rounds} rounds, each side in turn")
        label = "network" if network else "relay"
        none_s: list[float] = []
        dflt: list[tuple[int, int, float, int]] = []
        ours: dict[int, list[tuple[float, int, int, float]]] = {8: [], 16: []}
        none_least = count
        for _ in range(rounds):
            none_ran, _, seconds, none_got = apscheduler_burst(data, count, latency, None, network)
            none_s.append(seconds)
            none_least = min(none_least, none_ran, none_got)
            dflt.append(apscheduler_burst(data, count, latency, 1, network))
            for pool in ours:
                ours[pool].append(planwatch_burst(template, count, latency, pool, network))
        for pool, runs in ours.items():
            times = [r[0] for r in runs]
            sent, got = min(r[1] for r in runs), min(r[2] for r in runs)
            cpu = statistics.median(r[3] for r in runs)
            add(
                f"burst {count:,} @ {latency_ms:g} ms ({label}), {pool} connections, median of {rounds}",
                f"{sent:,} sent ({got:,} received) in {med(times)}; relay CPU {cpu / count * 1000:.2f} ms/message",
                f"grace None: {none_least:,} ran and received in {med(none_s)}",
                f"{statistics.median(none_s) / statistics.median(times):.2f}x",
            )
        dropped = [d[1] for d in dflt]
        add(
            f"burst {count:,} @ {latency_ms:g} ms ({label}), APScheduler default grace (1 s), {rounds} rounds",
            "-",
            f"{min(d[0] for d in dflt):,}-{max(d[0] for d in dflt):,} ran, {min(dropped):,}-{max(dropped):,} dropped "
            f"in {med([d[2] for d in dflt])}",
        )
    runs = [planwatch_burst(template, count, 0.0, 8) for _ in range(rounds)]
    add(
        f"burst {count:,} with no latency, 8 connections (what the relay and the node cost on this machine)",
        f"{min(r[1] for r in runs):,} sent ({min(r[2] for r in runs):,} received) in {med([r[0] for r in runs])}; "
        f"the relay's CPU {statistics.median(r[3] for r in runs) / count * 1000:.2f} ms a message",
        "",
    )
    floor = count * latency / 8
    print(
        f"  (floor for 8 connections, one message in flight on each: {count:,} x {latency_ms:g} ms / 8 = {floor:.2f} s)"
    )


# ----- 2. the 09:00 peak through ``planwatch run`` ----------------------------------------------


def measure_peak(folder: Path, count: int) -> None:
    print(f"2. a peak of {count:,} messages at one instant through `planwatch run --interval 60` (one node)")
    engine = fresh(burst_world(folder, count), "peak.db")
    path = engine.url.database
    engine.dispose()
    relay = Relay(0.0)
    env = os.environ | {
        "PLANWATCH_DATABASE_URL": f"sqlite:///{path}",
        "PLANWATCH_SMTP_URL": f"smtp://127.0.0.1:{relay.port}?timeout=30",
        "PLANWATCH_RULES_DIR": str(world.RULES),
        "PLANWATCH_TEMPLATES_DIR": str(TEMPLATES),
        "PLANWATCH_SENDER": IDENTITY.sender,
    }
    launch = time.time()
    instant = launch + 10  # the peak's instant: after the node is up, long before its next poll (15 s)
    stamp = datetime.fromtimestamp(instant, UTC)
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM outbox WHERE id NOT IN (SELECT id FROM outbox ORDER BY id LIMIT :n)"), {"n": count}
        )
        conn.execute(
            text("UPDATE outbox SET payload = json_set(payload, '$.date', '2999-12-31')"),
        )
        conn.execute(update(OUTBOX).values(due_at=stamp))
    engine.dispose()
    node = subprocess.Popen(
        [sys.executable, "-m", "engine", "run", "--interval", "60"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        check = make_engine(f"sqlite:///{path}")
        deadline = instant + 600
        while time.time() < deadline:
            with check.connect() as conn:
                left = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar()
            if not left:
                break
            time.sleep(0.5)
        check.dispose()
    finally:
        node.terminate()
        _, err = node.communicate(timeout=60)
    got = relay.stop()
    late = sorted(t - instant for t in got["arrivals"])
    if len(late) < count:
        print(err.decode()[-2000:])
    p = statistics.quantiles(late, n=100) if len(late) > 1 else late * 99
    add(
        f"peak of {count:,} at one instant, lateness by the relay's clock",
        f"{len(late):,} received; first {late[0]:.2f} s, p50 {p[49]:.2f} s, p99 {p[98]:.2f} s, last {late[-1]:.2f} s",
        "-",
    )
    if late[0] < -0.01:
        print("  note: a message arrived before its instant: check the clocks")


# ----- 3. firing with the real work -----------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def measure_firing(folder: Path, count: int, rounds: int) -> None:
    print(f"3. firing {count:,} messages due at one instant, with the real work; {rounds} rounds, each side in turn")
    template = burst_world(folder, count)
    engine = make_engine(f"sqlite:///{template}")
    data, context, _ = one_message(engine)
    engine.dispose()
    renderer = Renderer([TEMPLATES], IDENTITY)

    def pw(channel: Channel, name: str) -> float:
        engine = fresh(template, name)
        seconds, stats = timed(lambda: dispatch(engine, channel, renderer, NOW, cap=count))
        engine.dispose()
        if stats.sent != count:
            raise SystemExit(f"planwatch sent {stats.sent} of {count}: {stats}")
        return float(seconds)

    def aps(job: Callable[[int], None]) -> float:
        ran, dropped, seconds = apscheduler_run(count, job, None)
        if ran != count:
            raise SystemExit(f"APScheduler ran {ran} of {count} ({dropped} dropped)")
        return seconds

    box = folder / "maildir"
    box.mkdir(parents=True, exist_ok=True)
    relay = Relay(0.0)
    aps_box = mailbox.Maildir(box / "aps-plain", create=True)

    def write_finished(n: int) -> None:
        aps_box.add(data)

    pairs: list[tuple[str, Callable[[int], Channel], Callable[[], Callable[[int], None]]]] = [
        (
            "render + build + Maildir",
            lambda r: MaildirChannel(box / f"pw{r}"),
            lambda: rendering_job(context, to_maildir(box / "aps")),
        ),
        (
            "render + build + local SMTP",
            lambda r: smtp_channel(relay.port, 8),
            lambda: rendering_job(context, to_smtp(relay.port)),
        ),
        (
            "no rendering (planwatch: counting pass; APScheduler: the finished message to a Maildir)",
            lambda r: NullChannel(),
            lambda: write_finished,
        ),
        (
            "no rendering, APScheduler: the finished message by smtplib (planwatch: counting pass)",
            lambda r: NullChannel(),
            lambda: smtplib_job(relay.port, data),
        ),
    ]
    times: dict[str, tuple[list[float], list[float]]] = {what: ([], []) for what, _, _ in pairs}
    for r in range(rounds):
        for i, (what, channel, job) in enumerate(pairs):
            times[what][0].append(pw(channel(r), f"fire-{r}-{i}.db"))
            times[what][1].append(aps(job()))
    relay.stop()
    for what, (ours, theirs) in times.items():
        ratio = statistics.median(theirs) / statistics.median(ours)
        add(f"firing {count:,}: {what}, median of {rounds}", med(ours), med(theirs), f"{ratio:.2f}x")
    busy_tick(folder, rounds)


def busy_tick(folder: Path, rounds: int) -> None:
    size = 10_000
    path = world.build(folder / f"world-{size}.db", size, single_zone=True)
    rules = load_rules(world.RULES)
    renderer = Renderer([TEMPLATES], IDENTITY)
    # The instant the world's 1,000 reminders are due, at the rules' delivery hour in the owners' zone: the
    # tick plans them and sends them at once (later in the day a reminder found late waits for the next
    # working morning, so the hour is taken from the rules, not assumed).
    at = world.busy_instant(rules)
    relay = Relay(0.0)
    for what, make in (
        ("Maildir", lambda: MaildirChannel(folder / "maildir" / "tick")),
        ("local SMTP, 8 connections", lambda: smtp_channel(relay.port, 8)),
        ("nothing rendered (counting pass)", NullChannel),
    ):
        times = []
        for _ in range(rounds):
            world.reset(path, size, single_zone=True)
            engine = make_engine(f"sqlite:///{path}")
            seconds, report = timed(lambda: run_tick(engine, rules, make(), renderer, at))  # noqa: B023
            engine.dispose()
            if report.planned.pending != world.DUE or report.dispatched.sent != world.DUE:
                raise SystemExit(
                    f"the busy tick at {at:%H:%M} UTC (the rules' delivery hour) planned "
                    f"{report.planned.pending} and sent {report.dispatched.sent} of {world.DUE}: {report}"
                )
            times.append(seconds)
        add(
            f"busy tick, {size:,} actions, {world.DUE:,} due: plan + {what}, median of {rounds}",
            f"{world.DUE:,} sent in {med(times)}",
            "see the firing rows",
        )
    relay.stop()


# ----- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--burst", type=int, default=1000, help="messages in the burst")
    parser.add_argument(
        "--latency-ms", type=float, default=30.0, help="the relay's delay before each reply to a message"
    )
    parser.add_argument("--peak", type=int, default=10_000, help="messages in the peak through planwatch run (0: skip)")
    parser.add_argument("--fire", type=int, default=1000, help="messages fired with the real work (0: skip)")
    parser.add_argument("--only", choices=("burst", "peak", "fire"), help="run one part")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each burst and firing, both sides (medians)")
    parser.add_argument("--serve-relay", nargs=3, metavar=("PORT", "LATENCY", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_relay:
        serve_relay(int(args.serve_relay[0]), float(args.serve_relay[1]), args.serve_relay[2] == "net")
        return 0
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # a dropped job is counted, not logged 670 times
    world.header("planwatch bursts and firing, side by side with APScheduler 3")
    with tempfile.TemporaryDirectory(prefix="planwatch-burst-") as tmp:
        folder = Path(tmp)
        if args.only in (None, "burst"):
            measure_burst(folder, args.burst, args.latency_ms, args.rounds)
        if args.only in (None, "peak") and args.peak:
            measure_peak(folder, args.peak)
        if args.only in (None, "fire") and args.fire:
            measure_firing(folder, args.fire, args.rounds)
    print()
    print("| what | planwatch | APScheduler 3 | ratio |\n|---|---|---|---|")
    for row in ROWS:
        print("| " + " | ".join(row) + " |")
    world.footer()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
