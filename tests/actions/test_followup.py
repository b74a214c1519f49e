"""Acceptance, closure in two steps (report, verify or return), causes of delay and dated updates: each is in the
action's history, plans the action again, and tells whoever must act next through the outbox."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from engine.actions.followup import (
    pending_report,
    pending_reports,
    report_implemented,
    return_report,
    set_acceptance,
    set_delay_cause,
    verifier_of,
    verify,
)
from engine.actions.workflow import progress, set_status
from engine.errors import UsageError
from engine.rules.loader import RuleSet, load_rules
from engine.rules.policy import ACCEPTANCE_STATES
from engine.store import transaction
from engine.store.followup_models import ClosureReport, ProgressUpdate
from engine.store.models import Action, ActionChange, Completion, Escalation, Outbox

from ..web_support import NOW, web_world

LATER = NOW + timedelta(days=3)


@pytest.fixture
def world(database_url: str) -> Iterator[Engine]:
    engine = web_world(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def fresh_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One example world for every generated sequence (each runs in a transaction rolled back)."""
    engine = web_world(f"sqlite:///{tmp_path_factory.mktemp('seq') / 'planwatch.db'}")
    yield engine
    engine.dispose()


def _rules(tmp_path: Path, text: str) -> RuleSet:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return load_rules(path)


def _action(session: Session, ref: str) -> Action:
    return session.exec(select(Action).where(Action.ref == ref)).one()


def _changes(session: Session, ref: str) -> list[tuple[str, str | None, str | None, str]]:
    ident = _action(session, ref).id
    rows = session.exec(select(ActionChange).where(ActionChange.action_id == ident)).all()
    return [(c.field, c.old, c.new, c.note) for c in sorted(rows, key=lambda c: c.id or 0)][-3:]


def _mail(session: Session, template: str) -> list[Outbox]:
    return list(session.exec(select(Outbox).where(Outbox.template == template)).all())


def test_a_report_waits_for_the_owners_supervisor_who_is_asked_and_owner_messages_stop(world: Engine) -> None:
    with transaction(world) as session:
        decision = report_implemented(
            session, _action(session, "III.d.1"), NOW, who="pardev", via="cli", note="sent", links=["https://x.org/r"]
        )
        assert decision.changed and decision.verifier is not None and decision.verifier.id == "ed-devcoop"
        assert decision.report is not None
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        assert (action.status, action.next_fire_at) == ("reported", NOW)
        assert _changes(session, "III.d.1")[-1] == ("status", "open", "reported", "sent")
        [asked] = _mail(session, "verification_request")
        assert (asked.recipient_id, asked.type, asked.payload["note"]) == ("ed-devcoop", "closure", "sent")
        assert asked.payload["report_links"] == ["https://x.org/r"]
        assert [(r.id, a.ref) for r, a in pending_reports(session, "ed-devcoop")] == [(decision.report.id, "III.d.1")]
        assert pending_reports(session, "codev") == []
        again = report_implemented(session, action, LATER, who="pardev", via="cli")
        assert not again.changed and len(_mail(session, "verification_request")) == 1


def test_verification_makes_the_action_done_and_closes_its_escalations(world: Engine) -> None:
    with transaction(world) as session:
        report = report_implemented(session, _action(session, "III.d.1"), NOW, who="pardev", via="cli").report
        assert report is not None
        with pytest.raises(UsageError, match="codev may not verify this report: it waits for"):
            verify(session, report, LATER, who="codev", via="cli")
        verify(session, report, LATER, who="ed-devcoop", via="cli", comment="seen the letter")
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        assert (action.status, action.next_fire_at) == ("done", None)
        opened = session.exec(select(Escalation).where(Escalation.action_id == action.id)).all()
        assert opened and all(e.resolved_at == LATER for e in opened)
        stored = session.get(ClosureReport, report.id)
        assert stored is not None and (stored.status, stored.decided_by) == ("verified", "ed-devcoop")
        with pytest.raises(UsageError, match="already verified"):
            verify(session, stored, LATER, who="ed-devcoop", via="cli")


def test_the_secretariat_may_verify_any_report(world: Engine) -> None:
    with transaction(world) as session:
        report = report_implemented(session, _action(session, "III.d.1"), NOW, who="pardev", via="cli").report
        assert report is not None
        assert verify(session, report, LATER, who="secretariat", via="web").status == "done"


def test_a_returned_report_opens_the_action_again_and_tells_the_owner_why(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        progress(session, action, NOW - timedelta(days=1), who="pardev", via="cli", note="begun")
        report = report_implemented(session, action, NOW, who="pardev", via="cli").report
        assert report is not None
        with pytest.raises(UsageError, match="needs a comment"):
            return_report(session, report, LATER, who="ed-devcoop", via="cli", comment=" ")
        return_report(session, report, LATER, who="ed-devcoop", via="cli", comment="attach the letter")
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        assert (action.status, action.next_fire_at, action.planned_through) == ("in_progress", LATER, LATER)
        [told] = _mail(session, "closure_returned")
        assert (told.recipient_id, told.payload["comment"], told.payload["by"]) == (
            "pardev",
            "attach the letter",
            "Amara Okafor",
        )
        assert pending_report(session, action) is None


def test_one_step_closure_marks_the_action_done_at_once(world: Engine, tmp_path: Path) -> None:
    rules = _rules(tmp_path, "defaults: {closure: {steps: 1}}\npolicies: [{name: all}]\n")
    with transaction(world) as session:
        decision = report_implemented(session, _action(session, "III.d.1"), NOW, who="pardev", via="cli", rules=rules)
        assert decision.report is None and decision.changed
        assert _action(session, "III.d.1").status == "done"
        assert _mail(session, "verification_request") == []


@pytest.mark.parametrize(
    ("verifier", "expected"),
    [("supervisor", "ed-devcoop"), ("secretariat", "secretariat"), ("codev", "codev"), ("nobody-known", "secretariat")],
)
def test_the_rules_name_the_verifier(world: Engine, tmp_path: Path, verifier: str, expected: str) -> None:
    rules = _rules(tmp_path, f"policies: [{{name: all, closure: {{verifier: {verifier}}}}}]\n")
    with transaction(world) as session:
        found = verifier_of(session, _action(session, "III.d.1"), rules)
        assert found is not None and found.id == expected


def test_a_recurring_occurrence_is_reported_then_completed(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "I.1a.2")
        decision = report_implemented(session, action, NOW, who="pardev", via="cli", occurrence=date(2000, 9, 28))
        assert decision.what == "occurrence 2000-09-28" and action.status != "reported"
        assert decision.report is not None
        verify(session, decision.report, LATER, who="secretariat", via="cli")
        done = session.exec(select(Completion).where(Completion.action_id == action.id)).all()
        assert [c.occurrence for c in done] == ["2000-09-28"]


def test_acceptance_needs_a_reason_when_not_accepted_and_is_logged(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        with pytest.raises(UsageError, match="needs the reason"):
            set_acceptance(session, action, "not_accepted", NOW, who="secretariat", via="cli")
        with pytest.raises(UsageError, match="unknown acceptance 'maybe'"):
            set_acceptance(session, action, "maybe", NOW, who="secretariat", via="cli")
        assert set_acceptance(session, action, "not_accepted", NOW, who="secretariat", via="cli", note="no budget")
        assert (action.acceptance, action.acceptance_note, action.next_fire_at) == ("not_accepted", "no budget", NOW)
        assert _changes(session, "III.d.1")[-1] == ("acceptance", "accepted", "not_accepted", "no budget")
        assert not set_acceptance(session, action, "not_accepted", NOW, who="secretariat", via="cli", note="no budget")


def test_a_cause_of_delay_comes_from_the_rules_list(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        with pytest.raises(UsageError, match="unknown cause of delay 'weather'; expected one of resources"):
            set_delay_cause(session, action, "weather", NOW, who="pardev", via="cli")
        with pytest.raises(UsageError, match='"other" needs a few words'):
            set_delay_cause(session, action, "other", NOW, who="pardev", via="cli")
        assert set_delay_cause(session, action, "resources", NOW, who="pardev", via="cli", note="no staff")
        assert (action.delay_cause, action.delay_note) == ("resources", "no staff")
        assert set_delay_cause(session, action, "weather", NOW, who="pardev", via="cli", causes=("weather",))


def test_every_progress_report_is_a_dated_update_never_overwritten(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        progress(session, action, NOW, who="pardev", via="cli", note="begun", percent=10)
        progress(session, action, LATER, who="pardev", via="web", note="half", percent=50, state="at risk")
        with pytest.raises(UsageError, match="percent complete 101 is not between 0 and 100"):
            progress(session, action, LATER, who="pardev", via="web", note="x", percent=101)
    with transaction(world) as session:
        rows = session.exec(select(ProgressUpdate).order_by(ProgressUpdate.id)).all()  # type: ignore[arg-type]
        assert [(r.at, r.text, r.percent, r.state) for r in rows] == [
            (NOW, "begun", 10, "on track"),
            (LATER, "half", 50, "at risk"),
        ]


# The plan file's acceptance decisions.


def _exported(world: Engine, tmp_path: Path, **edits: dict[str, str]) -> Path:
    """The stored example plan written as a YAML plan file, with ``edits`` (keys of an action by its id)."""
    from ruamel.yaml import YAML

    from engine.read.export import export_plan

    with transaction(world) as session:
        text, _ = export_plan(session, None)
    yaml = YAML(typ="rt")
    data = yaml.load(text)
    for item in data["actions"]:
        for key, value in edits.get(item["id"], {}).items():
            item[key] = value
    path = tmp_path / "plan.yaml"
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
    return path


def _import(world: Engine, path: Path) -> list[str]:
    from engine.importing import import_paths

    from ..web_support import web_settings

    [report] = import_paths(world, [path], web_settings(str(world.url)), LATER)
    return list(getattr(report, "warnings", []))


def _acceptance(world: Engine, ref: str) -> tuple[str, str]:
    with transaction(world) as session:
        action = _action(session, ref)
        return action.acceptance, action.acceptance_note


def test_a_plan_file_gives_acceptance_and_an_export_writes_it_back(world: Engine, tmp_path: Path) -> None:
    edits = {"III.d.3": {"acceptance": "not_accepted", "acceptance_note": "outside the mandate"}}
    _import(world, _exported(world, tmp_path, **edits))
    assert _acceptance(world, "III.d.3") == ("not_accepted", "outside the mandate")
    assert "acceptance: not_accepted\n  acceptance_note: outside the mandate" in _exported(world, tmp_path).read_text()


def test_a_decision_by_hand_outlives_a_reimport_until_the_file_changes_its_mind(world: Engine, tmp_path: Path) -> None:
    under = _exported(world, tmp_path, **{"III.d.2": {"acceptance": "under_consideration"}})
    _import(world, under)
    with transaction(world) as session:
        set_acceptance(session, _action(session, "III.d.2"), "accepted", LATER, who="secretariat", via="cli")
    warnings = _import(world, under)
    assert _acceptance(world, "III.d.2") == ("accepted", "")
    assert any(w.startswith("III.d.2: the plan file says under consideration; kept accepted") for w in warnings)
    partly = {"III.d.2": {"acceptance": "partially_accepted", "acceptance_note": "the field part"}}
    _import(world, _exported(world, tmp_path, **partly))
    assert _acceptance(world, "III.d.2") == ("partially_accepted", "the field part")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            {"acceptance": "maybe"},
            "actions[{i}].acceptance: expected one of accepted, partially_accepted, not_accepted",
        ),
        ({"acceptance": "not_accepted"}, "actions[{i}]: a recommendation not accepted needs the reason"),
    ],
    ids=["unknown", "no-reason"],
)
def test_a_bad_acceptance_in_the_plan_file_names_its_place(
    world: Engine, tmp_path: Path, edit: dict[str, str], expected: str
) -> None:
    from engine.errors import InputError

    path = _exported(world, tmp_path, **{"III.d.2": edit})
    index = next(i for i, line in enumerate(_ids(path)) if line == "III.d.2")
    with pytest.raises(InputError) as caught:
        _import(world, path)
    place, _, said = str(caught.value).partition(" ")
    assert re.fullmatch(rf"{re.escape(str(path))}:\d+:\d+:", place)
    assert said.startswith(expected.format(i=index))
    assert _acceptance(world, "III.d.2") == ("accepted", "")


def _ids(path: Path) -> list[str]:
    from ruamel.yaml import YAML

    return [item["id"] for item in YAML(typ="safe").load(path.read_text())["actions"]]


# The plan step over the database: what it reads of reports, acceptance and updates.

STALE_RULES = """\
defaults:
  stale: {after: 60d, escalate_after: 14d}
policies:
  - name: ongoing
    match: {kind: [continuous, start, event, unscheduled]}
    escalate:
      - {after: 0d, to: supervisor}
  - name: rest
"""


def _planned(world: Engine, rules: RuleSet, at: datetime) -> list[Outbox]:
    from engine.drive.planning import plan_due

    plan_due(world, rules, at)
    with transaction(world) as session:
        return list(session.exec(select(Outbox).where(Outbox.created_at == at)).all())


def test_the_plan_step_reminds_the_verifier_of_a_waiting_report_and_not_the_owner(world: Engine) -> None:
    rules = load_rules(Path(__file__).resolve().parents[2] / "rules")
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        report_implemented(session, action, NOW, who="pardev", via="cli", rules=rules)
        ident = action.id
    _planned(world, rules, NOW)
    later = _planned(world, rules, NOW + timedelta(days=30))
    mine = [o for o in later if o.action_id == ident]
    assert mine and {o.recipient_id for o in mine} <= {"ed-devcoop", "dg-office"}
    assert {o.template for o in mine} <= {"verification_request", "verification_overdue"}


def test_the_plan_step_leaves_an_action_not_accepted_alone(world: Engine) -> None:
    rules = load_rules(Path(__file__).resolve().parents[2] / "rules")
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        set_acceptance(session, action, "not_accepted", NOW, who="secretariat", via="cli", note="no")
        ident = action.id
    assert [o for o in _planned(world, rules, NOW + timedelta(days=1)) if o.action_id == ident] == []
    with transaction(world) as session:
        assert _action(session, "III.d.1").next_fire_at is None


def test_the_plan_step_reminds_the_owner_of_a_stale_action_counting_from_its_last_update(
    world: Engine, tmp_path: Path
) -> None:
    rules = _rules(tmp_path, STALE_RULES)
    with transaction(world) as session:
        quiet, busy = _action(session, "I.1a.3"), _action(session, "I.1b.1")
        assert quiet.kind == busy.kind == "continuous"
        progress(session, busy, NOW - timedelta(days=10), who="program", via="cli", note="on its way")
        for action in (quiet, busy):
            action.next_fire_at = NOW
            action.planned_through = NOW - timedelta(days=1)
            session.add(action)
        ids = {quiet.id: "quiet", busy.id: "busy"}
    found = _planned(world, rules, NOW)
    stale = {ids[o.action_id] for o in found if o.step == "stale" and o.action_id in ids}
    assert stale == {"quiet"}  # created on import in 1999: far more than 60 days without an update


# Any sequence of follow-up changes keeps the closure state consistent.

OPERATIONS = ["report", "verify", "return", "hold", "reopen", "done", "progress", "accept"]


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(OPERATIONS), st.sampled_from(ACCEPTANCE_STATES)), max_size=8))
def test_any_sequence_keeps_reported_waiting_and_done_verified(
    fresh_world: Engine, steps: list[tuple[str, str]]
) -> None:
    """Whatever happens in whatever order (refused changes included): the action is reported exactly while one
    report waits, never more than one waits, and it is done only by a verification or a change by hand."""
    with transaction(fresh_world) as session:
        action = _action(session, "III.d.1")
        at = NOW
        by_hand = False
        for op, state in steps:
            at += timedelta(days=1)
            waiting = pending_report(session, action)
            try:
                if op == "report":
                    report_implemented(session, action, at, who="pardev", via="cli")
                elif op in {"verify", "return"} and waiting is not None:
                    if op == "verify":
                        verify(session, waiting, at, who="ed-devcoop", via="cli")
                    else:
                        return_report(session, waiting, at, who="ed-devcoop", via="cli", comment="more")
                elif op == "hold":
                    set_status(session, action, "on_hold", at, who="secretariat", via="cli", note="paused")
                elif op == "reopen":
                    set_status(session, action, "open", at, who="secretariat", via="cli")
                elif op == "done":
                    by_hand = set_status(session, action, "done", at, who="secretariat", via="cli") or by_hand
                elif op == "progress":
                    progress(session, action, at, who="pardev", via="cli", note="on")
                else:
                    set_acceptance(session, action, state, at, who="secretariat", via="cli", note="why")
            except UsageError:
                pass  # refused, as the CLI would refuse it: nothing changed
            open_reports = session.exec(
                select(ClosureReport).where(ClosureReport.action_id == action.id, ClosureReport.status == "reported")
            ).all()
            assert len(open_reports) <= 1
            assert (action.status == "reported") == bool(open_reports)
            verified = session.exec(
                select(ClosureReport).where(ClosureReport.action_id == action.id, ClosureReport.status == "verified")
            ).all()
            if action.status == "done":
                assert verified or by_hand
            if op == "reopen":
                by_hand = False
        session.rollback()


def test_a_verification_left_waiting_escalates_and_the_decision_resolves_it(world: Engine) -> None:
    rules = load_rules(Path(__file__).resolve().parents[2] / "rules")
    with transaction(world) as session:
        report = report_implemented(session, _action(session, "III.d.1"), NOW, who="pardev", via="cli").report
        assert report is not None
    _planned(world, rules, NOW)
    _planned(world, rules, NOW + timedelta(days=25))
    with transaction(world) as session:
        step = session.exec(select(Escalation).where(Escalation.occurrence == f"verification {report.id}")).one()
        assert (step.step, step.level, step.resolved_at) == ("verify:escalate", 1, None)
        stored = session.get(ClosureReport, report.id)
        assert stored is not None
        verify(session, stored, NOW + timedelta(days=26), who="ed-devcoop", via="cli")
    with transaction(world) as session:
        step = session.exec(select(Escalation).where(Escalation.occurrence == f"verification {report.id}")).one()
        assert (step.resolved_at, step.resolution) == (NOW + timedelta(days=26), "report verified")


def test_an_action_set_aside_has_its_waiting_messages_suppressed(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        assert action.id is not None
        session.add(
            Outbox(
                key="k-pending",
                plan_id="gb276-tc2",
                action_id=action.id,
                occurrence="2000-06-30",
                step="remind:due:7d",
                type="reminder",
                recipient="rafael.quispe@example.org",
                template="reminder",
                due_at=NOW + timedelta(days=1),
                created_at=NOW,
            )
        )
    with transaction(world) as session:
        set_acceptance(session, _action(session, "III.d.1"), "under_consideration", NOW, who="secretariat", via="cli")
    with transaction(world) as session:
        row = session.exec(select(Outbox).where(Outbox.key == "k-pending")).one()
        assert (row.status, row.reason) == ("suppressed", "the action is under consideration")


def test_the_owner_is_told_in_their_own_thread_when_the_report_is_verified(world: Engine) -> None:
    from engine.mail.context import thread_of

    with transaction(world) as session:
        report = report_implemented(session, _action(session, "III.d.1"), NOW, who="pardev", via="cli").report
        assert report is not None and _mail(session, "closure_verified") == []
        verify(session, report, LATER, who="ed-devcoop", via="cli", comment="seen the letter", rating="implemented")
    with transaction(world) as session:
        [told] = _mail(session, "closure_verified")
        # LATER is a Sunday: the owner, who did not just act, hears of it on Monday at nine in Geneva
        assert (told.recipient_id, told.type, told.due_at) == ("pardev", "closure", datetime(2000, 6, 5, 7, tzinfo=UTC))
        assert (told.payload["by"], told.payload["comment"]) == ("Amara Okafor", "seen the letter")
        row = {"payload": told.payload, "type": told.type, "step": told.step}
        assert thread_of(row) == "action"  # the owner's thread, as the reminders they had about it


def test_files_reported_with_the_action_are_named_in_the_verifiers_message(world: Engine) -> None:
    from email import message_from_bytes
    from email import policy as email_policy

    from engine.actions.evidence import EvidenceStore
    from engine.channels import MemoryChannel
    from engine.drive.dispatch import dispatch
    from engine.mail.messages import as_bytes
    from engine.mail.render import MailIdentity, Renderer

    from ..conftest import ROOT

    pdf = b"%PDF-1.4\n" + b"x" * 3000 + b"\n%%EOF\n"
    with transaction(world) as session:
        report_implemented(
            session,
            _action(session, "III.d.1"),
            NOW,
            who="pardev",
            via="web",
            links=["https://x.org/r"],
            files=[("letter.pdf", pdf)],
            store=EvidenceStore(),
        )
    with transaction(world) as session:
        [asked] = _mail(session, "verification_request")
        assert asked.payload["report_files"] == [{"name": "letter.pdf", "size": len(pdf)}]
    channel = MemoryChannel()
    identity = MailIdentity(base_url="https://plans.example.org", secret_key="k" * 32)
    dispatch(world, channel, Renderer([ROOT / "templates"], identity), NOW + timedelta(minutes=1))
    [sent] = [m for m in channel.messages if "Please verify" in str(m["Subject"])]
    parsed = message_from_bytes(as_bytes(sent), policy=email_policy.default)
    plain = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Evidence: https://x.org/r" in plain
    assert re.search(
        r"Evidence: letter\.pdf \(3 KB\), attached on the action's page https://plans\.example\.org/\S+/view", plain
    )
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert re.search(r'<a href="https://plans\.example\.org/\S+/view">letter\.pdf</a> \(3 KB\)', html)


def test_a_bad_file_refuses_the_report_and_changes_nothing(world: Engine) -> None:
    from engine.actions.evidence import EvidenceError, EvidenceStore

    with transaction(world) as session, pytest.raises(EvidenceError):
        report_implemented(
            session,
            _action(session, "III.d.1"),
            NOW,
            who="pardev",
            via="web",
            files=[("a.pdf", b"")],
            store=EvidenceStore(),
        )
    with transaction(world) as session:
        assert _action(session, "III.d.1").status == "open" and _mail(session, "verification_request") == []


# The ladder of the example's rules starts with the owner; this one tells only the supervisor, so the owner has no
# step of the new round to count from, and the message returning the report must be that start.
OTHERS_ONLY = """
defaults:
  closure: {steps: 2, verifier: supervisor}
policies:
  - name: others only
    match: {}
    escalate:
      - {after: 7d, to: [supervisor]}
"""


@pytest.mark.parametrize("ladder", ["shipped", "others-only"])
def test_a_returned_report_is_told_once_and_is_not_a_catch_up(world: Engine, tmp_path: Path, ladder: str) -> None:
    shipped = Path(__file__).resolve().parents[2] / "rules"
    rules = load_rules(shipped) if ladder == "shipped" else _rules(tmp_path, OTHERS_ONLY)
    with transaction(world) as session:
        action = _action(session, "III.d.1")  # long overdue; pardev's, verified by ed-devcoop
        report = report_implemented(session, action, NOW, who="pardev", via="cli", rules=rules).report
        assert report is not None
        ident = action.id
    for day in range(3):  # planned daily while the report waits: nothing for the owner
        _planned(world, rules, NOW + timedelta(days=day))
    back = NOW + timedelta(days=3)  # Sunday 4 June
    with transaction(world) as session:
        report = session.get(ClosureReport, report.id)
        assert report is not None
        return_report(session, report, back, who="ed-devcoop", via="cli", comment="attach the letter")
    told = [o for o in _planned(world, rules, back) if o.action_id == ident and o.recipient_id == "pardev"]
    # the message returning the report is the owner's only message now
    assert [o.template for o in told] == ["closure_returned"]
    later = [o for hour in range(1, 9 * 24, 2) for o in _planned(world, rules, back + timedelta(hours=hour))]
    mine = [o for o in later if o.action_id == ident and o.status != "suppressed"]
    owner = [o for o in mine if o.recipient_id == "pardev"]
    assert all(not (o.payload or {}).get("catch_up") and o.step != "catch-up" for o in mine)
    if ladder == "shipped":  # the owner's overdue notices of the new round, from the next business morning
        assert owner and min(o.due_at for o in owner) == datetime(2000, 6, 5, 7, tzinfo=UTC)
    else:  # nothing more for the owner; the supervisor's step counts from the return: 7 days, a business morning
        assert owner == []
        assert [(o.recipient_id, o.step, o.due_at) for o in mine] == [
            ("ed-devcoop", "escalate:1", datetime(2000, 6, 12, 7, tzinfo=UTC))
        ]


def test_the_message_returning_a_report_says_the_action_is_overdue(world: Engine) -> None:
    from email import message_from_bytes
    from email import policy as email_policy

    from engine.channels import MemoryChannel
    from engine.drive.dispatch import dispatch
    from engine.mail.messages import as_bytes
    from engine.mail.render import MailIdentity, Renderer

    from ..conftest import ROOT

    with transaction(world) as session:
        report = report_implemented(session, _action(session, "III.d.1"), NOW, who="pardev", via="cli").report
        assert report is not None
        return_report(session, report, NOW, who="ed-devcoop", via="cli", comment="attach the letter")
    channel = MemoryChannel()
    identity = MailIdentity(base_url="https://plans.example.org", secret_key="k" * 32)
    dispatch(world, channel, Renderer([ROOT / "templates"], identity), NOW + timedelta(minutes=1))
    [sent] = [m for m in channel.messages if "rafael.quispe" in str(m["To"])]
    plain = message_from_bytes(as_bytes(sent), policy=email_policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "It was due on 31 December 1999 and is 153 days overdue." in plain


def test_a_returned_report_of_recurring_work_speaks_of_the_occurrence_still_open(world: Engine) -> None:
    # "Annually" from 28 September 1999: reported done on 1 June 2000 (no occurrence due yet), returned three days
    # later; the occurrence open is 28 September 2000, months ahead: the owner is not told of a day overdue
    from email import message_from_bytes
    from email import policy as email_policy

    from engine.channels import MemoryChannel
    from engine.drive.dispatch import dispatch
    from engine.mail.messages import as_bytes
    from engine.mail.render import MailIdentity, Renderer

    from ..conftest import ROOT

    with transaction(world) as session:
        report = report_implemented(session, _action(session, "I.1a.2"), NOW, who="program", via="web").report
        assert report is not None
        return_report(session, report, LATER, who="secretariat", via="web", comment="attach the minutes")
        [told] = session.exec(select(Outbox).where(Outbox.template == "closure_returned")).all()
        assert (told.payload["date"], told.payload["reported_occurrence"]) == ("2000-09-28", "")
    channel = MemoryChannel()
    identity = MailIdentity(base_url="https://plans.example.org", secret_key="k" * 32)
    dispatch(world, channel, Renderer([ROOT / "templates"], identity), LATER + timedelta(days=2))
    [sent] = channel.messages
    plain = message_from_bytes(as_bytes(sent), policy=email_policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "returned the report" in plain
    assert "overdue" not in plain


def test_the_verifier_is_asked_in_their_working_day_not_at_the_owners_hour(world: Engine) -> None:
    early = datetime(2000, 6, 1, 5, tzinfo=UTC)  # 07:00 in Geneva, before the delivery hour
    with transaction(world) as session:
        report = report_implemented(session, _action(session, "III.d.1"), early, who="pardev", via="web").report
        assert report is not None
    with transaction(world) as session:
        [asked] = _mail(session, "verification_request")
        assert (asked.recipient_id, asked.due_at) == ("ed-devcoop", datetime(2000, 6, 1, 7, tzinfo=UTC))
