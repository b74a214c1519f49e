"""One action's sheet: where it sits, who answers for it, what happened to it, and its calendar UIDs."""

from __future__ import annotations

from datetime import date, timedelta

from engine.actions.extensions import request_extension
from engine.actions.workflow import complete
from engine.read.action_sheet import build_sheet, calendar_uids
from engine.read.queries import find_action
from engine.store import transaction

from ..web_support import NOW, web_world


def test_the_sheet_has_the_path_owner_chain_and_escalations(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        sheet = build_sheet(s, find_action(s, "I.2b.1"))
        assert [x.key for x in sheet.sections] == ["I", "I.2", "I.2b"]  # outermost first
        assert sheet.plan.id == "gb276-tc2" and sheet.owner is not None and sheet.owner.id == "ro-bangkok"
        assert sheet.chain == ["codev", "ed-devcoop", "dg-office"]
        assert [(e.level, e.days_overdue) for e in sheet.escalations] == [(2, 20)]
        assert sheet.changes == [] and sheet.requests == [] and sheet.pending_request is None
    engine.dispose()


def test_requests_completions_and_the_due_date_in_force(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        action = find_action(s, "I.1a.4")  # due 31 December 2000
        request_extension(s, action, date(2001, 3, 31), NOW, who="jonas", via="web", reason="more time")
        s.flush()
        sheet = build_sheet(s, action)
        assert sheet.due == date(2000, 12, 31)
        assert sheet.pending_request is not None and sheet.pending_request.wanted == date(2001, 3, 31)
        assert [c.field for c in sheet.changes] == ["extension requested"]
        action.extended_to = date(2001, 3, 31)
        assert build_sheet(s, action).due == date(2001, 3, 31)
        yearly = find_action(s, "I.1a.2")  # recurring: each occurrence is completed on its own
        for day in (date(2001, 9, 28), date(2000, 9, 28)):
            complete(s, yearly, NOW + timedelta(hours=1), who="jonas", via="cli", note=str(day.year), occurrence=day)
        s.flush()
        done = build_sheet(s, yearly)
        assert [(c.occurrence, c.note) for c in done.completions] == [("2000-09-28", "2000"), ("2001-09-28", "2001")]
        assert [c.field for c in done.changes] == ["completed", "completed"]
    engine.dispose()


def test_calendar_uids_before_anything_is_published(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        deadline = calendar_uids(s, find_action(s, "I.1a.1"))
        window = calendar_uids(s, find_action(s, "I.3a.1"))
        recurring = calendar_uids(s, find_action(s, "I.1a.2"))
        continuous = calendar_uids(s, find_action(s, "I.2a.1"))
    engine.dispose()
    assert deadline == [("due", "gb276-tc2-i.1a.1-due-2000-04-30@planwatch")]
    assert window == [
        ("due", "gb276-tc2-i.3a.1-due-2000-11-30@planwatch"),
        ("start", "gb276-tc2-i.3a.1-start-2000-03-01@planwatch"),
    ]
    assert recurring == [("recurring", "gb276-tc2-i.1a.2-recurring-1999-09-28@planwatch")]  # from the plan's date
    assert continuous == []  # no day, no event
