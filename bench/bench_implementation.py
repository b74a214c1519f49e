"""Benchmark: the implementation report over 100,000 actions and 1,000,000 history rows, and its Word paper.

Run from the repository root:  .venv/bin/python bench/bench_implementation.py [--actions 100000] [--runs 3]

The world is ``bench/_world.py``'s plan (``--actions`` deadline actions due from 2030 over ten years, 1,000
owners under one supervisor chain), with a history of 1,000,000 rows added with the raw ``sqlite3``
driver: per 100,000 actions, 10,000 acceptance decisions, 40,000 closure reports (30,000 verified, 5,000
returned, 5,000 waiting) with their 75,000 status changes, 20,000 causes of delay, 15,000 extensions granted
(the change log and the requests) and 5,000 refused, 300,000 progress entries in the change log and 520,000
dated updates. The report is made as of 2035-06-30 compared with 2034-12-31 (``build_implementation``:
everything read from the history, as of both days), then written as Markdown, CSV and the ``.docx``
(whose appendix holds one row per action). Each step runs ``--runs`` times in one process; the median
and the best are printed. No peer: no tool a secretariat would otherwise reach for reads this history.

Targets: the report's figures in under 2 s, the ``.docx`` (figures included) in under 5 s (medians).
Exit status: 0 when both medians are under their targets, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import _world  # noqa: E402  (the repository root must be importable first)

REPORT_TARGET = 2.0
DOCX_TARGET = 5.0
AS_OF, SINCE = date(2035, 6, 30), date(2034, 12, 31)
START = datetime(2029, 6, 1, 10, tzinfo=UTC)
CAUSES = ("resources", "depends on another action", "awaiting a decision", "external factors", "other")
RATINGS = ("implemented", "partially_implemented", "not_implemented")


def when(i: int, step: int) -> str:
    """Return a time for the ``step``-th event of action ``i``: spread over seven years, in order per action."""
    return _world.sql_time(START + timedelta(days=(i * 7) % 2200, hours=step))


def history(n: int) -> dict[str, Iterator[tuple[object, ...]]]:
    """Return the rows to insert per table, for actions 1..n (the counts in the module's docstring, scaled)."""

    def changes() -> Iterator[tuple[object, ...]]:
        for i in range(1, n + 1):
            if i % 10 == 0:
                yield i, when(i, 0), "secretariat", "cli", "acceptance", "accepted", ("partially_accepted",
                      "not_accepted", "under_consideration")[i % 3], "decided"  # fmt: skip
            if i % 5 == 1:
                yield i, when(i, 1), "owner", "web", "delay cause", None, CAUSES[i % 5], ""
            if i % 20 in (2, 7, 12):
                yield i, when(i, 2), "mid", "web", "extended", None, None, "budget"
            for k in range(3):
                yield i, when(i, 3 + k), "owner", "web", "progress", None, None, "on track"
            if i % 5 in (2, 3):
                yield i, when(i, 10), "owner", "web", "status", "open", "reported", "done"
                if i % 10 in (2, 3, 7):
                    yield i, when(i, 11), "mid", "web", "status", "reported", "done", "verified"
                elif i % 10 == 8:
                    yield i, when(i, 11), "mid", "web", "status", "reported", "open", "returned"

    def closures() -> Iterator[tuple[object, ...]]:
        for i in range(1, n + 1):
            if i % 5 in (2, 3):
                verdict = "verified" if i % 10 in (2, 3, 7) else "returned" if i % 10 == 8 else "reported"
                decided = when(i, 11) if verdict != "reported" else None
                theirs = RATINGS[(i // 10) % 3] if verdict == "verified" else ""
                yield i, "", when(i, 10), "owner", "web", "done", "[]", RATINGS[i % 2], "mid", verdict, decided, theirs

    def requests() -> Iterator[tuple[object, ...]]:
        for i in range(1, n + 1):
            if i % 20 in (2, 7, 12, 17):
                granted = i % 20 != 17
                yield i, "owner", when(i, 1), "2041-01-01", "budget", "granted" if granted else "refused", when(i, 2)

    def updates() -> Iterator[tuple[object, ...]]:
        for i in range(1, n + 1):
            for k in range(5 + (i % 5 < 1) + (i % 5 < 1)):  # 5.2 a action: 520,000 per 100,000
                yield i, when(i, 20 + k), "owner", "web", "on track", 10 * k

    return {"changes": changes(), "closures": closures(), "requests": requests(), "updates": updates()}


def fill_history(path: Path, n: int) -> int:
    """Add the history to the world at ``path``; return how many rows were written."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    dues = dict(conn.execute("SELECT id, due FROM action"))
    rows = history(n)
    ext = [r for r in rows.pop("changes")]
    for k, row in enumerate(ext):  # an extension moves the due date in force by 180 days
        if row[4] == "extended":
            old = date.fromisoformat(dues[row[0]])
            ext[k] = (*row[:5], old.isoformat(), (old + timedelta(days=180)).isoformat(), row[7])
    conn.executemany(
        "INSERT INTO action_change (action_id, at, who, via, field, old, new, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ext,
    )
    closures = list(rows.pop("closures"))
    conn.executemany(
        "INSERT INTO closure_report (action_id, occurrence, reported_at, reported_by, via, note, links, owner_rating,"
        " verifier_id, status, decided_at, verifier_rating, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')",
        closures,
    )
    requests = [(*r[:3], (date.fromisoformat(dues[r[0]]) + timedelta(days=180)).isoformat(), *r[4:])
                for r in rows.pop("requests")]  # fmt: skip
    conn.executemany(
        "INSERT INTO extension_request (action_id, requested_by, requested_at, wanted, reason, status, decided_at,"
        " via, decision_note) VALUES (?, ?, ?, ?, ?, ?, ?, 'web', '')",
        requests,
    )
    updates = list(rows.pop("updates"))
    conn.executemany(
        "INSERT INTO progress_update (action_id, at, who, via, state, percent, text, occurrence) "
        "VALUES (?, ?, ?, ?, ?, ?, '', '')",
        updates,
    )
    conn.execute("UPDATE action SET acceptance = 'accepted'")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return len(ext) + len(closures) + len(requests) + len(updates)


def timed(step: Callable[[], object], runs: int) -> tuple[float, float, object, float]:
    """Return the median and best wall time of ``runs`` runs of ``step``, its result, and the median CPU time."""
    times, cpu, result = [], [], None
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        result = step()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return statistics.median(times), min(times), result, statistics.median(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    _world.header("planwatch implementation report benchmark")
    from engine.read.implementation import build_implementation
    from engine.read.implementation_docx import render_docx
    from engine.read.implementation_text import render_csv, render_markdown
    from engine.store import make_engine, transaction

    with tempfile.TemporaryDirectory() as scratch:
        path = _world.build(Path(scratch) / "world.db", args.actions)
        started = time.perf_counter()
        written = fill_history(path, args.actions)
        took = time.perf_counter() - started
        print(f"world: {args.actions:,} actions, {written:,} history rows (written in {took:.1f} s)")
        engine = make_engine(f"sqlite:///{path}")

        def figures() -> object:
            with transaction(engine) as session:
                return build_implementation(session, _world.PLAN_ID, AS_OF, SINCE)

        median, best, report, cpu = timed(figures, args.runs)
        print(
            f"report figures (as of {AS_OF}, since {SINCE}): median {median:.2f} s, best {best:.2f} s, CPU {cpu:.2f} s"
        )
        total = report.total()  # type: ignore[attr-defined]
        print(f"  {total.accepted:,} accepted, {total.implemented:,} implemented ({total.percent}),"
              f" {total.overdue:,} overdue")  # fmt: skip
        md = timed(lambda: render_markdown(report), args.runs)  # type: ignore[arg-type]
        print(f"Markdown: median {md[0]:.2f} s, best {md[1]:.2f} s, CPU {md[3]:.2f} s")
        table = timed(lambda: "".join(render_csv(report)), args.runs)  # type: ignore[arg-type]
        print(f"CSV: median {table[0]:.2f} s, best {table[1]:.2f} s, CPU {table[3]:.2f} s")
        paper = timed(lambda: render_docx(figures()), args.runs)  # type: ignore[arg-type]
        size = len(paper[2]) if isinstance(paper[2], bytes) else 0
        print(
            f".docx with the figures: median {paper[0]:.2f} s, best {paper[1]:.2f} s, CPU {paper[3]:.2f} s"
            f" ({size / 1e6:.1f} MB)"
        )
        engine.dispose()
    ok = median < REPORT_TARGET and paper[0] < DOCX_TARGET
    print(f"goals: figures under {REPORT_TARGET} s, .docx under {DOCX_TARGET} s: {'met' if ok else 'NOT met'}")
    _world.footer()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
