"""The planner: pure, clock passed in. Tables of time zones, DST, month ends, catch-up and ladders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.planner import ActionView, History, Notice, PendingReport, Person, PlanResult, plan_action
from engine.rules.durations import BusinessCalendar
from engine.rules.policy import Policy
from engine.zones import zone

DEADLINES = Policy.model_validate(
    {
        "name": "deadlines",
        "remind": [{"before": "30d"}, {"before": "7d"}, {"before": "1bd", "template": "final_reminder"}],
        "escalate": [
            {"after": "1d", "to": ["owner"], "template": "overdue", "repeat": "1d", "until": "14d"},
            {"after": "14d", "to": ["supervisor"], "repeat": "1w", "until": "45d"},
            {"after": "45d", "to": ["supervisor.supervisor", "committee@example.org"]},
        ],
    }
)
ZURICH = Person("z", "z@example.org", "Europe/Zurich", "Zora")
BANGKOK = Person("b", "b@example.org", "Asia/Bangkok", "Boon")
LIMA = Person("l", "l@example.org", "America/Lima", "Luz")
START = datetime(1999, 9, 28, tzinfo=UTC)


def view(owner: Person = ZURICH, **kw: object) -> ActionView:
    people = {"owner": [owner], "supervisor": [BANGKOK], "supervisor.supervisor": [LIMA]}
    base = dict(
        action_id=1,
        plan_id="p",
        ref="I.1",
        kind="deadline",
        status="open",
        plan_tz="Europe/Zurich",
        plan_date=date(1999, 9, 28),
        due=date(2000, 4, 28),
        people=people,
    )
    return ActionView(**(base | kw))  # type: ignore[arg-type]


def run_life(
    v: ActionView,
    policy: Policy = DEADLINES,
    *,
    until: datetime | None = None,
    calendar: BusinessCalendar | None = None,
    history: History | None = None,
) -> list[Notice]:
    """Drive the planner like the service would: from one next_fire_at to the next."""
    calendar = calendar or BusinessCalendar()
    keys = set(history.keys) if history else set()
    acked = history.acknowledged if history else frozenset()
    since, now = START, START
    out: list[Notice] = []
    until = until or datetime(2001, 12, 31, tzinfo=UTC)
    while now <= until:
        result = plan_action(v, policy, calendar, History(frozenset(keys), acked), since, now)
        out.extend(result.notices)
        keys.update(n.key for n in result.notices)
        if result.next_fire_at is None:
            break
        since, now = now, result.next_fire_at
    return out


@pytest.mark.parametrize(
    ("owner", "due", "first"),
    [
        (ZURICH, date(2000, 4, 28), "2000-03-29 09:00:00+02:00"),
        (BANGKOK, date(2000, 4, 28), "2000-03-29 09:00:00+07:00"),
        (LIMA, date(2000, 4, 28), "2000-03-29 09:00:00-05:00"),
        (ZURICH, date(2000, 4, 25), "2000-03-24 09:00:00+01:00"),
        (ZURICH, date(2000, 4, 26), "2000-03-27 09:00:00+02:00"),
        (ZURICH, date(2000, 3, 30), "2000-02-29 09:00:00+01:00"),
        (ZURICH, date(2000, 11, 27), "2000-10-27 09:00:00+02:00"),
        (ZURICH, date(2000, 11, 28), "2000-10-27 09:00:00+02:00"),
        (ZURICH, date(2000, 11, 29), "2000-10-30 09:00:00+01:00"),
        (LIMA, date(2001, 1, 30), "2000-12-29 09:00:00-05:00"),
    ],
    ids=[
        "zurich_summer",
        "bangkok",
        "lima",
        "zurich_before_spring_change",
        "zurich_after_spring_change",
        "feb29",
        "autumn_friday_before_change",
        "weekend_moves_to_friday",
        "zurich_after_autumn_change",
        "year_boundary_lima",
    ],
)
def test_first_reminder_is_at_nine_local_on_a_business_day(owner: Person, due: date, first: str) -> None:
    notices = run_life(view(owner, due=due))
    reminder = notices[0]
    assert reminder.type == "reminder" and reminder.step == "remind:due:30d"
    assert reminder.at.tzinfo == UTC
    from engine.zones import zone

    assert str(reminder.at.astimezone(zone(owner.tz))) == first


def test_holiday_moves_the_reminder_to_the_business_day_before() -> None:
    calendar = BusinessCalendar([date(2000, 3, 29)])
    notices = run_life(view(due=date(2000, 4, 28)), calendar=calendar)
    assert notices[0].at == datetime(2000, 3, 28, 7, 0, tzinfo=UTC)


def test_business_day_offsets_count_back_over_the_weekend() -> None:
    policy = Policy.model_validate({"name": "p", "remind": [{"before": "5bd"}]})
    notices = run_life(view(due=date(2000, 5, 1)), policy)  # a Monday
    assert [n.at.date() for n in notices] == [date(2000, 4, 24)]


def test_whole_life_of_a_missed_deadline() -> None:
    notices = [n for n in run_life(view(due=date(2000, 4, 28))) if n.status == "pending"]
    steps = [(n.step, n.recipient.id or n.recipient.email, n.at.date().isoformat()) for n in notices]
    assert steps[:4] == [
        ("remind:due:30d", "z", "2000-03-29"),
        ("remind:due:7d", "z", "2000-04-21"),
        ("remind:due:1bd", "z", "2000-04-27"),
        ("escalate:1", "z", "2000-05-01"),
    ]
    overdue = [s for s in steps if s[0].startswith("escalate:1")]
    assert [d for _, _, d in overdue] == [
        "2000-05-01",
        "2000-05-02",
        "2000-05-03",
        "2000-05-04",
        "2000-05-05",
        "2000-05-08",
    ]
    level2 = [s for s in steps if s[0].startswith("escalate:2")]
    assert level2[0] == ("escalate:2", "b", "2000-05-12")  # after: 14d is the 14th day after the due day
    level3 = [s for s in steps if s[0].startswith("escalate:3")]
    assert {who for _, who, _ in level3} == {"l", "committee@example.org"}
    assert all(n.at.astimezone(UTC).weekday() < 5 for n in notices)
    assert len({n.key for n in notices}) == len(notices)


def test_planning_twice_at_the_same_time_gives_nothing_new() -> None:
    v, now = view(), datetime(2000, 3, 29, 7, 0, tzinfo=UTC)
    first = plan_action(v, DEADLINES, BusinessCalendar(), History(), START, now)
    again = plan_action(v, DEADLINES, BusinessCalendar(), History(frozenset(n.key for n in first.notices)), START, now)
    assert len(first.notices) == 1 and again.notices == ()
    assert again.next_fire_at == first.next_fire_at == datetime(2000, 4, 21, 7, 0, tzinfo=UTC)


def test_catch_up_after_a_gap_collapses_reminders_into_the_latest() -> None:
    v = view(due=date(2000, 4, 28))
    result = plan_action(
        v,
        DEADLINES,
        BusinessCalendar(),
        History(),
        datetime(2000, 3, 1, tzinfo=UTC),
        datetime(2000, 4, 27, 12, 0, tzinfo=UTC),
    )
    pending = [n.step for n in result.notices if n.status == "pending"]
    suppressed = [(n.step, n.reason) for n in result.notices if n.status == "suppressed"]
    assert pending == ["remind:due:1bd"]
    assert [s for s, _ in suppressed] == ["remind:due:30d", "remind:due:7d"]
    assert all("superseded" in reason for _, reason in suppressed)


def test_escalations_missed_during_downtime_keep_their_original_times_in_the_log() -> None:
    v = view(due=date(2000, 4, 28))
    before = History(frozenset({"p/I.1|2000-04-28|remind:due:1bd|z"}))  # the owner was reminded before the downtime
    result = plan_action(
        v,
        DEADLINES,
        BusinessCalendar(),
        before,
        datetime(2000, 4, 28, tzinfo=UTC),
        datetime(2000, 5, 20, tzinfo=UTC),
    )
    log = {(e.step, e.at.date().isoformat(), e.days_overdue) for e in result.escalations}
    # due Friday 28 April; steps 1 day after (Saturday 29 April -> Monday 1 May) and 14 days after (Friday 12 May)
    assert log == {("escalate:1", "2000-05-01", 3), ("escalate:2", "2000-05-12", 14)}
    pending = [(n.step, n.recipient.id) for n in result.notices if n.status == "pending"]
    assert pending == [("escalate:1#7", "z"), ("escalate:2#1", "b")]  # the weekly repeat of 19 May is due too


def test_acknowledgement_stops_the_repeats_of_that_step() -> None:
    v = view(due=date(2000, 4, 28))
    acked = History(frozenset(), frozenset({("2000-04-28", "escalate:2")}))
    steps = [n.step for n in run_life(v, history=acked)]
    assert "escalate:2" in steps
    assert not [s for s in steps if s.startswith("escalate:2#")]
    assert "escalate:3" in steps


@pytest.mark.parametrize("status", ["done", "dropped", "on_hold"])
def test_finished_actions_are_silent(status: str) -> None:
    result = plan_action(
        view(status=status), DEADLINES, BusinessCalendar(), History(), START, datetime(2000, 6, 1, tzinfo=UTC)
    )
    assert result == PlanResult((), (), None)


def test_an_extension_moves_everything() -> None:
    steps = {
        (n.step, n.at.date().isoformat())
        for n in run_life(view(due=date(2000, 9, 29)), until=datetime(2000, 10, 1, tzinfo=UTC))
    }
    assert ("remind:due:30d", "2000-08-30") in steps
    assert not any(s.startswith("escalate") for s, _ in steps)


def test_digest_recipients_get_held_notices() -> None:
    owner = Person("d", "d@example.org", "Europe/Zurich", "Dee", digest="weekly")
    notices = run_life(view(owner), until=datetime(2000, 4, 1, tzinfo=UTC))
    assert notices[0].status == "held" and "weekly digest" in notices[0].reason


def test_quiet_hours_move_the_delivery_hour() -> None:
    policy = Policy.model_validate(
        {"name": "p", "remind": [{"before": "1d"}], "delivery": {"hour": "06:00", "quiet_hours": ["20:00", "08:00"]}}
    )
    notices = run_life(view(due=date(2000, 4, 28)), policy)
    assert notices[0].at == datetime(2000, 4, 27, 6, 0, tzinfo=UTC)  # 08:00 in Zurich (CEST)


ANNUAL = Policy.model_validate(
    {
        "name": "recurring",
        "match": {"kind": "recurring"},
        "remind": [{"before": "30d"}],
        "escalate": [{"after": "1d", "to": ["supervisor"]}],
        "recurrence": {"completion_based": True, "bound": "24mo"},
    }
)


def test_completion_based_recurrence_reminds_yearly_and_escalates_past_the_bound() -> None:
    v = view(kind="recurring", rrule="FREQ=YEARLY", due=None)
    notices = run_life(v, ANNUAL, until=datetime(2002, 1, 1, tzinfo=UTC))
    assert [(n.step, n.at.date().isoformat()) for n in notices] == [
        ("remind:due:30d", "2000-08-29"),
        ("remind:due:30d", "2001-08-29"),  # every occurrence is reminded
        ("escalate:1", "2001-10-01"),
    ]
    done = view(kind="recurring", rrule="FREQ=YEARLY", due=None, last_completed=date(2000, 9, 1))
    later = run_life(done, ANNUAL, until=datetime(2002, 1, 1, tzinfo=UTC))
    assert [(n.step, n.occurrence) for n in later] == [("remind:due:30d", "2001-09-01")]


def test_calendar_recurrence_reminds_before_each_occurrence() -> None:
    policy = Policy.model_validate({"name": "r", "remind": [{"before": "2w"}]})
    v = view(kind="recurring", rrule="FREQ=MONTHLY;INTERVAL=3", start=date(2000, 1, 31), due=None)
    notices = run_life(v, policy, until=datetime(2000, 12, 31, tzinfo=UTC))
    assert [n.occurrence for n in notices] == ["2000-01-31", "2000-07-31", "2000-10-31"]


CONTINUOUS = Policy.model_validate(
    {
        "name": "ongoing",
        "match": {"kind": ["continuous"]},
        "checkin": {"every": "3mo", "escalate_after": "14d"},
        "escalate": [{"after": "0d", "to": ["supervisor"]}],
    }
)


def test_continuous_work_gets_check_ins_and_silence_escalates() -> None:
    v = view(kind="continuous", due=None)
    notices = run_life(v, CONTINUOUS, until=datetime(2000, 7, 1, tzinfo=UTC))
    assert [(n.type, n.at.date().isoformat()) for n in notices] == [
        ("checkin", "1999-12-28"),
        ("escalation", "2000-01-12"),
        ("checkin", "2000-03-28"),
        ("escalation", "2000-04-12"),
        ("checkin", "2000-06-28"),
    ]
    answered = view(kind="continuous", due=None, last_progress_at=datetime(2000, 1, 5, tzinfo=UTC))
    kinds = [(n.type, n.occurrence) for n in run_life(answered, CONTINUOUS, until=datetime(2000, 2, 1, tzinfo=UTC))]
    assert kinds == [("checkin", "check-in 1999-12-28")]


def test_next_fire_at_is_the_next_instant_and_none_after_the_ladder() -> None:
    r = plan_action(view(), DEADLINES, BusinessCalendar(), History(), START, START)
    assert r.next_fire_at == datetime(2000, 3, 29, 7, 0, tzinfo=UTC)
    told = History(frozenset({"p/I.1|2000-04-28|remind:due:30d|z"}))  # the owner heard of it: no ladder restarts
    late = plan_action(view(), DEADLINES, BusinessCalendar(), told, START, datetime(2003, 1, 1, tzinfo=UTC))
    assert late.next_fire_at is None
    assert sum(n.status == "pending" for n in late.notices) >= 1


def test_keys_are_deterministic() -> None:
    a = plan_action(view(), DEADLINES, BusinessCalendar(), History(), START, datetime(2000, 3, 30, tzinfo=UTC))
    b = plan_action(view(), DEADLINES, BusinessCalendar(), History(), START, datetime(2000, 3, 30, tzinfo=UTC))
    assert [n.key for n in a.notices] == [n.key for n in b.notices] == ["p/I.1|2000-04-28|remind:due:30d|z"]


def life_from(
    v: ActionView, policy: Policy, first: datetime, until: datetime, catch_up: int = 30
) -> list[tuple[Notice, datetime]]:
    """Drive the planner from a first tick at ``first`` with nothing sent before (a plan imported midway), keeping
    the history as planning does (each key's instant, the suppressed ones apart); return each notice and the
    tick that planned it."""
    from datetime import timedelta

    keys: set[str] = set()
    sent_at: dict[str, datetime] = {}
    quiet: set[str] = set()
    since, now, out = first - timedelta(days=catch_up), first, []
    while now <= until:
        history = History(frozenset(keys), frozenset(), dict(sent_at), frozenset(quiet))
        result = plan_action(v, policy, BusinessCalendar(), history, since, now)
        for n in result.notices:
            out.append((n, now))
            keys.add(n.key)
            sent_at[n.key] = max(n.at, now)
            if n.status == "suppressed":
                quiet.add(n.key)
        if result.next_fire_at is None:
            break
        since, now = now, result.next_fire_at
    return out


def test_a_plan_imported_long_after_its_date_tells_the_owner_first_with_one_catch_up() -> None:
    first = datetime(2000, 9, 1, 12, tzinfo=UTC)  # due 28 April: the whole ladder lies before the first tick
    life = life_from(view(), DEADLINES, first, datetime(2000, 12, 31, tzinfo=UTC))
    sent = [(n, tick) for n, tick in life if n.status != "suppressed"]
    assert [(n.recipient.id, n.type, n.step) for n, tick in sent if tick == first] == [("z", "overdue", "catch-up")]
    (catch_up,) = [n for n, tick in sent if tick == first]
    assert catch_up.payload["catch_up"] is True and catch_up.payload["days_overdue"] == 126
    assert catch_up.reason.startswith("catch-up")
    # the others' steps start from the owner's catch-up, by the ladder's own offsets (14 and 45 days)
    others = [(n.recipient.id, n.step, n.at.date().isoformat()) for n, _ in sent if n.recipient.id != "z"]
    assert others[0] == ("b", "escalate:2", "2000-09-18")  # 14 days after 1 Sep 12:00 UTC: next business day
    assert ("l", "escalate:3", "2000-10-16") in others
    assert all(n.at > catch_up.at for n, _ in sent if n.recipient.id != "z")
    assert sum(n.step == "catch-up" for n, _ in sent) == 1


def test_missed_overdue_notices_collapse_into_one_catch_up_and_the_supervisor_waits_for_it() -> None:
    first = datetime(2000, 5, 20, 12, tzinfo=UTC)  # due 28 April: the owner's daily notices and level 2 are past
    life = life_from(view(), DEADLINES, first, datetime(2000, 5, 21, tzinfo=UTC))
    at_first = [n for n, tick in life if tick == first and n.status != "suppressed"]
    assert [(n.recipient.id, n.type) for n in at_first] == [("z", "overdue")]
    assert at_first[0].payload["catch_up"] is True
    # the reminders before the date are caught up by the overdue notice, not sent beside it
    reminders = [n for n, _ in life if n.type == "reminder"]
    assert reminders and all(n.status == "suppressed" and n.reason for n in reminders)
    assert all(n.reason for n, _ in life if n.status == "suppressed")


def test_no_escalation_about_a_check_in_that_was_never_sent() -> None:
    v = view(kind="continuous", due=None)
    first = datetime(2000, 1, 20, 12, tzinfo=UTC)  # the check-in of 28 Dec lies before the first tick's window
    result = plan_action(v, CONTINUOUS, BusinessCalendar(), History(), datetime(2000, 1, 10, tzinfo=UTC), first)
    escalations = [n for n in result.notices if n.type == "escalation"]
    assert escalations and all(n.status == "suppressed" for n in escalations)
    assert all("check-in was never sent" in n.reason for n in escalations)
    assert not result.escalations


def test_an_answered_late_check_in_escalates_from_when_it_was_sent() -> None:
    v = view(kind="continuous", due=None)
    first = datetime(2000, 1, 20, 12, tzinfo=UTC)  # the check-in of 28 Dec is caught up at the first tick
    life = life_from(v, CONTINUOUS, first, datetime(2000, 3, 1, tzinfo=UTC), catch_up=30)
    sent = [(n.type, n.at.date().isoformat()) for n, _ in life if n.status != "suppressed"]
    assert sent[0] == ("checkin", "2000-01-20")  # the check-in of 28 December, caught up at once (a Thursday)
    # missed 14 days after it actually went out (20 January), not after its planned day
    assert sent[1] == ("escalation", "2000-02-04")


def drive(changes: list[tuple[datetime, ActionView]], policy: Policy, until: datetime) -> list[Notice]:
    """Drive the planner like the service would, the action changing at the given instants (each change makes
    the next tick plan it again, as the workflow does)."""
    keys: set[str] = set()
    answered: dict[str, date] = {}  # kept with each check-in skipped as answered early, as planning keeps it
    since = now = changes[0][0]
    out: list[Notice] = []
    while now <= until:
        v = [v for at, v in changes if at <= now][-1]
        history = History(frozenset(keys), answered=dict(answered))
        result = plan_action(v, policy, BusinessCalendar(), history, since, now)
        out.extend(result.notices)
        keys.update(n.key for n in result.notices)
        answered.update(
            (n.occurrence, date.fromisoformat(n.payload["answered_on"]))
            for n in result.notices
            if "answered_on" in n.payload
        )
        wake = [t for t in (result.next_fire_at, *(at for at, _ in changes if at > now)) if t is not None]
        if not wake:
            break
        since, now = now, min(wake)
    return out


def test_a_check_in_answered_early_is_skipped_with_a_reason_and_never_sent_later() -> None:
    quiet = view(kind="continuous", due=None)
    early = datetime(2000, 3, 10, 11, tzinfo=UTC)  # in the last third of the rhythm before the 28 March check-in
    changes = [(START, quiet), (early, view(kind="continuous", due=None, last_progress_at=early))]
    notices = drive(changes, CONTINUOUS, datetime(2000, 9, 30, tzinfo=UTC))
    got = [(n.occurrence, n.at.isoformat(), n.status) for n in notices if n.type == "checkin"]
    assert got == [
        ("check-in 1999-12-28", "1999-12-28T08:00:00+00:00", "pending"),
        ("check-in 2000-03-28", "2000-03-28T07:00:00+00:00", "suppressed"),
        # one rhythm after the report (10 June is a Saturday): the delivery hour of the next business day
        ("check-in 2000-06-10", "2000-06-12T07:00:00+00:00", "pending"),
        ("check-in 2000-09-10", "2000-09-11T07:00:00+00:00", "pending"),
    ]
    skipped = next(n for n in notices if n.status == "suppressed")
    assert skipped.reason.startswith("answered early: progress reported on 2000-03-10")
    zurich = zone("Europe/Zurich")
    checkins = [n.at.astimezone(zurich) for n in notices if n.type == "checkin"]
    assert all(at.hour == 9 and at.weekday() < 5 for at in checkins)


def test_a_later_report_never_sends_the_skipped_check_in_late() -> None:
    early = datetime(2000, 3, 10, 11, tzinfo=UTC)
    later = datetime(2000, 4, 15, 11, tzinfo=UTC)  # a Saturday, after the skipped check-in's day
    changes = [
        (START, view(kind="continuous", due=None)),
        (early, view(kind="continuous", due=None, last_progress_at=early)),
        (later, view(kind="continuous", due=None, last_progress_at=later)),
    ]
    notices = drive(changes, CONTINUOUS, datetime(2000, 7, 31, tzinfo=UTC))
    checkins = [(n.occurrence, n.at.isoformat(), n.status) for n in notices if n.type == "checkin"]
    assert checkins == [
        ("check-in 1999-12-28", "1999-12-28T08:00:00+00:00", "pending"),
        ("check-in 2000-03-28", "2000-03-28T07:00:00+00:00", "suppressed"),  # not sent on 15 April either
        # one rhythm after the report that answered the skipped one (10 June, a Saturday), not after the skipped day
        ("check-in 2000-06-10", "2000-06-12T07:00:00+00:00", "pending"),
    ]


def test_the_last_reminder_goes_out_on_its_day_to_a_digest_recipient() -> None:
    policy = Policy.model_validate({"name": "p", "remind": [{"before": "7d"}, {"before": "3d"}]})
    owner = Person("d", "d@example.org", "Europe/Zurich", "Dee", digest="weekly")
    notices = run_life(view(owner, due=date(2000, 4, 28)), policy, until=datetime(2000, 4, 27, tzinfo=UTC))
    status = {n.step: (n.status, n.at.date()) for n in notices}
    assert status["remind:due:7d"][0] == "held"  # earlier ones wait for the digest
    assert status["remind:due:3d"] == ("pending", date(2000, 4, 25))  # the last one is not held past its day


def recipients_policy(**delivery: object) -> Policy:
    return Policy.model_validate({"name": "p", "remind": [{"before": "1d"}], "delivery": delivery})


def test_each_recipient_follows_the_holidays_of_their_own_zone() -> None:
    # 2000-08-01 (Tuesday) is a Geneva holiday, not a Bangkok one; 2000-07-31 is a Bangkok one.
    policy = recipients_policy(holidays=[date(2000, 8, 1)], holidays_by_zone={"Asia/Bangkok": [date(2000, 7, 31)]})
    geneva = BusinessCalendar(policy.delivery.holidays)
    days = {
        owner.tz: [
            n.at.astimezone(zone(owner.tz)).date()
            for n in run_life(
                view(owner, due=date(2000, 8, 2)), policy, calendar=geneva, until=START.replace(2000, 8, 2)
            )
        ]
        for owner in (ZURICH, BANGKOK, LIMA)
    }
    assert days["Europe/Zurich"] == [date(2000, 7, 31)]  # Geneva's holiday moves it back
    assert days["Asia/Bangkok"] == [date(2000, 8, 1)]  # Geneva's holiday does not silence Bangkok
    assert days["America/Lima"] == [date(2000, 7, 31)]  # no list of its own: the policy's


def test_an_escalation_moves_past_the_recipients_own_holiday() -> None:
    policy = Policy.model_validate(
        {
            "name": "p",
            "escalate": [{"after": "1d", "to": ["owner"]}],
            "delivery": {"holidays_by_zone": {"America/Lima": ["2000-12-25"]}},
        }
    )
    notices = run_life(view(LIMA, due=date(2000, 12, 22)), policy, until=datetime(2000, 12, 31, tzinfo=UTC))
    assert [n.at.astimezone(zone(LIMA.tz)).date() for n in notices] == [date(2000, 12, 26)]


@pytest.mark.parametrize(
    ("due", "first"),
    [
        (date(2000, 4, 26), "2000-04-27 09:00:00+02:00"),  # a Wednesday: Thursday
        (date(2000, 4, 28), "2000-05-01 09:00:00+02:00"),  # a Friday: the Saturday moves to Monday
    ],
    ids=["midweek", "friday"],
)
def test_after_one_day_is_the_first_business_day_after_the_due_day(due: date, first: str) -> None:
    notices = [n for n in run_life(view(due=due)) if n.type == "overdue" and n.status == "pending"]
    assert str(notices[0].at.astimezone(zone(ZURICH.tz))) == first
    assert notices[0].payload["days_overdue"] == (notices[0].at.date() - due).days


def test_after_seven_days_is_seven_days_after_the_due_day() -> None:
    policy = Policy.model_validate({"name": "p", "escalate": [{"after": "7d", "to": ["owner"]}]})
    (notice,) = [n for n in run_life(view(due=date(2000, 4, 26)), policy) if n.status == "pending"]
    assert str(notice.at.astimezone(zone(ZURICH.tz))) == "2000-05-03 09:00:00+02:00"
    assert notice.payload["days_overdue"] == 7


def test_a_level_is_the_rung_of_the_supervisor_chain_in_every_ladder() -> None:
    deadline = [n for n in run_life(view(due=date(2000, 4, 28))) if n.status == "pending" and n.step.startswith("esc")]
    checkin = run_life(view(kind="continuous", due=None), CONTINUOUS, until=datetime(2000, 7, 1, tzinfo=UTC))
    levels = {(n.recipient.id or n.recipient.email, n.level) for n in deadline + checkin if n.type != "checkin"}
    assert levels == {("z", 0), ("b", 1), ("l", 2), ("committee@example.org", 2)}
    assert all(n.payload["level"] == n.level for n in deadline + checkin if n.type != "checkin")


def test_a_step_naming_nobody_in_the_chain_is_one_level_above_the_step_before() -> None:
    from engine.planner import step_levels

    policy = Policy.model_validate(
        {
            "name": "p",
            "escalate": [
                {"after": "1d", "to": ["secretariat"]},
                {"after": "2d", "to": ["owner", "supervisor"]},
                {"after": "3d", "to": ["x@example.org"]},
            ],
        }
    )
    assert step_levels(policy.escalate) == [1, 1, 2]


def test_a_reminder_to_the_supervisor_goes_out_no_earlier_than_the_owners() -> None:
    # the supervisor in Bangkok reaches 09:00 five hours before the owner in Zurich does
    policy = Policy.model_validate({"name": "p", "remind": [{"before": "7d", "to": ["owner", "supervisor"]}]})
    notices = run_life(view(), policy)
    owner = next(n for n in notices if n.recipient.id == "z")
    boss = next(n for n in notices if n.recipient.id == "b")
    assert owner.at == datetime(2000, 4, 21, 7, tzinfo=UTC)
    assert boss.at >= owner.at and boss.status == "pending"


def test_a_reminder_only_to_others_waits_for_the_owners_first_message() -> None:
    policy = Policy.model_validate(
        {"name": "p", "remind": [{"before": "7d", "to": ["owner"]}, {"before": "14d", "to": ["supervisor"]}]}
    )
    notices = run_life(view(), policy)
    owner = next(n for n in notices if n.recipient.id == "z")
    boss = next(n for n in notices if n.recipient.id == "b")
    assert boss.at >= owner.at and boss.status == "pending"
    assert boss.payload["days_left"] == 7  # says what is true when it goes out


def test_a_reminder_to_others_about_what_the_owner_never_hears_of_is_not_sent() -> None:
    policy = Policy.model_validate({"name": "p", "remind": [{"before": "7d", "to": ["supervisor"]}]})
    notices = run_life(view(), policy, until=datetime(2000, 6, 1, tzinfo=UTC))
    assert notices and all(n.status == "suppressed" and "owner" in n.reason for n in notices)


def test_a_step_after_the_owners_late_first_message_keeps_its_own_instant_at_every_tick() -> None:
    """Imported on Saturday 20 May (due 28 April): the owner's catch-up goes out first (Monday 22 May, 09:00 Zurich),
    the supervisor's step (14 days, past) starts again from it, and so does the step to the supervisor's supervisor
    in Lima (45 days after it: Thursday 6 July, 09:00 Lima), planned for its own instant, not found late at another
    step's tick."""
    first = datetime(2000, 5, 20, 12, tzinfo=UTC)
    life = life_from(view(), DEADLINES, first, datetime(2000, 8, 31, tzinfo=UTC))
    sent = [(n, tick) for n, tick in life if n.status != "suppressed"]
    assert [(n.recipient.id, n.type) for n, tick in sent if tick == first] == [("z", "overdue")]
    (top,) = [(n, tick) for n, tick in sent if n.step.startswith("escalate:3") and n.recipient.id == "l"]
    assert (top[0].recipient.id, top[0].at, top[1]) == ("l", datetime(2000, 7, 6, 14, tzinfo=UTC), top[0].at)
    assert "catch_up" not in top[0].payload
    supervisor = [n.at.astimezone(zone("Asia/Bangkok")).isoformat() for n, _ in sent if n.recipient.id == "b"]
    assert supervisor[0] == "2000-06-06T09:00:00+07:00"  # 14 days after the owner's message (14:00 there)
    assert len({n.key for n, _ in sent}) == len(sent)


def test_a_recipients_country_holidays_come_before_their_zones() -> None:
    """Songkran (13 April) is a holiday under TH, not under the Bangkok zone's list: a reminder for a recipient from
    Thailand moves to the day before it; one for a recipient in Bangkok with no country stays on it."""
    policy = Policy.model_validate(
        {
            "name": "deadlines",
            "remind": [{"before": "7d"}],
            "delivery": {
                "holidays_by_zone": {"Asia/Bangkok": [date(2000, 12, 5)]},
                "holidays_by_country": {"TH": [date(2000, 4, 13)]},
            },
        }
    )
    for person, day in ((replace(BANGKOK, country="TH"), date(2000, 4, 12)), (BANGKOK, date(2000, 4, 13))):
        v = view(owner=person, due=date(2000, 4, 20))
        ahead = datetime(2000, 4, 1, tzinfo=UTC), datetime(2000, 4, 19, tzinfo=UTC)  # planned ahead, not caught up
        found = plan_action(v, policy, BusinessCalendar(), History(), START, *ahead)
        (reminder,) = [n for n in found.notices if n.type == "reminder"]
        assert reminder.at.astimezone(zone("Asia/Bangkok")).date() == day


def test_the_first_overdue_notice_to_a_weekly_digest_owner_goes_out_on_its_own() -> None:
    """Imported after the date was missed: the catch-up to a weekly-digest owner is sent at once (the supervisor's
    steps that follow must not reach them before the owner's digest would); a daily digest takes it."""
    first = datetime(2000, 5, 20, 12, tzinfo=UTC)
    for digest, status in (("weekly", "pending"), ("daily", "held")):
        life = life_from(
            view(owner=replace(ZURICH, digest=digest)), DEADLINES, first, datetime(2000, 6, 30, tzinfo=UTC)
        )
        (catch_up,) = [n for n, tick in life if tick == first and n.status != "suppressed"]
        assert (catch_up.recipient.id, catch_up.status) == ("z", status)


def ladder_order_faults(life: list[tuple[Notice, datetime]]) -> list[str]:
    """Steps of a ladder (the owner's catch-up counting as the first) that fired before an earlier step of the same
    ladder about the same occurrence; each message counts when it went out (its instant, or the tick after it)."""
    fired: dict[str, dict[int, datetime]] = {}
    for n, tick in life:
        if n.status == "suppressed" or not (n.step.startswith("escalate:") or n.step == "catch-up"):
            continue
        index = 1 if n.step == "catch-up" else int(n.step.removeprefix("escalate:").partition("#")[0])
        steps = fired.setdefault(n.occurrence, {})
        steps[index] = min(max(n.at, tick), steps.get(index, max(n.at, tick)))
    return [
        f"{occurrence}: step {k} at {at} before step {j} ({steps.get(j)})"
        for occurrence, steps in fired.items()
        for k, at in steps.items()
        for j in range(1, k)
        if steps.get(j) is None or steps[j] > at
    ]


def test_a_late_first_message_moves_every_later_step_of_the_ladder_by_as_much() -> None:
    """Due 31 March, imported on 4 May: the owner's catch-up goes out first, then the supervisor 14 days after it,
    then the top of the chain 45 days after it (not 45 days after the due date, before the supervisor)."""
    first = datetime(2000, 5, 4, 12, tzinfo=UTC)
    life = life_from(view(due=date(2000, 3, 31)), DEADLINES, first, datetime(2000, 9, 30, tzinfo=UTC))
    assert not ladder_order_faults(life)
    sent = [n for n, _ in life if n.status != "suppressed"]
    second = min(n.at for n in sent if n.step.startswith("escalate:2"))
    third = min(n.at for n in sent if n.step.startswith("escalate:3") and n.recipient.id == "l")
    assert str(second.astimezone(zone("Asia/Bangkok"))) == "2000-05-19 09:00:00+07:00"  # 14 days on (at 19:00 there)
    assert str(third.astimezone(zone("America/Lima"))) == "2000-06-19 09:00:00-05:00"  # 45 days on: a Sunday


@given(
    due=st.dates(date(2000, 1, 3), date(2000, 6, 30)),
    late=st.integers(0, 120),
    hour=st.integers(0, 23),
    zones=st.permutations([ZURICH, BANGKOK, LIMA]),
)
@settings(max_examples=40, deadline=None, derandomize=True)
def test_no_step_of_a_ladder_fires_before_an_earlier_step(due: date, late: int, hour: int, zones: list[Person]) -> None:
    """Whatever the first tick (a plan imported before or after its date) and the zones of the chain."""
    owner, boss, top = zones
    v = view(owner, due=due, people={"owner": [owner], "supervisor": [boss], "supervisor.supervisor": [top]})
    first = datetime.combine(due, time(hour), UTC) + timedelta(days=late)
    life = life_from(v, DEADLINES, first, first + timedelta(days=200))
    assert not ladder_order_faults(life)


@pytest.mark.parametrize(
    ("owner", "local"),
    [
        (ZURICH, "2000-01-03 09:00:00+01:00"),
        (BANGKOK, "2000-01-03 09:00:00+07:00"),
        (LIMA, "2000-01-03 09:00:00-05:00"),  # Saturday 21:00 there: not at once, Monday at nine
    ],
    ids=["zurich", "bangkok", "lima"],
)
def test_a_catch_up_found_on_a_weekend_night_goes_out_at_the_next_delivery_hour_of_a_business_day(
    owner: Person, local: str
) -> None:
    first = datetime(2000, 1, 2, 2, tzinfo=UTC)  # a Sunday, 02:00 UTC; due 15 December, nothing sent yet
    life = life_from(view(owner, due=date(1999, 12, 15)), DEADLINES, first, first + timedelta(days=3))
    (catch_up,) = [n for n, tick in life if tick == first and n.status != "suppressed"]
    assert catch_up.recipient == owner and catch_up.payload["catch_up"] is True
    assert str(catch_up.at.astimezone(zone(owner.tz))) == local
    assert catch_up.payload["days_overdue"] == 19  # counted on the day it goes out


def test_a_catch_up_found_during_the_working_day_goes_out_at_once() -> None:
    first = datetime(2000, 1, 5, 13, tzinfo=UTC)  # Wednesday, 14:00 in Zurich
    life = life_from(view(due=date(1999, 12, 15)), DEADLINES, first, first + timedelta(days=3))
    (catch_up,) = [n for n, tick in life if tick == first and n.status != "suppressed"]
    assert catch_up.at == first and catch_up.payload["catch_up"] is True


def test_a_late_reminder_is_caught_up_at_the_recipients_delivery_hour_and_says_when_it_was_planned() -> None:
    policy = Policy.model_validate({"name": "p", "remind": [{"before": "7d"}]})
    now = datetime(2000, 4, 22, 23, tzinfo=UTC)  # Sunday 06:00 in Bangkok; the reminder was for Friday 21 April
    found = plan_action(view(BANGKOK, due=date(2000, 4, 28)), policy, BusinessCalendar(), History(), START, now)
    (reminder,) = found.notices
    assert str(reminder.at.astimezone(zone("Asia/Bangkok"))) == "2000-04-24 09:00:00+07:00"
    assert reminder.payload["catch_up"] is True and reminder.payload["planned"] == "2000-04-21T02:00:00+00:00"


def test_reopening_a_done_overdue_action_tells_the_owner_once_how_late_then_climbs_the_ladder_again() -> None:
    """Due 28 April, done on 1 July (the ladder was over), reopened on Monday 17 July at 10:00 UTC, 80 days late:
    nothing about the time it was done is replayed; the owner hears first, the next business morning, how late it
    is; the steps to others follow by the ladder's own offsets from the reopening."""
    done_at, reopened_at = datetime(2000, 7, 1, 12, tzinfo=UTC), datetime(2000, 7, 17, 10, tzinfo=UTC)
    changes = [(START, view()), (done_at, view(status="done")), (reopened_at, view(reopened_at=reopened_at))]
    life = drive(changes, DEADLINES, datetime(2000, 12, 31, tzinfo=UTC))
    before = [n for n in life if n.at <= done_at and n.status != "suppressed"]
    assert {n.recipient.id for n in before} >= {"z", "b", "l"}  # the whole ladder ran before it was done
    after = sorted((n for n in life if n.at > done_at and n.status != "suppressed"), key=lambda n: n.at)
    first = after[0]
    assert (first.recipient.id, first.type, first.payload["days_overdue"]) == ("z", "overdue", 81)
    assert str(first.at.astimezone(zone("Europe/Zurich"))) == "2000-07-18 09:00:00+02:00"
    assert all(n.recipient.id == "z" for n in after if n.at < datetime(2000, 7, 31, tzinfo=UTC))
    others = [n for n in after if n.recipient.id != "z"]
    assert others and others[0].recipient.id == "b" and others[0].at.date() == date(2000, 7, 31)
    assert any(n.recipient.id == "l" for n in others)
    assert not ladder_order_faults([(n, n.at) for n in life if n.at > done_at])
    assert len({n.key for n in life}) == len(life)


RECURRING = Policy.model_validate(
    {
        "name": "recurring",
        "match": {"kind": "recurring"},
        "recurrence": {"completion_based": True, "bound": "24mo"},
        "remind": [{"before": "30d"}, {"before": "7d"}],
        "escalate": [
            {"after": "1d", "to": ["owner", "supervisor"], "repeat": "1w", "until": "45d"},
            {"after": "45d", "to": ["supervisor.supervisor", "committee@example.org"]},
        ],
    }
)


def reminded(notices: list[Notice]) -> list[tuple[str, str]]:
    return [(n.occurrence, n.step) for n in notices if n.type == "reminder" and n.recipient.id == "z"]


@pytest.mark.parametrize("completion_based", [True, False])
def test_a_quarterly_action_is_reminded_before_every_occurrence(completion_based: bool) -> None:
    policy = RECURRING.model_copy(
        update={"recurrence": RECURRING.recurrence.model_copy(update={"completion_based": completion_based})}
    )
    v = view(kind="recurring", rrule="FREQ=MONTHLY;INTERVAL=3", start=date(2000, 1, 12), due=None)
    notices = run_life(v, policy, until=datetime(2001, 1, 31, tzinfo=UTC))
    days = ["2000-04-12", "2000-07-12", "2000-10-12", "2001-01-12"]
    days = days if completion_based else ["2000-01-12", *days]  # on the schedule, the start is an occurrence
    assert reminded(notices) == [(d, f"remind:due:{b}") for d in days for b in ("30d", "7d")]
    if completion_based:  # nothing escalates before the 24 months pass without a completion
        assert not [n for n in notices if n.step.startswith("escalate")]


def test_a_quarterly_action_counts_its_occurrences_from_the_last_completion() -> None:
    v = view(kind="recurring", rrule="FREQ=MONTHLY;INTERVAL=3", start=date(2000, 1, 12), due=None)
    done = replace(v, last_completed=date(2000, 5, 2), completed=frozenset({"2000-04-12"}))
    notices = run_life(done, RECURRING, until=datetime(2001, 1, 31, tzinfo=UTC))
    assert [d for d, step in reminded(notices) if step == "remind:due:7d"] == ["2000-08-02", "2000-11-02", "2001-02-02"]


def test_an_annual_action_is_reminded_every_year_and_escalates_when_the_bound_passes() -> None:
    v = view(kind="recurring", rrule="FREQ=YEARLY", start=date(2000, 1, 12), due=None)
    notices = run_life(v, RECURRING, until=datetime(2002, 6, 30, tzinfo=UTC))
    assert [d for d, step in reminded(notices) if step == "remind:due:7d"] == ["2001-01-12", "2002-01-12"]
    escalations = [n for n in notices if n.step.startswith("escalate")]
    assert escalations and min(n.at for n in escalations).date() == date(2002, 1, 14)  # 24 months on, a Monday
    assert {n.recipient.id for n in escalations if n.step == "escalate:1"} == {"z", "b"}
    done = replace(v, last_completed=date(2001, 1, 20))
    later = run_life(done, RECURRING, until=datetime(2002, 6, 30, tzinfo=UTC))
    assert [d for d, step in reminded(later) if step == "remind:due:7d"] == ["2002-01-20"]
    assert not [n for n in later if n.step.startswith("escalate")]


# Follow-up: acceptance, reports waiting for verification, stale actions.

REPORTED_AT = datetime(2000, 3, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("acceptance", ["not_accepted", "under_consideration"])
def test_an_action_not_accepted_or_under_consideration_is_silent(acceptance: str) -> None:
    assert run_life(view(acceptance=acceptance)) == []
    assert run_life(view(acceptance="partially_accepted")) == run_life(view())


def test_the_rules_may_remind_of_actions_under_consideration_too() -> None:
    policy = DEADLINES.model_copy(
        update={
            "acceptance": Policy.model_validate(
                {"name": "x", "acceptance": {"remind": "under_consideration"}}
            ).acceptance
        }
    )
    assert run_life(view(acceptance="under_consideration"), policy) == run_life(view())
    assert run_life(view(), policy) == []


def pending(verifier: Person = BANGKOK, above: tuple[Person, ...] = (LIMA,)) -> PendingReport:
    return PendingReport(7, "", REPORTED_AT, verifier, above)


def test_a_reported_action_tells_its_owner_nothing_and_its_verifier_is_reminded_then_escalated() -> None:
    notices = run_life(view(status="reported", reports=(pending(),)), until=datetime(2000, 4, 30, tzinfo=UTC))
    assert notices and all(n.recipient != ZURICH for n in notices)
    told = [(str(n.at.astimezone(zone(n.recipient.tz)))[:16], n.recipient.name, n.step) for n in notices]
    assert told[:5] == [
        ("2000-03-09 09:00", "Boon", "verify:remind"),  # reported at 17:00 in Bangkok: a week on, the next morning
        ("2000-03-16 09:00", "Boon", "verify:remind#1"),
        ("2000-03-22 09:00", "Luz", "verify:escalate"),  # three weeks on, the verifier's supervisor
        ("2000-03-23 09:00", "Boon", "verify:escalate"),
        ("2000-03-29 09:00", "Luz", "verify:escalate#1"),
    ]
    assert {n.template for n in notices if n.recipient == LIMA} == {"verification_overdue"}
    assert {n.template for n in notices if n.recipient == BANGKOK} == {"verification_request"}


def test_the_escalation_of_a_waiting_report_is_logged_once_at_level_one() -> None:
    v = view(status="reported", reports=(pending(),))
    result = plan_action(v, DEADLINES, BusinessCalendar(), History(), START, datetime(2000, 3, 23, tzinfo=UTC))
    [entry] = result.escalations
    assert (entry.occurrence, entry.step, entry.level, entry.recipients) == (
        "verification 7",
        "verify:escalate",
        1,
        ("supervisor",),
    )


def test_an_acknowledged_escalation_of_a_waiting_report_stops_its_repeats() -> None:
    v = view(status="reported", reports=(pending(),))
    acked = History(acknowledged=frozenset({("verification 7", "verify:escalate")}))
    steps = [n.step for n in run_life(v, history=acked, until=datetime(2000, 5, 30, tzinfo=UTC))]
    assert "verify:escalate" in steps and not [s for s in steps if s.startswith("verify:escalate#")]


def test_a_reported_occurrence_leaves_the_others_to_the_owner() -> None:
    # the planning step adds a reported occurrence to ``completed``; its report reminds only the verifier
    v = view(kind="recurring", rrule="FREQ=MONTHLY;BYMONTHDAY=15", due=None, completed=frozenset({"2000-03-15"}))
    owners = {n.occurrence for n in run_life(v, until=datetime(2000, 5, 1, tzinfo=UTC)) if n.recipient == ZURICH}
    assert "2000-03-15" not in owners and "2000-04-15" in owners


STALE = Policy.model_validate(
    {
        "name": "stale",
        "stale": {"after": "60d", "escalate_after": "14d"},
        "escalate": [
            {"after": "1d", "to": ["owner"], "template": "overdue"},
            {"after": "7d", "to": ["supervisor"], "repeat": "1w", "until": "28d"},
        ],
    }
)


def test_an_action_without_update_for_sixty_days_reminds_its_owner_then_escalates_by_the_ladder() -> None:
    v = view(due=None, kind="continuous", last_update_at=datetime(2000, 1, 3, 12, tzinfo=UTC))
    notices = run_life(v, STALE, until=datetime(2000, 6, 1, tzinfo=UTC))
    told = [(n.at.date().isoformat(), n.recipient.name, n.step, n.template) for n in notices]
    assert told == [
        ("2000-03-03", "Zora", "stale", "stale"),
        # still quiet 14 days on (from 18 March): the ladder's steps past the owner's, by their offsets
        ("2000-03-24", "Boon", "escalate:2", "escalation"),
        ("2000-03-31", "Boon", "escalate:2#1", "escalation"),
        ("2000-04-07", "Boon", "escalate:2#2", "escalation"),
    ]
    assert notices[1].payload["missed"] == "update"


def test_an_update_moves_the_stale_reminder_sixty_days_on() -> None:
    quiet = view(due=None, kind="continuous", last_update_at=datetime(2000, 1, 3, 12, tzinfo=UTC))
    updated = replace(quiet, last_update_at=datetime(2000, 2, 20, 12, tzinfo=UTC))
    changes = [(START, quiet), (datetime(2000, 2, 20, 13, tzinfo=UTC), updated)]
    notices = drive(changes, STALE, datetime(2000, 4, 30, tzinfo=UTC))
    assert [(n.at.date().isoformat(), n.step) for n in notices if n.step == "stale"] == [("2000-04-20", "stale")]


def test_an_action_overdue_before_it_would_be_stale_gets_the_overdue_ladder_only() -> None:
    v = view(due=date(2000, 2, 1), last_update_at=datetime(2000, 1, 3, 12, tzinfo=UTC))
    assert not [n for n in run_life(v, STALE, until=datetime(2000, 6, 1, tzinfo=UTC)) if n.step == "stale"]


def test_a_stale_reminder_whose_instant_passed_unplanned_goes_once_as_a_catch_up() -> None:
    v = view(due=None, kind="continuous", last_update_at=datetime(1999, 10, 1, 12, tzinfo=UTC))
    now = datetime(2000, 5, 2, 10, tzinfo=UTC)  # a Tuesday, at noon in Zurich: within the working day
    first = plan_action(v, STALE, BusinessCalendar(), History(), now - timedelta(days=1), now)
    [notice] = [n for n in first.notices if n.step == "stale"]
    assert (notice.at, notice.payload["catch_up"], notice.payload["planned"][:10]) == (now, True, "1999-11-30")
    again = plan_action(v, STALE, BusinessCalendar(), History(frozenset({notice.key})), now, now + timedelta(days=1))
    assert [n for n in again.notices if n.step == "stale"] == []


@given(
    due=st.dates(date(2000, 1, 10), date(2000, 12, 20)),
    reported=st.integers(0, 300),
    status=st.sampled_from(["reported", "open", "in_progress"]),
    acceptance=st.sampled_from(["accepted", "partially_accepted", "not_accepted", "under_consideration"]),
)
@settings(max_examples=60, deadline=None, derandomize=True)
def test_only_the_verifier_hears_of_a_waiting_report_and_nobody_of_an_action_not_accepted(
    due: date, reported: int, status: str, acceptance: str
) -> None:
    at = datetime(2000, 1, 3, 10, tzinfo=UTC) + timedelta(days=reported)
    report = PendingReport(3, "", at, BANGKOK, (LIMA,))
    v = view(due=due, status=status, acceptance=acceptance, reports=(report,) if status == "reported" else ())
    notices = run_life(v, until=datetime(2001, 6, 30, tzinfo=UTC))
    owners_told = [n for n in notices if n.type != "verification"]
    if status == "reported" or acceptance in {"not_accepted", "under_consideration"}:
        assert owners_told == []
    if status == "reported":
        assert notices and {n.recipient for n in notices} <= {BANGKOK, LIMA}
        assert all(n.at > at for n in notices)
    else:
        assert not [n for n in notices if n.type == "verification"]


def test_an_update_after_the_stale_reminder_stops_its_ladder() -> None:
    quiet = view(due=None, kind="continuous", last_update_at=datetime(2000, 1, 3, 12, tzinfo=UTC))
    answered = replace(quiet, last_update_at=datetime(2000, 3, 8, 12, tzinfo=UTC))  # after 3 March's reminder
    changes = [(START, quiet), (datetime(2000, 3, 8, 13, tzinfo=UTC), answered)]
    notices = drive(changes, STALE, datetime(2000, 4, 30, tzinfo=UTC))
    assert [(n.at.date().isoformat(), n.step) for n in notices] == [("2000-03-03", "stale")]


# A stale notice counts the silence from the later of the plan's date, the action's start and its last update.

STARTS = Policy.model_validate(
    {
        "name": "starts",
        "remind": [{"before": "14d", "anchor": "start"}],
        "checkin": {"every": "3mo", "escalate_after": "14d"},
        "stale": {"after": "4mo", "escalate_after": "14d"},
        "escalate": [{"after": "0d", "to": ["supervisor"], "repeat": "4w", "until": "45d"}],
    }
)


def test_an_action_imported_before_its_plans_date_is_quiet_from_the_plans_date() -> None:
    # imported on 6 December, the plan dated 15 January: four months of silence count from 15 January
    v = view(
        due=None,
        kind="continuous",
        plan_date=date(2000, 1, 15),
        last_update_at=datetime(1999, 12, 6, 6, tzinfo=UTC),
    )
    [stale] = [n for n in run_life(v, STALE, until=datetime(2000, 6, 30, tzinfo=UTC)) if n.step == "stale"]
    assert (stale.at.date().isoformat(), stale.payload["since"], stale.payload["days_quiet"]) == (
        "2000-03-15",
        "2000-01-15",
        60,
    )


def test_an_action_starting_later_gets_no_stale_notice_before_it_starts() -> None:
    # "Starting from September": nothing is expected of it before then, so its silence counts from its start
    v = view(
        due=None,
        kind="start",
        start=date(2000, 9, 1),
        plan_date=date(2000, 1, 15),
        last_update_at=datetime(1999, 12, 6, 6, tzinfo=UTC),
    )
    notices = run_life(v, STARTS, until=datetime(2001, 3, 1, tzinfo=UTC))
    assert [n.step for n in notices if n.at.date() < date(2000, 9, 1)] == ["remind:start:14d"]
    [stale] = [n for n in notices if n.step == "stale"]
    assert (stale.at.date().isoformat(), stale.payload["since"]) == ("2001-01-01", "2000-09-01")


@given(
    start=st.one_of(st.none(), st.dates(date(1999, 10, 1), date(2001, 1, 31))),
    plan_days=st.integers(0, 200),
    updated_days=st.integers(-100, 300),
    kind=st.sampled_from(["start", "continuous"]),
)
@settings(max_examples=25, deadline=None, derandomize=True)
def test_nothing_but_the_reminder_of_its_start_reaches_an_action_before_it_starts(
    start: date | None, plan_days: int, updated_days: int, kind: str
) -> None:
    plan_date = date(1999, 10, 1) + timedelta(days=plan_days)
    updated = datetime(1999, 10, 1, 12, tzinfo=UTC) + timedelta(days=updated_days)
    v = view(due=None, kind=kind, start=start, plan_date=plan_date, last_update_at=updated)
    notices = run_life(v, STARTS, until=datetime(2001, 3, 31, tzinfo=UTC))
    begins = max(plan_date, start or plan_date)
    early = [n for n in notices if n.at.astimezone(zone(n.recipient.tz)).date() < begins]
    assert all(n.step == "remind:start:14d" for n in early)
    for n in notices:
        if n.step == "stale":  # the silence it speaks of began once the action was expected to move
            assert date.fromisoformat(n.payload["since"]) >= begins
        if n.type in {"overdue", "escalation"}:  # a ladder here is about a question left unanswered, never a date
            assert n.payload["missed"] in {"check-in", "update"}
