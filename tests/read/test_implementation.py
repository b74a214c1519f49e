"""The implementation report's figures (``engine.read.implementation``): on small hand-made histories, as of
a day from the history alone, and on the example plan's whole life, recomputed independently in SQL from the
outbox and the history tables."""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import select

from engine.importing import import_paths
from engine.read.implementation import (
    BANDS,
    ImplementationReport,
    Update,
    band_of,
    build_implementation,
    months_between,
    unit_names,
    units_of,
)
from engine.read.implementation_text import group_rows, paragraphs
from engine.read.queries import find_action
from engine.settings import Settings
from engine.store import make_engine, transaction, upgrade
from engine.store.followup_models import ClosureReport, ProgressUpdate
from engine.store.models import ActionChange
from engine.store.web_models import ExtensionRequest

from ..conftest import OWNERS, ROOT, SEED

PLAN = "gb276-tc2"
T0 = datetime(1999, 10, 1, tzinfo=UTC)


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    import_paths(engine, [OWNERS, SEED], Settings(database_url=database_url, rules_dir=ROOT / "rules"), T0)
    yield engine
    engine.dispose()


def change(s, ref: str, when: datetime, field: str, old: str | None, new: str | None, who: str = "t") -> None:  # type: ignore[no-untyped-def]
    """Write one change-log row as the workflow would, and the field itself (the history is what is read)."""
    action = find_action(s, ref)
    assert action.id is not None
    s.add(ActionChange(action_id=action.id, at=when, who=who, via="test", field=field, old=old, new=new))
    if field == "status" and new:
        action.status = new
    elif field == "acceptance" and new:
        action.acceptance = new
    elif field == "delay cause":
        action.delay_cause = new or ""
    elif field == "extended" and new:
        action.extended_to = date.fromisoformat(new)
    s.add(action)


def closure(s, ref: str, reported: datetime, rating: str, decided: datetime | None = None, verdict: str = "",  # type: ignore[no-untyped-def]
            theirs: str = "") -> None:  # fmt: skip
    action = find_action(s, ref)
    assert action.id is not None
    row = ClosureReport(
        action_id=action.id, reported_at=reported, reported_by=action.owner_id or "", owner_rating=rating
    )
    change(s, ref, reported, "status", "open", "reported")
    if decided is not None:
        row.status, row.decided_at, row.verifier_rating, row.decided_by = verdict, decided, theirs, "ed-devcoop"
        change(s, ref, decided, "status", "reported", "done" if verdict == "verified" else "open")
    s.add(row)


def update(s, ref: str, when: datetime, text: str, percent: int | None = None, who: str = "hrd") -> None:  # type: ignore[no-untyped-def]
    """Write one dated progress update, as ``progress`` would."""
    action = find_action(s, ref)
    assert action.id is not None
    s.add(ProgressUpdate(action_id=action.id, at=when, who=who, via="test", text=text, percent=percent))


def report(engine: Engine, day: str, since: str | None = None) -> ImplementationReport:
    with transaction(engine) as s:
        return build_implementation(s, PLAN, date.fromisoformat(day), date.fromisoformat(since) if since else None)


def rows(r: ImplementationReport) -> dict[str, object]:
    return {row.ref: row for row in r.rows}


# ------------------------------------------------------------------- hand-made histories


def test_closure_counts_only_once_verified_and_a_returned_report_opens_the_action_again(engine: Engine) -> None:
    with transaction(engine) as s:
        closure(s, "I.1a.1", at("2000-04-10"), "implemented", at("2000-04-20"), "verified", "partially_implemented")
        closure(s, "II.2.2", at("2000-04-12"), "implemented", at("2000-04-14"), "returned")
        closure(s, "II.2.3", at("2000-04-25"), "partially_implemented")  # never decided
    before = rows(report(engine, "2000-04-15"))
    after = report(engine, "2000-05-15", since="2000-04-15")
    now = rows(after)
    assert before["I.1a.1"].status == "reported" and before["I.1a.1"].verifier_rating == ""  # type: ignore[attr-defined]
    assert now["I.1a.1"].status == "implemented" and now["I.1a.1"].verified_on == date(2000, 4, 20)  # type: ignore[attr-defined]
    assert before["II.2.2"].status == "open" and now["II.2.3"].status == "reported"  # type: ignore[attr-defined]
    assert now["II.2.2"].overdue_days == 15  # due 30 April 2000, returned, not done  # type: ignore[attr-defined]
    assert after.ratings() == Counter(
        {
            ("implemented", "partially_implemented"): 1,
            ("implemented", ""): 1,  # II.2.2's report, returned: the verifier gave no rating
            ("partially_implemented", ""): 1,
        }
    )
    assert after.changes is not None
    assert after.changes.implemented == ("I.1a.1",) and after.changes.returned == ()
    earlier = report(engine, "2000-04-15", since="2000-04-01")
    assert earlier.changes is not None and earlier.changes.returned == ("II.2.2",)


def test_acceptance_is_counted_apart_and_as_it_stood_on_the_day(engine: Engine) -> None:
    with transaction(engine) as s:
        change(s, "I.1a.1", at("1999-11-01"), "acceptance", "accepted", "partially_accepted")
        change(s, "II.2.2", at("1999-11-01"), "acceptance", "accepted", "not_accepted")
        change(s, "II.2.3", at("2000-06-01"), "acceptance", "accepted", "under_consideration")  # later than the day
    r = report(engine, "2000-05-15")
    counts = r.acceptance()
    assert (counts["accepted"], counts["partially_accepted"], counts["not_accepted"]) == (len(r.rows) - 2, 1, 1)
    by_ref = rows(r)
    assert by_ref["II.2.3"].acceptance == "accepted"  # type: ignore[attr-defined]
    assert by_ref["II.2.2"].overdue_days == 0 and not by_ref["II.2.2"].counted  # type: ignore[attr-defined]
    assert by_ref["I.1a.1"].counted  # partially accepted counts as accepted  # type: ignore[attr-defined]
    assert rows(report(engine, "2000-06-30"))["II.2.3"].acceptance == "under_consideration"  # type: ignore[attr-defined]
    total = r.total()
    recurring = sum(1 for row in r.rows if row.recurring)
    assert total.accepted == len(r.rows) - 1 - recurring - sum(1 for x in r.rows if x.status == "dropped")


def test_overdue_actions_fall_in_age_bands_with_their_causes(engine: Engine) -> None:
    with transaction(engine) as s:
        change(s, "II.2.7", at("2000-03-01"), "delay cause", None, "resources")  # due 31 January 2000
        change(s, "I.3b.3", at("2000-05-01"), "delay cause", None, "awaiting a decision")  # due 31 March 2000
        change(s, "I.3b.3", at("2001-09-01"), "delay cause", "awaiting a decision", "external factors")
    r = report(engine, "2001-06-30")
    by_ref = rows(r)
    assert (by_ref["II.2.7"].band, by_ref["II.2.7"].delay_cause) == ("12 to 24 months", "resources")  # type: ignore[attr-defined]
    assert by_ref["I.3b.3"].delay_cause == "awaiting a decision"  # the later cause is not yet given  # type: ignore[attr-defined]
    bands = r.bands()
    assert bands["12 to 24 months"]["resources"] == 1 and bands["12 to 24 months"]["awaiting a decision"] == 1
    assert sum(sum(c.values()) for c in bands.values()) == len(r.overdue()) == r.total().overdue
    long = {x.ref for x in r.overdue() if x.due_in_force and months_between(x.due_in_force, date(2001, 6, 30)) >= 12}
    assert {x.ref for x in r.long_overdue()} == long and "III.a.1" in long  # due 30 June 2000: twelve months
    assert rows(report(engine, "2002-03-01"))["II.2.7"].band == "over 24 months"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("due", "day", "band"),
    [
        ("2000-01-31", "2000-07-30", "under 6 months"),
        ("2000-01-31", "2000-07-31", "6 to 12 months"),
        ("2000-02-29", "2001-02-27", "6 to 12 months"),
        ("2000-02-29", "2001-02-28", "12 to 24 months"),  # a year on, in a year without 29 February
        ("2000-01-01", "2002-01-01", "over 24 months"),
    ],
)
def test_age_bands_are_whole_months_past_the_due_date(due: str, day: str, band: str) -> None:
    start, end = date.fromisoformat(due), date.fromisoformat(day)
    assert band_of(start, (end - start).days) == band


@given(st.dates(date(1999, 1, 1), date(2003, 1, 1)), st.integers(1, 2000), st.integers(0, 400))
def test_the_age_band_never_falls_as_time_passes(due: date, days: int, more: int) -> None:
    assert BANDS.index(band_of(due, days)) <= BANDS.index(band_of(due, days + more))
    assert months_between(due, due + timedelta(days=days)) <= days // 28


@given(st.dates(date(1996, 1, 1), date(2030, 1, 1)), st.integers(0, 3000))
def test_whole_months_are_counted_as_dateutil_counts_them(start: date, days: int) -> None:
    from dateutil.relativedelta import relativedelta

    end = start + timedelta(days=days)
    gap = relativedelta(end, start)
    assert months_between(start, end) == gap.years * 12 + gap.months


def test_a_unit_is_the_top_most_supervisor_below_the_head_and_holds_its_people() -> None:
    bosses = {"dg": None, "ed": "dg", "codev": "ed", "ro-bangkok": "codev", "program": "ed", "lonely": None}
    # a single person below the head (the Executive Director): the units are the departments one step down
    units = units_of(["ro-bangkok", "codev", "program", "ed", "lonely"], bosses)
    assert units == {"ro-bangkok": "codev", "codev": "codev", "program": "program", "ed": "ed", "lonely": "lonely"}
    # three levels: a head of department's unit holds the actions of their people
    bosses = {"head": None, "finance": "head", "ana": "finance", "ben": "finance", "hr": "head", "cleo": "hr"}
    units = units_of(["ana", "ben", "cleo", "finance"], bosses)
    assert units == {"ana": "finance", "ben": "finance", "cleo": "hr", "finance": "finance"}
    assert units_of(["head"], bosses) == {"head": "head"} and units_of([], bosses) == {}


def test_a_unit_the_owners_file_names_is_kept_and_the_nearest_named_one_labels_an_owner() -> None:
    bosses: dict[str, str | None] = {"head": None, "boss": "head", "ann": "boss", "bob": "boss", "sub": "boss"}
    bosses["cara"] = "sub"
    names = {"head": "Hana", "boss": "Bea", "ann": "Ann", "bob": "Bob", "sub": "Sid", "cara": "Cara"}
    # one person below the head: the units go one step down, unless the file names that one unit
    assert units_of(["ann", "bob"], bosses) == {"ann": "ann", "bob": "bob"}
    units = units_of(["ann", "bob", "cara"], bosses, frozenset({"boss"}))
    assert units == {"ann": "boss", "bob": "boss", "cara": "boss"}
    named = {"boss": "Field Operations", "sub": "Sub-team", "head": "Office of the Head"}
    assert unit_names(units, names, named, bosses) == {"ann": "Field Operations", "bob": "Field Operations",
                                                       "cara": "Sub-team"}  # fmt: skip
    # a name above the unit's head is not the unit's: unnamed, it is shown by its head's name
    assert unit_names({"ann": "boss"}, names, {"head": "Office of the Head"}, bosses) == {"ann": "Bea"}
    assert unit_names({"ann": "boss"}, names, {"ann": "Own unit", "boss": "FO"}, bosses) == {"ann": "Own unit"}


def test_units_owners_and_parts_add_up(engine: Engine) -> None:
    with transaction(engine) as s:
        closure(s, "I.2b.2", at("2000-03-01"), "implemented", at("2000-03-02"), "verified", "implemented")
    r = report(engine, "2000-12-31")
    units = {t.label: t for t in r.by("unit")}
    assert "Somchai Prasert" not in units  # ro-bangkok's actions count under codev's unit
    assert units["Mei Tanaka"].implemented == 1
    for what in ("part", "unit", "owner"):
        groups = r.by(what)
        assert sum(t.accepted for t in groups) == r.total().accepted
        assert sum(t.implemented for t in groups) == r.total().implemented == 1
        assert sum(t.overdue for t in groups) == r.total().overdue
    assert [t.label for t in r.by("part")] == [
        "Part I: Enhancing the relevance and effectiveness of ILO technical cooperation",
        "Part II: Improving the quality, visibility, efficiency and impact of ILO technical cooperation",
        "Part III: Strengthening partnerships and resource mobilization",
    ]


def test_units_named_in_the_owners_file_label_the_report_and_outlive_a_file_without_them(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    named = OWNERS.read_text().replace(
        "    supervisor: ed-devcoop\n  - id: pardev", "    supervisor: ed-devcoop\n    unit: DEVCOOP\n  - id: pardev", 1
    )
    named = named.replace(
        "    supervisor: codev\n  - id: ro-lima", "    supervisor: codev\n    unit: RO-Bangkok\n  - id: ro-lima"
    )
    assert named.count("unit:") == 2
    (tmp_path / "owners.yaml").write_text(named)
    settings = Settings(database_url=database_url, rules_dir=ROOT / "rules")
    before = {t.label: t.accepted for t in report(engine, "2000-12-31").by("unit")}
    import_paths(engine, [tmp_path / "owners.yaml"], settings, T0 + timedelta(days=1))
    for _ in range(2):  # then the example's file again, which names no unit: the stored ones stay
        r = report(engine, "2000-12-31")
        units = {t.label: t.accepted for t in r.by("unit")}
        # codev's unit by the name its head's entry gives it; ro-bangkok by its own, apart from codev's
        assert "Mei Tanaka" not in units and "Somchai Prasert" not in units
        assert units["DEVCOOP"] + units["RO-Bangkok"] == before["Mei Tanaka"] and units["RO-Bangkok"] > 0
        assert {k: v for k, v in units.items() if k not in ("DEVCOOP", "RO-Bangkok")} == {
            k: v for k, v in before.items() if k != "Mei Tanaka"
        }
        by_ref = rows(r)
        assert by_ref["I.2b.2"].unit == "RO-Bangkok" and by_ref["II.1.1"].unit == "DEVCOOP"  # type: ignore[attr-defined]
        assert [row[0] for row in group_rows(r.by("unit"))].count("RO-Bangkok") == 1  # the report's unit table
        import_paths(engine, [OWNERS], settings, T0 + timedelta(days=2))


def test_extensions_count_as_they_stood_and_move_the_due_date(engine: Engine) -> None:
    with transaction(engine) as s:
        change(s, "II.3.1", at("2000-05-04"), "extended", "2000-05-31", "2000-09-30", who="ed-devcoop")
        change(s, "II.3.1", at("2000-09-01"), "extended", "2000-09-30", "2001-03-31", who="secretariat")
        ident = find_action(s, "II.3.1").id
        assert ident is not None
        s.add(ExtensionRequest(action_id=ident, requested_by="hrd", requested_at=at("2000-05-01"),
                               wanted=date(2000, 9, 30), from_due=date(2000, 5, 31), status="granted",
                               decided_by="ed-devcoop", decided_at=at("2000-05-04")))  # fmt: skip
    mid = report(engine, "2000-08-01")
    late = report(engine, "2000-12-01", since="2000-08-01")
    assert mid.extensions() == (1, 1, 122) and late.extensions() == (1, 2, 304)
    assert rows(mid)["II.3.1"].overdue_days == 0  # type: ignore[attr-defined]
    assert rows(report(engine, "2001-04-05"))["II.3.1"].overdue_days == 5  # type: ignore[attr-defined]
    assert late.changes is not None and late.changes.extended == ("II.3.1",)
    granted = [(ref, e.from_due, e.to, e.requested_by, e.granted_by) for ref, e in late.granted]
    assert granted == [
        ("II.3.1", date(2000, 5, 31), date(2000, 9, 30), "Kwame Mensah", "Amara Okafor"),
        ("II.3.1", date(2000, 9, 30), date(2001, 3, 31), "", "Technical Cooperation Secretariat"),
    ]
    assert len(mid.granted) == 1


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["I.1a.1", "II.2.2", "II.3.1", "III.d.4", "I.3a.1"]),
            st.integers(1, 600),
            st.sampled_from(["acceptance", "status", "delay cause", "extended", "closure", "update"]),
        ),
        max_size=8,
    )
)
def test_a_report_for_a_day_is_the_same_whatever_happens_afterwards(
    engine: Engine, later: list[tuple[str, int, str]]
) -> None:
    day = "2000-06-30"
    with transaction(engine) as s:  # a dated update on the day (late in Geneva's evening), once
        if not s.exec(select(ProgressUpdate)).first():
            update(s, "II.3.1", datetime(2000, 6, 30, 21, 30, tzinfo=UTC), "on the day", 60)
    first = report(engine, day, since="2000-03-31")
    assert rows(first)["II.3.1"].update.text == "on the day"  # type: ignore[attr-defined]
    with transaction(engine) as s:  # each example adds to the same history, after all that is there
        start = max([at("2000-07-01"), *(c.at for c in s.exec(select(ActionChange)).all())])
        for ref, offset, what in sorted(later, key=lambda e: e[1]):
            when = start + timedelta(days=offset)
            action = find_action(s, ref)
            if what == "acceptance":
                change(s, ref, when, "acceptance", action.acceptance, "not_accepted")
            elif what == "status":
                change(s, ref, when, "status", action.status, "dropped")
            elif what == "delay cause":
                change(s, ref, when, "delay cause", action.delay_cause or None, "resources")
            elif what == "update":
                update(s, ref, when, f"later news {offset}", offset % 101)
            elif what == "extended" and action.due is not None:
                old = action.extended_to or action.due
                change(s, ref, when, "extended", old.isoformat(), (old + timedelta(days=30)).isoformat())
            else:
                closure(s, ref, when, "implemented", when + timedelta(days=1), "verified", "implemented")
    again = report(engine, day, since="2000-03-31")
    assert again.rows == first.rows and again.changes == first.changes


def test_each_action_shows_its_latest_dated_update_as_of_the_day(engine: Engine) -> None:
    with transaction(engine) as s:
        update(s, "II.3.1", at("2000-05-02"), "terms of reference drafted", 20)
        update(s, "II.3.1", at("2000-06-12"), "consultant hired", who="ed-devcoop")
        update(s, "II.3.1", at("2000-07-03"), "first draft", 70)
        update(s, "II.3.2", at("2000-06-01"), "started", 5)
    june = rows(report(engine, "2000-06-30"))
    assert june["II.3.1"].update == Update(date(2000, 6, 12), None, "consultant hired", "Amara Okafor")  # type: ignore[attr-defined]
    assert june["II.3.2"].update.percent == 5 and june["I.1a.1"].update is None  # type: ignore[attr-defined]
    may = rows(report(engine, "2000-05-31", since="2000-03-31"))
    assert may["II.3.1"].update.text == "terms of reference drafted" and may["II.3.2"].update is None  # type: ignore[attr-defined]
    july = rows(report(engine, "2000-07-31"))
    assert (july["II.3.1"].update.day, july["II.3.1"].update.percent) == (date(2000, 7, 3), 70)  # type: ignore[attr-defined]


# ------------------------------------------------------------------- the example plan's life


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example plan's whole life, played once by ``planwatch demo`` into a SQLite file."""
    import os

    from engine.cli.main import run

    work = tmp_path_factory.mktemp("demo")
    for folder in ("plans", "rules", "templates"):
        shutil.copytree(ROOT / folder, work / folder)
    old = Path.cwd()
    os.chdir(work)
    try:
        assert run(["demo", "--out", str(work / "out")]) == 0
    finally:
        os.chdir(old)
    yield work / "out" / "planwatch-demo.db"


def _sql_figures(db: Path, day: date, since: date) -> dict[str, object]:
    """Recompute the report's figures in SQL and plain Python, from the outbox and the history tables only."""
    con = sqlite3.connect(db)
    cut = (day + timedelta(days=1)).isoformat()  # the plan's zone is an hour or two east of UTC: noon events only
    early = (since + timedelta(days=1)).isoformat()
    acts = {
        r[0]: {"ref": r[1], "kind": r[2], "due": r[3], "owner": r[4]}
        for r in con.execute("SELECT id, ref, kind, due, owner_id FROM action WHERE removed_at IS NULL")
    }

    def last(field: str, before: str) -> dict[int, str]:
        q = "SELECT action_id, new FROM action_change WHERE field = ? AND at < ? ORDER BY at, id"
        return {a: v for a, v in con.execute(q, (field, before))}

    def granted(before: str) -> dict[int, list[tuple[str, str]]]:
        found: dict[int, list[tuple[str, str]]] = defaultdict(list)
        q = (
            "SELECT action_id, json_extract(payload, '$.from'), json_extract(payload, '$.to') FROM outbox"
            " WHERE template = 'extension_granted' AND due_at < ? ORDER BY due_at"
        )
        for a, old, new in con.execute(q, (before,)):
            found[a].append((old, new))
        return found

    def state(before: str, as_of: date) -> dict[str, dict[str, object]]:
        status, accept, cause, ext = (
            last("status", before),
            last("acceptance", before),
            last("delay cause", before),
            granted(before),
        )
        out = {}
        for a, f in acts.items():
            acc = accept.get(a, "accepted")
            st_ = status.get(a, "open")
            due = ext[a][-1][1] if ext.get(a) else f["due"]
            open_ = st_ in {"open", "in_progress"}
            late = (
                open_
                and acc in {"accepted", "partially_accepted"}
                and f["kind"] != "recurring"
                and due
                and due < as_of.isoformat()
            )
            days = (as_of - date.fromisoformat(due)).days if late else 0
            out[f["ref"]] = {
                "counted": acc in {"accepted", "partially_accepted"} and st_ != "dropped" and f["kind"] != "recurring",
                "done": st_ == "done",
                "reported": st_ == "reported",
                "overdue": days,
                "cause": cause.get(a, "") if late else "",
                "owner": f["owner"],
                "extensions": len(ext.get(a, [])),
                "days_added": sum((date.fromisoformat(n) - date.fromisoformat(o)).days for o, n in ext.get(a, [])),
                "acceptance": acc,
            }
        return out

    now, then = state(cut, day), state(early, since)
    q = "SELECT DISTINCT action_id FROM outbox WHERE template = 'closure_returned' AND due_at >= ? AND due_at < ?"
    returned = {acts[a]["ref"] for (a,) in con.execute(q, (early, cut))}
    q = "SELECT DISTINCT json_extract(payload, '$.report_id') FROM outbox WHERE template = 'verification_request'"
    asked = {r for (r,) in con.execute(q)}
    reports = {r for (r,) in con.execute("SELECT id FROM closure_report")}
    ratings = Counter(
        (own, theirs if decided and decided < cut else "")
        for own, theirs, decided in con.execute(
            "SELECT owner_rating, verifier_rating, decided_at FROM closure_report c WHERE occurrence = '' AND"
            " reported_at < ? AND id = (SELECT max(id) FROM closure_report d WHERE d.action_id = c.action_id"
            " AND d.occurrence = '' AND d.reported_at < ?)",
            (cut, cut),
        )
    )
    con.close()
    return {"now": now, "then": then, "returned": returned, "asked": asked, "reports": reports, "ratings": ratings}


def test_the_example_plans_life_gives_figures_an_independent_count_agrees_with(demo: Path) -> None:
    day, since = date(2001, 12, 31), date(2001, 6, 30)
    engine = make_engine(f"sqlite:///{demo}")
    try:
        with transaction(engine) as s:
            r = build_implementation(s, PLAN, day, since)
    finally:
        engine.dispose()
    sql = _sql_figures(demo, day, since)
    now, then = sql["now"], sql["then"]
    assert isinstance(now, dict) and isinstance(then, dict)
    mine = {row.ref: row for row in r.rows}
    assert set(mine) == set(now)
    counted = [ref for ref, f in now.items() if f["counted"]]
    total = r.total()
    assert total.accepted == len(counted)
    assert total.implemented == sum(1 for ref in counted if now[ref]["done"])
    assert total.reported == sum(1 for ref in counted if now[ref]["reported"]) >= 1  # II.3.6 awaits verification
    assert total.implemented >= 20 and total.percent.endswith("%")
    for ref, f in now.items():
        row = mine[ref]
        assert (row.overdue_days, row.delay_cause, row.extensions, row.days_added, row.acceptance) == (
            f["overdue"], f["cause"], f["extensions"], f["days_added"], f["acceptance"],
        ), ref  # fmt: skip
    # the life has every kind of follow-up: acceptance decisions, returns, causes, extensions, both ratings
    assert {f["acceptance"] for f in now.values()} == {"accepted", "partially_accepted", "not_accepted",
                                                       "under_consideration"}  # fmt: skip
    assert {x.delay_cause for x in r.overdue()} >= {"resources", "depends on another action", "other"}
    assert r.extensions() == (2, 2, sum(f["days_added"] for f in now.values()))  # type: ignore[misc]
    assert r.ratings() == sql["ratings"]
    asked = {(ref, e.requested_by, e.granted_by, e.to) for ref, e in r.granted}
    assert asked == {
        ("II.3.4", "", "Amara Okafor", date(2000, 7, 31)),  # granted on the supervisor's own motion
        ("I.3a.1", "Ingrid Solberg", "Amara Okafor", date(2001, 6, 30)),  # asked for, then granted
    }
    assert ("implemented", "partially_implemented") in r.ratings()
    assert sql["asked"] == sql["reports"]  # every report asked its verifier, through the outbox
    # compared with the earlier day
    assert r.changes is not None
    assert set(r.changes.implemented) == {ref for ref in counted if now[ref]["done"] and not then[ref]["done"]}
    assert set(r.changes.overdue) == {ref for ref in now if now[ref]["overdue"] and not then[ref]["overdue"]}
    assert set(r.changes.returned) == sql["returned"]
    assert r.changes.earlier.implemented == sum(1 for f in then.values() if f["counted"] and f["done"])
    long = {ref for ref, f in now.items() if f["overdue"] and months_between(
        date.fromisoformat(str(mine[ref].due_in_force)), day) >= 12}  # fmt: skip
    assert {x.ref for x in r.long_overdue()} == long and long
    earlier = build_implementation_on(demo, since, date(2000, 12, 31))
    assert earlier.changes is not None and earlier.changes.returned == ()
    assert "II.5.1" in build_implementation_on(demo, date(2000, 12, 31), date(2000, 12, 1)).changes.returned  # type: ignore[union-attr]


def build_implementation_on(db: Path, day: date, since: date) -> ImplementationReport:
    engine = make_engine(f"sqlite:///{db}")
    try:
        with transaction(engine) as s:
            return build_implementation(s, PLAN, day, since)
    finally:
        engine.dispose()


def test_in_the_example_plans_life_returned_reports_come_back_and_are_verified(demo: Path) -> None:
    """Returns, recomputed from the outbox: each returned action was reported again and verified by the end, and the
    report compared over the half-year in which they were returned names exactly those."""
    con = sqlite3.connect(demo)
    q = (
        "SELECT a.ref, min(o.due_at) FROM outbox o JOIN action a ON a.id = o.action_id"
        " WHERE o.template = 'closure_returned' GROUP BY a.ref"
    )
    returned = dict(con.execute(q).fetchall())
    verified_after = {
        ref
        for ref, at in returned.items()
        for (n,) in con.execute(
            "SELECT count(*) FROM closure_report c JOIN action a ON a.id = c.action_id"
            " WHERE a.ref = ? AND c.status = 'verified' AND c.reported_at > ?",
            (ref, at),
        )
        if n
    }
    con.close()
    assert set(returned) == {"III.a.1", "II.5.1", "II.2.5"} == verified_after
    end = build_implementation_on(demo, date(2001, 12, 31), date(2000, 6, 1))
    rows = {r.ref: r for r in end.rows}
    assert all(rows[ref].status == "implemented" and rows[ref].verifier_rating for ref in returned)
    assert end.changes is not None and set(end.changes.returned) == set(returned)  # every return since June 2000
    assert "returned to their owners by the verifier (II.2.5, II.5.1, III.a.1)" in paragraphs(end)[-1]


def test_in_the_example_plans_life_stale_reminders_follow_the_history(demo: Path) -> None:
    """Stale reminders, recomputed from the change log: each went to an ongoing action's owner when nothing had been
    reported since the day it names, for at least the rules' four months (90 days when unscheduled); an update
    after it stops its ladder."""
    con = sqlite3.connect(demo)
    q = (
        "SELECT a.id, a.ref, a.kind, o.due_at, json_extract(o.payload, '$.since'), o.recipient_id, a.owner_id"
        " FROM outbox o JOIN action a ON a.id = o.action_id WHERE o.template = 'stale' AND o.status = 'sent'"
    )
    stale = con.execute(q).fetchall()
    plan_day = con.execute("SELECT ref_date FROM plan").fetchone()[0]
    assert {ref for _, ref, *_ in stale} >= {"I.4b.1", "II.5.2"}  # the two owners who went quiet in 2001
    for action_id, ref, kind, sent, since, recipient, owner in stale:
        last = con.execute(
            "SELECT max(date(at)) FROM action_change WHERE action_id = ? AND field = 'progress' AND at < ?",
            (action_id, sent),
        ).fetchone()[0]
        assert since == (last or plan_day), ref  # quiet since the last update, or since the plan came
        quiet = (date.fromisoformat(sent[:10]) - date.fromisoformat(since)).days
        assert kind in {"start", "continuous", "event", "unscheduled"}, ref
        assert quiet >= (90 if kind == "unscheduled" else 120), (ref, quiet)
        assert recipient in {owner, "secretariat"}, ref  # the owner (and the secretariat where it shares it)
    ladder = {
        ref: n
        for ref, n in con.execute(
            "SELECT a.ref, count(*) FROM outbox o JOIN action a ON a.id = o.action_id"
            " WHERE o.type = 'escalation' AND o.occurrence LIKE 'stale %' AND o.due_at > '2001-01-01' GROUP BY a.ref"
        )
    }
    con.close()
    assert ladder == {"II.5.2": 1}  # I.4b.1's owner answered within 14 days; II.5.2's did only after the ladder began
