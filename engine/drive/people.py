"""Who a role means for an action: owner, delegate, supervisor chain, secretariat."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, select

from engine.planner import Person
from engine.store import tables

MAX_LEVELS = 8


@dataclass(frozen=True, slots=True)
class Directory:
    """The owners directory in memory, for resolving roles quickly."""

    people: Mapping[str, Person]
    bosses: Mapping[str, str | None]
    delegates: Mapping[str, str | None]
    secretariat: tuple[Person, ...]

    def roles(self, owner_id: str | None) -> dict[str, list[Person]]:
        """Return role -> people for an action owned by ``owner_id``."""
        out: dict[str, list[Person]] = {"secretariat": list(self.secretariat)}
        if owner_id is None or owner_id not in self.people:
            return out
        out["owner"] = [self.people[owner_id]]
        delegate = self.delegates.get(owner_id)
        if delegate in self.people:
            out["delegate"] = [self.people[delegate]]  # type: ignore[index]
        role, current = "supervisor", self.bosses.get(owner_id)
        for _ in range(MAX_LEVELS):
            if current is None or current not in self.people:
                break
            out[role] = [self.people[current]]
            role, current = role + ".supervisor", self.bosses.get(current)
        return out


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
    )
