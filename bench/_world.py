"""Generated worlds for ``bench_engine.py``: planwatch databases, plan files and APScheduler stores.

A planwatch world is a migrated SQLite database holding one plan of ``size`` deadline actions
whose due dates are spread over ten years, owned by 1,000 owners (three time zones, one
supervisor chain). Exactly ``DUE`` of them are due for planning at ``NOW``: their 14-day
reminder falls on NOW's day, at 09:00 in the owner's zone; every other action's next
``next_fire_at`` lies at least ten days later. Rows are written with the raw ``sqlite3`` driver
in the exact text forms SQLAlchemy reads back, so a million rows take seconds, not minutes.

``reset`` puts a world back to the state before its busy tick, so one world serves many runs.
The APScheduler side is here too: job functions importable by reference (its SQLAlchemy job
store pickles a reference to the function) and a bulk filler for its job table.
"""

from __future__ import annotations

import os
import pickle
import platform
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "tests" / "data" / "rules"  # deadlines: reminders 14d and 2d before, a 3-step ladder
TEMPLATES = ROOT / "templates"

NOW = datetime(2030, 1, 8, 16, 0, tzinfo=UTC)  # a Tuesday; 09:00 has passed in all three zones
DUE_DAY = date(2030, 1, 22)  # 14 days after NOW's day: the 14d reminder is due today
PREVIOUS_TICK = datetime(2030, 1, 8, 0, 0, tzinfo=UTC)  # before every zone's 09:00 that day
FIRST_LATER_DUE = date(2030, 2, 1)  # the other actions: due from here over ten years
SPREAD_DAYS = 3650
DUE = 1000
OWNERS = 1000
ZONES = ("Europe/Zurich", "Asia/Bangkok", "America/Lima")
SECTIONS = 50
PLAN_ID = "bench"
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

ACTION_COLUMNS = (
    "id",
    "plan_id",
    "ref",
    "section_key",
    "subheading",
    "ordinal",
    "title",
    "description",
    "timeframe",
    "owner_id",
    "owner_source",
    "status",
    "status_note",
    "kind",
    "due",
    "milestones",
    "needs_review",
    "reason",
    "override",
    "created_at",
    "updated_at",
    "tags",
    "next_fire_at",
    "planned_through",
    "policy",
)


# ----- what every benchmark prints: the run's start, the machine, medians of equal rounds -----


def cpu_model() -> str:
    """Return the CPU's model name from /proc/cpuinfo (or what the platform says elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """Return the machine in one line: cores, CPU model, memory, system and Python."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        memory = ""
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{os.cpu_count()} cores, {cpu_model()}{memory}, {platform.system()}, {python}"


def header(name: str | None = None) -> float:
    """Print the load average, the UTC time and the machine at a run's start; return the load average.

    Figures measured while other jobs keep the cores busy are slower on both sides of a
    comparison: the load average beside them says how busy the machine was.
    """
    load = os.getloadavg()
    started = datetime.now(UTC)
    title = name or Path(sys.argv[0]).name
    print(f"{title}: started {started:%Y-%m-%d %H:%M:%S} UTC", flush=True)
    print(f"load average at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 minutes)", flush=True)
    print(f"machine: {machine()}", flush=True)
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}", flush=True)
    return load[0]


def footer() -> None:
    """Print the load average and the UTC time at a run's end."""
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} ({datetime.now(UTC):%H:%M:%S} UTC)", flush=True)


def rounds(times: list[float]) -> tuple[float, float]:
    """Return (median, best) of a list of timings: the median is the figure, the best is shown beside it."""
    return statistics.median(times), min(times)


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float, object]:
    """Call ``fn()``; return (wall seconds, CPU seconds of this process, its result)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - start, time.process_time() - cpu, result


def ratio(theirs: float, ours: float) -> str:
    """Return how many times faster planwatch is ("2.3x faster") or slower ("behind: 0.8x")."""
    if ours <= 0:
        return "n/a"
    factor = theirs / ours
    return f"{factor:.2f}x faster" if factor >= 1 else f"{factor:.2f}x (behind)"


def sql_time(moment: datetime) -> str:
    """Return an aware datetime as the UTC text SQLAlchemy stores in SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def owner_id(n: int) -> str:
    return f"o{n % OWNERS:04d}"


def owner_zone(n: int, single_zone: bool) -> str:
    return ZONES[0] if single_zone else ZONES[n % OWNERS % len(ZONES)]


def owner_of(j: int, step: int) -> int:
    """Return the owner number of action ``j`` (from 0): the due actions have 1,000 distinct owners."""
    return j // step if is_due(j, step) else j % OWNERS


def is_due(j: int, step: int) -> bool:
    return j % step == 0 and j // step < DUE


def nine_local(day: date, tz: str) -> datetime:
    """Return 09:00 on ``day`` in zone ``tz``, in UTC."""
    return datetime.combine(day, dtime(9), ZoneInfo(tz)).astimezone(UTC)


def stride(size: int) -> int:
    """Every ``stride``-th action (ids 1, 1 + stride, ...) is one of the ``DUE`` due at NOW."""
    return size // DUE


def busy_instant(rules: object, *, single_zone: bool = True) -> datetime:
    """Return the UTC instant at which every one of the ``DUE`` due reminders goes out in one tick.

    The hour comes from the rules the world runs with (the delivery hour of the policy that takes
    the world's actions), in the owners' zone on NOW's day, and never before the cursors the world
    wrote (09:00 local). A world of three zones has no such instant (their working days do not
    overlap), so the ticks that must send all ``DUE`` use a world of one zone.
    """
    if not single_zone:
        raise ValueError("the owners of a three-zone world are never all at work at one instant")
    hour = dtime(9)
    for policy in getattr(rules, "policies", ()):
        if getattr(policy, "name", None) == "deadlines":
            hour = policy.delivery.hour
            break
    tz = ZoneInfo(ZONES[0])
    at = datetime.combine(NOW.date(), hour, tz).astimezone(UTC)
    return max(at, nine_local(NOW.date(), ZONES[0]))


def due_ids(size: int) -> list[int]:
    return list(range(1, size + 1, stride(size)))[:DUE]


def due_cursor(action_id: int, size: int, single_zone: bool) -> tuple[str, str]:
    """Return (next_fire_at, planned_through) of a due action before its busy tick."""
    tz = owner_zone(owner_of(action_id - 1, stride(size)), single_zone)
    return sql_time(nine_local(NOW.date(), tz)), sql_time(PREVIOUS_TICK)


def _action_rows(size: int, single_zone: bool) -> Iterator[tuple[object, ...]]:
    created = sql_time(PREVIOUS_TICK - timedelta(days=400))
    step = stride(size)
    later = max(size - DUE, 1)
    for j in range(size):
        action_id = j + 1
        owner = owner_of(j, step)
        tz = owner_zone(owner, single_zone)
        if is_due(j, step):
            due = DUE_DAY
            fire, through = due_cursor(action_id, size, single_zone)
        else:
            due = FIRST_LATER_DUE + timedelta(days=(j * SPREAD_DAYS) // later)
            fire, through = sql_time(nine_local(due - timedelta(days=14), tz)), sql_time(PREVIOUS_TICK)
        phrase = f"By {due.day} {MONTHS[due.month - 1]} {due.year}"
        yield (
            action_id,
            PLAN_ID,
            f"A.{action_id}",
            f"S{j % SECTIONS + 1}",
            "",
            action_id,
            f"Action {action_id}",
            "",
            phrase,
            owner_id(owner),
            "plan",
            "open",
            "",
            "deadline",
            due.isoformat(),
            "[]",
            0,
            f"Read as a deadline on {due.isoformat()}.",
            "{}",
            created,
            created,
            "[]",
            fire,
            through,
            "deadlines",
        )


def build(path: Path, size: int, *, single_zone: bool = False) -> Path:
    """Create (once) a world of ``size`` actions at ``path``; return ``path``."""
    if path.exists():
        return path
    from engine.store import make_engine, upgrade

    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{partial}")
    upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(partial, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        _fill(conn, size, single_zone)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    partial.rename(path)
    return path


def _fill(conn: sqlite3.Connection, size: int, single_zone: bool) -> None:
    stamp = sql_time(PREVIOUS_TICK - timedelta(days=400))
    conn.execute(
        "INSERT INTO plan (id, title, symbol, body, ref_date, timezone, fy_start, source, source_format, "
        "imported_at, updated_at) VALUES (?, ?, '', '', ?, 'Europe/Zurich', NULL, 'generated', 'yaml', ?, ?)",
        (PLAN_ID, f"Generated plan of {size} actions", "2029-01-01", stamp, stamp),
    )
    sections: list[tuple[str, str, str | None, str, str, str, str, int]] = [
        (PLAN_ID, "S", None, "part", "I", "Part one", "", 1)
    ]
    sections += [(PLAN_ID, f"S{k}", "S", "issue", str(k), f"Issue {k}", "", k + 1) for k in range(1, SECTIONS + 1)]
    conn.executemany(
        "INSERT INTO section (plan_id, key, parent_key, level, number, title, context, ordinal) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        sections,
    )
    for row in owner_rows(single_zone):
        conn.execute(
            "INSERT INTO owner (id, name, email, timezone, supervisor_id, delegate_id, digest, role) "
            "VALUES (?, ?, ?, ?, ?, NULL, 'none', 'owner')",
            row,
        )
    marks = ", ".join("?" for _ in ACTION_COLUMNS)
    conn.executemany(
        f"INSERT INTO action ({', '.join(ACTION_COLUMNS)}) VALUES ({marks})", _action_rows(size, single_zone)
    )


def owner_rows(single_zone: bool) -> list[tuple[str, str, str, str, str | None]]:
    """Return (id, name, email, timezone, supervisor) of every owner: boss, mid and the 1,000 owners."""
    rows: list[tuple[str, str, str, str, str | None]] = [
        ("boss", "Big Boss", "boss@example.org", ZONES[0], None),
        ("mid", "Middle Manager", "mid@example.org", ZONES[0], "boss"),
    ]
    for n in range(OWNERS):
        rows.append((owner_id(n), f"Owner {n}", f"{owner_id(n)}@example.org", owner_zone(n, single_zone), "mid"))
    return rows


def reset(path: Path, size: int, *, single_zone: bool = False) -> None:
    """Put a world back as it was before its busy tick: outbox and log empty, DUE actions due."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute("DELETE FROM outbox")
        conn.execute("DELETE FROM escalation")
        conn.executemany(
            "UPDATE action SET next_fire_at = ?, planned_through = ? WHERE id = ?",
            [(*due_cursor(i, size, single_zone), i) for i in due_ids(size)],
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


# ----- the plan file for the import comparison -------------------------------------------


def write_plan_files(folder: Path, size: int) -> tuple[Path, Path]:
    """Write an owners file and a YAML plan file of ``size`` deadline actions; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    owners_path, plan_path = folder / "owners.yaml", folder / f"plan-{size}.yaml"
    if not owners_path.exists():
        lines = ["owners:"]
        for oid, name, email, tz, boss in owner_rows(single_zone=False):
            lines += [f"  - id: {oid}", f"    name: {name}", f"    email: {email}", f"    timezone: {tz}"]
            if boss:
                lines.append(f"    supervisor: {boss}")
        owners_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if not plan_path.exists():
        lines = [
            "plan:",
            f"  id: {PLAN_ID}",
            f"  title: Generated plan of {size} actions",
            "  date: 2029-01-01",
            "  timezone: Europe/Zurich",
            "sections:",
            "  - key: S",
            "    number: I",
            "    title: Part one",
        ]
        for k in range(1, SECTIONS + 1):
            lines += [f"  - key: S{k}", "    parent: S", f'    number: "{k}"', f"    title: Issue {k}"]
        lines.append("actions:")
        for j in range(size):
            due = FIRST_LATER_DUE + timedelta(days=(j * SPREAD_DAYS) // size)
            lines += [
                f"  - id: A.{j + 1}",
                f"    section: S{j % SECTIONS + 1}",
                f"    title: Action {j + 1}",
                f"    timeframe: By {due.day} {MONTHS[due.month - 1]} {due.year}",
                f"    owner: {owner_id(j)}",
            ]
        plan_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return owners_path, plan_path


# ----- APScheduler: job functions (referenced by name from its job store) and a bulk filler ---

RAN: list[tuple[float, float]] = []  # (scheduled POSIX time, started POSIX time) of every run
RAN_LOCK = threading.Lock()


def job_ran(scheduled: float, work_ms: float = 0.0) -> None:
    """An APScheduler job: note when it started against when it was due, then do ``work_ms`` of work."""
    started = time.time()
    with RAN_LOCK:
        RAN.append((scheduled, started))
    if work_ms:
        time.sleep(work_ms / 1000)  # stands for one SMTP round trip: waiting, not computing


def fill_job_table(store: object, jobs: list[tuple[str, datetime]]) -> None:
    """Insert date-triggered ``(id, run_at)`` jobs into an SQLAlchemyJobStore, in one transaction.

    The rows are exactly what ``store.add_job`` writes (the pickled ``Job.__getstate__``), batched
    so that a world of 100,000 jobs is built in seconds; the firing is what gets measured.
    """
    from apscheduler.job import Job
    from apscheduler.triggers.date import DateTrigger

    protocol = store.pickle_protocol  # type: ignore[attr-defined]
    rows = []
    for job_id, run_at in jobs:
        job = Job(
            _Scheduler(),
            id=job_id,
            func=job_ran,
            args=(run_at.timestamp(),),
            kwargs={},
            trigger=DateTrigger(run_at),
            executor="default",
            name=f"reminder {job_id}",
            misfire_grace_time=None,
            coalesce=False,
            max_instances=1,
            next_run_time=run_at,
        )
        rows.append(
            {"id": job_id, "next_run_time": run_at.timestamp(), "job_state": pickle.dumps(job.__getstate__(), protocol)}
        )
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(store.jobs_t.insert(), rows)  # type: ignore[attr-defined]


class _Scheduler:
    """The least a ``Job`` needs of a scheduler to be built (it is never run from here)."""

    _logger = None
    timezone = UTC


def write_text_plan(folder: Path, size: int) -> Path:
    """Write a plan of ``size`` deadline actions in the plan's own text format (the example's front matter)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"plan-{size}.txt"
    if path.exists():
        return path
    source = (ROOT / "plans" / "gb276-tc2-implementation-plan.txt").read_text(encoding="utf-8").splitlines()
    front = source[: source.index("Appendix") + 1]
    lines = [*front, "| ||"]
    parts, issues = ("I", "II", "III", "IV"), 25
    per_issue = -(-size // (len(parts) * issues))
    written = 0
    for part in parts:
        lines += [f"Part {part} -- Generated part {part} | ||", "| ||"]
        for k in range(1, issues + 1):
            lines += [f"{k}. Generated issue {k} |", f"Context and elements for action of issue {part}.{k} |"]
            for _ in range(per_issue):
                if written == size:
                    break
                due = FIRST_LATER_DUE + timedelta(days=(written * SPREAD_DAYS) // size)
                lines += ["|", f"By {due.day} {MONTHS[due.month - 1]} {due.year} | |"]
                written += 1
            lines.append("| ||")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
