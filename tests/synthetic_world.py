"""Synthetic worlds for the many-node and crash tests: one plan of N deadline actions, written
straight into a migrated database (SQLite or PostgreSQL) with SQLAlchemy Core, and the
invariants the tests check on the outbox and the escalation log afterwards.

Owners (thousands, three zones, a supervisor chain owner -> manager -> boss) are many on
purpose: the rules' per-recipient daily cap must not be what limits the traffic. Every action
is due for planning at ``start`` (``next_fire_at = planned_through = start``), as if a service
had run until then; its due date lies between ``start - overdue_days`` and ``start + spread``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from engine.mail.messages import message_id
from engine.store import make_engine, upgrade
from engine.store.models import Action, Escalation, Outbox, Owner, Plan, Section

A = Action.__table__  # type: ignore[attr-defined]
OUT = Outbox.__table__  # type: ignore[attr-defined]
E = Escalation.__table__  # type: ignore[attr-defined]
P = Plan.__table__  # type: ignore[attr-defined]
S = Section.__table__  # type: ignore[attr-defined]
W = Owner.__table__  # type: ignore[attr-defined]

PLAN_ID = "syn"
ZONES = ("Europe/Zurich", "Asia/Bangkok", "America/Lima")
SECTIONS = 20
DOMAIN = "example.org"  # the renderer identity's domain (the sender's): Message-IDs end in it
ADMIN = "admin@example.org"

# The test plan's deadlines policy with a cap high enough that the cap never defers anything.
RULES = """\
defaults:
  delivery:
    hour: "09:00"
    business_days: true
  limits:
    max_per_day: 1000
policies:
  - name: deadlines
    match: {kind: [deadline]}
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
"""


@dataclass(frozen=True)
class Shape:
    """How big a world is and how its due dates spread; datetimes aware UTC."""

    actions: int
    owners: int
    managers: int
    start: datetime
    overdue_days: int  # the earliest due date lies this many days before start
    spread_days: int  # due dates spread evenly over this many days from there
    digest_every: int = 0  # every n-th owner takes a daily digest (0: nobody)


def write_rules(folder: Path) -> Path:
    """Write the rules file into ``folder``; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policies.yaml").write_text(RULES, encoding="utf-8")
    return folder


def build_world(url: str, shape: Shape) -> None:
    """Migrate the empty database at ``url`` and fill it with the world of ``shape``."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            stamp = shape.start - timedelta(days=400)
            conn.execute(
                insert(P),
                [
                    {
                        "id": PLAN_ID,
                        "title": f"Synthetic plan of {shape.actions} actions",
                        "symbol": "SYN/1",
                        "body": "",
                        "ref_date": date(2029, 1, 1),
                        "timezone": ZONES[0],
                        "fy_start": None,
                        "source": "generated",
                        "source_format": "yaml",
                        "imported_at": stamp,
                        "updated_at": stamp,
                    }
                ],
            )
            sections = [
                {
                    "plan_id": PLAN_ID,
                    "key": "S",
                    "parent_key": None,
                    "level": "part",
                    "number": "I",
                    "title": "Part one",
                    "context": "",
                    "ordinal": 0,
                }
            ]
            sections += [
                {
                    "plan_id": PLAN_ID,
                    "key": f"S{k}",
                    "parent_key": "S",
                    "level": "issue",
                    "number": str(k),
                    "title": f"Issue {k}",
                    "context": "",
                    "ordinal": k,
                }
                for k in range(1, SECTIONS + 1)
            ]
            conn.execute(insert(S), sections)
            for tier in _owner_tiers(shape):
                conn.execute(insert(W), tier)
            conn.execute(insert(A), [_action(j, shape, stamp) for j in range(shape.actions)])
    finally:
        engine.dispose()


def _owner_tiers(shape: Shape) -> list[list[dict[str, Any]]]:
    def person(oid: str, tz: str, boss: str | None, digest: str = "none") -> dict[str, Any]:
        return {
            "id": oid,
            "name": f"Person {oid}",
            "email": f"{oid}@example.org",
            "timezone": tz,
            "supervisor_id": boss,
            "delegate_id": None,
            "digest": digest,
            "role": "owner",
        }

    admin = person("admin", ZONES[0], None) | {"role": "admin", "email": ADMIN}
    managers = [person(f"m{k:03d}", ZONES[k % 3], "boss") for k in range(shape.managers)]
    owners = [
        person(
            owner_id(n),
            ZONES[n % 3],
            f"m{n % shape.managers:03d}",
            "daily" if shape.digest_every and n % shape.digest_every == 0 else "none",
        )
        for n in range(shape.owners)
    ]
    return [[admin, person("boss", ZONES[0], None)], managers, owners]


def owner_id(n: int) -> str:
    return f"o{n:05d}"


def _action(j: int, shape: Shape, stamp: datetime) -> dict[str, Any]:
    due = (
        shape.start.date() - timedelta(days=shape.overdue_days) + timedelta(days=j * shape.spread_days // shape.actions)
    )
    return {
        "id": j + 1,
        "plan_id": PLAN_ID,
        "ref": f"A.{j + 1}",
        "section_key": f"S{j % SECTIONS + 1}",
        "subheading": "",
        "ordinal": j + 1,
        "title": f"Action {j + 1}",
        "description": "",
        "timeframe": f"By {due.isoformat()}",
        "owner_id": owner_id((j * 7919) % shape.owners),
        "owner_source": "plan",
        "status": "open",
        "status_note": "",
        "kind": "deadline",
        "due": due,
        "milestones": [],
        "needs_review": False,
        "reason": "generated",
        "override": {},
        "created_at": stamp,
        "updated_at": stamp,
        "tags": [],
        "next_fire_at": shape.start,
        "planned_through": shape.start,
        "policy": "",
    }


def ticks(start: datetime, days: int, every: timedelta) -> list[datetime]:
    """Return the simulated instants start, start + every, ... up to start + days (UTC)."""
    out, now = [], start
    while now <= start + timedelta(days=days):
        out.append(now)
        now += every
    return out


# ----- what the tests check afterwards ---------------------------------------------------------


@dataclass
class Final:
    """The outbox and escalation log at the end of a run."""

    outbox: list[dict[str, Any]]
    log: list[dict[str, Any]]

    def statuses(self) -> dict[str, str]:
        """Return outbox key -> status."""
        return {r["key"]: r["status"] for r in self.outbox}

    def sent_ids(self) -> Counter[str]:
        """Return Message-ID -> how many sent rows carry it (each should be 1)."""
        return Counter(message_id(r["key"], DOMAIN) for r in self.outbox if r["status"] == "sent")

    def escalation_steps(self) -> set[tuple[int, str, str]]:
        """Return (action, occurrence, step) of every first step of the ladder in the outbox.

        Repeats (``escalate:1#2``) are messages only: the log has one row per step fired.
        """
        return {
            (r["action_id"], r["occurrence"], r["step"])
            for r in self.outbox
            if r["step"].startswith("escalate:") and "#" not in r["step"]
        }

    def log_steps(self) -> list[tuple[int, str, str]]:
        """Return (action, occurrence, step) of every log row (a list: duplicates would show)."""
        return [(r["action_id"], r["occurrence"], r["step"]) for r in self.log]

    def due_pending(self, now: datetime) -> list[str]:
        """Return keys of rows still pending although due at ``now``."""
        return [r["key"] for r in self.outbox if r["status"] == "pending" and r["due_at"] <= now]


def read_final(engine: Engine) -> Final:
    """Read the outbox and the escalation log."""
    with engine.connect() as conn:
        outbox = [dict(r) for r in conn.execute(select(OUT).order_by(OUT.c.id)).mappings()]
        log = [dict(r) for r in conn.execute(select(E).order_by(E.c.id)).mappings()]
    return Final(outbox, log)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
