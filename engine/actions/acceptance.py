"""The secretariat's acceptance of each recommendation: accepted, partially accepted, not accepted (with the
reason) or under consideration; from the CLI, the pages, or the plan file.

By default only accepted and partially accepted actions get reminders and escalations (the rules'
``acceptance.remind``). Every decision is recorded (who, when, through what) and plans the action again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from engine.actions.workflow import drop_stale_outbox, replan
from engine.errors import UsageError
from engine.plandoc import ActionRow
from engine.store.models import ACCEPTANCE, Action, ActionChange
from engine.store.plans import record_change

WORDS = {
    "accepted": "accepted",
    "partially_accepted": "partially accepted",
    "not_accepted": "not accepted",
    "under_consideration": "under consideration",
}


def set_acceptance(
    session: Session, action: Action, acceptance: str, now: datetime, *, who: str, via: str, note: str = ""
) -> bool:
    """Record the secretariat's acceptance decision; return False when nothing changed.

    ``not_accepted`` needs the reason in ``note``. The action is planned again: by default only accepted and
    partially accepted actions get reminders and escalations.
    """
    if acceptance not in ACCEPTANCE:
        raise UsageError(f"unknown acceptance {acceptance!r}; expected one of {', '.join(ACCEPTANCE)}")
    if acceptance == "not_accepted" and not note.strip():
        raise UsageError("a recommendation not accepted needs the reason: give it with --reason")
    if action.acceptance == acceptance and action.acceptance_note == note:
        return False
    old = action.acceptance
    action.acceptance, action.acceptance_note = acceptance, note
    replan(session, action, now)
    session.add(action)
    record_change(session, action, now, who, via, "acceptance", old, acceptance, note)
    if acceptance in {"not_accepted", "under_consideration"}:
        drop_stale_outbox(session, action, f"the action is {WORDS[acceptance]}")
    return True


def acceptance_words(action: Action) -> str:
    """Return the action's acceptance in words, with the reason when it was not accepted."""
    words = WORDS.get(action.acceptance, action.acceptance)
    return f"{words} ({action.acceptance_note})" if action.acceptance_note else words


def apply_file_acceptance(
    session: Session, plan_id: str, rows: Sequence[ActionRow], now: datetime, via: str
) -> list[str]:
    """Store the acceptance a plan file gives its actions; return warnings.

    A decision made by hand since the last import that changed it is kept while the file still says what was in
    force before that decision (the file has not changed its mind); a file that says something else wins.
    """
    said = {row.ref: row for row in rows if row.acceptance is not None}
    if not said:
        return []
    session.flush()
    actions = [a for a in session.exec(select(Action).where(Action.plan_id == plan_id)).all() if a.ref in said]
    history = _acceptance_history(session, [a.id for a in actions if a.id is not None])
    warnings = []
    for action in actions:
        row = said[action.ref]
        wanted, note = str(row.acceptance), row.acceptance_note or ""
        if (action.acceptance, action.acceptance_note) == (wanted, note):
            continue
        changes = history.get(action.id or 0, [])
        last_import = max((i for i, c in enumerate(changes) if c.who == "import"), default=-1)
        by_hand = changes[last_import + 1 :]
        if by_hand and by_hand[0].old == wanted:
            kept = WORDS.get(action.acceptance, action.acceptance)
            warnings.append(
                f"{action.ref}: the plan file says {WORDS[wanted]}; kept {kept} as {by_hand[-1].who} decided on "
                f"{by_hand[-1].at.date().isoformat()}"
            )
            continue
        set_acceptance(session, action, wanted, now, who="import", via=via, note=note)
    return warnings


def _acceptance_history(session: Session, ids: Sequence[int]) -> dict[int, list[ActionChange]]:
    found: dict[int, list[ActionChange]] = {}
    for start in range(0, len(ids), 500):
        query = (
            select(ActionChange)
            .where(col(ActionChange.action_id).in_(ids[start : start + 500]), ActionChange.field == "acceptance")
            .order_by(col(ActionChange.at), col(ActionChange.id))
        )
        for change in session.exec(query).all():
            found.setdefault(change.action_id, []).append(change)
    return found
