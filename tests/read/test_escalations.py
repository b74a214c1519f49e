"""The escalation log for supervisors: everyone below them, open entries, since a day, newest first."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import NotFoundError
from engine.read.escalations import EscalationFilter, escalation_log, subordinates
from engine.store import transaction

from ..web_support import web_world


def test_subordinates_are_everyone_below_at_any_depth(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        assert subordinates(s, "codev") == {"ro-bangkok", "ro-lima"}
        below_top = subordinates(s, "ed-devcoop")
        assert {"codev", "ro-bangkok", "pardev"} <= below_top and "ed-devcoop" not in below_top
        assert subordinates(s, "ro-lima") == set()
    engine.dispose()


def test_the_whole_log_is_newest_first(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        log = escalation_log(s)
    engine.dispose()
    assert [e["action"] for e in log] == ["I.2a.1", "III.d.1", "I.2b.1", "I.3b.3"]  # fired 1, 2, 3, 10 days ago
    first = log[0]
    assert (first["owner"], first["level"], first["days_overdue"], first["plan"]) == ("codev", 1, 5, "gb276-tc2")
    assert first["at"] == "2000-05-31T12:00:00Z" and first["acknowledged_at"] is None
    assert log[-1]["acknowledged_by"] == "ed-devcoop" and log[-1]["acknowledged_at"] == "2000-05-22T12:00:00Z"


def test_a_supervisor_sees_only_the_people_below(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        codev = escalation_log(s, EscalationFilter(supervisor="codev"))
        top = escalation_log(s, EscalationFilter(supervisor="ed-devcoop"))
    engine.dispose()
    assert [e["action"] for e in codev] == ["I.2b.1"]  # ro-bangkok's; codev's own I.2a.1 is not below codev
    assert {e["action"] for e in top} == {"I.2a.1", "III.d.1", "I.2b.1", "I.3b.3"}


def test_open_only_and_since(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        open_ones = escalation_log(s, EscalationFilter(open_only=True))
        recent = escalation_log(s, EscalationFilter(since=date(2000, 5, 30)))
    engine.dispose()
    assert [e["action"] for e in open_ones] == ["I.2a.1", "III.d.1", "I.2b.1"]
    assert [e["action"] for e in recent] == ["I.2a.1", "III.d.1"]  # fired 31 and 30 May


def test_an_unknown_supervisor_is_refused_with_a_hint(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s, pytest.raises(NotFoundError, match=r"no owner 'codevv'; did you mean codev"):
        escalation_log(s, EscalationFilter(supervisor="codevv"))
    engine.dispose()
