"""Who may see and change what, from the owners directory.

An owner sees their own actions; a supervisor also everyone below them (at any depth); the
secretariat and administrators see everything. Changing follows seeing, except what only a
supervisor does (acknowledging escalations, deciding extensions) and what only the
secretariat does (resolving how a time frame was read). The verifier the rules name for a report of
implementation also sees its action while the report waits for them, wherever they are in the directory.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from engine.read.escalations import subordinates
from engine.store.followup_models import ClosureReport
from engine.store.models import Owner

EVERYTHING = frozenset({"admin", "secretariat"})


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in person and their reach; ``below`` is everyone under them in the directory, ``verifying`` the ids
    of the actions whose report of implementation waits for them."""

    id: str
    name: str
    role: str
    timezone: str
    below: frozenset[str]
    verifying: frozenset[int] = frozenset()

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

    def may_see(self, action_id: int | None, owner_id: str | None) -> bool:
        """Return True when the action ``action_id`` owned by ``owner_id`` is visible: as ``can_see`` says, or
        because its report of implementation waits for this person to verify it."""
        return self.can_see(owner_id) or (action_id is not None and action_id in self.verifying)

    def can_supervise(self, owner_id: str | None) -> bool:
        """Return True when this person may acknowledge and decide for an action of ``owner_id``."""
        return self.sees_all or (owner_id is not None and owner_id in self.below)


def viewer_for(session: Session, owner: Owner) -> Viewer:
    """Return the ``Viewer`` of a directory entry."""
    waiting = session.exec(
        select(ClosureReport.action_id).where(
            ClosureReport.verifier_id == owner.id, col(ClosureReport.status) == "reported"
        )
    ).all()
    below = frozenset(subordinates(session, owner.id))
    return Viewer(owner.id, owner.name, owner.role, owner.timezone, below, frozenset(waiting))
