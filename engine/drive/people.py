"""Who a role means for an action: owner, delegate, supervisor chain, secretariat.

The role ``owner`` means the owner and their delegate. An owner away for a period (``away`` in the owners
file, days in the owner's zone) names a deputy: the planner gives the deputy, in the owner's place, each
message whose own instant falls on one of those days, whenever it is planned (``Directory.away_of``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, select

from engine.planner import Away, Person
from engine.store import tables

MAX_LEVELS = 8


@dataclass(frozen=True, slots=True)
class Directory:
    """The owners directory in memory, for resolving roles quickly."""

    people: Mapping[str, Person]
    bosses: Mapping[str, str | None]
    delegates: Mapping[str, str | None]
    secretariat: tuple[Person, ...]
    aways: Mapping[str, tuple[date, date, str]] = field(default_factory=dict)
    addresses: Mapping[str, Person] = field(default_factory=dict)  # everyone by e-mail address, in lower case

    def roles(self, owner_id: str | None) -> dict[str, list[Person]]:
        """Return role -> people for an action owned by ``owner_id``.

        ``owner`` is the owner and the delegate; ``delegate`` is the delegate alone. Who stands in for an owner
        away is the planner's choice, message by message (``away_of``).
        """
        out: dict[str, list[Person]] = {"secretariat": list(self.secretariat)}
        if owner_id is None or owner_id not in self.people:
            return out
        out["owner"] = [self.people[owner_id]]
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

    def away_of(self, owner_id: str | None) -> Away | None:
        """Return ``owner_id``'s away period with their deputy, or None (no period, or a deputy unknown here)."""
        away = self.aways.get(owner_id) if owner_id is not None else None
        if away is None or owner_id not in self.people or away[2] not in self.people:
            return None
        first, last, deputy = away
        return Away(first, last, self.people[deputy])


def load_directory(conn: Connection) -> Directory:
    """Read every owner once."""
    table = tables.OWNER
    rows = conn.execute(select(table)).mappings().all()
    people = {
        r["id"]: Person(r["id"], r["email"], r["timezone"], r["name"], r["digest"] or "none", r["country"])
        for r in rows
    }
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
        {person.email.lower(): person for person in people.values()},
    )
