"""Random lives of small plans through the simulator, and what must hold in every one of them.

Each generated life is a fresh SQLite file: owners in several zones with supervisor chains of depth 1-3
(some with a delegate, some taking daily or weekly digests, some away for a while with a deputy), a small
YAML plan dated well before the first tick (deadlines, windows, recurring and continuous actions,
event-linked actions resolved with ``after:``, directly in Parts and in sub-sections), rules for every kind
with holidays per zone (ongoing work also reminded when it has had no update for 20 days), a random sequence of
workflow events (done, progress, hold, reopen, drop, extend, acknowledge, not-mine, reassign, ``set`` a due date,
reported implemented then verified or returned, an acceptance decision) and, on some day, a re-import of the plan
file with one time frame changed, one action left out and one added, applied while the simulator jumps through a
few weeks. After the run the outbox (messages sent, and when) and the escalation log must keep the invariants
of a plan's life, which hold after every step if they hold for the whole record (a notice held for a digest
counts as sent with the digest, a deputy's message in the owner's place as the owner's): the owner hears
first, a hold is silence, done (or dropped, or left out of the plan file) stops, every message on time (or
marked a catch-up), no escalation about a check-in that was never sent, nothing suppressed without a reason
and one overdue notice for a date missed before the first tick, no message twice, a level that is the
recipient's rung in the owner's supervisor chain, nothing to the owner while a report of implementation waits, a
returned report told to its owner and planned again, and nothing done that was not verified (or closed by hand).

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
from sqlmodel import Session

from engine.actions.workflow import reassign, set_schedule
from engine.channels import NullChannel
from engine.drive.replay import ReplayEvent
from engine.drive.simulate import simulate
from engine.errors import UsageError
from engine.importing import import_paths
from engine.mail.render import Renderer
from engine.read.queries import find_action
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
KINDS = ["deadline", "window", "recurring", "continuous", "event"]
DATED = {"deadline", "window"}
EVENTS = ["done", "progress", "hold", "reopen", "drop", "extend", "ack", "not_mine", "reassign", "set"]
EVENTS += ["report", "verify", "return", "accept"]  # follow-up: closure in two steps, acceptance
ACCEPTANCE = ["accepted", "partially_accepted", "not_accepted", "under_consideration"]
DIGESTS = ["none", "none", "daily", "weekly"]
HOUR = 9  # the rules' delivery hour, in each recipient's zone
HOLIDAYS = {  # the rules' holidays: Geneva's for everyone but staff in Bangkok and Lima, who have their own
    "Europe/Zurich": ["1999-12-24", "1999-12-31", "2000-04-21", "2000-04-24", "2000-08-01", "2000-12-25"],
    "Asia/Bangkok": ["2000-04-13", "2000-04-14", "2000-05-05", "2000-12-05", "2000-12-11"],
    "America/Lima": ["2000-06-29", "2000-07-28", "2000-07-29", "2000-12-08", "2000-12-25"],
}
SECTIONS = ["I", "I.1", "II", "II.a"]  # Parts I and II, each with a sub-section; actions go in any of them
RULES = """\
defaults:
  delivery:
    hour: "09:00"
    business_days: true
    holidays: [@Europe/Zurich@]
    holidays_by_zone:
      Asia/Bangkok: [@Asia/Bangkok@]
      America/Lima: [@America/Lima@]
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
    stale: {after: 20d, escalate_after: 7d}
    escalate:
      - after: 0d
        to: [supervisor]
"""
for _zone, _days in HOLIDAYS.items():
    RULES = RULES.replace(f"@{_zone}@", ", ".join(_days))


@dataclass(frozen=True)
class Life:
    """One generated life: its files' text, the simulated range and the events replayed."""

    owners_yaml: str
    plan_yaml: str
    start: datetime
    until: datetime
    events: tuple[ReplayEvent, ...]
    changes: tuple[tuple[date, str, str, str], ...] = ()  # (day, action, "reassign" | "set", owner | due date)
    missed: tuple[tuple[str, date, str], ...] = ()  # dated actions missed before the first tick: (id, due, owner)
    reimport: tuple[date, str, str] | None = None  # (day, the plan file's new text, the action it leaves out)


def action_lines(ref: str, section: str, title: str, kind: str, owner: str, schedule: str) -> list[str]:
    """The plan file's lines of one action."""
    return [
        f"  - id: {ref}",
        f"    section: {section}",
        f"    title: {title}",
        f"    timeframe: generated {kind}",
        f"    owner: {owner}",
        f"    schedule: {schedule}",
    ]


def dated(kind: str, due: date) -> str:
    """The schedule of a deadline or a window (of 60 days) due on ``due``."""
    if kind == "window":
        return f"{{kind: window, start: {(due - timedelta(days=60)).isoformat()}, due: {due.isoformat()}}}"
    return f"{{kind: deadline, due: {due.isoformat()}}}"


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
    plan_date = date(1999, 6, 1) + timedelta(days=draw(st.integers(0, 200)))
    start_day = plan_date + timedelta(days=draw(st.integers(60, 400)))
    length = draw(st.integers(20, 50))
    for o in owners:
        depth = draw(st.integers(1, 3))  # the owner's supervisor chain: sup{depth-1} ... sup0
        delegate = draw(st.none() | st.sampled_from([x for x in owners if x != o]))
        people.append(
            {"id": o, "tz": draw(st.sampled_from(ZONES)), "supervisor": sups[depth - 1], "delegate": delegate}
        )
    for p in people:  # some take digests; some are away for a while, with a deputy
        p["digest"] = draw(st.sampled_from(DIGESTS))
        if draw(st.integers(0, 3)) == 0:
            first = start_day + timedelta(days=draw(st.integers(-10, length)))
            deputy = draw(st.sampled_from([x["id"] for x in people if x["id"] != p["id"]]))
            p["away"] = (first, first + timedelta(days=draw(st.integers(0, 20))), deputy)
    lines = ["owners:"]
    for p in people:
        lines += [f"  - id: {p['id']}", f"    name: {p['id'].title()}", f"    email: {p['id']}@example.org"]
        lines.append(f"    timezone: {p['tz']}")
        if p.get("supervisor"):
            lines.append(f"    supervisor: {p['supervisor']}")
        if p.get("delegate"):
            lines.append(f"    delegate: {p['delegate']}")
        if p["digest"] != "none":
            lines.append(f"    digest: {p['digest']}")
        if p.get("away"):
            first, last, deputy = p["away"]
            lines.append(f"    away: {{from: {first.isoformat()}, to: {last.isoformat()}, deputy: {deputy}}}")
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
    texts: dict[str, list[str]] = {}  # each action's lines in the plan file
    dues: dict[str, date] = {}  # the due date of each dated action (an event-linked one follows its target's)
    missed: list[tuple[str, date, str]] = []
    n_actions = draw(st.integers(2, 5))
    for i in range(n_actions):
        kind = draw(st.sampled_from(KINDS))
        targets = [r for r in refs if kinds[r] in DATED]
        if kind == "event" and not targets:
            kind = "deadline"
        section = draw(st.sampled_from(SECTIONS))
        ref = f"{section}.{i + 1}"
        refs.append(ref)
        kinds[ref] = kind
        due = start_day + timedelta(days=draw(st.integers(-120, length + 30)))
        target = draw(st.sampled_from(targets)) if kind == "event" else ""
        owner = draw(st.sampled_from(owners))
        if kind in DATED:
            dues[ref] = due
        elif kind == "event":
            dues[ref] = dues[target]
        if ref in dues and dues[ref] <= start_day - timedelta(days=2):
            missed.append((ref, dues[ref], owner))
        schedule = {
            "deadline": dated("deadline", due),
            "window": dated("window", due),
            "recurring": "{kind: recurring, rrule: '"
            + draw(st.sampled_from(["FREQ=MONTHLY", "FREQ=MONTHLY;INTERVAL=3"]))
            + "'}",
            "continuous": "{kind: continuous}",
            "event": f"{{kind: event, event: the adoption of {target}, after: {target}}}",
        }[kind]
        texts[ref] = action_lines(ref, section, f"Action {i + 1}", kind, owner, schedule)

    # A re-import on some day: one dated action's time frame changed, one action left out, one added.
    reimport = None
    left_out = ""
    retimed = ""
    if draw(st.booleans()):
        day = start_day + timedelta(days=draw(st.integers(1, length - 1)))
        new = dict(texts)
        candidates = [r for r in refs if kinds[r] in DATED]
        if candidates:
            retimed = draw(st.sampled_from(candidates))
            moved = dues[retimed] + timedelta(days=draw(st.integers(-20, 40)))
            new[retimed] = [*texts[retimed][:-1], f"    schedule: {dated(kinds[retimed], moved)}"]
            new[retimed][3] = "    timeframe: generated and changed"
        targets = {t for r in refs if kinds[r] == "event" for t in [texts[r][-1].rpartition("after: ")[2][:-1]]}
        removable = [r for r in refs if r != retimed and r not in targets]
        if removable and draw(st.booleans()):
            left_out = draw(st.sampled_from(removable))
            del new[left_out]
        added = f"{draw(st.sampled_from(SECTIONS))}.{n_actions + 1}"
        added_due = day + timedelta(days=draw(st.integers(-10, 40)))
        new[added] = action_lines(
            added,
            added.rpartition(".")[0],
            "Added",
            "deadline",
            draw(st.sampled_from(owners)),
            dated("deadline", added_due),
        )
        reimport = (day, "\n".join([*plan, *(x for lines_ in new.values() for x in lines_)]) + "\n", left_out)
    plan += [x for lines_ in texts.values() for x in lines_]

    raw = draw(
        st.lists(
            st.tuples(
                st.integers(0, length),
                st.integers(0, n_actions - 1),
                st.sampled_from(EVENTS),
                st.integers(1, 60),
                st.integers(0, n_owners - 1),
            ),
            max_size=8,
        )
    )
    status = dict.fromkeys(refs, "open")
    events = []
    changes = []
    was_set: set[str] = set()
    for day, i, event, days, other in sorted(raw):  # keep a sequence a real person could produce
        ref, now = refs[i], status[refs[i]]
        if now in {"done", "dropped"}:
            continue
        when = start_day + timedelta(days=day)
        if reimport is not None and ref == reimport[2] and when >= reimport[0]:
            continue  # left out of the plan file by then
        if ref == retimed and event in {"extend", "set"}:
            continue  # its time frame comes from the plan file
        if event == "reassign":
            changes.append((when, ref, event, owners[other]))
            continue
        if event == "set":  # a new due date, as `planwatch set ID --due D` (a continuous action becomes a deadline)
            if kinds[ref] != "recurring":
                was_set.add(ref)
                changes.append((when, ref, event, (when + timedelta(days=days)).isoformat()))
            continue
        if event == "extend":  # an extension granted past the current due date
            if kinds[ref] in DATED and ref not in was_set and now == "open":
                dues[ref] = max(dues[ref], when) + timedelta(days=days)
                events.append(ReplayEvent(at=when, action=ref, event="extend", to=dues[ref], by="life"))
            continue
        if event in {"ack", "not_mine"}:
            events.append(ReplayEvent(at=when, action=ref, event=event, by="life"))
            continue
        if event == "accept":  # the secretariat's decision; one not accepted says why
            state = ACCEPTANCE[other % len(ACCEPTANCE)]
            note = "outside the mandate" if state == "not_accepted" else ""
            events.append(ReplayEvent(at=when, action=ref, event="accept", acceptance=state, note=note, by="life"))
            continue
        if event == "report":  # reported implemented: its owner's supervisor is asked to verify it
            if kinds[ref] != "recurring" and now in {"open", "in_progress"}:
                status[ref] = "reported"
                events.append(ReplayEvent(at=when, action=ref, event="report", note="see the file", by="life"))
            continue
        if event in {"verify", "return"}:  # by the verifier the rules named
            if now == "reported":
                status[ref] = "done" if event == "verify" else "open"
                events.append(ReplayEvent(at=when, action=ref, event=event, note="seen", by="replay"))
            continue
        if (
            (event == "hold" and now == "on_hold")
            or (event == "reopen" and now != "on_hold")
            or (event == "progress" and now in {"on_hold", "reported"})
        ):
            continue
        next_status = {"done": "done", "drop": "dropped", "hold": "on_hold", "reopen": "open"}.get(event, now)
        if event == "done" and kinds[ref] == "recurring":
            next_status = now  # a recurring action's occurrence is done, the action goes on
        status[ref] = next_status
        events.append(ReplayEvent(at=when, action=ref, event=event, by="life"))
    start = datetime.combine(start_day, time(0), UTC)
    return Life(
        "\n".join(lines) + "\n",
        "\n".join(plan) + "\n",
        start,
        start + timedelta(days=length),
        tuple(events),
        tuple(changes),
        tuple(missed),
        reimport,
    )


@functools.cache
def empty_database() -> Path:
    """A SQLite file with the schema, made once per test run and copied for every life (migrating is slow)."""
    path = Path(tempfile.mkdtemp(prefix="planwatch-lives-")) / "empty.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@functools.cache
def renderer() -> Renderer:
    """The shipped templates, compiled once per test run (every life renders the same ones)."""
    return Renderer([ROOT / "templates"])


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
        rules = load_rules(folder / "rules")
        changes = sorted(life.changes)
        reimports = [life.reimport] if life.reimport else []
        removed: dict[str, datetime] = {}

        def change(tick: datetime) -> None:
            """Reassign an action or set its due date as the CLI does, and import the changed plan file, a moment
            after the tick at or past noon of the day (the simulator then ticks again at once, as a running service
            would a minute later)."""
            now = tick + timedelta(microseconds=1)
            if reimports and at_noon(reimports[0][0]) <= tick:
                _, text, left_out = reimports.pop()
                (folder / "plan.yaml").write_text(text, encoding="utf-8")
                import_paths(engine, [folder / "plan.yaml"], settings_, now)
                if left_out:
                    removed[left_out] = now
            while changes and at_noon(changes[0][0]) <= tick:
                _, ref, what, value = changes.pop(0)
                try:
                    with Session(engine, expire_on_commit=False) as session, session.begin():
                        action = find_action(session, ref)
                        if what == "reassign":
                            reassign(session, action, value, now, who="life", via="cli")
                        else:
                            set_schedule(
                                session, action, {"due": date.fromisoformat(value)}, now, who="life", via="cli"
                            )
                except UsageError:
                    pass  # refused as the CLI would refuse it (a due date before the window's start): nothing changed

        simulate(engine, rules, NullChannel(), renderer(), life.start, life.until, life.events, on_tick=change)
        out, act, own = tables.OUTBOX, tables.ACTION, tables.OWNER
        with engine.connect() as conn:
            rows = [
                dict(r)
                for r in conn.execute(
                    select(out, act.c.ref, act.c.kind, act.c.owner_id).join(act, act.c.id == out.c.action_id)
                ).mappings()
            ]
            digests = dict(conn.execute(select(out.c.key, out.c.sent_at).where(out.c.type == "digest")).all())
            escalations = [
                dict(r)
                for r in conn.execute(
                    select(tables.ESCALATION, act.c.ref).join(act, act.c.id == tables.ESCALATION.c.action_id)
                )
                .mappings()
                .all()
            ]
            people = list(conn.execute(select(own.c.id, own.c.delegate_id, own.c.timezone, own.c.supervisor_id)))
            delegates = {r.id: r.delegate_id for r in people}
            owner_changes = [
                (r.ref, aware_utc(r.at), r.via, r.old, r.new)
                for r in conn.execute(
                    select(act.c.ref, tables.ACTION_CHANGE)
                    .join(act, act.c.id == tables.ACTION_CHANGE.c.action_id)
                    .where(tables.ACTION_CHANGE.c.field == "owner")
                    .order_by(tables.ACTION_CHANGE.c.id)
                )
            ]
            reports = [  # every report of implementation: when made, and what became of it
                (r.ref, r.status, aware_utc(r.reported_at), aware_utc(r.decided_at) if r.decided_at else None)
                for r in conn.execute(
                    select(act.c.ref, tables.CLOSURE_REPORT).join(act, act.c.id == tables.CLOSURE_REPORT.c.action_id)
                )
            ]
            final = {
                r.ref: (r.status, aware_utc(r.planned_through) if r.planned_through else None)
                for r in conn.execute(select(act.c.ref, act.c.status, act.c.planned_through))
            }
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
    for r in rows:  # a notice held for a digest went out with the digest (when the digest was sent)
        if r["status"] == "digested" and digests.get(r["reason"].removeprefix("sent in ")) is not None:
            r["status"], r["sent_at"], r["digested"] = "sent", digests[r["reason"].removeprefix("sent in ")], True
    for r in rows:
        r["due_at"] = aware_utc(r["due_at"])
        r["sent_at"] = aware_utc(r["sent_at"]) if r["sent_at"] is not None else None
    for e in escalations:
        e["at"] = aware_utc(e["at"])
    for r in rows:  # who owned the action when the message went out
        r["owner_id"] = owner_at(r["ref"], r["owner_id"], r["sent_at"] or r["due_at"], owner_changes)
    facts = {
        "delegates": delegates,
        "completions": completions,
        "zones": {r.id: r.timezone for r in people},
        "supervisors": {r.id: r.supervisor_id for r in people},
        "owner_changes": owner_changes,
        "removed": removed,
        "reports": reports,
        "final": final,
    }
    return rows, escalations, facts


def owner_at(ref: str, current: str | None, at: datetime, changes: list[tuple[Any, ...]]) -> str | None:
    """The owner of ``ref`` at ``at`` (a change is made before the tick at its instant)."""
    mine = [c for c in changes if c[0] == ref]
    if not mine:
        return current
    owner: str | None = mine[0][3]
    for _, when, _, _, new in mine:
        if when <= at:
            owner = new
    return owner


def at_noon(day: date) -> datetime:
    """When the simulator applies a replayed event: noon of its day in the plan's zone."""
    return datetime.combine(day, time(12), zone(PLAN_TZ)).astimezone(UTC)


def sent(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((r for r in rows if r["status"] == "sent"), key=lambda r: (r["sent_at"], r["key"]))


def owner_side(r: dict[str, Any], facts: dict[str, Any]) -> bool:
    """Whether a message went to the owner, their delegate, or their deputy in their place."""
    owner = r["owner_id"]
    return r["recipient_id"] in {owner, facts["delegates"].get(owner)} or r["payload"].get("in_place_of") == owner


def owner_first(rows: list[dict[str, Any]], facts: dict[str, Any]) -> list[str]:
    """Messages about an occurrence to someone else before its owner (or delegate, or deputy) was sent anything."""
    heard: set[tuple[str, str]] = set()
    wrong = []
    for r in sent(rows):
        if not r["occurrence"] or r["type"] in VERIFYING:  # not about an occurrence the owner is told of
            continue
        about = (r["ref"], r["occurrence"])
        if owner_side(r, facts):
            heard.add(about)
        elif about not in heard and not any(
            o["sent_at"] == r["sent_at"] and (o["ref"], o["occurrence"]) == about and owner_side(o, facts)
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
        elif e.event in {"done", "drop", "verify"}:
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
    """Messages about a done, dropped or removed action (or a recurring action's done occurrence) after it ended."""
    _, ended = periods(life)
    wrong = []
    for r in sent(rows):
        ends = [ended[r["ref"]]] if r["kind"] != "recurring" and r["ref"] in ended else []
        ends += [facts["removed"][r["ref"]]] if r["ref"] in facts["removed"] else []
        if ends and r["sent_at"] > min(ends):
            wrong.append(f"{r['ref']} {r['step']} sent {r['sent_at']} after it ended {min(ends)}")
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


# answers to what someone did, sent at once rather than at the delivery hour
IMMEDIATE = {"not-mine", "extension", "verification_request", "closure_returned", "closure_verified"}
VERIFYING = {"verification", "closure"}  # messages about a report of implementation (to its verifier, or returned)
TICK = timedelta(minutes=1)  # a service's tick (the simulator ticks again at once after a change made between ticks)


def business_day(day: date, tz: str) -> bool:
    """Whether ``day`` is a business day for a recipient in ``tz``: no weekend, none of their zone's holidays."""
    return day.weekday() < 5 and day.isoformat() not in HOLIDAYS[tz]


def on_time(rows: list[dict[str, Any]], facts: dict[str, Any]) -> list[str]:
    """Messages not marked a catch-up that were planned off the delivery hour or a business day of their
    recipient, or went out later than one tick after they were planned; notices held for a digest that went out
    before they were planned, before the digest hour or off a business day of their recipient."""
    wrong = []
    for r in sent(rows):
        tz = facts["zones"].get(r["recipient_id"])
        if tz is not None and r.get("digested"):
            local = r["sent_at"].astimezone(zone(tz))
            if r["sent_at"] < r["due_at"] or local.time() < time(HOUR) or not business_day(local.date(), tz):
                wrong.append(f"{r['ref']} {r['step']} to {r['recipient_id']} in a digest at {local:%a %Y-%m-%d %H:%M}")
            continue
        if r["payload"].get("catch_up") or r["step"] in IMMEDIATE or tz is None:
            continue
        local = r["due_at"].astimezone(zone(tz))
        late = r["sent_at"] - r["due_at"]
        if (
            (local.hour, local.minute) != (HOUR, 0)
            or not business_day(local.date(), tz)
            or not (timedelta(0) <= late <= TICK)
        ):
            wrong.append(
                f"{r['ref']} {r['occurrence']} {r['step']} to {r['recipient_id']} planned {local:%a %Y-%m-%d %H:%M} "
                f"{tz}, sent {late} later"
            )
    return wrong


def nothing_lost(life: Life, rows: list[dict[str, Any]], facts: dict[str, Any]) -> list[str]:
    """Suppressed messages without a reason; a deadline missed before the first tick (and left alone for its
    first days) whose owner (or deputy in their place) does not hear of it within a few days, or whose first
    message to its owner or delegate is not one overdue notice (a digest counts as one message)."""
    wrong = [
        f"{r['ref']} {r['step']} to {r['recipient_id']} suppressed without a reason"
        for r in rows
        if r["status"] == "suppressed" and not r["reason"]
    ]
    busy = {e.action for e in life.events if e.at <= life.start.date() + timedelta(days=5)}
    busy |= {ref for day, ref, _, _ in life.changes if day <= life.start.date() + timedelta(days=5)}
    if life.reimport is not None and life.reimport[0] <= life.start.date() + timedelta(days=5):
        busy |= {ref for ref, _, _ in life.missed}
    for ref, due, owner in life.missed:
        if ref in busy:
            continue
        about = [r for r in sent(rows) if r["ref"] == ref and r["occurrence"] == due.isoformat()]
        delegate = facts["delegates"].get(owner)
        for person in (owner, delegate):
            if person is None:
                continue
            theirs = [  # to them (the owner's deputy in the owner's place)
                r
                for r in about
                if (r["recipient_id"] == person and not r["payload"].get("in_place_of"))
                or (person == owner and r["payload"].get("in_place_of") == owner)
            ]
            at = min((r["sent_at"] for r in theirs), default=None)
            told = [r for r in theirs if r["sent_at"] == at]
            # the next business day of theirs (a weekend and two holidays at most), a week more in a weekly digest
            wait = timedelta(days=5 + (7 if any(r.get("digested") for r in told) else 0))
            if person == owner and (at is None or at > life.start + wait):
                wrong.append(f"{ref} due {due} (missed before the first tick): its owner first heard of it at {at}")
            messages = len([r for r in told if not r.get("digested")]) + any(r.get("digested") for r in told)
            if messages > 1 or any(r["type"] != "overdue" for r in told):  # one digest is one message
                wrong.append(f"{ref} due {due} (missed before the first tick): {[r['step'] for r in told]} to {person}")
    return wrong


def levels(rows: list[dict[str, Any]], facts: dict[str, Any]) -> list[str]:
    """Escalations and overdue notices whose level is not the recipient's rung in the owner's supervisor chain
    (owner and delegate 0, first supervisor 1, ...); the secretariat and plain addresses are no rung."""
    wrong = []
    for r in sent(rows):
        if r["type"] not in {"escalation", "overdue"} or r["owner_id"] is None:
            continue
        rungs = {r["owner_id"]: 0}
        if facts["delegates"].get(r["owner_id"]):
            rungs[facts["delegates"][r["owner_id"]]] = 0
        up, rung = facts["supervisors"].get(r["owner_id"]), 1
        while up is not None:
            rungs.setdefault(up, rung)
            up, rung = facts["supervisors"].get(up), rung + 1
        if r["payload"].get("in_place_of") == r["owner_id"]:
            rungs[r["recipient_id"]] = 0  # the owner's deputy, in the owner's place
        if r["recipient_id"] in rungs and r["level"] != rungs[r["recipient_id"]]:
            wrong.append(
                f"{r['ref']} {r['occurrence']} {r['step']} to {r['recipient_id']} (rung {rungs[r['recipient_id']]}) "
                f"level {r['level']}"
            )
    return wrong


def reported_is_quiet(life: Life, rows: list[dict[str, Any]], facts: dict[str, Any]) -> list[str]:
    """Messages to an action's owner (or delegate, or deputy) while it was reported implemented and waiting for
    its verifier; a report the life took back or decided whose record does not say so."""
    wrong = []
    for ref, state, reported, decided in facts["reports"]:
        end = decided or life.until + timedelta(days=1)
        wrong += [
            f"{ref} {r['step']} to {r['recipient_id']} sent {r['sent_at']} while reported ({reported} to {end})"
            for r in sent(rows)
            if r["ref"] == ref and owner_side(r, facts) and reported + TICK < r["sent_at"] < end
        ]
        if state == "reported" and facts["final"][ref][0] != "reported":
            wrong.append(f"{ref}: a report still waits, but the action is {facts['final'][ref][0]}")
    return wrong


def only_verified_is_done(life: Life, facts: dict[str, Any]) -> list[str]:
    """Actions done without a verified report or a "done" of their own (done at once, as one-step closure does);
    reported actions whose report is not waiting; returned reports whose action was not planned again after."""
    closed_by_hand = {e.action for e in life.events if e.event == "done"}
    verified = {ref for ref, state, _, _ in facts["reports"] if state == "verified"}
    waiting = {ref for ref, state, _, _ in facts["reports"] if state == "reported"}
    wrong = []
    for ref, (status, _) in facts["final"].items():
        if status == "done" and ref not in verified | closed_by_hand:
            wrong.append(f"{ref} is done, but nobody verified it")
        if status == "reported" and ref not in waiting:
            wrong.append(f"{ref} is reported, but no report waits for verification")
    for ref, state, _, decided in facts["reports"]:
        status, planned = facts["final"][ref]
        returned = state == "returned" and status in {"open", "in_progress"} and decided is not None
        if returned and (planned is None or planned < decided):
            wrong.append(f"{ref} was returned {decided} and never planned again (planned through {planned})")
    return wrong


def returned_tells_the_owner(rows: list[dict[str, Any]], facts: dict[str, Any]) -> list[str]:
    """A report returned by its verifier whose owner was not sent why."""
    returned = [(ref, decided) for ref, state, _, decided in facts["reports"] if state == "returned" and decided]
    wrong = []
    for ref, decided in returned:
        told = [r for r in rows if r["ref"] == ref and r["step"] == "closure_returned" and r["due_at"] == decided]
        if facts["final"][ref][0] in {"open", "in_progress"} and not told:
            wrong.append(f"{ref} returned {decided}: its owner was not told why")
    return wrong


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
    assert on_time(rows, facts) == []
    assert nothing_lost(life, rows, facts) == []
    assert levels(rows, facts) == []
    assert reported_is_quiet(life, rows, facts) == []
    assert only_verified_is_done(life, facts) == []
    assert returned_tells_the_owner(rows, facts) == []


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
    quiet = [(r["recipient_id"], r["step"]) for r in sent(rows) if r["occurrence"].startswith("stale ")]
    assert quiet == [("own0", "stale"), ("sup1", "escalate:1")]  # I.1.3: no update for 20 days, then 7 more
    assert escalations
    assert owner_first(rows, facts) == hold_is_silence(life, rows, facts) == done_stops(life, rows, facts) == []
    assert no_escalation_about_unsent_checkins(rows, escalations) == exactly_once(rows) == []


def test_a_later_step_to_another_zone_is_not_planned_late() -> None:
    """A ladder's next step can reach its recipient (Bangkok, 09:00) before a repeat of the step before it (Lima,
    the same day at 09:00, moved past a weekend): it is planned for its own instant, at the delivery hour of its
    recipient's business day, not sent at the repeat's as a catch-up (the plan is imported after its date, so the
    ladder counts from the owner's catch-up)."""
    life = Life(
        owners_yaml="""\
owners:
  - {id: sup0, name: Top, email: top@example.org, timezone: America/Lima}
  - {id: sup1, name: Mid, email: mid@example.org, timezone: Asia/Bangkok, supervisor: sup0}
  - {id: sup2, name: Low, email: low@example.org, timezone: America/Lima, supervisor: sup1}
  - {id: own2, name: Owen, email: owen@example.org, timezone: Europe/Zurich, supervisor: sup2}
""",
        plan_yaml="""\
plan: {id: life, title: A fixed plan, symbol: L/1, date: 1999-08-25, timezone: Europe/Zurich}
sections:
  - {key: I, number: I, title: Part one}
actions:
  - {id: I.3, section: I, title: Late, timeframe: x, owner: own2,
     schedule: {kind: window, start: 1999-08-31, due: 1999-10-30}}
""",
        start=datetime(1999, 11, 15, tzinfo=UTC),
        until=datetime(1999, 12, 31, tzinfo=UTC),
        events=(),
    )
    rows, _, facts = lived(life)
    step = next(r for r in sent(rows) if r["step"] == "escalate:3")
    local = step["sent_at"].astimezone(zone("Asia/Bangkok"))
    assert (step["recipient_id"], step["sent_at"], step["payload"].get("catch_up")) == ("sup1", step["due_at"], None)
    assert local.hour == HOUR and business_day(local.date(), "Asia/Bangkok")
    assert on_time(rows, facts) == levels(rows, facts) == []


FIXED_CHANGES = Life(
    owners_yaml="""\
owners:
  - {id: sup0, name: Top, email: top@example.org, timezone: Europe/Zurich}
  - id: own0
    name: Zora
    email: zora@example.org
    timezone: Europe/Zurich
    supervisor: sup0
    digest: weekly
    away: {from: 2000-03-01, to: 2000-03-10, deputy: own1}
  - {id: own1, name: Boon, email: boon@example.org, timezone: Asia/Bangkok, supervisor: sup0}
""",
    plan_yaml="""\
plan: {id: life, title: A fixed plan, symbol: L/1, date: 1999-09-01, timezone: Europe/Zurich}
sections:
  - {key: I, number: I, title: Part one}
actions:
  - {id: I.1, section: I, title: Away, timeframe: x, owner: own0, schedule: {kind: deadline, due: 2000-03-06}}
  - {id: I.2, section: I, title: Removed, timeframe: x, owner: own1, schedule: {kind: deadline, due: 2000-04-10}}
""",
    start=datetime(2000, 2, 1, tzinfo=UTC),
    until=datetime(2000, 4, 20, tzinfo=UTC),
    events=(),
    reimport=(
        date(2000, 3, 20),
        """\
plan: {id: life, title: A fixed plan, symbol: L/1, date: 1999-09-01, timezone: Europe/Zurich}
sections:
  - {key: I, number: I, title: Part one}
actions:
  - {id: I.1, section: I, title: Away, timeframe: y, owner: own0, schedule: {kind: deadline, due: 2000-03-06}}
  - {id: I.3, section: I, title: Added, timeframe: x, owner: own1, schedule: {kind: deadline, due: 2000-04-05}}
""",
        "I.2",
    ),
)


def test_a_life_with_a_deputy_a_digest_and_a_reimport_says_what_it_should() -> None:
    """Zora takes a weekly digest and is away 1-10 March (Boon deputises): her early reminder goes in her digest,
    what falls due while she is away goes to Boon at Bangkok's delivery hour, in her place, and the overdue notice
    that opens the ladder on its own; the action left out of the plan file on 20 March is never heard of again,
    and the one added is reminded."""
    life = FIXED_CHANGES
    rows, escalations, facts = lived(life)
    mine = [r for r in sent(rows) if r["ref"] == "I.1"]
    assert any(r.get("digested") and r["recipient_id"] == "own0" for r in mine)
    in_place = [r for r in mine if r["payload"].get("in_place_of") == "own0"]
    assert in_place and all(r["recipient_id"] == "own1" for r in in_place)
    assert {r["type"] for r in in_place} >= {"reminder", "overdue"}
    assert not [r for r in sent(rows) if r["ref"] == "I.2" and r["sent_at"] >= facts["removed"]["I.2"]]
    assert any(r["ref"] == "I.3" and r["type"] == "reminder" for r in sent(rows))
    assert owner_first(rows, facts) == hold_is_silence(life, rows, facts) == done_stops(life, rows, facts) == []
    assert no_escalation_about_unsent_checkins(rows, escalations) == exactly_once(rows) == []
    assert on_time(rows, facts) == nothing_lost(life, rows, facts) == levels(rows, facts) == []


FIXED_FOLLOW_UP = Life(
    owners_yaml="""\
owners:
  - {id: sup0, name: Top, email: top@example.org, timezone: Europe/Zurich}
  - {id: sup1, name: Mid, email: mid@example.org, timezone: Europe/Zurich, supervisor: sup0}
  - {id: own0, name: Zora, email: zora@example.org, timezone: Europe/Zurich, supervisor: sup1}
""",
    plan_yaml="""\
plan: {id: life, title: A fixed plan, symbol: L/1, date: 1999-09-01, timezone: Europe/Zurich}
sections:
  - {key: I, number: I, title: Part one}
actions:
  - {id: I.1, section: I, title: Closed, timeframe: x, owner: own0, schedule: {kind: deadline, due: 2000-03-15}}
  - {id: I.2, section: I, title: Refused, timeframe: x, owner: own0, schedule: {kind: deadline, due: 2000-03-20}}
""",
    start=datetime(2000, 2, 1, tzinfo=UTC),
    until=datetime(2000, 5, 15, tzinfo=UTC),
    events=(
        ReplayEvent(at=date(2000, 2, 2), action="I.2", event="accept", acceptance="not_accepted", note="no", by="life"),
        ReplayEvent(at=date(2000, 2, 10), action="I.1", event="report", note="sent", by="life"),
        ReplayEvent(at=date(2000, 3, 10), action="I.1", event="return", note="attach it", by="replay"),
        ReplayEvent(at=date(2000, 3, 30), action="I.1", event="report", note="attached", by="life"),
        ReplayEvent(at=date(2000, 4, 5), action="I.1", event="verify", note="seen", by="replay"),
    ),
)


def test_a_life_with_a_report_returned_then_verified_says_what_it_should() -> None:
    """I.1 is reported on 10 February: its owner hears nothing more, its verifier (Mid) is reminded every week and
    Top hears of it after three weeks; returned on 10 March, Zora is told why and is reminded of the due date and
    the ladder runs again; reported again and verified, it is done. I.2 is not accepted: nobody hears of it."""
    life = FIXED_FOLLOW_UP
    rows, escalations, facts = lived(life)
    mine = [r for r in sent(rows) if r["ref"] == "I.1"]
    waiting = [
        (r["sent_at"].date().isoformat(), r["recipient_id"], r["step"]) for r in mine if r["type"] == "verification"
    ]
    assert waiting == [  # reported at noon: a week on, the next morning
        ("2000-02-18", "sup1", "verify:remind"),
        ("2000-02-25", "sup1", "verify:remind#1"),
        ("2000-03-03", "sup0", "verify:escalate"),
        ("2000-03-03", "sup1", "verify:escalate"),
        ("2000-03-10", "sup0", "verify:escalate#1"),
        ("2000-03-10", "sup1", "verify:escalate#1"),
    ]
    told = [r for r in mine if r["step"] == "closure_returned"]
    assert [(r["recipient_id"], r["sent_at"].date().isoformat()) for r in told] == [("own0", "2000-03-10")]
    after_return = [r for r in mine if r["recipient_id"] == "own0" and date(2000, 3, 10) < r["sent_at"].date()]
    assert [r["step"] for r in after_return][:2] == ["remind:due:2d", "escalate:1"]
    assert facts["final"]["I.1"][0] == "done" and facts["final"]["I.2"][0] == "open"
    assert not [r for r in sent(rows) if r["ref"] == "I.2"]
    assert any(e["occurrence"].startswith("verification ") and e["level"] == 1 for e in escalations)
    assert reported_is_quiet(life, rows, facts) == only_verified_is_done(life, facts) == []
    assert returned_tells_the_owner(rows, facts) == owner_first(rows, facts) == exactly_once(rows) == []
    assert on_time(rows, facts) == levels(rows, facts) == done_stops(life, rows, facts) == []
