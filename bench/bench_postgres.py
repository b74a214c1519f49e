"""Benchmark: planwatch on PostgreSQL, the scale-out setting.

Run from the repository root:  .venv/bin/python bench/bench_postgres.py [--quick]

The server is PLANWATCH_BENCH_POSTGRES_URL (default the machine's server,
postgresql+psycopg://postgres@127.0.0.1:5432/postgres); the benchmark creates a database of
its own there and drops it afterwards. Targets:

1. an idle tick (``run_tick`` at an instant when nothing is due) over 1,000,000 actions, with
   the 10,000 planned notices pending but not yet due: < 20 ms (median of many);
2. planning 10,000 due notifications (``plan_due`` with 10,000 actions due among 1,000,000): < 0.5 s;
3. dispatch throughput to a local SMTP server with one node against two nodes: two OS processes
   each running the service's dispatch step (``tick.dispatch_step``) on the same outbox; two nodes
   >= 1.6x one node, the median of three rounds (odd rounds run two nodes first: this machine's
   speed drifts by a third within minutes), and one node >= 1,000 messages/s. Every message must
   arrive exactly once. The server
   is Postfix's smtp-sink (C, made for measuring SMTP clients; found installed or unpacked from
   Debian's postfix package into .cache/postfix, with no mail daemon started), then aiosmtpd
   (Python) for comparison:
   aiosmtpd spends about 0.8 ms of the machine's two cores on each message, as much as a third of
   a node's, so on two cores it caps what a second node can add. ``--server`` picks one.

The world is bench/_world.py's (one plan, 1,000 owners in three zones, deadlines spread over ten
years), with 10,000 actions due at its NOW instead of 1,000, loaded with COPY. ``--quick`` uses
100,000 actions, one planning run and 1,000 messages. Figures move with the machine's load: the notes give the
load average and how busy the two cores were while the nodes sent.

Exit status: 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import _world as world  # noqa: E402  (the repository root and bench/ must be importable first)
import psycopg  # noqa: E402
from sqlalchemy import Engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from engine.channels import NullChannel  # noqa: E402
from engine.channels.smtp import SmtpChannel, SmtpConfig  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.drive.planning import plan_due  # noqa: E402
from engine.drive.tick import DISPATCH_BATCH, dispatch_step, run_tick  # noqa: E402
from engine.mail.render import MailIdentity, Renderer  # noqa: E402
from engine.rules.loader import load_rules  # noqa: E402
from engine.store import make_engine, upgrade  # noqa: E402
from tests.smtpserver import free_port  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_IDLE_MS = 20.0
TARGET_PLAN_S = 0.5
TARGET_RATIO = 1.6
TARGET_NODE_RATE = 1000  # messages/s one node sends to smtp-sink, rendering and building each
DUE = 10_000
IDENTITY = MailIdentity(
    sender="planwatch <planwatch@example.org>", base_url="https://plans.example.org", secret_key="bench"
)
IDLE_AT = world.PREVIOUS_TICK + timedelta(minutes=1)  # before every due action's 09:00


@dataclass
class Row:
    what: str
    figure: str
    target: str = ""
    ok: bool | None = None


@dataclass
class Bench:
    args: argparse.Namespace
    url: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        mark = "" if row.ok is None else ("PASS" if row.ok else "FAIL")
        print(f"  {row.what}: {row.figure} {row.target} {mark}".rstrip(), flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  ({text})", flush=True)


def libpq(url: str) -> str:
    """Return the psycopg connection string of a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def scratch_database(admin: str) -> Iterator[str]:
    """Create a database for this run on the server of ``admin``; yield its URL; drop it afterwards."""
    name = f"planwatch_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ----- the world, loaded with COPY ------------------------------------------------------------


def fill(url: str, size: int) -> None:
    """Load _world's plan of ``size`` actions (DUE of them due at NOW) with COPY; then ANALYZE."""
    stamp = world.sql_time(world.PREVIOUS_TICK - timedelta(days=400))
    with psycopg.connect(libpq(url)) as conn:
        conn.execute("SET TIME ZONE 'UTC'")  # _world writes UTC wall times without a zone
        conn.execute(
            "INSERT INTO plan (id, title, symbol, body, ref_date, timezone, fy_start, source, source_format, "
            "imported_at, updated_at) VALUES (%s, %s, '', '', '2029-01-01', 'Europe/Zurich', NULL, 'generated', "
            "'yaml', %s, %s)",
            (world.PLAN_ID, f"Generated plan of {size} actions", stamp, stamp),
        )
        sections: list[tuple[str, str, str | None, str, str, str, str, int]] = [
            (world.PLAN_ID, "S", None, "part", "I", "Part one", "", 1)
        ]
        sections += [
            (world.PLAN_ID, f"S{k}", "S", "issue", str(k), f"Issue {k}", "", k + 1)
            for k in range(1, world.SECTIONS + 1)
        ]
        copy_rows(conn, "section (plan_id, key, parent_key, level, number, title, context, ordinal)", sections)
        owners = [(*row, "none", "owner") for row in world.owner_rows(single_zone=False)]
        copy_rows(conn, "owner (id, name, email, timezone, supervisor_id, digest, role)", owners)
        copy_rows(conn, f"action ({', '.join(world.ACTION_COLUMNS)})", world._action_rows(size, False))
        conn.execute("SELECT setval(pg_get_serial_sequence('action', 'id'), %s)", (size,))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def copy_rows(conn: psycopg.Connection[Any], target: str, rows: Any) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def reset(url: str, size: int) -> None:
    """Put the world back before its busy tick: outbox and log empty, the DUE actions due again."""
    with psycopg.connect(libpq(url)) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute("DELETE FROM outbox")
        conn.execute("DELETE FROM escalation")
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE action SET next_fire_at = %s, planned_through = %s WHERE id = %s",
                [(*world.due_cursor(i, size, False), i) for i in world.due_ids(size)],
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE outbox")


# ----- 1 and 2: planning and the idle tick ----------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def measure_planning(bench: Bench, engine: Engine, size: int) -> None:
    rules = load_rules(world.RULES)
    times: list[float] = []
    cpu: list[float] = []
    planning: list[float] = []
    for _ in range(bench.args.repeat):
        reset(bench.url, size)
        started, thread = time.process_time(), time.thread_time()
        seconds, stats = timed(lambda: plan_due(engine, rules, world.NOW))
        cpu.append(time.process_time() - started)  # this process's CPU, its write thread's included
        planning.append(time.thread_time() - thread)  # the thread that reads and plans (the writes are on another)
        if stats.pending != DUE:
            raise SystemExit(f"plan_due planned {stats} instead of {DUE:,} pending notices")
        times.append(seconds)
    med = statistics.median(times)
    bench.add(
        Row(
            f"plan_due: {DUE:,} notices among {size:,} actions",
            f"{med:.2f} s (median of {len(times)}, best {min(times):.2f} s; "
            f"CPU {statistics.median(cpu):.2f} s, of which reading and planning {statistics.median(planning):.2f} s; "
            f"{DUE / med:,.0f} notices/s)",
            f"target < {TARGET_PLAN_S:g} s",
            med < TARGET_PLAN_S,
        )
    )
    if bench.args.profile:
        profile_planning(engine, rules, size, bench)


def profile_planning(engine: Engine, rules: Any, size: int, bench: Bench) -> None:
    """Run plan_due once more under cProfile (the thread that reads and plans) and print where its time goes."""
    reset(bench.url, size)
    profiler = cProfile.Profile()
    profiler.enable()
    plan_due(engine, rules, world.NOW)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"engine/(planner|drive/planning|rules)", 25)
    stats.sort_stats("tottime").print_stats(25)
    print(out.getvalue().replace(str(ROOT) + "/", ""), flush=True)


# ----- how the actions' cursors can be written --------------------------------------------------

CURSOR_BATCH = 1000  # actions a planning batch moves (plan_due's batch)


def cursor_rows(size: int, shift: int) -> list[tuple[int, Any, Any, str]]:
    """The DUE actions' new cursors, as plan_due writes them (id, next_fire_at, planned_through, policy)."""
    base = world.NOW + timedelta(days=1 + shift)
    return [(i, base + timedelta(seconds=i % 86_400), world.NOW, "default") for i in world.due_ids(size)]


def write_unnest(cur: Any, table: str, rows: list[tuple[int, Any, Any, str]]) -> None:
    """What plan_due runs now: one UPDATE ... FROM unnest(one binary array per column) a batch."""
    for start in range(0, len(rows), CURSOR_BATCH):
        part = list(zip(*rows[start : start + CURSOR_BATCH], strict=True))
        cur.execute(
            f"UPDATE {table} SET next_fire_at = u.n, planned_through = u.p, policy = u.o "
            f"FROM unnest(%b::int[], %b::timestamptz[], %b::timestamptz[], %b::text[]) AS u(id, n, p, o) "
            f"WHERE {table}.id = u.id",
            [
                list(part[0]),
                list(part[1]),
                list(part[2]),
                list(part[3]),
            ],
        )


def write_values(cur: Any, table: str, rows: list[tuple[int, Any, Any, str]]) -> None:
    """UPDATE ... FROM (VALUES (...), ...) a batch: one statement, four parameters a row."""
    for start in range(0, len(rows), CURSOR_BATCH):
        part = rows[start : start + CURSOR_BATCH]
        values = ", ".join("(%s::int, %s::timestamptz, %s::timestamptz, %s::text)" for _ in part)
        cur.execute(
            f"UPDATE {table} SET next_fire_at = u.n, planned_through = u.p, policy = u.o "
            f"FROM (VALUES {values}) AS u(id, n, p, o) WHERE {table}.id = u.id",
            [v for row in part for v in row],
        )


def write_copy(cur: Any, table: str, rows: list[tuple[int, Any, Any, str]]) -> None:
    """COPY a batch into a temporary table, then one UPDATE ... FROM it."""
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS cursor_in (id int, n timestamptz, p timestamptz, o text)")
    for start in range(0, len(rows), CURSOR_BATCH):
        cur.execute("TRUNCATE cursor_in")
        with cur.copy("COPY cursor_in FROM STDIN") as copy:
            for i, n, p, o in rows[start : start + CURSOR_BATCH]:
                copy.write_row((i, n, p, o))
        cur.execute(
            f"UPDATE {table} SET next_fire_at = u.n, planned_through = u.p, policy = u.o "
            f"FROM cursor_in AS u WHERE {table}.id = u.id"
        )


def measure_cursor_writes(bench: Bench, size: int, rounds: int = 5) -> None:
    """Time the ten cursor writes of plan_due (10 batches of 1,000) by three statements, on the action table
    (its seven indexes) and on a narrow table of the cursors alone (primary key + next_fire_at)."""
    methods = {
        "UPDATE FROM unnest (now)": write_unnest,
        "UPDATE FROM (VALUES ...)": write_values,
        "COPY to a temp table + UPDATE": write_copy,
    }
    with psycopg.connect(libpq(bench.url)) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute("CREATE TABLE action_cursor AS SELECT id, next_fire_at, planned_through, policy FROM action")
        conn.execute("ALTER TABLE action_cursor ADD PRIMARY KEY (id)")
        conn.execute("CREATE INDEX ix_action_cursor_next ON action_cursor (next_fire_at)")
        indexes = (conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'action'").fetchone() or [0])[0]
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE action_cursor")
        conn.autocommit = False
        shift = 0
        for table, label in (
            ("action", f"the action table ({indexes} indexes)"),
            ("action_cursor", "a narrow cursor table (2 indexes)"),
        ):
            for name, write in methods.items():
                times = []
                for _ in range(rounds):
                    shift += 1
                    rows = cursor_rows(size, shift)
                    started = time.perf_counter()
                    with conn.cursor() as cur:
                        write(cur, table, rows)
                    conn.commit()
                    times.append(time.perf_counter() - started)
                bench.add(
                    Row(
                        f"{DUE:,} cursors in batches of {CURSOR_BATCH:,}: {name}, {label}",
                        f"{statistics.median(times):.3f} s (median of {rounds}, best {min(times):.3f} s)",
                        "",
                        None,
                    )
                )
        conn.execute("DROP TABLE action_cursor")
        conn.commit()


def measure_idle(bench: Bench, engine: Engine, size: int) -> None:
    rules, renderer, channel = load_rules(world.RULES), Renderer([world.TEMPLATES], IDENTITY), NullChannel()
    if not run_tick(engine, rules, channel, renderer, IDLE_AT).idle:
        raise SystemExit("the idle instant is not idle")
    times = []
    for _ in range(bench.args.idle_runs):
        seconds, _ = timed(lambda: run_tick(engine, rules, channel, renderer, IDLE_AT))
        times.append(seconds)
    med = statistics.median(times)
    bench.add(
        Row(
            f"idle tick over {size:,} actions ({DUE:,} notices pending, not yet due)",
            f"{med * 1000:.2f} ms (median of {len(times):,}; "
            f"p99 {sorted(times)[len(times) * 99 // 100] * 1000:.2f} ms)",
            f"target < {TARGET_IDLE_MS:g} ms",
            med * 1000 < TARGET_IDLE_MS,
        )
    )


# ----- 3: dispatch, one node against two ------------------------------------------------------


def keep_messages(url: str, count: int) -> None:
    """Keep ``count`` of the planned notices (the first by id) as the dispatch workload, due at NOW (planned
    at 16:00, after their 09:00, they wait for their recipients' next working morning)."""
    with psycopg.connect(libpq(url)) as conn:
        conn.execute(
            "DELETE FROM outbox WHERE id NOT IN (SELECT id FROM outbox WHERE status = 'pending' ORDER BY id LIMIT %s)",
            (count,),
        )
        conn.execute("UPDATE outbox SET due_at = %s", (world.NOW,))
        left = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()
        if left is None or left[0] != count:
            raise SystemExit(f"wanted {count:,} pending notices, have {left}")


def requeue(url: str) -> None:
    """Make every outbox row pending and unsent again."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(
            "UPDATE outbox SET status = 'pending', sent_at = NULL, attempts = 0, message_id = NULL, "
            "next_attempt_at = NULL, last_error = '', reason = ''"
        )
        conn.execute("VACUUM ANALYZE outbox")


class Sink:
    """bench/smtp_sink.py: aiosmtpd in its own process, counting what it receives."""

    name = "aiosmtpd"

    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "smtp_sink.py"), str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def stop(self) -> dict[str, int]:
        out, _ = self.proc.communicate("", timeout=60)
        return dict(json.loads(out.strip().splitlines()[-1]))


POSTFIX_CACHE = ROOT / ".cache" / "postfix"


def postfix_sink_binary() -> Path | None:
    """Find Postfix's smtp-sink: installed (``apt-get install postfix``) or unpacked from Debian's package.

    Unpacking (``apt-get download postfix`` and ``dpkg -x`` into .cache/postfix) installs nothing
    system-wide and starts no mail daemon.
    """
    for candidate in (shutil.which("smtp-sink"), "/usr/sbin/smtp-sink", POSTFIX_CACHE / "usr/sbin/smtp-sink"):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    if not (shutil.which("apt-get") and shutil.which("dpkg")):
        return None
    POSTFIX_CACHE.mkdir(parents=True, exist_ok=True)
    print("  (unpacking Postfix's smtp-sink from Debian's postfix package into .cache/postfix)", flush=True)
    for old in POSTFIX_CACHE.glob("postfix_*.deb"):
        old.unlink()
    got = subprocess.run(["apt-get", "download", "postfix"], cwd=POSTFIX_CACHE, capture_output=True, text=True)
    debs = sorted(POSTFIX_CACHE.glob("postfix_*.deb"))
    if got.returncode != 0 or not debs:
        print(f"  (could not download postfix: {got.stderr.strip()[-200:]})", flush=True)
        return None
    subprocess.run(["dpkg", "-x", str(debs[-1]), str(POSTFIX_CACHE)], check=True)
    binary = POSTFIX_CACHE / "usr/sbin/smtp-sink"
    return binary if binary.exists() else None


class PostfixSink:
    """Postfix's smtp-sink (C, the usual server for measuring SMTP clients): takes messages and throws them away.

    It counts them (``-c``); that every message is distinct is checked on the outbox's Message-IDs.
    """

    name = "Postfix smtp-sink"

    def __init__(self, binary: Path) -> None:
        self.port = free_port()
        env = dict(os.environ)
        libs = binary.parent.parent / "lib" / "postfix"
        if libs.is_dir():
            env["LD_LIBRARY_PATH"] = str(libs)
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        self.out = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in stop) a file, not a pipe: counters must never block the server
        self.proc = subprocess.Popen(
            [str(binary), *user, "-c", f"127.0.0.1:{self.port}", "256"],
            stdout=self.out,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"smtp-sink did not start: {self.output()[-300:]}") from None
                time.sleep(0.05)

    def output(self) -> str:
        self.out.seek(0)
        return self.out.read()

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def stop(self) -> dict[str, int]:
        self.proc.terminate()
        self.proc.wait(timeout=60)
        counts = re.findall(r"mesg=(\d+)", self.output())
        self.out.close()
        received = int(counts[-1]) if counts else 0
        return {"received": received, "unique": -1}


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system, all threads) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_cores() -> tuple[float, float]:
    """Return (busy, total) CPU seconds of the whole machine so far (Linux /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values[:8]) - idle) / tick, sum(values[:8]) / tick


def run_nodes(bench: Bench, nodes: int, messages: int, make_sink: Callable[[], Sink | PostfixSink]) -> dict[str, Any]:
    """Send every pending row with ``nodes`` node processes; return throughput and CPU figures."""
    requeue(bench.url)
    sink = make_sink()
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--node", bench.url, str(sink.port), str(bench.args.batch)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(nodes)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        sink_cpu, (busy, total) = sink.cpu(), busy_cores()
        started = time.perf_counter()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        reports = [json.loads(proc.stdout.readline()) for proc in procs if proc.stdout is not None]
        elapsed = time.perf_counter() - started
        busy_after, total_after = busy_cores()
        sink_cpu = sink.cpu() - sink_cpu
    finally:
        for proc in procs:
            proc.communicate("", timeout=60)
        counted = sink.stop()
    sent = sum(r["sent"] for r in reports)
    with psycopg.connect(libpq(bench.url)) as conn:
        unsent = conn.execute("SELECT count(*) FROM outbox WHERE status <> 'sent'").fetchone()
        ids = conn.execute("SELECT count(DISTINCT message_id) FROM outbox").fetchone()
    if counted["unique"] == -1 and ids is not None:  # the server only counts; the Message-IDs are the outbox's
        counted["unique"] = ids[0]
    if sent != messages or counted["received"] != messages or counted["unique"] != messages:
        raise SystemExit(
            f"{nodes} node(s): sent {sent}, the server received {counted}; "
            f"expected {messages:,} distinct messages once each"
        )
    if unsent is None or unsent[0] != 0:
        raise SystemExit(f"{nodes} node(s): {unsent} rows not marked sent")
    return {
        "rate": messages / elapsed,
        "elapsed": elapsed,
        "split": [r["sent"] for r in reports],
        "node_cpu": sum(r["cpu"] for r in reports),
        "db_cpu": sum(r["db_cpu"] for r in reports),
        "sink_cpu": sink_cpu,
        "machine": (busy_after - busy) / (total_after - total),
        "server": sink.name,
    }


def measure_dispatch(bench: Bench, messages: int) -> None:
    keep_messages(bench.url, messages)
    servers: list[Callable[[], Sink | PostfixSink]] = []
    binary = postfix_sink_binary() if bench.args.server in ("postfix", "both") else None
    if binary is not None:
        servers.append(lambda: PostfixSink(binary))
    elif bench.args.server == "postfix":
        raise SystemExit("Postfix's smtp-sink is not here: apt-get install postfix (or let the benchmark unpack it)")
    else:
        bench.note("Postfix's smtp-sink is not here (apt-get install postfix): measured with aiosmtpd only")
    if bench.args.server in ("aiosmtpd", "both"):
        servers.append(Sink)
    # The target is read on the first server: Postfix's smtp-sink when it is here. aiosmtpd, in Python,
    # spends about 0.8 ms of the same two cores on each message, which measures the server, not the nodes.
    for first, make_sink in zip((True, False), servers, strict=False):
        rounds = [dispatch_round(bench, k, messages, make_sink) for k in range(bench.args.rounds)]
        ratios = [two["rate"] / one["rate"] for one, two in rounds]
        ratio = statistics.median(ratios)
        one, two = min(rounds, key=lambda pair: abs(pair[1]["rate"] / pair[0]["rate"] - ratio))  # the median round
        name, spread = one["server"], ""
        if len(rounds) > 1:
            spread = f"; median of {len(rounds)} rounds, each {', '.join(f'{r:.2f}' for r in ratios)}"
        per_node = (
            Row(
                f"dispatch, 1 node: {messages:,} messages -> {name}",
                f"{one['rate']:,.0f} msg/s",
                f"target >= {TARGET_NODE_RATE:,}/s",
                one["rate"] >= TARGET_NODE_RATE,
            )
            if first
            else Row(f"dispatch, 1 node: {messages:,} messages -> {name}", f"{one['rate']:,.0f} msg/s")
        )
        bench.add(per_node)
        bench.add(
            Row(
                f"dispatch, 2 nodes: {messages:,} messages -> {name}",
                f"{two['rate']:,.0f} msg/s (split {two['split']})",
            )
        )
        if first:
            bench.add(
                Row(
                    f"dispatch, 2 nodes / 1 node, {name}",
                    f"{ratio:.2f}x{spread}",
                    f"target >= {TARGET_RATIO:g}x",
                    ratio >= TARGET_RATIO,
                )
            )
        else:
            bench.add(
                Row(
                    f"dispatch, 2 nodes / 1 node, {name}",
                    f"{ratio:.2f}x{spread}",
                    "(the server's own CPU shares the 2 cores)",
                )
            )
        for label, run in (("1 node", one), ("2 nodes", two)):
            per = 1000 / messages
            bench.note(
                f"{name}, {label} (the median round): {run['elapsed']:.1f} s; "
                f"CPU ms per message: nodes {run['node_cpu'] * per:.2f}, "
                f"their PostgreSQL backends {run['db_cpu'] * per:.2f}, SMTP server {run['sink_cpu'] * per:.2f}; "
                f"both cores {run['machine']:.0%} busy"
            )


def dispatch_round(
    bench: Bench, k: int, messages: int, make_sink: Callable[[], Sink | PostfixSink]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Measure 1 node and 2 nodes back to back; return (one, two). Odd rounds run 2 nodes first, so
    a machine that speeds up or slows down during the run does not favour one side."""
    if k % 2:
        two = run_nodes(bench, 2, messages, make_sink)
        return run_nodes(bench, 1, messages, make_sink), two
    one = run_nodes(bench, 1, messages, make_sink)
    return one, run_nodes(bench, 2, messages, make_sink)


# ----- a node: the service's dispatch loop in a process of its own ---------------------------


def node(url: str, port: int, batch: int) -> None:
    """Wait for "go" on stdin, send with ``dispatch_step`` until nothing waits, print what it did as JSON."""
    engine = make_engine(url)
    backends: set[int] = set()

    @event.listens_for(engine, "connect")
    def remember(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backends.add(cur.fetchone()[0])
        dbapi_connection.rollback()  # leave the new connection idle, as the pool hands it out

    renderer = Renderer([world.TEMPLATES], IDENTITY)
    channel = SmtpChannel(SmtpConfig("127.0.0.1", port, security="none"))
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    print("ready", flush=True)
    sys.stdin.readline()
    cpu, db_cpu = time.process_time(), sum(cpu_seconds(pid) for pid in backends)
    stats = dispatch_step(engine, channel, renderer, FixedClock(world.NOW), batch=batch)
    while stats.sent:  # dispatch_step stops after MAX_PASSES passes; the service's next run goes on
        more = dispatch_step(engine, channel, renderer, FixedClock(world.NOW), batch=batch)
        stats.sent, stats.failed = stats.sent + more.sent, stats.failed + more.failed
        if not more.sent:
            break
    alive = [pid for pid in backends if Path(f"/proc/{pid}").exists()]
    report = {
        "sent": stats.sent,
        "failed": stats.failed,
        "cpu": time.process_time() - cpu,
        "db_cpu": sum(cpu_seconds(pid) for pid in alive) - db_cpu,
    }
    print(json.dumps(report), flush=True)
    sys.stdin.read()
    engine.dispose()


# ----- the run ---------------------------------------------------------------------------------


def environment() -> str:
    load = os.getloadavg()
    return f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="100,000 actions, one planning run, 1,000 messages (under a minute)"
    )
    parser.add_argument("--size", type=int, help="actions in the world (default 1,000,000; --quick 100,000)")
    parser.add_argument(
        "--messages", type=int, help="messages dispatched by 1 and by 2 nodes (default 10,000; --quick 1,000)"
    )
    parser.add_argument(
        "--rounds", type=int, help="rounds of 1 node then 2 nodes; the ratio is their median (default 3; --quick 1)"
    )
    parser.add_argument(
        "--batch", type=int, default=DISPATCH_BATCH, help="rows one dispatch pass leases (the service's default)"
    )
    parser.add_argument("--repeat", type=int, help="plan_due runs (default 5; --quick 1)")
    parser.add_argument("--planning-only", action="store_true", help="plan_due only: no idle tick, no dispatch")
    parser.add_argument(
        "--profile", action="store_true", help="then plan_due once more under cProfile, and print where its time goes"
    )
    parser.add_argument(
        "--cursor-writes", action="store_true", help="also time the actions' cursor writes by three statements"
    )
    parser.add_argument("--idle-runs", type=int, default=1000, help="idle ticks measured")
    parser.add_argument(
        "--server",
        choices=("both", "postfix", "aiosmtpd"),
        default="both",
        help="the local SMTP server dispatch sends to: Postfix's smtp-sink (C), aiosmtpd (Python), or both (default)",
    )
    args = parser.parse_args(argv)
    args.size = args.size or (100_000 if args.quick else 1_000_000)
    args.messages = min(args.messages or (1_000 if args.quick else 10_000), DUE)
    args.repeat = args.repeat or (1 if args.quick else 5)
    args.rounds = args.rounds or (1 if args.quick else 3)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    admin = os.environ.get("PLANWATCH_BENCH_POSTGRES_URL", DEFAULT_URL)
    world.DUE = DUE  # _world's builders read DUE when called: 10,000 actions due at NOW instead of 1,000
    world.header("planwatch on PostgreSQL")
    print(f"{args.size:,} actions, {DUE:,} due", flush=True)
    with scratch_database(admin) as url:
        bench = Bench(args, url)
        engine = make_engine(url)
        upgrade(engine)
        seconds, _ = timed(lambda: fill(url, args.size))
        bench.note(f"world of {args.size:,} actions loaded with COPY in {seconds:.1f} s")
        if args.cursor_writes:
            measure_cursor_writes(bench, args.size)
        measure_planning(bench, engine, args.size)
        if not args.planning_only:
            measure_idle(bench, engine, args.size)
        engine.dispose()
        if not args.planning_only:
            measure_dispatch(bench, args.messages)
    bench.note(f"at the end: {environment()}")
    print_table(bench)
    return 0 if all(row.ok is not False for row in bench.rows) else 1


def print_table(bench: Bench) -> None:
    print()
    print(f"| {'measure':64} | {'figure':52} | {'target':14} | |")
    print(f"|{'-' * 66}|{'-' * 54}|{'-' * 16}|---|")
    for row in bench.rows:
        mark = "" if row.ok is None else ("PASS" if row.ok else "FAIL")
        print(f"| {row.what:64} | {row.figure:52} | {row.target.removeprefix('target '):14} | {mark} |")
    for text_ in bench.notes:
        print(f"- {text_}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--node":
        node(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(main())
