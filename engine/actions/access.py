"""Who may see and change what, from the owners directory.

An owner sees their own actions; a supervisor also everyone below them (at any depth); the
secretariat and administrators see everything. Changing follows seeing, except what only a
supervisor does (acknowledging escalations, deciding extensions) and what only the
secretariat does (resolving how a time frame was read).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from engine.read.escalations import subordinates
from engine.store.models import Owner

EVERYTHING = frozenset({"admin", "secretariat"})


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in person and their reach; ``below`` is everyone under them in the directory."""

    id: str
    name: str
    role: str
    timezone: str
    below: frozenset[str]

    @property
    def sees_all(self) -> bool:
        """Return True for the secretariat and administrators."""
        return self.role in EVERYTHING

    @property
    def is_supervisor(self) -> bool:
        """Return True when someone reports to this person (or they see everything)."""
        return self.sees_all or bool(self.below)

    def scope(self) -> frozenset[str] | None:
        """Return the owner ids whose actions this person sees, or None for all of them."""
        return None if self.sees_all else self.below | {self.id}

    def can_see(self, owner_id: str | None) -> bool:
        """Return True when an action owned by ``owner_id`` (None: nobody) is visible."""
        return self.sees_all or (owner_id is not None and (owner_id == self.id or owner_id in self.below))

    def can_supervise(self, owner_id: str | None) -> bool:
        """Return True when this person may acknowledge and decide for an action of ``owner_id``."""
        return self.sees_all or (owner_id is not None and owner_id in self.below)


def viewer_for(session: Session, owner: Owner) -> Viewer:
    """Return the ``Viewer`` of a directory entry."""
    return Viewer(owner.id, owner.name, owner.role, owner.timezone, frozenset(subordinates(session, owner.id)))
