"""Who sees and changes what: an owner their own actions, a supervisor everyone below at any depth,
the secretariat everything; only supervisors decide for others."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from engine.actions.access import Viewer, viewer_for
from engine.store import transaction
from engine.store.models import Owner

from ..web_support import web_world


@pytest.fixture
def world(database_url: str) -> Iterator[Engine]:
    engine = web_world(database_url)
    yield engine
    engine.dispose()


def _viewer(engine: Engine, owner_id: str) -> Viewer:
    with transaction(engine) as session:
        owner = session.get(Owner, owner_id)
        assert owner is not None
        return viewer_for(session, owner)


def test_a_supervisor_sees_everyone_below_at_any_depth(world: Engine) -> None:
    codev = _viewer(world, "codev")
    assert (codev.name, codev.role, codev.timezone) == ("Mei Tanaka", "owner", "Europe/Zurich")
    assert codev.below == {"ro-bangkok", "ro-lima"}
    assert codev.scope() == {"codev", "ro-bangkok", "ro-lima"}
    assert codev.is_supervisor and not codev.sees_all
    top = _viewer(world, "ed-devcoop")
    assert {"program", "codev", "ro-bangkok", "ro-lima", "secretariat"} <= top.below
    assert "ed-devcoop" not in top.below and "dg-office" not in top.below
    assert top.can_see("ro-lima") and not codev.can_see("pardev")


def test_an_owner_sees_only_their_own_and_supervises_nobody(world: Engine) -> None:
    lima = _viewer(world, "ro-lima")
    assert lima.below == frozenset() and lima.scope() == {"ro-lima"}
    assert not lima.is_supervisor
    assert lima.can_see("ro-lima") and not lima.can_see("ro-bangkok") and not lima.can_see(None)
    assert not lima.can_supervise("ro-lima")


def test_supervising_is_for_those_below_not_for_oneself(world: Engine) -> None:
    codev = _viewer(world, "codev")
    assert codev.can_see("codev") and not codev.can_supervise("codev")
    assert codev.can_supervise("ro-bangkok") and not codev.can_supervise("norms")
    assert not codev.can_supervise(None)


def test_the_secretariat_sees_and_decides_everything() -> None:
    for role in ("secretariat", "admin"):
        viewer = Viewer("sec", "Secretariat", role, "Europe/Zurich", frozenset())
        assert viewer.sees_all and viewer.is_supervisor and viewer.scope() is None
        assert viewer.can_see(None) and viewer.can_see("anyone") and viewer.can_supervise("anyone")
    owner = Viewer("x", "X", "owner", "UTC", frozenset())
    assert not owner.sees_all and owner.scope() == {"x"}
