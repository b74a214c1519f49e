"""The secretariat's acceptance decisions: recorded, refused without a reason when not accepted, and the plan
file's kept in step with decisions made by hand since."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from engine.actions.acceptance import acceptance_words, apply_file_acceptance, set_acceptance
from engine.errors import UsageError
from engine.plandoc import ActionRow
from engine.store import transaction
from engine.store.models import Action

from ..web_support import NOW, web_world

LATER = NOW + timedelta(days=1)


@pytest.fixture
def world(database_url: str) -> Iterator[Engine]:
    engine = web_world(database_url)
    yield engine
    engine.dispose()


def _action(session: Session, ref: str) -> Action:
    return session.exec(select(Action).where(Action.ref == ref)).one()


def _row(ref: str, acceptance: str | None, note: str | None = None) -> ActionRow:
    return ActionRow(ref, "III.d", 1, "t", "x", acceptance=acceptance, acceptance_note=note)


def test_a_decision_is_said_in_words_with_its_reason(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        assert acceptance_words(action) == "accepted"
        set_acceptance(session, action, "partially_accepted", NOW, who="secretariat", via="cli", note="Geneva only")
        assert acceptance_words(action) == "partially accepted (Geneva only)"
        with pytest.raises(UsageError, match="needs the reason"):
            set_acceptance(session, action, "not_accepted", NOW, who="secretariat", via="cli", note="  ")


def test_the_file_decides_unless_a_hand_decided_since_and_the_file_has_not_changed(world: Engine) -> None:
    with transaction(world) as session:
        assert apply_file_acceptance(session, "gb276-tc2", [_row("III.d.1", None)], NOW, "import:p.yaml") == []
        assert _action(session, "III.d.1").acceptance == "accepted"  # the file says nothing: nothing changes
        apply_file_acceptance(session, "gb276-tc2", [_row("III.d.1", "under_consideration")], NOW, "import:p.yaml")
        assert _action(session, "III.d.1").acceptance == "under_consideration"
        set_acceptance(session, _action(session, "III.d.1"), "accepted", LATER, who="secretariat", via="web")
        warnings = apply_file_acceptance(
            session, "gb276-tc2", [_row("III.d.1", "under_consideration")], LATER, "import:p.yaml"
        )
        assert warnings == [
            "III.d.1: the plan file says under consideration; kept accepted as secretariat decided on 2000-06-02"
        ]
        assert _action(session, "III.d.1").acceptance == "accepted"
        apply_file_acceptance(session, "gb276-tc2", [_row("III.d.1", "not_accepted", "no budget")], LATER, "import")
        assert (_action(session, "III.d.1").acceptance, _action(session, "III.d.1").acceptance_note) == (
            "not_accepted",
            "no budget",
        )
