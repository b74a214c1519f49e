"""Benchmark: the supervisor and owner pages, rendered end to end through the app.

Run from the repository root:  .venv/bin/python bench/bench_web.py [--rounds 7]

The world: a SQLite file with one plan of 10,000 deadline actions (``bench/_world.py``: 1,000
owners below "mid" below "boss", one Part of 50 issues) and 100,000 escalation-log entries
over them (levels 1-3, a third acknowledged, days overdue 1-400). Each page is asked for
through the real FastAPI app (in-process ASGI client, a signed-in session cookie): session
lookup, queries, Jinja rendering and the SVG included. Timings are the median of ``--rounds``
after one warm-up, wall clock, one process, with the best and the CPU time beside.

Thresholds: the escalations page with 100,000 entries and the plan page with 10,000
actions each under 300 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import _world  # noqa: E402

ACTIONS = 10_000
ENTRIES = 100_000
TARGET_MS = 300.0
SECRET = "bench-secret"


def build(folder: Path) -> Path:
    """Return a world database of ``ACTIONS`` actions and ``ENTRIES`` log entries (built once per folder)."""
    path = folder / f"web-{ACTIONS}-{ENTRIES}.db"
    if path.exists():
        return path
    base = _world.build(folder / f"base-{ACTIONS}.db", ACTIONS)
    partial = path.with_suffix(".partial")
    partial.write_bytes(base.read_bytes())
    conn = sqlite3.connect(partial, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO owner (id, name, email, timezone, supervisor_id, delegate_id, digest, role) "
            "VALUES ('admin', 'Plan Secretariat', 'admin@example.org', 'Europe/Zurich', NULL, NULL, 'none', 'admin')"
        )
        conn.executemany(
            "INSERT INTO escalation (key, at, action_id, occurrence, level, step, policy, recipients, days_overdue, "
            "acknowledged_by, acknowledged_at, ack_note, resolved_at, resolution) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _entries(),
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    partial.rename(path)
    return path


def _entries() -> list[tuple[object, ...]]:
    rng = random.Random(7)
    rows: list[tuple[object, ...]] = []
    for n in range(ENTRIES):
        action = rng.randrange(1, ACTIONS + 1)
        level = 1 + n % 3
        at = _world.NOW - timedelta(days=rng.randrange(0, 720), hours=rng.randrange(24))
        acked = n % 3 == 0
        stamp = _world.sql_time(at)
        rows.append(
            (
                f"e{n}",
                stamp,
                action,
                "2029-12-31",
                level,
                f"escalate:{level}",
                "deadlines",
                json.dumps(["mid@example.org"]),
                rng.randrange(1, 400),
                "mid" if acked else None,
                stamp if acked else None,
                "seen" if acked else "",
                None,
                "",
            )
        )
    return rows


def measure(client: object, path: str, rounds: int) -> tuple[float, float, float, int, int]:
    """Return (median, best and median CPU milliseconds, status, bytes) of GET ``path``."""
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    answer = client.get(path)
    times, cpu = [], []
    for _ in range(rounds):
        start, used = time.perf_counter(), time.process_time()
        answer = client.get(path)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - used)
    median, best = _world.rounds(times)
    return median * 1000, best * 1000, statistics.median(cpu) * 1000, answer.status_code, len(answer.content)


def signed_client(app: object, engine: object, owner: str) -> object:
    """Return an in-process client carrying a fresh session cookie of ``owner``."""
    from fastapi.testclient import TestClient

    from engine.actions.signin import open_session
    from engine.store import transaction

    with transaction(engine) as session:  # type: ignore[arg-type]
        token, _ = open_session(session, owner, _world.NOW, timedelta(days=1))
    client = TestClient(app)  # type: ignore[arg-type]
    client.cookies.set("pw_session", token)
    return client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="Folder to keep (and reuse) the generated world in.")
    args = parser.parse_args()
    _world.header("planwatch web pages benchmark")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        path = build(folder)
        print(
            f"world: {ACTIONS:,} actions, {ENTRIES:,} escalation-log entries in SQLite "
            f"({time.perf_counter() - started:.1f} s to build)"
        )
        return run(path, args.rounds)


def run(path: Path, rounds: int) -> int:
    """Time the pages over the world at ``path``; return 1 when a target is missed."""
    from engine.clock import FixedClock
    from engine.settings import Settings
    from engine.store import make_engine
    from engine.web import create_app

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    app = create_app(
        Settings(database_url=url, secret_key=SECRET, rules_dir=ROOT / "rules"),
        clock=FixedClock(_world.NOW.astimezone(UTC)),
        engine=engine,
    )
    admin, boss, owner = (signed_client(app, engine, who) for who in ("admin", "boss", "o0007"))
    cases = [
        ("escalations, everything (admin), open, most overdue first", admin, "/escalations", True),
        ("escalations, a supervisor of 1,001 people", boss, "/escalations", True),
        (
            "escalations, all states, level 2, a date range",
            admin,
            "/escalations?state=all&level=2&since=2029-01-01&until=2029-12-31",
            True,
        ),
        ("escalations, last page of all 100,000", admin, "/escalations?state=all&page=2000", True),
        ("escalations, one owner", admin, "/escalations?state=all&owner=o0007", True),
        ("escalations, one issue's actions (the Part filter)", admin, "/escalations?state=all&part=S7", True),
        ("escalations, acknowledged, newest first", admin, "/escalations?state=acknowledged&sort=recent", True),
        ("escalations, one action (?action=, as e-mails link)", boss, "/escalations?action=A.8&state=all", True),
        ("escalations, one action by plan and reference", admin, "/escalations?action=bench/A.8", True),
        ("plan page: timeline + counts, 10,000 actions (admin)", admin, "/plan", True),
        ("plan page, a supervisor's scope (10,000 actions)", boss, "/plan", True),
        ("printable report, 10,000 actions", admin, "/report", False),
        ("my actions (10 actions)", owner, "/my", False),
        ("action sheet", owner, "/actions/8", False),
        ("CSV export of all 100,000 entries", admin, "/escalations.csv?state=all", False),
    ]
    print(f"medians of {rounds} requests after one warm-up; best and CPU (this process, median) beside")
    print(f"{'page':<58} {'median ms':>9} {'best ms':>8} {'CPU ms':>7} {'KiB':>7}  goal")
    missed = 0
    for label, client, page, targeted in cases:
        ms, best, cpu, status, size = measure(client, page, rounds)
        verdict = ("ok" if ms < TARGET_MS else "MISSED") if targeted else "-"
        missed += targeted and ms >= TARGET_MS
        assert status == 200, (page, status)
        print(
            f"{label:<58} {ms:9.1f} {best:8.1f} {cpu:7.1f} {size / 1024:7.0f}  "
            f"{verdict + (' (<300 ms)' if targeted else '')}"
        )
    engine.dispose()
    _world.footer()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
