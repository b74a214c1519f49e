"""Random lives of small plans through the simulator, and what must hold in every one of them.

Each generated life is a fresh SQLite file: owners in several zones with supervisor chains of depth 1-3
(some with a delegate), a small YAML plan dated well before the first tick (deadlines, windows, recurring
and continuous actions, directly in Parts and in sub-sections), rules for every kind, and a random
sequence of workflow events (done, progress, hold, reopen, drop) replayed while the simulator jumps
through a few months. After the run the outbox (messages sent, and when) and the escalation log must keep
the invariants of a plan's life: the owner hears first, a hold is silence, done stops, no escalation about
a check-in that was never sent, and no message twice.

CI runs a fixed, derandomized budget; ``--hypothesis-profile=lives-long`` runs many more lives locally.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine.channels import NullChannel
from engine.drive.replay import ReplayEvent
from engine.drive.simulate import simulate
from engine.importing import import_paths
from engine.mail.render import Renderer
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, tables, upgrade
from engine.zones import aware_utc, zone

from ..conftest import ROOT

# The CI budget: a fixed set of 300 lives (derandomized), a few tenths of a second each; the "lives-long"
# profile (registered in tests/conftest.py) runs many more, randomly, when chosen with --hypothesis-profile.
LIVES = (
    settings()
    if settings.get_current_profile_name() == "lives-long"
    else settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
)

PLAN_TZ = "Europe/Zurich"
ZONES = ["Europe/Zurich", "Asia/Bangkok", "America/Lima"]
KINDS = ["deadline", "window", "recurring", "continuous"]
SECTIONS = ["I", "I.1", "II", "II.a"]  # Parts I and II, each with a sub-section; actions go in any of them
RULES = """\
defaults:
  delivery:
    hour: "09:00"
    business_days: true
policies:
  - name: deadlines
    match: {kind: [deadline, window]}
    remind:
      - before: 14d
      - before: 2d
    escalate:
      - after: 1d
        to: [owner]
        template: overdue
        repeat: 1d
        until: 7d
      - after: 7d
        to: [supervisor]
        repeat: 1w
        until: 30d
      - after: 30d
        to: [supervisor.supervisor]
  - name: recurring
    match: {kind: [recurring]}
    remind:
      - before: 7d
    escalate:
      - after: 1d
        to: [owner]
        template: overdue
      - after: 14d
        to: [supervisor]
  - name: ongoing
    match: {kind: [continuous]}
    checkin:
      every: 1mo
      escalate_after: 7d
    escalate:
      - after: 0d
        to: [supervisor]
"""


@dataclass(frozen=True)
class Life:
    """One generated life: its files' text, the simulated range and the events replayed."""

    owners_yaml: str
    plan_yaml: str
    start: datetime
    until: datetime
    events: tuple[ReplayEvent, ...]


@st.composite
def lives(draw: st.DrawFn) -> Life:
    """A small world and what happens to it."""
    sups = [f"sup{i}" for i in range(3)]  # sup0 at the top, sup1 under it, sup2 under sup1
    people: list[dict[str, Any]] = [
        {"id": s, "tz": draw(st.sampled_from(ZONES)), "supervisor": sups[i - 1] if i else None}
        for i, s in enumerate(sups)
    ]
    n_owners = draw(st.integers(2, 4))
    owners = [f"own{i}" for i in range(n_owners)]
    for o in owners:
        depth = draw(st.integers(1, 3))  # the owner's supervisor chain: sup{depth-1} ... sup0
        delegate = draw(st.none() | st.sampled_from([x for x in owners if x != o]))
        people.append(
            {"id": o, "tz": draw(st.sampled_from(ZONES)), "supervisor": sups[depth - 1], "delegate": delegate}
        )
    lines = ["owners:"]
    for p in people:
        lines += [f"  - id: {p['id']}", f"    name: {p['id'].title()}", f"    email: {p['id']}@example.org"]
        lines.append(f"    timezone: {p['tz']}")
        if p.get("supervisor"):
            lines.append(f"    supervisor: {p['supervisor']}")
        if p.get("delegate"):
            lines.append(f"    delegate: {p['delegate']}")

    plan_date = date(1999, 6, 1) + timedelta(days=draw(st.integers(0, 200)))
    start_day = plan_date + timedelta(days=draw(st.integers(60, 400)))
    length = draw(st.integers(30, 90))
    plan = [
        "plan:",
        "  id: life",
        "  title: A generated plan",
        "  symbol: L/1",
        f"  date: {plan_date.isoformat()}",
        f"  timezone: {PLAN_TZ}",
        "sections:",
        "  - {key: I, number: I, title: Part one}",
        "  - {key: I.1, parent: I, number: '1', title: Sub one}",
        "  - {key: II, number: II, title: Part two}",
        "  - {key: II.a, parent: II, number: (a), title: Sub two}",
        "actions:",
    ]
    refs: list[str] = []
    kinds: dict[str, str] = {}
    n_actions = draw(st.integers(3, 6))
    for i in range(n_actions):
        kind = draw(st.sampled_from(KINDS))
        section = draw(st.sampled_from(SECTIONS))
        ref = f"{section}.{i + 1}"
        refs.append(ref)
        kinds[ref] = kind
        due = start_day + timedelta(days=draw(st.integers(-120, length + 30)))
        schedule = {
            "deadline": f"{{kind: deadline, due: {due.isoformat()}}}",
            "window": f"{{kind: window, start: {(due - timedelta(days=60)).isoformat()}, due: {due.isoformat()}}}",
            "recurring": "{kind: recurring, rrule: '"
            + draw(st.sampled_from(["FREQ=MONTHLY", "FREQ=MONTHLY;INTERVAL=3"]))
            + "'}",
            "continuous": "{kind: continuous}",
        }[kind]
        plan += [
            f"  - id: {ref}",
            f"    section: {section}",
            f"    title: Action {i + 1}",
            f"    timeframe: generated {kind}",
            f"    owner: {draw(st.sampled_from(owners))}",
            f"    schedule: {schedule}",
        ]

    raw = draw(
        st.lists(
            st.tuples(
                st.integers(0, length),
                st.integers(0, n_actions - 1),
                st.sampled_from(["done", "progress", "hold", "reopen", "drop"]),
            ),
            max_size=8,
        )
    )
    status = dict.fromkeys(refs, "open")
    events = []
    for day, i, event in sorted(raw):  # keep a sequence a real person could produce
        ref, now = refs[i], status[refs[i]]
        if now in {"done", "dropped"}:
            continue
        if (
            (event == "hold" and now == "on_hold")
            or (event == "reopen" and now != "on_hold")
            or (event == "progress" and now == "on_hold")
        ):
            continue
        next_status = {"done": "done", "drop": "dropped", "hold": "on_hold", "reopen": "open"}.get(event, now)
        if event == "done" and kinds[ref] == "recurring":
            next_status = now  # a recurring action's occurrence is done, the action goes on
        status[ref] = next_status
        events.append(ReplayEvent(at=start_day + timedelta(days=day), action=ref, event=event, by="life"))
    start = datetime.combine(start_day, time(0), UTC)
    return Life(
        "\n".join(lines) + "\n",
        "\n".join(plan) + "\n",
        start,
        start + timedelta(days=length),
        tuple(events),
    )


@functools.cache
def empty_database() -> Path:
    """A SQLite file with the schema, made once per test run and copied for every life (migrating is slow)."""
    path = Path(tempfile.mkdtemp(prefix="planwatch-lives-")) / "empty.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def live(life: Life, folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Import the life's world into a fresh SQLite file and simulate it; return outbox, escalations, facts."""
    (folder / "rules").mkdir()
    (folder / "rules" / "policies.yaml").write_text(RULES, encoding="utf-8")
    (folder / "owners.yaml").write_text(life.owners_yaml, encoding="utf-8")
    (folder / "plan.yaml").write_text(life.plan_yaml, encoding="utf-8")
    shutil.copyfile(empty_database(), folder / "life.db")
    url = f"sqlite:///{folder / 'life.db'}"
    engine = make_engine(url)
    try:
        settings_ = Settings(
            database_url=url, rules_dir=folder / "rules", templates_dir=ROOT / "templates", maildir=folder / "mail"
        )
        import_paths(engine, [folder / "owners.yaml", folder / "plan.yaml"], settings_, life.start)
        rules, renderer = load_rules(folder / "rules"), Renderer([ROOT / "templates"])
        simulate(engine, rules, NullChannel(), renderer, life.start, life.until, life.events)
        out, act, own = tables.OUTBOX, tables.ACTION, tables.OWNER
        with engine.connect() as conn:
            rows = [
                dict(r)
                for r in conn.execute(
                    select(out, act.c.ref, act.c.kind, act.c.owner_id).join(act, act.c.id == out.c.action_id)
                ).mappings()
            ]
            escalations = [
                dict(r)
                for r in conn.execute(
                    select(tables.ESCALATION, act.c.ref).join(act, act.c.id == tables.ESCALATION.c.action_id)
                )
                .mappings()
                .all()
            ]
            delegates = {r.id: r.delegate_id for r in conn.execute(select(own.c.id, own.c.delegate_id))}
            completions = [
                (r.ref, r.occurrence, aware_utc(r.at))
                for r in conn.execute(
                    select(act.c.ref, tables.COMPLETION.c.occurrence, tables.COMPLETION.c.at).join(
                        act, act.c.id == tables.COMPLETION.c.action_id
                    )
                )
            ]
    finally:
        engine.dispose()
    for r in rows:
        r["due_at"] = aware_utc(r["due_at"])
        r["sent_at"] = aware_utc(r["sent_at"]) if r["sent_at"] is not None else None
    for e in escalations:
        e["at"] = aware_utc(e["at"])
    return rows, escalations, {"delegates": delegates, "completions": completions}


def at_noon(day: date) -> datetime:
    """When the simulator applies a replayed event: noon of its day in the plan's zone."""
    return datetime.combine(day, time(12), zone(PLAN_TZ)).astimezone(UTC)


def sent(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((r for r in rows if r["status"] == "sent"), key=lambda r: (r["sent_at"], r["key"]))


def owner_first(rows: list[dict[str, Any]], facts: dict[str, Any]) -> list[str]:
    """Messages about an occurrence to someone else before its owner (or delegate) was sent anything."""
    heard: set[tuple[str, str]] = set()
    wrong = []
    for r in sent(rows):
        if not r["occurrence"]:  # not about an occurrence (a reassignment to the secretariat)
            continue
        owner = r["owner_id"]
        about = (r["ref"], r["occurrence"])
        if r["recipient_id"] in {owner, facts["delegates"].get(owner)}:
            heard.add(about)
        elif about not in heard and not any(
            o["sent_at"] == r["sent_at"]
            and (o["ref"], o["occurrence"]) == about
            and o["recipient_id"] in {owner, facts["delegates"].get(owner)}
            for o in sent(rows)
        ):
            wrong.append(f"{r['ref']} {r['occurrence']} {r['step']} to {r['recipient_id']} at {r['sent_at']}")
    return wrong


def periods(life: Life) -> tuple[dict[str, list[tuple[datetime, datetime | None]]], dict[str, datetime]]:
    """Each action's holds (from, reopened or None) and when it was done or dropped (not a recurring one's)."""
    holds: dict[str, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    ended: dict[str, datetime] = {}
    for e in life.events:
        at = at_noon(e.at)
        if e.event == "hold":
            holds[e.action].append((at, None))
        elif e.event == "reopen":
            holds[e.action][-1] = (holds[e.action][-1][0], at)
        elif e.event in {"done", "drop"}:
            ended.setdefault(e.action, at)
    return holds, ended


def hold_is_silence(life: Life, rows: list[dict[str, Any]], facts: dict[str, Any]) -> list[str]:
    """Messages sent while on hold, or after reopening about what fell due during the hold (but one catch-up)."""
    holds, _ = periods(life)
    wrong = []
    for ref, spans in holds.items():
        mine = [r for r in sent(rows) if r["ref"] == ref]
        for held, reopened in spans:
            end = reopened or life.until + timedelta(days=1)
            wrong += [f"{ref} {r['step']} sent {r['sent_at']} on hold" for r in mine if held <= r["sent_at"] < end]
            if reopened is None:
                continue
            after = [r for r in mine if r["sent_at"] >= reopened]
            catch_up = [r for r in after if r["payload"].get("catch_up")]
            wrong += [
                f"{ref} {r['step']} due {r['due_at']} (during the hold) sent {r['sent_at']} after reopening"
                for r in after
                if held <= r["due_at"] < reopened and r not in catch_up
            ]
            at_reopen = [r for r in catch_up if r["sent_at"] < reopened + timedelta(days=1)]
            to = [r["recipient_id"] for r in at_reopen]
            owner = {r["owner_id"] for r in mine} | {facts["delegates"].get(r["owner_id"]) for r in mine}
            if len(to) != len(set(to)) or not set(to) <= owner:  # one notice, to the owner (and delegate)
                wrong.append(f"{ref}: catch-up after reopening {[(r['step'], r['recipient_id']) for r in at_reopen]}")
    return wrong


def done_stops(life: Life, rows: list[dict[str, Any]], facts: dict[str, Any]) -> list[str]:
    """Messages about a done or dropped action (or a recurring action's done occurrence) after it ended."""
    _, ended = periods(life)
    wrong = []
    for r in sent(rows):
        if r["kind"] != "recurring" and r["ref"] in ended and r["sent_at"] > ended[r["ref"]]:
            wrong.append(f"{r['ref']} {r['step']} sent {r['sent_at']} after it ended {ended[r['ref']]}")
    for ref, occurrence, at in facts["completions"]:
        wrong += [
            f"{ref} {occurrence} {r['step']} sent {r['sent_at']} after that occurrence was done {at}"
            for r in sent(rows)
            if r["ref"] == ref and r["occurrence"] == occurrence and r["sent_at"] > at
        ]
    return wrong


def no_escalation_about_unsent_checkins(rows: list[dict[str, Any]], escalations: list[dict[str, Any]]) -> list[str]:
    """Escalations (log entries or messages) about a check-in that was not sent before them."""
    checkins = {(r["ref"], r["occurrence"]): r["sent_at"] for r in sent(rows) if r["type"] == "checkin"}
    about = [(e["ref"], e["occurrence"], e["step"], e["at"]) for e in escalations]
    about += [(r["ref"], r["occurrence"], r["step"], r["sent_at"]) for r in sent(rows) if r["type"] == "escalation"]
    wrong = []
    for ref, occurrence, step, at in about:
        checkin = checkins.get((ref, occurrence))
        if occurrence.startswith("check-in") and (checkin is None or checkin > at):
            wrong.append(f"{ref} {occurrence} {step} at {at}: the check-in was not sent before")
    return wrong


def exactly_once(rows: list[dict[str, Any]]) -> list[str]:
    """Two messages sent with the same action, occurrence, step and recipient."""
    seen: dict[tuple[Any, ...], int] = defaultdict(int)
    for r in sent(rows):
        seen[(r["ref"], r["occurrence"], r["step"], r["recipient_id"])] += 1
    return [f"{k} sent {n} times" for k, n in seen.items() if n > 1]


def lived(life: Life) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        return live(life, Path(folder))


@LIVES
@given(lives())
def test_every_life_keeps_the_invariants(life: Life) -> None:
    rows, escalations, facts = lived(life)
    assert owner_first(rows, facts) == []
    assert hold_is_silence(life, rows, facts) == []
    assert done_stops(life, rows, facts) == []
    assert no_escalation_about_unsent_checkins(rows, escalations) == []
    assert exactly_once(rows) == []


FIXED = Life(
    owners_yaml="""\
owners:
  - {id: sup0, name: Top, email: top@example.org, timezone: Europe/Zurich}
  - {id: sup1, name: Mid, email: mid@example.org, timezone: Asia/Bangkok, supervisor: sup0}
  - {id: own0, name: Zora, email: zora@example.org, timezone: America/Lima, supervisor: sup1}
  - {id: own1, name: Boon, email: boon@example.org, timezone: Asia/Bangkok, supervisor: sup0, delegate: own0}
""",
    plan_yaml="""\
plan: {id: life, title: A fixed plan, symbol: L/1, date: 1999-09-01, timezone: Europe/Zurich}
sections:
  - {key: I, number: I, title: Part one}
  - {key: I.1, parent: I, number: '1', title: Sub one}
actions:
  - {id: I.1, section: I, title: Missed, timeframe: x, owner: own0, schedule: {kind: deadline, due: 2000-01-20}}
  - {id: I.1.2, section: I.1, title: Later, timeframe: x, owner: own1, schedule: {kind: deadline, due: 2000-03-15}}
  - {id: I.1.3, section: I.1, title: Ongoing, timeframe: x, owner: own0, schedule: {kind: continuous}}
  - {id: I.4, section: I, title: Rhythm, timeframe: x, owner: own1, schedule: {kind: recurring, rrule: FREQ=MONTHLY}}
""",
    start=datetime(2000, 2, 1, tzinfo=UTC),
    until=datetime(2000, 5, 15, tzinfo=UTC),
    events=(
        ReplayEvent(at=date(2000, 2, 20), action="I.1.2", event="hold", by="life", note="waiting"),
        ReplayEvent(at=date(2000, 4, 10), action="I.1.2", event="reopen", by="life"),
        ReplayEvent(at=date(2000, 4, 20), action="I.1", event="done", by="life"),
    ),
)


def test_the_lives_say_something() -> None:
    """A fixed life is not silent: reminders, escalations up the chain and check-ins go out, and it keeps
    the invariants (the generated lives exercise what they claim to)."""
    life = FIXED
    rows, escalations, facts = lived(life)
    types = {r["type"] for r in sent(rows)}
    assert {"reminder", "escalation", "checkin"} <= types
    assert escalations
    assert owner_first(rows, facts) == hold_is_silence(life, rows, facts) == done_stops(life, rows, facts) == []
    assert no_escalation_about_unsent_checkins(rows, escalations) == exactly_once(rows) == []
