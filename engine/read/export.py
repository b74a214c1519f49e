"""Writing a stored plan out as the YAML plan file."""

from __future__ import annotations

from sqlmodel import Session

from engine.errors import NotFoundError, UsageError
from engine.importers import planyaml
from engine.read.queries import plans
from engine.store.plans import active_actions, read_document


def choose_plan(session: Session, plan_id: str | None) -> str:
    """Return ``plan_id``, or the only plan's id; refuse when it is ambiguous or unknown."""
    ids = [p.id for p in plans(session)]
    if plan_id is not None:
        if plan_id not in ids:
            raise NotFoundError(f"no plan {plan_id!r}; plans: {', '.join(ids) or 'none (import one first)'}")
        return plan_id
    if not ids:
        raise UsageError("no plan in the database; import one first: planwatch import PLAN")
    if len(ids) > 1:
        raise UsageError(f"several plans ({', '.join(ids)}); choose one with --plan")
    return ids[0]


def export_plan(session: Session, plan_id: str | None) -> tuple[str, str]:
    """Return (YAML text, plan id) of a stored plan."""
    chosen = choose_plan(session, plan_id)
    doc = read_document(session, chosen)
    assert doc is not None
    stored = active_actions(session, chosen)
    rule_owners = {a.ref: a.owner_id for a in stored if a.owner_source.startswith("rule") and a.owner_id}
    decided = {a.ref: a for a in stored if a.acceptance != "accepted" or a.acceptance_note}
    for row in doc.actions:  # the acceptance decisions, so that a round trip keeps them
        if (action := decided.get(row.ref)) is not None:
            row.acceptance, row.acceptance_note = action.acceptance, action.acceptance_note or None
    return planyaml.dump(doc, rule_owners), chosen
