"""Who a role means for an action: owner, delegate, supervisor chain, secretariat.

The role ``owner`` means the owner and their delegate; while the owner is away (``away`` in the owners
file, dates in the owner's zone) their deputy receives in the owner's place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, select

from engine.planner import Person
from engine.store import tables
from engine.zones import zone

MAX_LEVELS = 8


@dataclass(frozen=True, slots=True)
class Directory:
    """The owners directory in memory, for resolving roles quickly."""

    people: Mapping[str, Person]
    bosses: Mapping[str, str | None]
    delegates: Mapping[str, str | None]
    secretariat: tuple[Person, ...]
    aways: Mapping[str, tuple[date, date, str]] = field(default_factory=dict)

    def roles(self, owner_id: str | None, now: datetime | None = None) -> dict[str, list[Person]]:
        """Return role -> people for an action owned by ``owner_id``, as they stand at ``now`` (aware).

        ``owner`` is the owner (or, while they are away on the local day of ``now``, their deputy) and
        the delegate; ``delegate`` is the delegate alone.
        """
        out: dict[str, list[Person]] = {"secretariat": list(self.secretariat)}
        if owner_id is None or owner_id not in self.people:
            return out
        out["owner"] = [self.deputy_of(owner_id, now)]
        delegate = self.delegates.get(owner_id)
        if delegate in self.people:
            out["delegate"] = [self.people[delegate]]  # type: ignore[index]
            out["owner"].append(self.people[delegate])  # type: ignore[index]
        role, current = "supervisor", self.bosses.get(owner_id)
        for _ in range(MAX_LEVELS):
            if current is None or current not in self.people:
                break
            out[role] = [self.people[current]]
            role, current = role + ".supervisor", self.bosses.get(current)
        return out

    def deputy_of(self, owner_id: str, now: datetime | None) -> Person:
        """Return who receives for ``owner_id`` at ``now``: the deputy on a day of their away period, else the owner."""
        owner = self.people[owner_id]
        away = self.aways.get(owner_id)
        if away is None or now is None or away[2] not in self.people:
            return owner
        first, last, deputy = away
        return self.people[deputy] if first <= now.astimezone(zone(owner.tz)).date() <= last else owner


def load_directory(conn: Connection) -> Directory:
    """Read every owner once."""
    table = tables.OWNER
    rows = conn.execute(select(table)).mappings().all()
    people = {r["id"]: Person(r["id"], r["email"], r["timezone"], r["name"], r["digest"] or "none") for r in rows}
    secretariat = tuple(people[r["id"]] for r in rows if r["role"] in {"secretariat", "admin"})
    if not secretariat and "secretariat" in people:
        secretariat = (people["secretariat"],)
    return Directory(
        people,
        {r["id"]: r["supervisor_id"] for r in rows},
        {r["id"]: r["delegate_id"] for r in rows},
        secretariat,
        {
            r["id"]: (r["away_from"], r["away_to"], r["deputy_id"])
            for r in rows
            if r["away_from"] and r["away_to"] and r["deputy_id"]
        },
    )
