"""Benchmark: planwatch's engine side by side with APScheduler 3 (one job per reminder).

Run from the repository root:  .venv/bin/python bench/bench_engine.py [--quick | --full]

What it checks (the exit status says whether each threshold holds):

1. a tick with 1,000 actions due costs about the same among 10,000, 100,000 and 1,000,000
   actions in SQLite (growth from the smallest to the largest < 2x);
2. an idle tick over 1,000,000 actions takes < 1 ms (median of many);
3. planning and enqueueing 1,000 due notifications (``plan_due`` alone) takes < 200 ms;
4. a burst of 1,000 notifications due at the same instant is all sent, none dropped; beside it,
   APScheduler 3 with its default misfire grace of 1 s runs 1,000 jobs due at one instant;
5. peak memory of a process running the 1,000,000-action tick stays < 150 MB;
6. against one APScheduler job per reminder in its SQLAlchemyJobStore on SQLite: loading 100,000
   reminders with ``add_job`` versus importing a plan of 100,000 actions (>= 50x), and firing a due
   batch of 1,000 among 100,000 jobs versus one planwatch tick with 1,000 due among 100,000 (>= 100x);
7. simulating the example plan over its whole life (1999-09-28 to 2001-12-31) takes < 2 s.

Worlds are generated into a temporary folder (``--workdir`` keeps them for the next run) and
reset before each measured tick. Busy figures are medians of ``--repeat`` runs after a warm-up
run, as a long-running service keeps its engine (and compiled statements) warm. With ``--quick``
(the default) APScheduler's loading is measured on a sample of ``--sample`` add_jobs and
projected linearly to 100,000, and says so; ``--full`` runs all 100,000 (minutes).

Figures move with the machine's load: each busy figure prints its best run beside the median,
and the notes under the table give the load average.

Exit status: 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import _world as world  # noqa: E402  (the repository root and bench/ must be importable first)
from sqlalchemy import Engine, text  # noqa: E402

from engine.channels import Channel, NullChannel  # noqa: E402
from engine.drive.planning import plan_due  # noqa: E402
from engine.drive.tick import TickReport, run_tick  # noqa: E402
from engine.mail.render import Renderer  # noqa: E402
from engine.rules.loader import RuleSet, load_rules  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.store import make_engine, upgrade  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
PEER_SIZE = 100_000
TARGET_GROWTH = 2.0
TARGET_IDLE_MS = 1.0
TARGET_PLAN_MS = 200.0
TARGET_PEAK_MB = 150.0
TARGET_LOAD_RATIO = 50.0
TARGET_FIRE_RATIO = 100.0
TARGET_SIM_S = 2.0
SIM_FROM, SIM_UNTIL = date(1999, 9, 28), date(2001, 12, 31)


@dataclass
class Row:
    """One line of the result table; ``ok`` is None for a figure without a target."""

    name: str
    planwatch: str
    peer: str = ""
    ratio: str = ""
    target: str = ""
    ok: bool | None = None


@dataclass
class Bench:
    """What every measurement needs: options, folders, rules and the rows found so far."""

    args: argparse.Namespace
    work: Path
    rules: RuleSet
    renderer: Renderer
    busy_at: datetime  # when the world's 1,000 due reminders go out, from the rules (``world.busy_instant``)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        cells = [row.planwatch, row.peer and f"peer: {row.peer}", row.ratio, row.target, verdict(row)]
        print(f"  {row.name}: " + " | ".join(c for c in cells if c), flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)


def verdict(row: Row) -> str:
    return "" if row.ok is None else ("PASS" if row.ok else "FAIL")


# ----- helpers ------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    """Return a duration for the table: milliseconds below a second, seconds above."""
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


CPU: list[float] = []  # the process's CPU seconds of each ``timed`` call: other jobs on the machine add little to it


def median_of(fn: Callable[[], float], runs: int) -> tuple[float, float, float]:
    """Return (median, best, median CPU) of ``runs`` timings returned by ``fn`` (the CPU of its last ``timed``)."""
    times, cpu = [], []
    for _ in range(runs):
        CPU.clear()
        times.append(fn())
        cpu.append(CPU[-1] if CPU else float("nan"))
    return statistics.median(times), min(times), statistics.median(cpu)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start, result


def figure(med: float, best: float, cpu: float) -> str:
    return f"{ms(med)} (best {ms(best)}; CPU {ms(cpu)})"


@contextmanager
def opened(path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


def world_path(bench: Bench, size: int, *, single_zone: bool = False) -> Path:
    name = f"world-{size}{'-1zone' if single_zone else ''}.db"
    path = bench.work / name
    if not path.exists():
        print(f"  generating {name} ...", flush=True)
        seconds, _ = timed(lambda: world.build(path, size, single_zone=single_zone))
        print(f"  generated {size:,} actions in {seconds:.1f} s", flush=True)
    return path


def outbox_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all()
        instants = conn.execute(text("SELECT count(DISTINCT due_at) FROM outbox")).scalar_one()
    return {**{status: n for status, n in rows}, "instants": instants}


def check_busy(report: TickReport, engine: Engine) -> None:
    """A busy tick must plan the 1,000 due actions into 1,000 notices and send every notice whose instant
    has come, as the planner set it from the rules: all 1,000 at the world's busy instant."""
    with engine.connect() as conn:
        come = conn.execute(
            text("SELECT count(*) FROM outbox WHERE due_at <= :at"), {"at": world.sql_time(report.at)}
        ).scalar_one()
    if (
        report.planned.actions != world.DUE
        or report.planned.pending != world.DUE
        or report.dispatched.sent != come
        or come != world.DUE
    ):
        raise SystemExit(
            f"the generated world did not tick as designed: {come} of the notices due by {report.at:%H:%M} UTC "
            f"(the rules' delivery hour), {report}"
        )


# ----- 1-3: busy tick against plan size, idle tick, plan_due alone -----------------------------


def busy_tick(bench: Bench, path: Path, size: int, engine: Engine) -> float:
    world.reset(path, size, single_zone=True)
    seconds, report = timed(lambda: run_tick(engine, bench.rules, NullChannel(), bench.renderer, bench.busy_at))
    check_busy(report, engine)
    return float(seconds)


def measure_ticks(bench: Bench) -> dict[int, float]:
    """Return the median busy tick by size (everything planned and sent in the tick: a catch-up)."""
    medians: dict[int, float] = {}
    for size in bench.args.sizes:
        path = world_path(bench, size, single_zone=True)  # one zone: its owners are all at work at one instant
        with opened(path) as engine:
            busy_tick(bench, path, size, engine)  # warm-up: statement cache, page cache
            med, best, cpu = median_of(lambda: busy_tick(bench, path, size, engine), bench.args.repeat)  # noqa: B023
            medians[size] = med
            bench.add(Row(f"busy tick: 1,000 due among {size:,}", figure(med, best, cpu)))
            if size == max(bench.args.sizes):
                measure_idle(bench, engine)
                measure_plan_due(bench, path, size, engine)
    bench.note(
        f"worlds: deadline actions due over ten years, 1,000 owners in {world.ZONES[0]}; 1,000 of them due at "
        f"{bench.busy_at:%Y-%m-%d %H:%M} UTC (their 14-day reminder at the rules' delivery hour), each planned "
        f"into one notice and sent to a NullChannel in the same tick; median of {bench.args.repeat} runs after "
        "a warm-up run, best in brackets"
    )
    small, large = min(medians), max(medians)
    growth = medians[large] / medians[small]
    bench.add(
        Row(
            f"busy tick growth, {small:,} -> {large:,}",
            f"{growth:.2f}x",
            target=f"< {TARGET_GROWTH:g}x",
            ok=growth < TARGET_GROWTH,
        )
    )
    return medians


AHEAD = timedelta(minutes=2)  # what `planwatch run` plans ahead: two tick intervals


def fire_tick(bench: Bench, path: Path, engine: Engine) -> float:
    """The tick at the 1,000 notices' instant, as the service runs it: the tick a minute before
    planned them ahead (``ahead`` = two intervals), so this one only sends them."""
    world.reset(path, PEER_SIZE, single_zone=True)
    instant = bench.busy_at
    before = run_tick(engine, bench.rules, NullChannel(), bench.renderer, instant - timedelta(minutes=1), ahead=AHEAD)
    if before.planned.pending != world.DUE or before.dispatched.sent:
        raise SystemExit(f"the tick before the instant did not plan ahead as designed: {before}")
    seconds, report = timed(lambda: run_tick(engine, bench.rules, NullChannel(), bench.renderer, instant, ahead=AHEAD))
    if report.planned.actions or report.dispatched.sent != world.DUE:
        raise SystemExit(f"the tick at the instant did not send as designed: {report}")
    return float(seconds)


def measure_fire_tick(bench: Bench) -> float:
    """Median of the ticks at the instant of 1,000 notices planned ahead, among PEER_SIZE actions."""
    path = world_path(bench, PEER_SIZE, single_zone=True)
    with opened(path) as engine:
        fire_tick(bench, path, engine)  # warm-up
        med, best, cpu = median_of(lambda: fire_tick(bench, path, engine), bench.args.repeat)
    bench.add(Row(f"tick at the instant of 1,000 planned ahead, among {PEER_SIZE:,}", figure(med, best, cpu)))
    return med


def measure_idle(bench: Bench, engine: Engine) -> None:
    """Median of many ticks at an instant when nothing is due (after the busy tick: 1,000 rows sent)."""
    at = bench.busy_at + timedelta(minutes=1)
    if not run_tick(engine, bench.rules, NullChannel(), bench.renderer, at).idle:
        raise SystemExit("the idle instant is not idle")
    channel = NullChannel()
    times = []
    for _ in range(bench.args.idle_runs):
        start = time.perf_counter()
        run_tick(engine, bench.rules, channel, bench.renderer, at)
        times.append(time.perf_counter() - start)
    med = statistics.median(times)
    bench.add(
        Row(
            f"idle tick over {max(bench.args.sizes):,}",
            f"{med * 1000:.3f} ms (median of {len(times):,})",
            target=f"< {TARGET_IDLE_MS:g} ms",
            ok=med * 1000 < TARGET_IDLE_MS,
        )
    )


def measure_plan_due(bench: Bench, path: Path, size: int, engine: Engine) -> None:
    def once() -> float:
        world.reset(path, size, single_zone=True)
        seconds, stats = timed(lambda: plan_due(engine, bench.rules, bench.busy_at))
        if stats.pending != world.DUE:
            raise SystemExit(f"plan_due planned {stats} instead of {world.DUE} pending notices")
        return float(seconds)

    med, best, cpu = median_of(once, bench.args.repeat)
    bench.add(
        Row(
            f"plan_due: 1,000 notices among {size:,}",
            figure(med, best, cpu),
            target=f"< {TARGET_PLAN_MS:g} ms",
            ok=med * 1000 < TARGET_PLAN_MS,
        )
    )


# ----- 4: a burst of 1,000 at one instant ----------------------------------------------------


class WorkChannel(Channel):
    """A channel that spends ``work_ms`` on each message (an SMTP round trip), as the peer's jobs do."""

    needs_message = False

    def __init__(self, work_ms: float) -> None:
        self.work = work_ms / 1000
        self.delivered = 0

    def deliver(self, message: object) -> None:
        if self.work:
            time.sleep(self.work)
        self.delivered += 1

    def tally(self, count: int) -> None:
        for _ in range(count):
            self.deliver(None)


def measure_burst(bench: Bench) -> None:
    size = min(bench.args.sizes)
    path = world_path(bench, size, single_zone=True)  # one zone: all 1,000 due at the very same instant
    world.reset(path, size, single_zone=True)
    channel = WorkChannel(bench.args.job_ms)
    with opened(path) as engine:
        seconds, report = timed(lambda: run_tick(engine, bench.rules, channel, bench.renderer, bench.busy_at))
        counts = outbox_counts(engine)
    if report.planned.pending != world.DUE:
        raise SystemExit(f"the burst world did not tick as designed: {report}")
    sent, total = counts.get("sent", 0), sum(v for k, v in counts.items() if k != "instants")
    ok = sent == world.DUE == total == channel.delivered and counts["instants"] == 1
    ran, missed, late = apscheduler_burst(bench.args.job_ms)
    ran_all, missed_none, late_all = apscheduler_burst(bench.args.job_ms, grace=None)
    bench.add(
        Row(
            "burst: 1,000 due at one instant",
            f"{sent:,} sent, {total - sent:,} not ({ms(seconds)})",
            f"default grace (1 s): {ran:,} ran, {missed:,} missed ({ms(late)}); "
            f"misfire_grace_time=None: {ran_all:,} ran, {missed_none:,} missed ({ms(late_all)})",
            target="all sent",
            ok=ok,
        )
    )
    bench.note(
        f"burst: each message/job spends {bench.args.job_ms:g} ms waiting (one SMTP round trip; --job-ms); "
        "planwatch sends one after another, APScheduler 3 runs its defaults (memory store, "
        "10 threads, misfire_grace_time=1 s: a missed job is dropped, logged, not run) and again with "
        "misfire_grace_time=None (every job runs however late); times from the instant to the last job's end"
    )


def apscheduler_burst(work_ms: float, count: int = world.DUE, grace: int | None = 1) -> tuple[int, int, float]:
    """APScheduler 3 (memory store, 10 threads, misfire grace ``grace``: its default is 1 s): return (ran, missed,
    seconds from the instant until the last job ended)."""
    from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger

    scheduler = BackgroundScheduler(timezone=UTC)
    done, tally = _listen(scheduler, count, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED)
    scheduler.start()
    at = datetime.now(UTC) + timedelta(seconds=2)
    for n in range(count):
        scheduler.add_job(
            world.job_ran, DateTrigger(at), args=(at.timestamp(), work_ms), id=f"burst{n}", misfire_grace_time=grace
        )
    done.wait(120)
    scheduler.shutdown(wait=True)
    return tally[EVENT_JOB_EXECUTED], tally[EVENT_JOB_MISSED], time.time() - at.timestamp()


def _listen(scheduler: Any, count: int, *codes: int) -> tuple[threading.Event, dict[int, int]]:
    """Count the scheduler's events of ``codes``; the event is set once ``count`` arrived.

    The listener removes itself then, so a scheduler can be listened to run after run.
    """
    done, lock = threading.Event(), threading.Lock()
    tally = dict.fromkeys(codes, 0)

    def on_event(event: Any) -> None:
        with lock:
            tally[event.code] += 1
            if sum(tally.values()) >= count and not done.is_set():
                done.set()
                scheduler.remove_listener(on_event)

    mask = 0
    for code in codes:
        mask |= code
    scheduler.add_listener(on_event, mask)
    return done, tally


# ----- 5: peak memory, in a fresh process ------------------------------------------------------


def measure_memory(bench: Bench) -> None:
    size = max(bench.args.sizes)
    path = world_path(bench, size, single_zone=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child-memory", str(path), "--sizes", str(size)]
    child = subprocess.run(command, check=False, capture_output=True, text=True)
    if child.returncode != 0:
        raise SystemExit(f"the memory child failed:\n{child.stdout[-2000:]}{child.stderr[-2000:]}")
    found = json.loads(child.stdout.strip().splitlines()[-1])
    peak = found["peak_rss_mb"]
    bench.add(
        Row(
            f"peak memory, busy tick over {size:,}",
            f"{peak:.0f} MB RSS",
            target=f"< {TARGET_PEAK_MB:g} MB",
            ok=peak < TARGET_PEAK_MB,
        )
    )
    bench.note(
        f"memory: a fresh process; RSS {found['before_rss_mb']:.0f} MB after imports and before the tick, "
        f"{peak:.0f} MB peak; Python heap peak during the tick {found['heap_peak_mb']:.1f} MB (tracemalloc)"
    )


def child_memory(path: Path, size: int) -> None:
    """In a fresh process: peak RSS over one busy tick, then the Python heap's peak in a second one."""
    rules, renderer = load_rules(world.RULES), Renderer([world.TEMPLATES])
    at = world.busy_instant(rules)
    with opened(path) as engine:
        world.reset(path, size, single_zone=True)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        check_busy(run_tick(engine, rules, NullChannel(), renderer, at), engine)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        world.reset(path, size, single_zone=True)
        tracemalloc.start()
        check_busy(run_tick(engine, rules, NullChannel(), renderer, at), engine)
        heap = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(json.dumps({"before_rss_mb": before, "peak_rss_mb": peak, "heap_peak_mb": heap}))


# ----- 6: one APScheduler job per reminder in its SQLAlchemy job store ----------------------------


def apscheduler_store(path: Path) -> tuple[Any, Any]:
    """Return (scheduler, store): a BackgroundScheduler started paused over a fresh SQLite job store."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = SQLAlchemyJobStore(url=f"sqlite:///{path}")
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=UTC)
    scheduler.start(paused=True)
    return scheduler, store


def apscheduler_loading(bench: Bench, count: int) -> float:
    """Return the seconds ``count`` add_jobs take, each a future reminder in the SQLAlchemy store."""
    from apscheduler.triggers.date import DateTrigger

    scheduler, _ = apscheduler_store(bench.work / "apscheduler-load.db")
    base = datetime.now(UTC) + timedelta(days=30)
    start = time.perf_counter()
    for n in range(count):
        at = base + timedelta(minutes=n)
        scheduler.add_job(world.job_ran, DateTrigger(at), args=(at.timestamp(),), id=f"r{n}")
    seconds = time.perf_counter() - start
    scheduler.shutdown(wait=False)
    return seconds


def planwatch_import(bench: Bench, name: str, paths: list[Path], size: int) -> float:
    """Return the seconds ``import_paths`` takes to import ``paths`` into a fresh, migrated database."""
    from engine.importing import import_paths

    db = bench.work / f"import-{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{db}", rules_dir=world.RULES, templates_dir=world.TEMPLATES)
    with opened(db) as engine:
        upgrade(engine)
        seconds, _ = timed(lambda: import_paths(engine, paths, settings, world.NOW))
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM action")).scalar_one()
    if stored != size:
        raise SystemExit(f"the {name} import stored {stored} actions instead of {size}")
    return float(seconds)


def measure_loading(bench: Bench) -> None:
    sample = PEER_SIZE if bench.args.full else min(bench.args.sample, PEER_SIZE)
    print(f"  APScheduler: {sample:,} add_jobs into its SQLAlchemy job store on SQLite ...", flush=True)
    peer = apscheduler_loading(bench, sample) * PEER_SIZE / sample
    each = peer / PEER_SIZE * 1000
    how = f"{ms(peer)}" if sample == PEER_SIZE else f"{ms(peer)} PROJECTED"
    if sample != PEER_SIZE:
        bench.note(
            f"loading: APScheduler's figure is PROJECTED linearly from {sample:,} add_jobs "
            f"({each:.2f} ms each) into an empty store; --full runs all {PEER_SIZE:,}"
        )
    else:
        bench.note(f"loading: APScheduler's figure is measured: {PEER_SIZE:,} add_jobs, {each:.2f} ms each")
    plans = bench.work / "plans"
    imports = [("text plan", [world.write_text_plan(plans, PEER_SIZE)])]
    if not bench.args.no_yaml:
        imports.append(("YAML plan + owners", list(world.write_plan_files(plans, PEER_SIZE))))
    for label, paths in imports:
        print(f"  planwatch: importing a {label} of {PEER_SIZE:,} actions ...", flush=True)
        seconds = planwatch_import(bench, label.split()[0], paths, PEER_SIZE)
        ratio = peer / seconds
        official = label == "text plan"
        bench.add(
            Row(
                f"load {PEER_SIZE:,}: import_paths, {label}",
                ms(seconds),
                f"add_job x {PEER_SIZE:,}: {how}",
                f"{ratio:,.1f}x",
                target=f">= {TARGET_LOAD_RATIO:g}x" if official else "",
                ok=ratio >= TARGET_LOAD_RATIO if official else None,
            )
        )
    bench.note(
        "loading: every time frame of these plans reads 'By D Month YYYY' and their owners come with the plan or "
        "not at all (no owner rule runs); bench/bench_import.py imports the example's own phrases and headings "
        "with the shipped owner rules, from the CLI"
    )
    if len(imports) > 1:
        bench.note(
            "loading: the plan's own text format is the target figure; the YAML plan file "
            "(ruamel round-trip parsing, 1,002 owners) is shown beside it"
        )


def apscheduler_firing(bench: Bench, runs: int = 5) -> tuple[float, int, int]:
    """Fire 1,000 jobs due at one instant among 100,000 in the SQLAlchemy store, ``runs`` times.

    Return the median run's (seconds until the last one started, how many ran, how many > 1 s late).
    The jobs have no misfire grace (``misfire_grace_time=None``), so every one runs however late.
    """
    scheduler, store = apscheduler_store(bench.work / "apscheduler-fire.db")
    later = datetime.now(UTC) + timedelta(days=10)
    world.fill_job_table(store, [(f"r{n}", later + timedelta(minutes=n)) for n in range(PEER_SIZE - world.DUE)])
    results = sorted(_fire_once(scheduler, store, run) for run in range(runs))
    scheduler.shutdown(wait=True)
    return results[len(results) // 2]


def _fire_once(scheduler: Any, store: Any, run: int) -> tuple[float, int, int]:
    from apscheduler.events import EVENT_JOB_EXECUTED

    due_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    world.fill_job_table(store, [(f"d{run}-{n}", due_at) for n in range(world.DUE)])  # 100,000 jobs in the store
    done, tally = _listen(scheduler, world.DUE, EVENT_JOB_EXECUTED)
    with world.RAN_LOCK:
        world.RAN.clear()
    scheduler.resume()
    done.wait(600)
    scheduler.pause()
    with world.RAN_LOCK:
        starts = [started for scheduled, started in world.RAN if scheduled == due_at.timestamp()]
    late = sum(started - due_at.timestamp() > 1 for started in starts)
    return max(starts) - due_at.timestamp(), tally[EVENT_JOB_EXECUTED], late


def measure_firing(bench: Bench, ticks: dict[int, float], fired: float) -> None:
    print(f"  APScheduler: firing 1,000 due among {PEER_SIZE:,} jobs in its SQLAlchemy job store ...", flush=True)
    seconds, ran, late = apscheduler_firing(bench, bench.args.repeat)
    ratio = seconds / fired
    bench.add(
        Row(
            f"fire 1,000 due among {PEER_SIZE:,}: the tick at their instant",
            ms(fired),
            f"all {ran:,} ran after {ms(seconds)}, {late:,} > 1 s late",
            f"{ratio:,.1f}x",
            target=f">= {TARGET_FIRE_RATIO:g}x",
            ok=ratio >= TARGET_FIRE_RATIO,
        )
    )
    tick = ticks[PEER_SIZE]
    bench.add(Row("  planned and sent in one tick (catch-up)", ms(tick), "", f"{seconds / tick:,.1f}x"))
    bench.note(
        "firing: APScheduler's jobs have misfire_grace_time=None so that all run however late; time from "
        f"their due instant to the start of the last one, median of {bench.args.repeat} runs, as planwatch's. "
        "planwatch as `planwatch run` "
        "works: each tick plans two intervals ahead, so the tick at the instant only sends the 1,000 "
        "(NullChannel: claimed, checked, marked sent); the tick a minute before planned them. Below it, "
        "the busy tick above: planned and sent in one tick, as after downtime"
    )


# ----- 7: the example plan's whole life ----------------------------------------------------------


def measure_simulation(bench: Bench) -> None:
    from engine.drive.rehearse import run_simulation
    from engine.importing import import_paths
    from engine.settings import template_folders

    db = bench.work / "example.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = Settings(
        database_url=f"sqlite:///{db}",
        rules_dir=ROOT / "rules",
        templates_dir=ROOT / "templates",
        maildir=bench.work / "maildir",
    )
    plans = ROOT / "plans"
    rules, renderer = load_rules(settings.rules_dir), Renderer(template_folders(settings))
    with opened(db) as engine:
        upgrade(engine)
        import_paths(
            engine,
            [plans / "owners.yaml", plans / "gb276-tc2-implementation-plan.txt"],
            settings,
            datetime(1999, 9, 28, tzinfo=UTC),
        )
        results = []

        def once() -> float:
            seconds, result = timed(
                lambda: run_simulation(
                    engine, settings, rules, renderer, SIM_FROM, SIM_UNTIL, plans / "progress.yaml", show_progress=False
                )
            )
            results.append(result)
            return float(seconds)

        med, best, cpu = median_of(once, 3)
    last = results[-1]
    bench.add(
        Row(
            "simulate the example plan's life",
            figure(med, best, cpu),
            target=f"< {TARGET_SIM_S:g} s",
            ok=med < TARGET_SIM_S,
        )
    )
    bench.note(
        f"simulation: {SIM_FROM} to {SIM_UNTIL} with plans/progress.yaml, on a scratch copy, median of 3: "
        f"{last.ticks:,} ticks, {len(last.notifications):,} messages, {last.replayed} replayed events"
    )


# ----- the table and the entry point ---------------------------------------------------------------


def print_table(bench: Bench) -> None:
    heads = ("measure", "planwatch", "APScheduler 3", "ratio", "target", "")
    cells = [(r.name, r.planwatch, r.peer, r.ratio, r.target, verdict(r)) for r in bench.rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())
    print()
    for line in bench.notes:
        print(f"* {line}")


def environment() -> str:
    import sqlite3

    import apscheduler
    import sqlalchemy

    return (
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, SQLAlchemy {sqlalchemy.__version__}, "
        f"APScheduler {apscheduler.__version__}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="project APScheduler's loading from a sample (default)")
    mode.add_argument("--full", action="store_true", help="load all 100,000 jobs into APScheduler (minutes)")
    parser.add_argument("--sample", type=int, default=5000, help="add_jobs measured with --quick (default 5000)")
    parser.add_argument(
        "--sizes",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        default=SIZES,
        help="plan sizes for the tick, comma-separated (default 10000,100000,1000000)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="measured runs per busy figure (default 5)")
    parser.add_argument("--idle-runs", type=int, default=2000, help="idle ticks measured (default 2000)")
    parser.add_argument(
        "--job-ms",
        type=float,
        default=30.0,
        help="work per message in the burst, both sides: one SMTP round trip (default 30)",
    )
    parser.add_argument("--no-yaml", action="store_true", help="skip the (slow) YAML plan import")
    parser.add_argument("--workdir", type=Path, help="keep generated worlds here for the next run")
    parser.add_argument("--child-memory", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if PEER_SIZE not in args.sizes and not args.child_memory:
        parser.error(f"--sizes must include {PEER_SIZE} (the peer comparison ticks among {PEER_SIZE:,})")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_memory:
        child_memory(args.child_memory, args.sizes[0])
        return 0
    logging.getLogger("apscheduler").addHandler(logging.NullHandler())  # its misfire warnings, counted instead
    temp = None if args.workdir else tempfile.mkdtemp(prefix="planwatch-bench-")
    work = args.workdir or Path(temp or ".")
    work.mkdir(parents=True, exist_ok=True)
    world.header("planwatch engine benchmark")
    print(f"{environment()}\nworlds in {work}", flush=True)
    rules = load_rules(world.RULES)
    bench = Bench(args, work, rules, Renderer([world.TEMPLATES]), world.busy_instant(rules))
    try:
        print("1-3. busy tick by plan size, idle tick, plan_due alone", flush=True)
        ticks = measure_ticks(bench)
        fired = measure_fire_tick(bench)
        print("4. a burst of 1,000 at one instant", flush=True)
        measure_burst(bench)
        print("5. peak memory", flush=True)
        measure_memory(bench)
        print("6. versus one APScheduler job per reminder in its SQLAlchemyJobStore on SQLite", flush=True)
        measure_loading(bench)
        measure_firing(bench, ticks, fired)
        print("7. the example plan's whole life", flush=True)
        measure_simulation(bench)
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    bench.note(f"load average at the end: {load} on {os.cpu_count()} CPUs (other processes add to every figure)")
    print_table(bench)
    failed = [r.name for r in bench.rows if r.ok is False]
    print(f"\n{len(failed)} target(s) missed" + (": " + "; ".join(failed) if failed else ""))
    print("Rerun: .venv/bin/python bench/bench_engine.py [--quick | --full]")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
