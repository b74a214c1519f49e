"""Benchmark: importing large plans written with the example plan's own time frames, owners assigned.

Run from the repository root:  .venv/bin/python bench/bench_import.py [--sizes 100000,1000000] [--rounds 3]

The plans are the example plan (``plans/gb276-tc2-implementation-plan.txt``) grown: its front
matter, then four Parts of 25 issues, each issue with 4 sub-issues whose headings cycle through
the example's own issue and sub-issue headings, and action rows whose time frames cycle through
the example's 69 time-frame cells ("Completed by April 2000", "Linked to review of field
structure", "Continuously", a merged empty cell ...; a merged cell that would open a sub-issue
reads "Continuously" instead, as it has no row above it). So every kind of reading the example needs
is exercised, event-linked rows included (their dependency proposal looks the other sections'
headings up), in the example's own proportions.

planwatch side: ``planwatch --db sqlite:///FILE --rules rules import plans/owners.yaml PLAN`` as a
user runs it, in a new process, into a new database: the shipped rules (``rules/owners.yaml``
gives every action an owner) and the example's owners directory. Wall time from the start of the
process to its exit; peak memory is the child's maximum resident set size.

Peer: APScheduler 3, one ``add_job`` per action into its ``SQLAlchemyJobStore`` on SQLite (the
scheduler started paused, as a loader would), each job carrying the owner the same shipped rules
give (first match of the rule patterns against the action's section chain, looked up once per
section, as a competent user would write it) and a ``DateTrigger`` at the action's due date
(given to it: APScheduler reads no time frames). Both sides run the same number of rounds; the
peer's rounds each add ``--sample`` jobs into an empty store and are projected linearly to the
plan's size (``--full``: all of them), and the table says so.

Exit status: 0 when every threshold below is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from fnmatch import fnmatchcase
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

EXAMPLE = ROOT / "plans" / "gb276-tc2-implementation-plan.txt"
OWNERS = ROOT / "plans" / "owners.yaml"
RULES = ROOT / "rules"
PARTS = ("I", "II", "III", "IV")
ISSUES = 25
SUBS = 4
THRESHOLD_CLI_S = {100_000: 3.0, 1_000_000: 20.0}  # the ratio to APScheduler has its own threshold below
THRESHOLD_PEAK_MB = {1_000_000: 600.0}
THRESHOLD_RATIO = 50.0


def example() -> tuple[list[str], list[str], list[str]]:
    """Return the example's front matter lines, its section headings and its time-frame cells in order
    ('' for a cell merged with the one above)."""
    from engine.importers import gbtext

    text = EXAMPLE.read_text(encoding="utf-8")
    doc = gbtext.parse(text, str(EXAMPLE))
    lines = text.splitlines()
    front = lines[: lines.index("Appendix") + 1]
    titles = [s.title for s in doc.sections if s.level in {"issue", "subissue"}]
    return front, titles, [row.timeframe for row in doc.actions]


def write_plan(folder: Path, size: int) -> Path:
    """Write a plan of ``size`` actions in the text format, the example's headings and time frames cycling."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"example-phrases-{size}.txt"
    if path.exists():
        return path
    front, titles, phrases = example()
    lines = [*front, "| ||"]
    sections = len(PARTS) * ISSUES * SUBS
    per_sub = -(-size // sections)
    written = heading = 0
    letters = "abcdefghijklmnopqrstuvwxyz"
    for part in PARTS:
        lines += [f"Part {part} -- {titles[heading % len(titles)]} | ||", "| ||"]
        heading += 1
        for k in range(1, ISSUES + 1):
            lines += [f"{k}. {titles[heading % len(titles)]} | ||"]
            heading += 1
            for s in range(SUBS):
                lines += [f"{k}({letters[s]}) {titles[heading % len(titles)]} |", "Context and elements for action |"]
                heading += 1
                first = True
                for _ in range(per_sub):
                    if written == size:
                        break
                    phrase = phrases[written % len(phrases)]
                    if not phrase and first:  # a merged cell needs a row above it in the same sub-issue
                        phrase = "Continuously"
                    lines += ["|", f"{phrase} | |" if phrase else "||"]
                    written += 1
                    first = False
                lines.append("| ||")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Run:
    seconds: float  # wall clock, from the start of the process to its exit
    peak_mb: float  # the process's maximum resident set size
    cpu: float = 0.0  # its user + system CPU seconds: what other processes on the machine cannot add to


def cli_import(work: Path, plan: Path, size: int) -> Run:
    """Import ``plan`` with the example's owners through the CLI into a new database; check every action landed."""
    db = work / "cli.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    command = [
        str(ROOT / ".venv" / "bin" / "planwatch"),
        "--db",
        f"sqlite:///{db}",
        "--rules",
        str(RULES),
        "import",
        str(OWNERS),
        str(plan),
    ]
    # Python's bytecode cache on, as for an installed planwatch: an environment that sets
    # PYTHONDONTWRITEBYTECODE would otherwise compile planwatch's sources on every run.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=work, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    error = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"planwatch import failed ({proc.returncode}): {error}")
    check_stored(db, size)
    return Run(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def check_stored(db: Path, size: int) -> None:
    import sqlite3

    with sqlite3.connect(db) as conn:
        stored, owned = conn.execute("SELECT count(*), count(owner_id) FROM action").fetchone()
    if stored != size or owned != size:
        raise SystemExit(f"the import stored {stored} actions, {owned} with an owner, instead of {size}")


def profile_import(work: Path, plan: Path, top: int) -> None:
    """Import in this process under cProfile and print the functions that take the most time."""
    from engine.importing import import_paths
    from engine.settings import Settings
    from engine.store import make_engine

    db = work / "profile.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{db}", rules_dir=RULES)
    engine = make_engine(settings.database_url)
    profiler = cProfile.Profile()
    profiler.enable()
    import_paths(engine, [OWNERS, plan], settings, datetime.now(UTC))
    profiler.disable()
    engine.dispose()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def memory_profile(work: Path, plan: Path, top: int) -> None:
    """Import in this process under tracemalloc; print the traced peak and the largest allocations held
    when the actions' insert starts (the rows as read, resolved and made into tuples)."""
    import tracemalloc

    from engine.importing import import_paths
    from engine.settings import Settings
    from engine.store import make_engine
    from engine.store import plans as store_plans

    db = work / "memory.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{db}", rules_dir=RULES)
    engine = make_engine(settings.database_url)
    insert = store_plans.insert_values
    held: list[tracemalloc.Snapshot] = []

    def watched(*args: object, **kwargs: object) -> int:
        if not held:  # the first part of the insert: every row is read and resolved, none written yet
            held.append(tracemalloc.take_snapshot())
        return insert(*args, **kwargs)  # type: ignore[arg-type]

    store_plans.insert_values = watched  # type: ignore[assignment]
    tracemalloc.start()
    try:
        import_paths(engine, [OWNERS, plan], settings, datetime.now(UTC))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        store_plans.insert_values = insert
        engine.dispose()
    print(f"traced peak {peak / 2**20:,.0f} MB")
    if held:
        stats = held[0].statistics("lineno")
        print(f"held when the insert starts: {sum(x.size for x in stats) / 2**20:,.0f} MB; the largest:")
        for stat in stats[:top]:
            print(f"  {stat}")


# ----- the peer: APScheduler 3 ------------------------------------------------------------------


def remind(ref: str, owner: str) -> None:
    """The job APScheduler would run: remind ``owner`` of action ``ref`` (never run here)."""


def peer_jobs(plan: Path, count: int) -> list[tuple[str, list[str], datetime]]:
    """Return (action id, section chain, due instant) of the plan's first ``count`` actions that have a due
    date: what a user loading APScheduler would have read out of the plan beforehand (not timed)."""
    from engine.actions.resolve import resolve_plan
    from engine.importers import gbtext
    from engine.rules.owners import section_chain

    doc = gbtext.parse(plan.read_text(encoding="utf-8"), str(plan))
    schedules = resolve_plan(doc.actions, doc.sections, doc.plan.ref_date, doc.plan.fy_start)
    parents = {s.key: s.parent_key for s in doc.sections}
    # The plan is of 1999: its dates move to a month from now, so every job is still to run.
    shift = datetime.now(UTC).date() - doc.plan.ref_date + timedelta(days=30)
    jobs = []
    for row in doc.actions:
        due = (schedules[row.ref]["due"] or doc.plan.ref_date) + shift
        jobs.append((row.ref, section_chain(row.section_key, parents), datetime.combine(due, dtime(9), UTC)))
        if len(jobs) == count:
            break
    return jobs


def peer_rules() -> list[tuple[str, str]]:
    from engine.rules import owners

    return [(rule.match, rule.owner) for rule in owners.load(RULES / "owners.yaml").rules]


def apscheduler_load(
    work: Path, jobs: list[tuple[str, list[str], datetime]], rules: list[tuple[str, str]]
) -> tuple[float, float]:
    """Return the wall and CPU seconds APScheduler takes to take ``jobs``, each with its owner, into a new
    SQLAlchemy store (CPU: this process's, every thread)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger

    db = work / "apscheduler.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{db}")}, timezone=UTC)
    scheduler.start(paused=True)
    start, cpu = time.perf_counter(), time.process_time()
    owner_of: dict[str, str] = {}
    for ref, chain, due in jobs:
        owner = owner_of.get(chain[0])
        if owner is None:
            keys = (ref, *chain)
            owner = owner_of[chain[0]] = next(o for m, o in rules if any(fnmatchcase(k, m) for k in keys))
        scheduler.add_job(remind, DateTrigger(due), kwargs={"ref": ref, "owner": owner}, id=ref)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    scheduler.shutdown(wait=False)
    return seconds, cpu


# ----- the table ------------------------------------------------------------------------------------


def environment() -> str:
    import sqlite3

    import apscheduler
    import sqlalchemy

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, SQLAlchemy {sqlalchemy.__version__}, "
        f"APScheduler {apscheduler.__version__}; {os.cpu_count()} CPUs, load average at start {load}; "
        f"{datetime.now(UTC).date().isoformat()}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--sizes",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        default=(100_000, 1_000_000),
        help="plan sizes, comma-separated (default 100000,1000000)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds per figure, both sides (default 3)")
    parser.add_argument("--sample", type=int, default=5000, help="add_jobs per APScheduler round (default 5000)")
    parser.add_argument("--full", action="store_true", help="APScheduler adds every action of the smallest plan")
    parser.add_argument("--no-peer", action="store_true", help="skip APScheduler")
    parser.add_argument("--profile", type=int, metavar="SIZE", help="profile one in-process import of SIZE and stop")
    parser.add_argument("--memory", type=int, metavar="SIZE", help="trace the memory of one import of SIZE and stop")
    parser.add_argument("--workdir", type=Path, help="keep generated plans here for the next run")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    temp = None if args.workdir else tempfile.mkdtemp(prefix="planwatch-bench-import-")
    work = args.workdir or Path(temp or ".")
    work.mkdir(parents=True, exist_ok=True)
    print(f"planwatch import benchmark ({environment()})", flush=True)
    rows: list[tuple[str, str, str, str, str, bool | None]] = []
    try:
        if args.profile:
            profile_import(work, write_plan(work, args.profile), 40)
            return 0
        if args.memory:
            memory_profile(work, write_plan(work, args.memory), 15)
            return 0
        cli: dict[int, Run] = {}
        for size in args.sizes:
            plan = write_plan(work, size)
            runs = []
            for r in range(args.rounds):
                runs.append(cli_import(work, plan, size))
                print(
                    f"  planwatch import of {size:,}: round {r + 1}: {runs[-1].seconds:.2f} s "
                    f"(CPU {runs[-1].cpu:.2f} s), peak {runs[-1].peak_mb:.0f} MB",
                    flush=True,
                )
            med = statistics.median(r.seconds for r in runs)
            peak = max(r.peak_mb for r in runs)
            cpu = statistics.median(r.cpu for r in runs)
            cli[size] = Run(med, peak, cpu)
            seconds = THRESHOLD_CLI_S.get(size)
            limit = THRESHOLD_PEAK_MB.get(size)
            ok = (seconds is None or med < seconds) and (limit is None or peak < limit)
            goal = " and ".join(x for x in (seconds and f"< {seconds:g} s", limit and f"< {limit:g} MB") if x)
            rows.append(
                (
                    f"import {size:,} actions from the CLI, owners assigned",
                    f"{med:.2f} s (best {min(r.seconds for r in runs):.2f} s; CPU {cpu:.2f} s), peak {peak:.0f} MB",
                    "",
                    "",
                    goal,
                    ok if goal else None,
                )
            )
        if not args.no_peer:
            size = min(args.sizes)
            count = size if args.full else min(args.sample, size)
            jobs = peer_jobs(write_plan(work, size), count)
            rules = peer_rules()
            times, cpus = [], []
            for r in range(args.rounds):
                wall, cpu = apscheduler_load(work, jobs, rules)
                times.append(wall * size / count)
                cpus.append(cpu * size / count)
                print(
                    f"  APScheduler add_job, {count:,} jobs: round {r + 1}: {times[-1]:.1f} s (CPU {cpus[-1]:.1f} s) "
                    f"for {size:,}" + ("" if count == size else " (projected)"),
                    flush=True,
                )
            peer, peer_cpu = statistics.median(times), statistics.median(cpus)
            ratio = peer / cli[size].seconds
            how = "" if count == size else f", projected from {count:,} a round"
            rows.append(
                (
                    f"load {size:,} actions with owners",
                    f"{cli[size].seconds:.2f} s (CPU {cli[size].cpu:.2f} s)",
                    f"add_job x {size:,}: {peer:.1f} s (CPU {peer_cpu:.1f} s){how}",
                    f"{ratio:.1f}x (CPU {peer_cpu / cli[size].cpu:.1f}x)",
                    f">= {THRESHOLD_RATIO:g}x",
                    ratio >= THRESHOLD_RATIO,
                )
            )
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    print()
    for name, mine, peer_text, ratio_text, goal, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        print(" | ".join(x for x in (name, mine, peer_text, ratio_text, goal, verdict) if x))
    failed = [r[0] for r in rows if r[5] is False]
    print(f"\n{len(failed)} threshold(s) missed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
