"""Replay files: events read in date order, and mistakes named by file and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.drive.replay import load_replay
from engine.errors import InputError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "replay.yaml"
    path.write_text(text)
    return path


def test_events_are_read_and_sorted_by_their_day(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "- {at: 2000-06-20, action: II.2.2, event: extend, to: 2000-09-30}\n"
        "- {at: 2000-04-12, action: I.1a.1, event: done, by: jonas, note: guidelines circulated}\n"
        "- {at: 2000-05-01, action: I.1a.2, event: ack, level: 2}\n",
    )
    events = load_replay(path)
    assert [(e.at, e.action, e.event) for e in events] == [
        (date(2000, 4, 12), "I.1a.1", "done"),
        (date(2000, 5, 1), "I.1a.2", "ack"),
        (date(2000, 6, 20), "II.2.2", "extend"),
    ]
    assert (events[0].by, events[0].note, events[1].by, events[1].level) == (
        "jonas",
        "guidelines circulated",
        "replay",
        2,
    )
    assert events[2].to == date(2000, 9, 30)


def test_an_extension_without_a_new_date_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "- {at: 2000-04-12, action: I.1a.1, event: done}\n- at: 2000-06-20\n  action: II.2.2\n  event: extend\n",
    )
    with pytest.raises(InputError) as error:
        load_replay(path)
    assert error.value.exit_code == 2
    assert str(error.value).startswith(f"{path}:2:") and "needs 'to:'" in str(error.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("- {at: 2000-04-12, action: I.1, event: finished}\n", "event"),
        ("- {at: 2000-04-12, action: I.1, event: done, colour: red}\n", "colour"),
        ("- {at: someday, action: I.1, event: done}\n", "at"),
    ],
    ids=["unknown-event", "unknown-key", "bad-date"],
)
def test_a_wrong_event_is_refused_with_its_place(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as error:
        load_replay(path)
    message = str(error.value)
    assert message.startswith(f"{path}:1:") and words in message and "\n" not in message


FOLLOW_UP_LIFE = """\
- {at: 1999-10-15, action: III.d.3, event: accept, by: secretariat, acceptance: not_accepted, note: overtaken}
- {at: 2000-04-10, action: I.1a.1, event: report, by: program, note: issued, links: [https://example.org/g]}
- {at: 2000-04-12, action: I.1a.1, event: verify, rating: partially_implemented}
- {at: 2000-04-20, action: II.2.2, event: report, by: codev, rating: partially_implemented}
- {at: 2000-04-21, action: II.2.2, event: return, by: ed-devcoop, note: no evidence}
- {at: 2000-05-08, action: II.2.2, event: cause, by: codev, cause: resources}
- {at: 2000-05-02, action: II.3.1, event: ask_extension, by: hrd, to: 2000-09-30, note: budget late}
- {at: 2000-05-04, action: II.3.1, event: grant, by: ed-devcoop, note: agreed}
- {at: 2000-05-05, action: II.3.2, event: ask_extension, by: hrd, to: 2000-12-31, note: more time}
- {at: 2000-05-09, action: II.3.2, event: refuse, by: ed-devcoop, note: no}
"""


def test_follow_up_events_go_through_the_follow_up_functions(tmp_path: Path, database_url: str) -> None:
    from datetime import UTC, datetime, time

    from sqlmodel import Session, select

    from engine.drive.simulate import apply_events
    from engine.importing import import_paths
    from engine.read.queries import find_action
    from engine.settings import Settings
    from engine.store import make_engine, upgrade
    from engine.store.followup_models import ClosureReport
    from engine.store.web_models import ExtensionRequest

    from ..conftest import OWNERS, ROOT, SEED

    engine = make_engine(database_url)
    upgrade(engine)
    import_paths(engine, [OWNERS, SEED], Settings(database_url=database_url, rules_dir=ROOT / "rules"),
                 datetime(1999, 10, 1, tzinfo=UTC))  # fmt: skip
    for event in load_replay(write(tmp_path, FOLLOW_UP_LIFE)):
        apply_events(engine, [event], datetime.combine(event.at, time(11), UTC))
    with Session(engine) as s:
        closures = {(r.action_id, r.status, r.owner_rating, r.verifier_rating, r.decided_by)
                    for r in s.exec(select(ClosureReport)).all()}  # fmt: skip
        done, returned = find_action(s, "I.1a.1"), find_action(s, "II.2.2")
        assert (done.status, returned.status, returned.delay_cause) == ("done", "open", "resources")
        assert closures == {
            (done.id, "verified", "implemented", "partially_implemented", "ed-devcoop"),  # the verifier named on it
            (returned.id, "returned", "partially_implemented", "", "ed-devcoop"),
        }
        assert find_action(s, "III.d.3").acceptance == "not_accepted"
        assert find_action(s, "II.3.1").extended_to == date(2000, 9, 30)
        decided = {(r.wanted, r.status, r.from_due) for r in s.exec(select(ExtensionRequest)).all()}
        assert decided == {(date(2000, 9, 30), "granted", date(2000, 5, 31)),
                           (date(2000, 12, 31), "refused", date(2000, 5, 31))}  # fmt: skip
    engine.dispose()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("- at: 2000-04-12\n  action: I.1\n  event: accept\n", "'accept' needs 'acceptance:'"),
        ("- at: 2000-04-12\n  action: I.1\n  event: cause\n", "'cause' needs 'cause:'"),
        ("- at: 2000-04-12\n  action: I.1\n  event: return\n", "'return' needs 'note:'"),
        ("- at: 2000-04-12\n  action: I.1\n  event: report\n  rating: perfect\n", "rating"),
    ],
    ids=["accept", "cause", "return", "rating"],
)
def test_a_follow_up_event_missing_what_it_needs_is_refused_at_its_place(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as error:
        load_replay(path)
    assert str(error.value).startswith(f"{path}:") and words in str(error.value) and error.value.exit_code == 2


def test_a_verification_with_no_report_waiting_says_so(tmp_path: Path, database_url: str) -> None:
    from datetime import UTC, datetime

    from engine.drive.simulate import apply_events
    from engine.errors import UsageError
    from engine.importing import import_paths
    from engine.settings import Settings
    from engine.store import make_engine, upgrade

    from ..conftest import OWNERS, ROOT, SEED

    engine = make_engine(database_url)
    upgrade(engine)
    import_paths(engine, [OWNERS, SEED], Settings(database_url=database_url, rules_dir=ROOT / "rules"),
                 datetime(1999, 10, 1, tzinfo=UTC))  # fmt: skip
    event = load_replay(write(tmp_path, "- {at: 2000-04-12, action: I.1a.1, event: verify}\n"))[0]
    with pytest.raises(UsageError, match=r"2000-04-12: I\.1a\.1 has no report waiting to verify"):
        apply_events(engine, [event], datetime(2000, 4, 12, 11, tzinfo=UTC))
    engine.dispose()


DONE_LIFE = """\
- {at: 2000-04-12, action: I.1a.1, event: report, by: program, note: circulated, links: [https://example.org/p]}
- {at: 2000-04-12, action: I.1a.2, event: report, by: program, note: first annual review}
- {at: 2000-04-12, action: I.1a.3, event: done, by: program, note: closed at once}
"""


@pytest.mark.parametrize("steps", [2, 1])
def test_a_report_waits_for_its_verifier_under_two_step_rules_and_done_closes_at_once(
    tmp_path: Path, database_url: str, steps: int
) -> None:
    from datetime import UTC, datetime

    from sqlmodel import Session, select

    from engine.drive.simulate import apply_events
    from engine.importing import import_paths
    from engine.read.queries import find_action
    from engine.rules.loader import load_rules
    from engine.settings import Settings
    from engine.store import make_engine, tables, upgrade
    from engine.store.followup_models import ClosureReport

    from ..conftest import OWNERS, ROOT, SEED

    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(f"defaults: {{closure: {{steps: {steps}}}}}\npolicies: [{{name: all}}]\n")
    rules = load_rules(rules_file)
    engine = make_engine(database_url)
    upgrade(engine)
    import_paths(engine, [OWNERS, SEED], Settings(database_url=database_url, rules_dir=ROOT / "rules"),
                 datetime(1999, 10, 1, tzinfo=UTC))  # fmt: skip
    noon = datetime(2000, 4, 12, 10, tzinfo=UTC)
    apply_events(engine, load_replay(write(tmp_path, DONE_LIFE)), noon, rules)
    with Session(engine) as s:
        action, recurring = find_action(s, "I.1a.1"), find_action(s, "I.1a.2")
        assert find_action(s, "I.1a.3").status == "done"  # done: closed at once, whatever the rules
        reports = s.exec(select(ClosureReport).order_by(ClosureReport.id)).all()  # type: ignore[arg-type]
        asked = s.connection().execute(
            select(tables.OUTBOX.c.recipient_id).where(tables.OUTBOX.c.template == "verification_request")
        )
        if steps == 2:
            assert action.status == "reported"
            assert (reports[0].action_id, reports[0].links, reports[0].verifier_id) == (
                action.id, ["https://example.org/p"], "ed-devcoop"  # the owner's supervisor
            )  # fmt: skip
            assert {r.action_id for r in reports} == {action.id, recurring.id}  # the occurrence is reported too
            assert sorted(asked.scalars()) == ["ed-devcoop", "ed-devcoop"]
        else:
            assert (action.status, reports, list(asked)) == ("done", [], [])
    if steps == 2:
        verify = "- {at: 2000-04-18, action: I.1a.1, event: verify}\n"
        apply_events(engine, load_replay(write(tmp_path, verify)), noon.replace(day=18), rules)
        with Session(engine) as s:
            assert find_action(s, "I.1a.1").status == "done"
    engine.dispose()
