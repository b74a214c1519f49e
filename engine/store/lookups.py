"""Small lookups that importing, the actions and the read side all need: the owners directory and a plan's
section tree."""

from __future__ import annotations

from sqlmodel import Session, select

from engine.store.models import Owner, Section


def owner_ids(session: Session) -> set[str]:
    """Return the id of every owner in the directory."""
    return set(session.exec(select(Owner.id)).all())


def owners_by_id(session: Session) -> dict[str, Owner]:
    """Return every owner in the directory, by id."""
    return {o.id: o for o in session.exec(select(Owner)).all()}


def supervisors(session: Session) -> dict[str, str | None]:
    """Return each owner's supervisor (None at the top), by owner id."""
    return dict(session.exec(select(Owner.id, Owner.supervisor_id)).all())


def section_parents(session: Session, plan_id: str) -> dict[str, str | None]:
    """Return each section's parent key (None for a Part), by section key, for one plan."""
    return dict(session.exec(select(Section.key, Section.parent_key).where(Section.plan_id == plan_id)).all())
