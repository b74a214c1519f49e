"""plan_due in many small batches (overlapped on PostgreSQL) stores what one batch on SQLite stores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from engine import planner
from engine.drive.planning import TickStats, plan_due
from engine.drive.simulate import start_cursors
from engine.importing import import_paths
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, upgrade
from engine.store.models import Action, Escalation, Outbox

from ..conftest import ROOT

DATA = Path(__file__).parent.parent / "data"
T0 = datetime(2000, 1, 3, 12, tzinfo=UTC)
A = Action.__table__  # type: ignore[attr-defined]
OUT = Outbox.__table__  # type: ignore[attr-defined]
E = Escalation.__table__  # type: ignore[attr-defined]


def planned(url: str, tmp_path: Path, batch: int) -> tuple[list[TickStats], dict[str, Any]]:
    """Import the small plan, then plan it at three instants in batches of ``batch``; return the counts and what
    was stored."""
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(
        database_url=url, rules_dir=DATA / "rules", templates_dir=ROOT / "templates", maildir=tmp_path / "mail"
    )
    import_paths(engine, [DATA / "small-owners.yaml", DATA / "small-plan.yaml"], settings, T0)
    start_cursors(engine, T0)
    rules = load_rules(DATA / "rules")
    stats = [plan_due(engine, rules, T0 + timedelta(days=days), batch=batch) for days in (1, 40, 400)]
    stored = stored_rows(engine)
    engine.dispose()
    return stats, stored


def stored_rows(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {
            "outbox": [
                tuple(r)
                for r in conn.execute(
                    select(OUT.c.key, OUT.c.status, OUT.c.due_at, OUT.c.payload, OUT.c.recipient).order_by(OUT.c.key)
                )
            ],
            "log": [tuple(r) for r in conn.execute(select(E.c.key, E.c.at, E.c.recipients).order_by(E.c.key))],
            "actions": [
                tuple(r)
                for r in conn.execute(
                    select(A.c.ref, A.c.next_fire_at, A.c.planned_through, A.c.policy).order_by(A.c.ref)
                )
            ],
        }


def test_small_batches_plan_what_one_batch_plans(database_url: str, tmp_path: Path) -> None:
    reference = planned(f"sqlite:///{tmp_path / 'reference.db'}", tmp_path, 1000)
    batched = planned(database_url, tmp_path, 2)
    assert sum(s.pending for s in reference[0]) > 0 and sum(s.escalations for s in reference[0]) > 0
    assert batched == reference


OWNER_SIDE = {"owner", "delegate"}


def example_imported_at(url: str, tmp_path: Path, first: datetime) -> Engine:
    """The example plan GB.276/TC/2 with the shipped rules, imported at ``first`` (its dates long past)."""
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(
        database_url=url, rules_dir=ROOT / "rules", templates_dir=ROOT / "templates", maildir=tmp_path / "mail"
    )
    import_paths(
        engine, [ROOT / "plans" / "owners.yaml", ROOT / "plans" / "gb276-tc2-implementation-plan.txt"], settings, first
    )
    return engine


def outbox(engine: Engine) -> list[Any]:
    query = select(A.c.ref, A.c.kind, A.c.due, A.c.policy, OUT).join(A, A.c.id == OUT.c.action_id).order_by(OUT.c.id)
    with engine.connect() as conn:
        return list(conn.execute(query).mappings())


def test_a_plan_imported_midway_tells_owners_first_one_catch_up_per_missed_deadline(tmp_path: Path) -> None:
    first = datetime(2001, 1, 15, 12, tzinfo=UTC)
    engine = example_imported_at(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, first)
    plan_due(engine, load_rules(ROOT / "rules"), first)
    rows = outbox(engine)
    said = [r for r in rows if r["status"] != "suppressed"]
    assert said and all(r["payload"]["role"] in OWNER_SIDE for r in said), "only owners hear on the first tick"
    assert all(r["reason"] for r in rows if r["status"] == "suppressed"), "nothing dropped without a reason"
    missed = {r["ref"] for r in rows if r["due"] is not None and r["due"] < first.date()}
    overdue: dict[str, list[Any]] = {}
    for r in said:
        if r["type"] == "overdue" and r["payload"]["missed"] == "due date":
            overdue.setdefault(r["ref"], []).append(r)
    assert missed and missed <= set(overdue)
    # one catch-up each: to the owner, and a copy to the owner's delegate
    assert all(len(found) == len({r["recipient"] for r in found}) for found in overdue.values())
    assert all({r["payload"]["role"] for r in found} <= OWNER_SIDE for found in overdue.values())
    assert all(r["payload"]["catch_up"] is True for found in overdue.values() for r in found)
    # the supervisors' turn comes later, from the owners' catch-up on, and never before the owner was told
    plan_due(engine, load_rules(ROOT / "rules"), first + timedelta(days=60))
    told: dict[tuple[str, str], datetime] = {}
    for r in sorted(outbox(engine), key=lambda r: (max(r["due_at"], r["created_at"]), r["id"])):
        if r["status"] == "suppressed":
            continue
        key = (r["ref"], r["occurrence"])
        if r["payload"]["role"] in OWNER_SIDE:
            told.setdefault(key, max(r["due_at"], r["created_at"]))
        else:
            assert key in told and told[key] < max(r["due_at"], r["created_at"]), (key, r["recipient"], r["step"])
    engine.dispose()


def test_event_linked_actions_resolved_to_a_date_are_reminded_as_deadlines(tmp_path: Path) -> None:
    engine = example_imported_at(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, datetime(2000, 9, 1, tzinfo=UTC))
    rules = load_rules(ROOT / "rules")
    for day in range(0, 150, 3):
        plan_due(engine, rules, datetime(2000, 9, 1, 12, tzinfo=UTC) + timedelta(days=day))
    rows = [r for r in outbox(engine) if r["ref"] in {"II.2.6", "II.3.6", "II.5.3"}]
    assert {r["kind"] for r in rows} == {"event"} and {r["policy"] for r in rows} == {"deadlines"}
    for ref in ("II.2.6", "II.3.6", "II.5.3"):
        mine = [r for r in rows if r["ref"] == ref and r["status"] != "suppressed"]
        assert [r["type"] for r in mine][:3] == ["reminder", "reminder", "reminder"], ref
        assert mine[0]["payload"]["role"] == "owner"
    engine.dispose()


AWAY_OWNERS = (
    (DATA / "small-owners.yaml")
    .read_text(encoding="utf-8")
    .replace(
        "    timezone: Europe/Zurich\n    supervisor: mid\n",
        "    timezone: Europe/Zurich\n    supervisor: mid\n    away: {from: 2000-03-17, to: 2000-04-03, deputy: luz}\n",
        1,
    )
)


def test_the_deputy_receives_what_goes_out_during_the_away_period_whenever_it_was_planned(tmp_path: Path) -> None:
    """Zora is away from 17 March to 3 April (Zurich days) and names Luz (Lima). Planning two days ahead, a reminder
    planned on 16 March for 17 March goes to Luz at her own delivery hour; an overdue notice planned on 2 April for
    4 April goes to Zora. Every tick ends (the deputy's choice never makes an action due again at once)."""
    from concurrent.futures import ThreadPoolExecutor

    from engine.zones import zone

    (tmp_path / "owners.yaml").write_text(AWAY_OWNERS, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'away.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(
        database_url=url, rules_dir=DATA / "rules", templates_dir=ROOT / "templates", maildir=tmp_path / "mail"
    )
    import_paths(engine, [tmp_path / "owners.yaml", DATA / "small-plan.yaml"], settings, T0)
    start_cursors(engine, T0)
    rules = load_rules(DATA / "rules")
    with ThreadPoolExecutor(max_workers=1) as pool:
        now = datetime(2000, 3, 1, 12, tzinfo=UTC)
        while now < datetime(2000, 4, 20, tzinfo=UTC):
            stats = pool.submit(plan_due, engine, rules, now, ahead=timedelta(days=2)).result(timeout=30)
            assert stats.actions <= 4  # each of the four actions planned at most once per tick
            now += timedelta(days=1)
    mine = [
        r
        for r in outbox(engine)
        if r["ref"] in {"I.1.1", "I.1.4"} and r["status"] != "suppressed" and r["payload"]["role"] == "owner"
    ]
    engine.dispose()
    got = {(r["step"], r["occurrence"]): r for r in mine}
    away = range(17, 35)  # 17 March to 3 April, as days of March

    def march_day(r: Any) -> int:
        local = r["due_at"].replace(tzinfo=UTC).astimezone(zone("Europe/Zurich")).date()
        return (local - date(2000, 3, 1)).days + 1

    for r in mine:
        assert r["recipient_id"] == ("luz" if march_day(r) in away else "zora"), (r["step"], r["due_at"])
        assert (r["payload"].get("in_place_of") == "zora") == (r["recipient_id"] == "luz")
    first = got[("remind:due:14d", "2000-03-31")]
    assert (first["recipient_id"], first["due_at"].replace(tzinfo=UTC)) == (
        "luz",
        datetime(2000, 3, 17, 14, tzinfo=UTC),
    )
    assert first["created_at"].replace(tzinfo=UTC) < datetime(2000, 3, 16, 23, tzinfo=UTC)  # planned before
    after = got[("escalate:1#3", "2000-03-31")]
    assert after["recipient_id"] == "zora" and after["created_at"].replace(tzinfo=UTC) < datetime(
        2000, 4, 3, tzinfo=UTC
    )
    assert {r["recipient_id"] for r in mine} == {"luz", "zora"}
    assert len({r["key"] for r in mine}) == len(mine)


def test_catch_ups_found_on_a_sunday_night_wait_for_each_recipients_delivery_hour(world) -> None:  # type: ignore[no-untyped-def]
    """The first tick after months (Sunday 14 May, 02:00 UTC: Saturday evening in Lima, Sunday in Zurich and Bangkok)
    catches up what fell due; each catch-up goes out at nine on the next business day in the recipient's own zone,
    still marked a catch-up, and no later."""
    from engine.zones import zone

    from .conftest import tick

    engine = world[0]
    now = datetime(2000, 5, 14, 2, tzinfo=UTC)
    plan_due(engine, world[1], now)
    with engine.connect() as conn:
        rows = conn.execute(select(OUT.c.key, OUT.c.status, OUT.c.due_at, OUT.c.payload)).all()
    caught = [r for r in rows if r.status != "suppressed" and r.payload.get("catch_up")]
    assert len(caught) >= 3
    for r in caught:
        local = r.due_at.astimezone(zone(r.payload["role_tz"]))
        assert (local.date(), local.hour, local.minute) == (date(2000, 5, 15), 9, 0), r.key
    assert tick(world, now).dispatched.sent == 0  # nothing goes out on the Sunday night


def test_reopening_a_done_overdue_action_starts_its_ladder_again_from_the_owner(world) -> None:  # type: ignore[no-untyped-def]
    """I.1.1 (due 31 March) climbs its whole ladder, is marked done on 15 May, and reopened on Monday 19 June:
    the log's entries closed by "done" stay closed, a new round starts, the owner hears first (the next morning,
    how late it is), and the supervisor by the ladder's offset from the reopening."""
    from engine.actions.workflow import reopen, set_status
    from engine.store import transaction

    from .conftest import tick

    engine = world[0]

    def ticks(first: date, last: date) -> None:
        day = first
        while day <= last:
            tick(world, datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=7))  # 09:00 in Zurich
            day += timedelta(days=1)

    def action(session: Any) -> Action:
        return session.exec(select(Action).where(Action.ref == "I.1.1")).scalars().one()

    ticks(date(2000, 3, 20), date(2000, 5, 14))
    with transaction(engine) as session:
        set_status(session, action(session), "done", datetime(2000, 5, 15, 12, tzinfo=UTC), who="zora", via="cli")
    ticks(date(2000, 5, 15), date(2000, 6, 18))
    reopened_at = datetime(2000, 6, 19, 10, tzinfo=UTC)
    with transaction(engine) as session:
        reopen(session, action(session), reopened_at, who="zora", via="web")
        ident = action(session).id
    ticks(date(2000, 6, 19), date(2000, 8, 31))
    with engine.connect() as conn:
        log = conn.execute(select(E.c.occurrence, E.c.level, E.c.resolution).where(E.c.action_id == ident)).all()
        rows = conn.execute(
            select(OUT.c.occurrence, OUT.c.recipient, OUT.c.type, OUT.c.due_at, OUT.c.payload)
            .where(OUT.c.action_id == ident, OUT.c.status == "sent", OUT.c.due_at > reopened_at)
            .order_by(OUT.c.due_at)
        ).all()
    done = {(level, resolution) for occurrence, level, resolution in log if occurrence == "2000-03-31"}
    assert done == {(0, "action done"), (1, "action done"), (2, "action done")}
    again = {level for occurrence, level, resolution in log if occurrence != "2000-03-31" and not resolution}
    assert again == {0, 1, 2}
    assert rows and {r.occurrence for r in rows} == {"2000-03-31 reopened 2000-06-19"}
    first = rows[0]
    assert (first.recipient, first.type, first.payload["days_overdue"]) == ("zora@example.org", "overdue", 81)
    assert first.due_at == datetime(2000, 6, 20, 7, tzinfo=UTC)  # 09:00 in Zurich, the morning after
    others = [(r.recipient, r.due_at) for r in rows if r.recipient != "zora@example.org"]
    assert others[0] == ("mid@example.org", datetime(2000, 6, 26, 7, tzinfo=UTC))  # 7 days on: Sunday, so Monday


def test_ladders_left_for_later_while_the_owner_is_reminded_first_change_nothing_planned(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """The planner skips a ladder whose date is well after a reminder still to come to the owner: what is stored,
    tick after tick, is what planning every ladder stores."""
    url = f"sqlite:///{tmp_path / 'short.db'}"
    skipped: list[bool] = []
    shortcut = planner._before_ladder

    def counted(*args: Any) -> bool:
        skipped.append(shortcut(*args))
        return skipped[-1]

    monkeypatch.setattr(planner, "_before_ladder", counted)
    short = planned(url, tmp_path / "short", 1000)
    assert any(skipped), "no ladder was left for later: the comparison says nothing"
    monkeypatch.setattr(planner, "_before_ladder", lambda *args: False)
    full = planned(f"sqlite:///{tmp_path / 'full.db'}", tmp_path / "full", 1000)
    assert short == full


def test_a_batch_short_of_full_ends_planning_only_when_no_action_is_due_again(tmp_path: Path) -> None:
    # batch=1 asks the database again after every batch; batch=7 stops after a batch that was not full (none of
    # its actions is due again: the planner's next instant is after the horizon): both store the same, and no
    # action is left due.
    def life(batch: int) -> dict[str, Any]:
        url = f"sqlite:///{tmp_path / f'life-{batch}.db'}"
        engine = example_imported_at(url, tmp_path, datetime(1999, 9, 28, tzinfo=UTC))
        start_cursors(engine, datetime(1999, 9, 28, tzinfo=UTC))
        rules = load_rules(ROOT / "rules")
        for days in range(0, 840, 20):
            now = datetime(1999, 9, 28, 9, tzinfo=UTC) + timedelta(days=days)
            ahead = timedelta(hours=days % 3)
            plan_due(engine, rules, now, batch=batch, ahead=ahead)
            with engine.connect() as conn:
                left = conn.execute(select(A.c.ref).where(A.c.next_fire_at <= now + ahead)).scalars().all()
            assert left == [], f"{left} left due at {now}"
        stored = stored_rows(engine)
        engine.dispose()
        return stored

    reference = life(1)
    assert len(reference["outbox"]) > 100
    assert life(7) == reference
