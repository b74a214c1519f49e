"""How things look on a terminal: the reading of a time frame, and the tables the commands print."""

from __future__ import annotations

import io
from datetime import date

from rich.console import Console

from engine.cli.present import (
    actions_table,
    escalations_table,
    import_summary,
    outbox_table,
    reading,
    simulation_table,
)
from engine.store.models import Action
from engine.store.plans import ImportReport


def action(ref: str = "I.1a.1", **values: object) -> Action:
    return Action(plan_id="gb276-tc2", ref=ref, section_key="I.1a", ordinal=1, title="Circulate", **values)


def terminal() -> Console:
    return Console(file=io.StringIO(), width=200, highlight=False, color_system=None)


def text(*renderables: object) -> str:
    console = terminal()
    for r in renderables:
        console.print(r)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_reading_names_every_part_of_the_schedule_in_order() -> None:
    assert reading(action(kind="unscheduled")) == "unscheduled"
    assert reading(action(kind="deadline", due=date(2000, 4, 30))) == "deadline due 2000-04-30"
    window = action(kind="window", start=date(2000, 1, 1), due=date(2000, 6, 30))
    assert reading(window) == "window from 2000-01-01 due 2000-06-30"
    assert reading(action(kind="recurring", rrule="FREQ=YEARLY")) == "recurring FREQ=YEARLY"
    linked = action(kind="event", event="review of field structure", after_ref="II.1.1")
    assert reading(linked) == "event on: review of field structure after II.1.1"


def test_actions_table_flags_what_needs_review_and_shows_a_proposal_for_an_empty_cell() -> None:
    rows = [
        action(
            "I.1a.1",
            timeframe="Completed by April 2000",
            kind="deadline",
            due=date(2000, 4, 30),
            owner_id="program",
            needs_review=False,
        ),
        action("III.d.2", timeframe="", timeframe_proposed="By 2001", needs_review=True),
    ]
    out = text(actions_table(rows, title="Two actions"))
    assert "Two actions" in out
    first = next(line for line in out.splitlines() if "I.1a.1" in line)
    assert "program" in first and "deadline due 2000-04-30" in first and "?" not in first
    second = next(line for line in out.splitlines() if "III.d.2" in line)
    assert "(empty; proposed: By 2001)" in second and "unscheduled ?" in second and " - " in second


def test_outbox_table_counts_rows_and_falls_back_to_the_last_error() -> None:
    base = {"at": "2000-03-31T07:00:00Z", "recipient": "a@example.org", "type": "reminder", "step": "remind:due:30d"}
    rows = [
        base
        | {"action": "I.1a.1", "status": "sent", "reason": "", "last_error": "", "sent_at": "2000-03-31T07:02:00Z"},
        base | {"action": None, "status": "failed", "reason": "", "last_error": "550 no such user"},
    ]
    out = text(outbox_table(rows))
    assert "Outbox (2)" in out and "planned (UTC)" in out and "sent (UTC)" in out
    lines = [line for line in out.splitlines() if "2000-03-31 07:00" in line]
    assert len(lines) == 2 and "I.1a.1" in lines[0] and "2000-03-31 07:02" in lines[0]
    assert "550 no such user" in lines[1] and "│ -" in lines[1]


def test_escalations_table_shows_who_acknowledged_and_when() -> None:
    row = {
        "id": 7,
        "at": "2000-06-01T07:00:00Z",
        "action": "I.1a.1",
        "owner": "program",
        "level": 2,
        "days_overdue": 32,
        "recipients": ["boss@example.org", "sec@example.org"],
        "acknowledged_by": "mei",
        "acknowledged_at": "2000-06-02T10:00:00Z",
        "resolution": None,
    }
    out = text(escalations_table([row, row | {"id": 8, "acknowledged_at": None, "acknowledged_by": None}]))
    assert "Escalation log (2)" in out
    seven = next(line for line in out.splitlines() if line.startswith("│ 7 "))
    assert "mei 2000-06-02" in seven and "boss@example.org, sec@example.org" in seven and "2000-06-01 07:00" in seven
    eight = next(line for line in out.splitlines() if line.startswith("│ 8 "))
    assert "mei" not in eight


def test_simulation_table_marks_digests() -> None:
    rows = [
        {
            "at": "2000-04-03T07:00:00Z",
            "action": None,
            "recipient": "a@example.org",
            "type": "digest",
            "level": None,
            "step": "digest",
        },
        {
            "at": "2000-04-01T07:00:00Z",
            "action": "I.1a.1",
            "recipient": "a@example.org",
            "type": "escalation",
            "level": 2,
            "step": "esc:14d",
        },
    ]
    out = text(simulation_table(rows, title="Would be sent"))
    assert "Would be sent (2)" in out
    assert "(digest)" in next(line for line in out.splitlines() if "2000-04-03" in line)
    assert "│ 2 " in next(line for line in out.splitlines() if "2000-04-01" in line)


def test_simulation_table_prints_each_cell_as_it_is_with_no_markup() -> None:
    row = {
        "at": "2000-04-01T07:00:00Z",
        "action": "I.1a.1",
        "recipient": "[bold]a@example.org",
        "type": "reminder",
        "level": None,
        "step": "remind:due:14d[red]",
    }
    out = text(simulation_table([row]))
    assert "[bold]a@example.org" in out and "remind:due:14d[red]" in out


def test_import_summary_says_what_changed() -> None:
    console = terminal()
    import_summary(console, ImportReport("gb276-tc2", created=True, added=["I.1a.1"], total=69))
    import_summary(console, ImportReport("gb276-tc2", total=69))
    import_summary(
        console,
        ImportReport(
            "gb276-tc2",
            removed=["III.d.3"],
            timeframe_changed=[("I.1a.1", "By April", "By May")],
            owner_changed=[("II.3.3", "hrd", None)],
            total=68,
        ),
    )
    assert console.file.getvalue().splitlines() == [  # type: ignore[attr-defined]
        "gb276-tc2: plan created, 69 actions.",
        "gb276-tc2: plan updated, 69 actions.",
        "  Nothing changed.",
        "gb276-tc2: plan updated, 68 actions.",
        "  removed: III.d.3",
        "  time frame changed: I.1a.1: 'By April' → 'By May'",
        "  owner changed: II.3.3: hrd → -",
    ]


def test_outbox_table_shows_when_a_catch_up_was_planned_and_when_it_goes() -> None:
    base = {"recipient": "a@example.org", "type": "overdue", "step": "escalate:1", "action": "I.1a.1"}
    rows = [
        base
        | {"at": "2026-12-07T08:00:00Z", "planned": "2026-04-01T07:00:00Z", "catch_up": True}
        | {"status": "pending", "reason": "", "last_error": ""},
        base
        | {"at": "2000-03-31T07:00:00Z", "planned": "2000-03-31T07:00:00Z", "catch_up": False}
        | {"status": "sent", "reason": "", "last_error": "", "sent_at": "2000-03-31T07:01:00Z"},
    ]
    out = text(outbox_table(rows))
    late = next(line for line in out.splitlines() if "2026-04-01 07:00" in line)
    assert "2026-12-07 08:00" in late and "catch-up" in late
    on_time = next(line for line in out.splitlines() if "2000-03-31 07:00" in line)
    assert "same" in on_time and "catch-up" not in on_time
