"""Benchmark: how long each read command takes to answer, from a new process, on the example plan.

Run from the repository root:  .venv/bin/python bench/bench_cli.py [--runs 10]

A scratch database gets the example plan and its owners (``plans/``) and one tick of the shipped
rules at the plan's first day, so the outbox and the escalation log have rows. Each command then
runs ``--runs`` times as a user runs it (``.venv/bin/planwatch --db ... COMMAND``, a new Python
process each time, output to a pipe), and the benchmark prints the median and best wall time of
each, beside the time of ``planwatch --help`` (the floor: Python, Typer and the command table).
``planwatch simulate`` of the example plan's whole life (1999-09-28 to 2001-12-31, with
``plans/progress.yaml``) runs the same way, with a time of its own to answer within. No peer: these are planwatch's
own answering times.

Python runs as it runs for a user of an installed planwatch: with its bytecode cache (an
environment that sets ``PYTHONDONTWRITEBYTECODE`` would make every run compile planwatch's sources
again), after one run of each command that is not counted. That first run also fills planwatch's
cache folder (``XDG_CACHE_HOME``, here a folder of the benchmark's own): the e-mail templates
compiled, and in a checkout the French and Spanish catalogs compiled from their ``.po``.

Below the commands it prints the floors a read command stands on, each measured the same way: a
new Python that does nothing, one that imports SQLAlchemy, one that imports SQLModel (SQLAlchemy's
ORM and pydantic), and one that imports planwatch's tables (``engine.store``), which every read
command needs.

Last, one process of ``simulate`` timed stage by stage: its imports, the rules and the database, the
simulation, and the table of messages; and the simulation itself by part: the ticks (the plan step
apart), the replayed events, the check of each template sent, the next wake-up.

Exit status: 0 when every command's median is within its time (150 ms; simulate 1,500 ms), 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLANWATCH = ROOT / ".venv" / "bin" / "planwatch"
WITHIN_MS = 150.0  # a read command should answer within this
WITHIN_SIMULATE_MS = 1500.0
SIMULATE = (
    "simulate",
    "--from",
    "1999-09-28",
    "--until",
    "2001-12-31",
    "--replay",
    str(ROOT / "plans" / "progress.yaml"),
)
FLOORS = (
    ("python -c pass", "pass"),
    ("import sqlalchemy", "import sqlalchemy"),
    ("import sqlmodel", "import sqlmodel"),
    ("import engine.store", "import engine.store"),
)
COMMANDS = (
    ("actions",),
    ("actions", "--json"),
    ("show", "I.1a.1"),
    ("review",),
    ("why", "I.1a.1"),
    ("owners",),
    ("status",),
    ("outbox",),
    ("escalations",),
)


def user_env() -> dict[str, str]:
    """The environment of a user's run: a wide terminal, and Python's bytecode cache on."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "COLUMNS": "160"}


# One process, stage by stage (CPU ms): what a read command's time is made of.
SPLIT = """
import io, sys, time, contextlib
marks = [time.process_time()]
def mark():
    marks.append(time.process_time())
import sqlalchemy; mark()
import sqlalchemy.orm; mark()
import sqlmodel; mark()
import engine.store; mark()
from engine.store import ensure_schema, make_engine
db = make_engine(sys.argv[1]); ensure_schema(db); db.dispose(); mark()
from engine.cli.main import run; mark()
args = ["--db", sys.argv[1], "--rules", sys.argv[2], "actions", "--json"]
with contextlib.redirect_stdout(io.StringIO()):
    run(args); mark()
    run(args); mark()
print(" ".join(f"{(b - a) * 1000:.1f}" for a, b in zip(marks, marks[1:])))
"""
# One process of ``simulate``, stage by stage (CPU ms): what its time is made of.
SIMULATE_SPLIT = """
import io, sys, time, contextlib
marks = [time.process_time()]
def mark():
    marks.append(time.process_time())
from engine.cli.main import run; mark()
import engine.cli.commands.engine, engine.drive.rehearse; mark()
import engine.drive.rehearse as rehearse
import engine.drive.simulate as simulation
import engine.drive.tick as tick
from rich.console import Console
spent = {}
def timed(module, name):
    inner = getattr(module, name)
    def outer(*args, **kwargs):
        start = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - start
    setattr(module, name, outer)
timed(rehearse, "simulate"); timed(Console, "print"); timed(tick, "plan_step")
for name in ("run_tick", "apply_events", "fail_unrenderable", "next_wake"):
    timed(simulation, name)
with contextlib.redirect_stdout(io.StringIO()):
    run(["--db", sys.argv[1], "--rules", sys.argv[2], *sys.argv[3:]])
mark()
whole = (marks[-1] - marks[-2]) * 1000
inside = [spent["simulate"] * 1000, spent.get("print", 0.0) * 1000]
rest = whole - sum(inside)
named = ("run_tick", "plan_step", "apply_events", "fail_unrenderable", "next_wake")
parts = [spent.get(name, 0.0) * 1000 for name in named]
parts[0] -= parts[1]  # the tick without its plan step
parts.append(inside[0] - sum(parts))
print(" ".join(f"{x:.1f}" for x in [(marks[1] - marks[0]) * 1000, (marks[2] - marks[1]) * 1000, rest, *inside, *parts]))
"""
SIMULATE_STAGES = (
    "import the CLI (Typer, the command table)",
    "+ the simulation's modules (SQLAlchemy, the models, the workflow, mail, the time-frame reader)",
    "the rules, the scratch copy of the database, the replay file",
    "the simulation (ticks, replayed events, template checks)",
    "drawing the table of messages (rich)",
    "  in the simulation: the ticks' digest and dispatch steps (and their checks for work)",
    "  in the simulation: the plan step",
    "  in the simulation: the replayed events (the workflow functions)",
    "  in the simulation: the check of each template sent (sample messages rendered, built, read back)",
    "  in the simulation: the next wake-up",
    "  in the simulation: the rest (the result's queries, the loop)",
)
STAGES = (
    "import sqlalchemy (Core)",
    "+ sqlalchemy.orm",
    "+ sqlmodel (and pydantic)",
    "+ planwatch's tables (engine.store)",
    "open the database, check its schema revision",
    "+ the CLI (Typer, the command table)",
    "actions --json, first run in the process",
    "actions --json, second run",
)


def split(db: Path, runs: int) -> list[float]:
    """Return the median CPU milliseconds of each stage of ``SPLIT`` over ``runs`` new processes."""
    command = [sys.executable, "-c", SPLIT, f"sqlite:///{db}", str(ROOT / "rules")]
    samples = []
    for i in range(runs + 1):
        done = subprocess.run(command, capture_output=True, cwd=db.parent, env=user_env(), check=True, text=True)
        if i > 0:
            samples.append([float(x) for x in done.stdout.split()])
    return [statistics.median(column) for column in zip(*samples, strict=True)]


def split_simulate(db: Path, runs: int) -> list[float]:
    """Return the median CPU milliseconds of each stage of ``SIMULATE_SPLIT`` over ``runs`` new processes."""
    command = [sys.executable, "-c", SIMULATE_SPLIT, f"sqlite:///{db}", str(ROOT / "rules"), *SIMULATE]
    samples = []
    for i in range(runs + 1):
        done = subprocess.run(command, capture_output=True, cwd=db.parent, env=user_env(), check=True, text=True)
        if i > 0:
            samples.append([float(x) for x in done.stdout.split()])
    return [statistics.median(column) for column in zip(*samples, strict=True)]


def planwatch(db: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = user_env()
    command = [str(PLANWATCH), "--db", f"sqlite:///{db}", "--rules", str(ROOT / "rules"), *args]
    return subprocess.run(command, capture_output=True, cwd=db.parent, env=env, check=False)


def prepare(work: Path) -> Path:
    db = work / "example.db"
    plans = ROOT / "plans"
    steps = [
        ("import", str(plans / "owners.yaml"), str(plans / "gb276-tc2-implementation-plan.txt")),
        ("tick", "--now", "2000-04-28T09:00Z"),
    ]
    for step in steps:
        done = planwatch(db, *step)
        if done.returncode != 0:
            raise SystemExit(f"planwatch {' '.join(step)} failed: {done.stderr.decode()}")
    return db


def measure(db: Path, args: tuple[str, ...], runs: int) -> tuple[list[float], list[float]]:
    """Return the wall times and the CPU times (user + system) of ``runs`` runs of ``planwatch ARGS``."""
    command = [str(PLANWATCH), "--db", f"sqlite:///{db}", "--rules", str(ROOT / "rules"), *args]
    return measure_command(command, db.parent, runs)


def measure_command(command: list[str], cwd: Path, runs: int) -> tuple[list[float], list[float]]:
    """Return the wall times and the CPU times (user + system) of ``runs`` runs of ``command``.

    One run before them is not counted: it fills the bytecode cache, as installing a package does.
    """
    env = user_env()
    walls, cpus = [], []
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed")
        if i > 0:
            walls.append(time.perf_counter() - start)
            cpus.append(usage.ru_utime + usage.ru_stime)
    return walls, cpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each command (default 10)")
    parser.add_argument("--simulate-runs", type=int, default=10, help="runs of simulate (default 10; 0: none)")
    args = parser.parse_args(argv)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"planwatch read commands, new process each (Python {sys.version.split()[0]}; {os.cpu_count()} CPUs, "
        f"load average at start {load}; {datetime.now(UTC).date().isoformat()})",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="planwatch-bench-cli-"))
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # planwatch's cache folder: the runs' own, filled by the first
    rows = []
    try:
        db = prepare(work)
        plan: list[tuple[tuple[str, ...], int, float | None]] = [
            (("--help",), args.runs, None),
            *((command, args.runs, WITHIN_MS) for command in COMMANDS),
        ]
        if args.simulate_runs > 0:
            plan.append((SIMULATE, args.simulate_runs, WITHIN_SIMULATE_MS))
        for command, runs, within in plan:
            walls, cpus = measure(db, command, runs)
            med, best = statistics.median(walls) * 1000, min(walls) * 1000
            cpu = statistics.median(cpus) * 1000
            ok = None if within is None else med < within
            name = f"planwatch {' '.join(command)}".replace(str(ROOT) + "/", "")
            rows.append((name, med, best, cpu, ok))
            verdict = "" if ok is None else ("PASS" if ok else f"FAIL (not within {within:g} ms)")
            print(f"  {name}: median of {runs} {med:.0f} ms, best {best:.0f} ms, CPU {cpu:.0f} ms {verdict}")
        for name, code in FLOORS:
            walls, cpus = measure_command([sys.executable, "-c", code], work, args.runs)
            med, best = statistics.median(walls) * 1000, min(walls) * 1000
            cpu = statistics.median(cpus) * 1000
            rows.append((f"floor: {name}", med, best, cpu, None))
            print(f"  floor: {name}: median {med:.0f} ms, best {best:.0f} ms, CPU {cpu:.0f} ms", flush=True)
        print(f"\nwhere a read command's CPU goes, one process stage by stage (median of {args.runs}):")
        for stage, ms in zip(STAGES, split(db, args.runs), strict=True):
            print(f"  {stage}: {ms:.0f} ms")
        if args.simulate_runs > 0:
            runs = min(args.simulate_runs, 3)
            print(f"\nwhere simulate's CPU goes, one process stage by stage (median of {runs}):", flush=True)
            for stage, ms in zip(SIMULATE_STAGES, split_simulate(db, runs), strict=True):
                print(f"  {stage}: {ms:.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\ncommand | median | best | CPU (median) | within {WITHIN_MS:g} ms (simulate {WITHIN_SIMULATE_MS:g} ms)")
    for name, med, best, cpu, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{name} | {med:.0f} ms | {best:.0f} ms | {cpu:.0f} ms | {verdict}")
    print(f"load average at the end: {load}")
    failed = [name for name, _, _, _, ok in rows if ok is False]
    print(f"\n{len(failed)} command(s) not within their time" + (": " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
