"""Benchmark: calendar feeds, built and served.

Run from the repository root:  .venv/bin/python bench/bench_feeds.py [--events 100000] [--seconds 5]

1. Every feed of the example plan (13 owners, 3 teams, the plan, 3 Parts) from a fresh SQLite file:
   the first build (which also fills the registry of published events), a build by a new process,
   and a rebuild in the same process. Target: under 200 ms.
2. One owner's feed of 1,000 actions from SQLite: first build, then a rebuild after one action
   changed (each event's text is kept until its action changes). Target: under 100 ms.
3. A plan feed of about 100,000 events in memory, side by side with the same bytes written by
   plain string joining (the floor for Python; the output is checked to be identical): cold, and
   rebuilt after one action changed. Targets: at most 20x the floor cold, 3x after a change.
   The naive way (an ``icalendar.Event`` per event, serialised) is timed on a sample for scale.
   Memory: the same feed built cold and written to a file, each way in a new process (peak resident
   memory, VmHWM): as a stream (``write_feeds``, what ``planwatch feeds build`` does:
   each event's text written to every feed holding it, not kept) and as one document held whole
   (``render``, what a served feed keeps, then written atomically as feeds were before), with the CPU
   time of each. Target: under 250 MB streamed, at the same speed.
4. ``planwatch serve`` answering conditional requests with 304 on loopback, measured with wrk
   (Debian's ``wrk``) or, without it, a bounded httpx client. Target: 1,000 requests/s or more.

Timings are medians of a few rounds (3; 5 for the rebuild after one change), the same number on
both sides where there is a peer, wall clock, one process, the collector off during each round.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import _world  # noqa: E402

from engine.calendars.build import EventSet, Feed, compose  # noqa: E402
from engine.calendars.cache import EventCache  # noqa: E402  (the repository root must be importable first)
from engine.calendars.feeds import FeedService, issue  # noqa: E402
from engine.calendars.model import ActionInfo, FeedData, OwnerInfo, PlanInfo, SectionInfo  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.importing import import_paths  # noqa: E402
from engine.rules.loader import load_rules  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.store import make_engine, transaction, upgrade  # noqa: E402
from tests.smtpserver import free_port  # noqa: E402

NOW = datetime(2000, 6, 1, 12, tzinfo=UTC)
T0 = datetime(1999, 10, 1, 8, tzinfo=UTC)
BASE = "https://planwatch.example.org"


def median_time(fn: Callable[[], Any], rounds: int = 3) -> float:
    """Return the median wall time of ``rounds`` calls, in seconds (garbage collection off, as ``timeit`` does)."""
    return timing(fn, rounds)[0]


def timing(fn: Callable[[], Any], rounds: int = 3) -> tuple[float, float]:
    """Return the median and the best wall time of ``rounds`` calls, in seconds (garbage collection off)."""
    times = []
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return _world.rounds(times)


def settings(url: str, cache_seconds: float = 0) -> Settings:
    return Settings(
        database_url=url,
        rules_dir=ROOT / "rules",
        templates_dir=ROOT / "templates",
        base_url=BASE,
        feed_cache_seconds=cache_seconds,
    )


# ------------------------------------------------------------------------------ 1. example


def bench_example(folder: Path) -> float:
    url = f"sqlite:///{folder / 'example.db'}"
    engine = make_engine(url)
    upgrade(engine)
    import_paths(
        engine,
        [ROOT / "plans" / "owners.yaml", ROOT / "plans" / "gb276-tc2-implementation-plan.txt"],
        settings(url),
        T0,
    )
    start = time.perf_counter()
    written = FeedService(engine, settings(url), FixedClock(NOW)).write_all(folder / "first")
    first = time.perf_counter() - start
    new_process = median_time(lambda: FeedService(engine, settings(url), FixedClock(NOW)).write_all(folder / "cal"))
    service = FeedService(engine, settings(url), FixedClock(NOW))
    service.write_all(folder / "cal")
    same_process = median_time(lambda: service.write_all(folder / "cal"))
    print(
        f"1. all {len(written)} feeds of the example plan: first build {first * 1000:.0f} ms (fills the registry), "
        f"new process {new_process * 1000:.0f} ms, rebuild {same_process * 1000:.0f} ms  (target < 200 ms)"
    )
    engine.dispose()
    return max(first, new_process)


# ---------------------------------------------------------------------------- synthetic data

KINDS = ("deadline", "window", "start", "continuous", "recurring")


def synthetic(actions: int, kinds: tuple[str, ...] = KINDS, owners: int = 1) -> FeedData:
    """A plan of ``actions`` actions over 3 Parts and 60 sections with contexts, ``owners`` owners."""
    plan = PlanInfo("big", "A big plan", "B/1", "Europe/Zurich", date(1999, 9, 28), T0)
    sections: dict[tuple[str, str], SectionInfo] = {}
    for p in ("I", "II", "III"):
        sections[("big", p)] = SectionInfo(p, None, "part", p, f"Part {p} of the big plan")
        for n in range(1, 21):
            sections[("big", f"{p}.{n}")] = SectionInfo(
                f"{p}.{n}",
                p,
                "issue",
                str(n),
                f"Issue {n}, with a title; and punctuation",
                f"Context of issue {n}: " + "words of context " * 30,
            )
    people = {
        f"o{i}": OwnerInfo(f"o{i}", f"Owner Number {i}", f"o{i}@example.org", "Europe/Zurich", None)
        for i in range(owners)
    }
    rows = [_action(i, kinds[i % len(kinds)], f"o{i % owners}") for i in range(actions)]
    return FeedData({"big": plan}, sections, people, rows)


def _action(i: int, kind: str, owner: str) -> ActionInfo:
    part = ("I", "II", "III")[i % 3]
    day = date(2000, 1, 1) + timedelta(days=i % 700)
    fields: dict[str, Any] = {
        "deadline": {"due": day},
        "window": {"start": day, "due": day + timedelta(days=90)},
        "start": {"start": day},
        "continuous": {},
        "recurring": {"rrule": "FREQ=YEARLY"},
    }[kind]
    return ActionInfo(
        id=i + 1,
        plan_id="big",
        ref=f"{part}.{i % 20 + 1}.{i}",
        ordinal=i,
        section_key=f"{part}.{i % 20 + 1}",
        title=f"Action {i}: do the thing, carefully; then report",
        timeframe="By some date",
        kind=kind,
        status="open",
        owner_id=owner,
        updated_at=T0 + timedelta(seconds=i),
        **fields,
    )


# ------------------------------------------------------------------------- 2. 1,000 actions


def bench_thousand(folder: Path) -> float:
    url = f"sqlite:///{folder / 'thousand.db'}"
    engine = make_engine(url)
    upgrade(engine)
    _store(engine, synthetic(1000))
    feed = Feed("owner", "o0")
    FeedService(engine, settings(url), FixedClock(NOW)).document(feed)  # fills the registry
    cold = median_time(lambda: FeedService(engine, settings(url), FixedClock(NOW)).document(feed))
    service = FeedService(engine, settings(url, cache_seconds=3600), FixedClock(NOW))
    events = len(re.findall(rb"BEGIN:VEVENT", service.document(feed).body))
    step = iter(range(1, 1000))

    def one_change() -> None:
        with engine.begin() as conn:
            n = next(step)
            conn.exec_driver_sql(
                "UPDATE action SET due = ?, updated_at = ? WHERE id = 1",
                (
                    (date(2000, 1, 1) + timedelta(days=n)).isoformat(),
                    (T0 + timedelta(days=n)).replace(tzinfo=None).isoformat(" "),
                ),
            )
        service.event_set(fresh=True)
        service.document(feed)

    warm = median_time(one_change, rounds=5)
    print(
        f"2. one owner's feed of 1,000 actions ({events} events) from SQLite: new process {cold * 1000:.0f} ms, "
        f"rebuilt after one action changed {warm * 1000:.0f} ms  (target < 100 ms)"
    )
    engine.dispose()
    return warm


def _store(engine: Any, data: FeedData) -> None:
    from engine.store.models import Action, Owner, Plan, Section

    plan = next(iter(data.plans.values()))
    with transaction(engine) as session:
        session.add(
            Plan(
                id=plan.id,
                title=plan.title,
                symbol=plan.symbol,
                ref_date=plan.ref_date,
                timezone=plan.timezone,
                imported_at=T0,
                updated_at=T0,
            )
        )
        for n, ((_, key), s) in enumerate(data.sections.items()):
            session.add(
                Section(
                    plan_id=plan.id,
                    key=key,
                    parent_key=s.parent_key,
                    level=s.level,
                    number=s.number,
                    title=s.title,
                    context=s.context,
                    ordinal=n,
                )
            )
        for o in data.owners.values():
            session.add(Owner(id=o.id, name=o.name, email=o.email, timezone=o.timezone))
        session.flush()
        for a in data.actions:
            session.add(
                Action(
                    id=a.id,
                    plan_id=a.plan_id,
                    ref=a.ref,
                    section_key=a.section_key,
                    ordinal=a.ordinal,
                    title=a.title,
                    timeframe=a.timeframe,
                    kind=a.kind,
                    status=a.status,
                    owner_id=a.owner_id,
                    start=a.start,
                    due=a.due,
                    rrule=a.rrule,
                    created_at=T0,
                    updated_at=a.updated_at,
                    needs_review=False,
                )
            )


# ---------------------------------------------------------------------- 3. 100,000 events


def floor_text(events: EventSet, feed: Feed) -> str:
    """The same feed written by plain string joining from the same events: str.replace escaping, slicing folds."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")

    def fold(text: str) -> str:
        if len(text) < 75:
            return text
        quick = "\r\n ".join([text[i : i + 74] for i in range(0, len(text), 74)])
        if "\\\r\n " not in quick:
            return quick
        out, start = [], 0  # a chunk would end in an escape's backslash: move it to the next line
        while len(text) - start > 74:
            end = start + 74 - (text[start + 73] == "\\")
            out.append(text[start:end])
            start = end
        out.append(text[start:])
        return "\r\n ".join(out)

    def ymd(d: date) -> str:
        return f"{d.year:04d}{d.month:02d}{d.day:02d}"

    head = events.render(feed).body.decode().split("BEGIN:VEVENT", 1)[0]
    parts = [head]
    for entry in events.select(feed):
        s = entry.spec
        m = entry.modified
        stamp = f"{ymd(m)}T{m.hour:02d}{m.minute:02d}{m.second:02d}Z"
        alarm = ""
        if s.alarm is not None and s.state == "open":
            days, rest = -s.alarm.days, s.alarm.seconds
            alarm = (
                f"BEGIN:VALARM\r\nACTION:DISPLAY\r\n{fold('DESCRIPTION:' + esc(s.summary))}\r\n"
                f"TRIGGER:-P{days - 1}DT{(86400 - rest) // 3600}H\r\nEND:VALARM\r\n"
            )
        rule = f"RRULE:{s.rrule}\r\n" if s.rrule else ""
        parts.append(
            f"BEGIN:VEVENT\r\n{fold('SUMMARY:' + esc(s.summary))}\r\nDTSTART;VALUE=DATE:{ymd(s.day)}\r\n"
            f"DTEND;VALUE=DATE:{ymd(s.day + timedelta(days=1))}\r\nDTSTAMP:{stamp}\r\nUID:{entry.uid}\r\n"
            f"SEQUENCE:{entry.sequence}\r\n{rule}"
            f"{fold('CATEGORIES:' + ','.join(esc(c) for c in s.categories))}\r\n"
            f"{fold('DESCRIPTION:' + esc(entry.description))}\r\n"
            f"LAST-MODIFIED:{stamp}\r\nSTATUS:{s.status}\r\nTRANSP:TRANSPARENT\r\nURL:{s.url}\r\n{alarm}END:VEVENT\r\n"
        )
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts)


def bench_hundred_thousand(events_wanted: int) -> tuple[float, float]:
    rules = load_rules(ROOT / "rules")
    data = synthetic(events_wanted // 2, kinds=("window",))  # a window is a start event and a due event
    feed = Feed("plan", "big")

    def build(cache: EventCache, snapshot: FeedData) -> tuple[EventSet, bytes]:
        events = EventSet(snapshot, compose(snapshot, rules, BASE, cache), {}, NOW)
        return events, events.render(feed).body

    events, text = build(EventCache(), data)
    count = text.count(b"BEGIN:VEVENT")
    assert floor_text(events, feed).encode() == text, "the floor must write the same bytes"
    floor_runs, cold_runs = [], []
    for _ in range(3):  # in turns, the same rounds on both sides
        floor_runs.append(timing(lambda: floor_text(events, feed), 1)[0])
        cold_runs.append(timing(lambda: build(EventCache(), data), 1)[0])
    (floor, floor_best), (cold, cold_best) = _world.rounds(floor_runs), _world.rounds(cold_runs)
    reading = median_time(lambda: compose(data, rules, BASE, EventCache()))
    cache = EventCache()
    build(cache, data)
    changes = iter(range(1, 100))

    def after_one_change() -> None:
        n = next(changes)
        changed = list(data.actions)
        changed[7] = replace(changed[7], due=changed[7].due + timedelta(days=n) if changed[7].due else None)
        build(cache, replace(data, actions=changed))

    warm, warm_best = timing(after_one_change)
    naive = _naive_per_event(events, feed)
    print(
        f"3. plan feed of {count:,} events, {len(text) / 1e6:.0f} MB, medians of 3 rounds on each side (best): "
        f"floor (plain string joining) {floor:.2f} s ({floor_best:.2f}); "
        f"planwatch cold {cold:.2f} s ({cold_best:.2f}) = {cold / floor:.1f}x the floor (target <= 20x); "
        f"after one action changed {warm:.2f} s ({warm_best:.2f}) = {warm / floor:.1f}x (target <= 3x)"
    )
    print(
        f"   (cold includes turning actions into events and matching their policies, {reading:.2f} s when timed alone; "
        f"naive icalendar, measured on 2,000 events: {naive * 1e6:.0f} us/event "
        f"= about {naive * count / floor:.0f}x the floor)"
    )
    return cold / floor, warm / floor


def _naive_per_event(events: EventSet, feed: Feed) -> float:
    import icalendar

    sample = [e.published for e in events.select(feed)][:2000]

    def naive() -> None:
        cal = icalendar.Calendar()
        for s in sample:
            e = icalendar.Event()
            for name, value in [
                ("summary", s.summary),
                ("dtstart", s.day),
                ("dtend", s.day + timedelta(days=1)),
                ("dtstamp", s.modified),
                ("uid", s.uid),
                ("sequence", s.sequence),
                ("categories", list(s.categories)),
                ("description", s.description),
                ("last-modified", s.modified),
                ("status", s.status),
                ("transp", "TRANSPARENT"),
                ("url", s.url),
            ]:
                e.add(name, value)
            cal.add_component(e)
        cal.to_ical()

    return median_time(naive) / len(sample)


def bench_memory(events_wanted: int) -> tuple[float, float]:
    """Peak memory and time of a cold build written to a file, streamed and whole, each in a new process."""
    found = {}
    for how in ("stream", "document"):
        run = subprocess.run(
            [sys.executable, __file__, "--memory-child", how, "--events", str(events_wanted)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        found[how] = json.loads(run.stdout.strip().splitlines()[-1])
    s, d = found["stream"], found["document"]
    print(
        f"   memory, cold build written to a file, each in a new process: as a stream {s['peak']:.0f} MB peak "
        f"in {s['seconds']:.2f} s ({s['cpu']:.2f} s of CPU); as one document {d['peak']:.0f} MB in "
        f"{d['seconds']:.2f} s ({d['cpu']:.2f} s of CPU)  "
        f"(target < 250 MB; {s['before']:.0f} MB of each before the build: Python, imports, the actions)"
    )
    return s["peak"], s["seconds"] / d["seconds"]


def peak_mb() -> float:
    """This process's peak resident memory in MB: VmHWM (``getrusage`` maxrss on Linux carries the parent's
    peak across fork and exec, so a child of a big process would report the parent's)."""
    status = Path("/proc/self/status")
    if status.exists():
        found = re.search(r"^VmHWM:\s+(\d+) kB", status.read_text(), re.MULTILINE)
        if found:
            return int(found[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(how: str, events_wanted: int) -> None:
    from engine.calendars.build import write_feeds
    from engine.files import write_atomic

    rules = load_rules(ROOT / "rules")
    data = synthetic(events_wanted // 2, kinds=("window",))
    feed = Feed("plan", "big")
    before = peak_mb()
    folder = Path(tempfile.mkdtemp(prefix="bench-feeds-memory-"))
    try:
        start, cpu = time.perf_counter(), time.process_time()
        events = EventSet(data, compose(data, rules, BASE, EventCache()), {}, NOW)
        if how == "stream":
            write_feeds(folder, events, [feed])
        else:
            write_atomic(folder / feed.file_name(), events.render(feed).body.decode())  # as feeds were written before
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    peak = peak_mb()
    print(json.dumps({"peak": peak, "before": before, "seconds": seconds, "cpu": cpu}))


# ------------------------------------------------------------------------------- 4. serving


def bench_serving(folder: Path, seconds: float) -> float:
    url = f"sqlite:///{folder / 'example.db'}"
    engine = make_engine(url)
    with transaction(engine) as session:
        token = issue(session, "pardev", Feed("owner", "pardev"), NOW).token
    engine.dispose()
    port = free_port()
    env = {**os.environ, "PLANWATCH_BASE_URL": BASE, "PLANWATCH_FEED_CACHE_SECONDS": "10"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from engine.cli.main import main; main()",
            "--db",
            url,
            "--rules",
            str(ROOT / "rules"),
            "serve",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        address = f"http://127.0.0.1:{port}/feeds/{token}.ics"
        etag = _wait_for(address)
        rate, how = (
            (_wrk(address, etag, seconds), "wrk") if shutil.which("wrk") else (_httpx(address, etag, seconds), "httpx")
        )
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)
    print(f"4. conditional GET answered with 304 on loopback ({how}): {rate:,.0f} requests/s  (target >= 1,000)")
    return rate


def _wait_for(address: str) -> str:
    import httpx

    for _ in range(100):
        try:
            answer = httpx.get(address, timeout=2)
            if answer.status_code == 200:
                return answer.headers["etag"]
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("planwatch serve did not answer")


def _wrk(address: str, etag: str, seconds: float) -> float:
    run = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{int(seconds)}s", "-H", f"If-None-Match: {etag}", address],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    )
    if "Non-2xx or 3xx" in run.stdout:
        raise RuntimeError(f"some answers were not 304:\n{run.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", run.stdout)[1])  # type: ignore[index]


def _httpx(address: str, etag: str, seconds: float) -> float:
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    def worker() -> int:
        done, end = 0, time.perf_counter() + seconds
        with httpx.Client(headers={"If-None-Match": etag}) as client:
            while time.perf_counter() < end and done < 100_000:
                if client.get(address).status_code != 304:
                    raise RuntimeError("an answer was not 304")
                done += 1
        return done

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        total = sum(pool.map(lambda _: worker(), range(8)))
    return total / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events in the big feed (default 100,000)")
    parser.add_argument("--seconds", type=float, default=5, help="how long the load generator runs (default 5)")
    parser.add_argument("--memory-child", choices=("stream", "document"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.events)
        return 0
    _world.header("planwatch calendar feeds benchmark")
    folder = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    try:
        example = bench_example(folder)
        thousand = bench_thousand(folder)
        cold, warm = bench_hundred_thousand(args.events)
        peak, pace = bench_memory(args.events)
        rate = bench_serving(folder, args.seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ok = example < 0.2 and thousand < 0.1 and cold <= 20 and warm <= 3 and peak < 250 and pace <= 1.1 and rate >= 1000
    print("all targets met" if ok else "SOME TARGETS MISSED")
    _world.footer()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
