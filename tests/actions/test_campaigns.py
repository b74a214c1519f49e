"""Update campaigns: one request and one message per owner with open actions due soon or overdue; updates given on
the bulk page are dated records that count as the owner's answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from engine.actions.campaigns import (
    Entry,
    campaign_progress,
    campaigns_of,
    count_answers,
    find_campaign,
    save_updates,
    start_campaign,
    to_update,
)
from engine.actions.evidence import EvidenceStore
from engine.errors import UsageError
from engine.store import transaction
from engine.store.followup_models import Campaign, CampaignRequest, Evidence, ProgressUpdate
from engine.store.models import Action, Outbox, Owner, Plan
from engine.zones import zone

from ..web_support import NOW, web_world

PDF = b"%PDF-1.4\n%%EOF\n"
# open actions of the example at NOW (2000-06-01, Zurich) due within 45 days or overdue, by owner
ASKED = {
    "codev": ["II.2.7", "II.2.2", "II.2.3"],
    "hrd": ["II.3.1", "II.3.2", "II.3.4"],
    "norms": ["I.3b.3"],
    "pardev": ["III.d.1", "III.a.1", "III.a.2", "III.a.3", "III.b.1", "III.d.4"],
    "program": ["I.1a.1"],
}


@pytest.fixture
def world(database_url: str) -> Iterator[Engine]:
    engine = web_world(database_url)
    yield engine
    engine.dispose()


def _plan(session: Session) -> Plan:
    return session.exec(select(Plan)).one()


def _action(session: Session, ref: str) -> Action:
    return session.exec(select(Action).where(Action.ref == ref)).one()


def _asked(session: Session, campaign: Campaign) -> dict[str, list[str]]:
    return {a.owner_id: a.actions for a in campaign_progress(session, campaign)}


def test_every_owner_with_actions_due_soon_or_overdue_is_asked_once(world: Engine) -> None:
    with transaction(world) as session:
        campaign = start_campaign(
            session, _plan(session), NOW, who="secretariat", respond_by=date(2000, 6, 15), note="For the report."
        )
    with transaction(world) as session:
        assert _asked(session, campaign) == ASKED
        rows = session.exec(select(Outbox).where(Outbox.template == "campaign")).all()
        assert sorted(r.recipient_id or "" for r in rows) == sorted(ASKED)
        mine = next(r for r in rows if r.recipient_id == "codev")
        assert (mine.action_id, mine.type, mine.recipient, mine.status) == (
            None,
            "campaign",
            "mei.tanaka@example.org",
            "pending",
        )
        assert [i["ref"] for i in mine.payload["items"]] == ASKED["codev"]
        assert mine.payload["items"][0]["headline"] == "122 days overdue (due 31 January 2000)"
        assert mine.payload["campaign"]["respond_by_long"] == "15 June 2000"
        assert mine.payload["campaign"]["note"] == "For the report."
        stored = session.get(Campaign, campaign.id)
        assert stored is not None and (stored.within_days, stored.respond_by) == (45, date(2000, 6, 15))
        assert stored.title == "Update of 1 June 2000"


def test_without_overdue_only_the_actions_due_soon_count(world: Engine) -> None:
    with transaction(world) as session:
        campaign = start_campaign(
            session, _plan(session), NOW, who="secretariat", within_days=29, include_overdue=False
        )
        assert _asked(session, campaign) == {"pardev": ["III.a.1", "III.a.2", "III.a.3", "III.b.1", "III.d.4"]}


def test_done_reported_on_hold_and_not_accepted_actions_are_not_asked(world: Engine) -> None:
    with transaction(world) as session:
        _action(session, "I.1a.1").status = "done"
        _action(session, "I.3b.3").status = "reported"
        _action(session, "II.2.7").status = "on_hold"
        _action(session, "II.2.2").acceptance = "not_accepted"
    with transaction(world) as session:
        found = {a.ref for a in to_update(session, NOW, plan_id="gb276-tc2")}
        assert not found & {"I.1a.1", "I.3b.3", "II.2.7", "II.2.2"} and "II.2.3" in found


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"within_days": 0}, "--within 0: expected a number of days from 1 to 366"),
        ({"within_days": 400}, "--within 400: expected a number of days from 1 to 366"),
        ({"respond_by": date(2000, 5, 31)}, "--respond-by 2000-05-31 is before today (2000-06-01)"),
        ({"within_days": 1, "include_overdue": False}, "no open action of gb276-tc2 is due within 1 days: nobody"),
    ],
)
def test_a_campaign_that_cannot_work_is_refused_and_changes_nothing(
    world: Engine, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError) as caught, transaction(world) as session:
        start_campaign(session, _plan(session), NOW, who="secretariat", **changes)  # type: ignore[arg-type]
    assert message in str(caught.value)
    with transaction(world) as session:
        assert session.exec(select(Campaign)).all() == []
        assert session.exec(select(Outbox).where(Outbox.template == "campaign")).all() == []


def _ids(session: Session, *refs: str) -> list[int]:
    return [_action(session, r).id or 0 for r in refs]


def test_updates_on_the_page_are_dated_records_and_answer_the_campaign(world: Engine, tmp_path: Path) -> None:
    with transaction(world) as session:
        campaign = start_campaign(session, _plan(session), NOW, who="secretariat")
    later = NOW + timedelta(days=2)
    store = EvidenceStore(folder=tmp_path)
    with transaction(world) as session:
        first, second, third = _ids(session, "II.2.7", "II.2.2", "II.2.3")
        entries = [
            Entry(first, text="Drafted", percent=40, file_name="draft.pdf", file_data=PDF),
            Entry(second, text="", percent=None),  # left empty: no update
            Entry(third, text="Waiting for the donors", state="at risk"),
        ]
        made = save_updates(session, "codev", entries, later, via="web", store=store, campaign_id=campaign.id)
        assert len(made) == 2
    with transaction(world) as session:
        updates = session.exec(select(ProgressUpdate).order_by(ProgressUpdate.id)).all()  # type: ignore[arg-type]
        assert [(u.action_id, u.text, u.percent, u.state, u.campaign_id, u.at) for u in updates] == [
            (first, "Drafted", 40, "on track", campaign.id, later),
            (third, "Waiting for the donors", None, "at risk", campaign.id, later),
        ]
        evidence = session.exec(select(Evidence)).one()
        assert (evidence.update_id, evidence.name, evidence.action_id) == (updates[0].id, "draft.pdf", first)
        assert _action(session, "II.2.7").status == "in_progress"
        answers = {a.owner_id: a for a in campaign_progress(session, campaign)}
        assert (answers["codev"].answered_at, answers["codev"].updated) == (later, 2)
        assert answers["hrd"].answered_at is None
        assert [a.owner_id for a in campaign_progress(session, campaign)][-1] == "codev"  # answered ones last


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"ref": "I.1a.1", "text": "x"}, "is not one of yours; reload the page"),
        ({"ref": "II.2.7", "text": "x", "percent": 140}, "II.2.7: percent complete 140 is not between 0 and 100"),
        ({"ref": "II.2.7", "text": "x", "state": "late"}, "II.2.7: choose on track or at risk"),
        ({"ref": "II.2.7", "text": "x", "file_name": "a.exe", "file_data": b"MZ\x90"}, "II.2.7: a.exe: .exe files"),
    ],
)
def test_one_bad_row_refuses_the_whole_page(world: Engine, entry: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as caught, transaction(world) as session:
        good = Entry(_ids(session, "II.2.2")[0], text="fine")
        fields = dict(entry)
        ref = str(fields.pop("ref"))
        bad = Entry(_ids(session, ref)[0], **fields)  # type: ignore[arg-type]
        save_updates(session, "codev", [good, bad], NOW, via="web", store=EvidenceStore())
    assert message in str(caught.value)
    with transaction(world) as session:
        assert session.exec(select(ProgressUpdate)).all() == []


def test_a_closed_campaign_no_longer_counts_answers(world: Engine) -> None:
    with transaction(world) as session:
        campaign = start_campaign(session, _plan(session), NOW, who="secretariat")
        campaign.closed_at = NOW
        session.add(campaign)
    with transaction(world) as session:
        assert count_answers(session, "norms", _ids(session, "I.3b.3"), NOW) == 0
        request = session.exec(select(CampaignRequest).where(CampaignRequest.owner_id == "norms")).one()
        assert request.answered_at is None


def test_the_newest_campaign_is_found_by_default(world: Engine) -> None:
    with transaction(world) as session:
        with pytest.raises(UsageError, match="no campaign yet"):
            find_campaign(session, None)
        first = start_campaign(session, _plan(session), NOW, who="secretariat")
        second = start_campaign(session, _plan(session), NOW + timedelta(days=30), who="secretariat")
        assert find_campaign(session, None).id == second.id
        assert find_campaign(session, first.id).id == first.id
        assert [c.id for c in campaigns_of(session)] == [second.id, first.id]
        with pytest.raises(UsageError, match="no campaign 99"):
            find_campaign(session, 99)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    updates=st.lists(
        st.tuples(st.sampled_from(["I.3b.3", "II.3.1", "II.3.2", "II.3.4"]), st.integers(0, 100)), max_size=6
    )
)
def test_the_updated_count_is_the_number_of_asked_actions_updated(
    tmp_path: Path, updates: list[tuple[str, int]]
) -> None:
    """Whatever owners update and in whatever order, each request's count equals its updates of asked actions."""
    url = f"sqlite:///{tmp_path}/h{abs(hash(tuple(updates)))}.db"
    engine = web_world(url)
    try:
        with transaction(engine) as session:
            campaign = start_campaign(session, _plan(session), NOW, who="secretariat")
        for n, (ref, percent) in enumerate(updates):
            with transaction(engine) as session:
                action = _action(session, ref)
                owner = action.owner_id or ""
                save_updates(
                    session, owner, [Entry(action.id or 0, percent=percent)], NOW + timedelta(hours=n), via="web",
                    store=EvidenceStore(),
                )  # fmt: skip
        with transaction(engine) as session:
            answers = {a.owner_id: a for a in campaign_progress(session, campaign)}
            for owner in ("norms", "hrd"):
                mine = [r for r, _ in updates if _action(session, r).owner_id == owner]
                assert answers[owner].updated == len(mine)
                assert (answers[owner].answered_at is None) == (not mine)
    finally:
        engine.dispose()


def test_an_update_through_a_messages_link_or_the_command_line_also_answers(world: Engine) -> None:
    from engine.actions.workflow import progress

    with transaction(world) as session:
        progress(session, _action(session, "I.3b.3"), NOW - timedelta(days=1), who="norms", via="cli", note="before")
        campaign = start_campaign(session, _plan(session), NOW, who="secretariat")
    with transaction(world) as session:
        assert {a.owner_id: a.answered_at for a in campaign_progress(session, campaign)}["norms"] is None
        progress(session, _action(session, "I.3b.3"), NOW + timedelta(hours=3), who="norms", via="email link", note="x")
    with transaction(world) as session:
        norms = {a.owner_id: a for a in campaign_progress(session, campaign)}["norms"]
        assert (norms.answered_at, norms.updated) == (NOW + timedelta(hours=3), 1)


def test_the_campaign_message_goes_out_with_a_link_per_action_and_one_to_the_page(world: Engine) -> None:
    from email import message_from_bytes
    from email import policy as email_policy

    from engine.channels import MemoryChannel
    from engine.drive.dispatch import dispatch
    from engine.mail.messages import as_bytes
    from engine.mail.render import MailIdentity, Renderer

    from ..conftest import ROOT

    with transaction(world) as session:
        start_campaign(session, _plan(session), NOW, who="secretariat", respond_by=date(2000, 6, 15))
    channel = MemoryChannel()
    identity = MailIdentity(base_url="https://plans.example.org", secret_key="k" * 32)
    stats = dispatch(world, channel, Renderer([ROOT / "templates"], identity), NOW + timedelta(minutes=1))
    assert stats.sent == len(ASKED)
    hrd = next(m for m in channel.messages if "kwame.mensah" in str(m["To"]))
    parsed = message_from_bytes(as_bytes(hrd), policy=email_policy.default)
    assert str(parsed["Subject"]) == "GB.276/TC/2: please update your 3 actions by 15 June 2000"
    plain = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert plain.count("https://plans.example.org/updates/") == 1
    assert plain.count("/progress") == 3 and "[II.3.4]" in plain
    with transaction(world) as session:
        assert {r.status for r in session.exec(select(Outbox).where(Outbox.template == "campaign")).all()} == {"sent"}


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("fr", "[II.3.1] 1 jour de retard (échéance : 31 mai 2000)"),
        ("es", "[II.3.1] 1 día de retraso"),
    ],
)
def test_the_campaign_message_lists_the_actions_in_the_owners_language(world: Engine, language: str, line: str) -> None:
    from engine.store.models import Owner

    with transaction(world) as session:
        owner = session.get(Owner, "hrd")
        assert owner is not None
        owner.language = language
        session.add(owner)
    with transaction(world) as session:
        start_campaign(session, _plan(session), NOW, who="secretariat", respond_by=date(2000, 6, 15))
    with transaction(world) as session:
        row = next(
            r for r in session.exec(select(Outbox).where(Outbox.template == "campaign")) if r.recipient_id == "hrd"
        )
        first = row.payload["items"][0]
        assert f"[{first['ref']}] {first['headline']}".startswith(line)
        assert "overdue" not in first["headline"] and "day" not in first["headline"].split()
        assert row.payload["campaign"]["respond_by_long"] in ("15 juin 2000", "15 de junio de 2000")


def test_each_owner_is_asked_in_their_own_working_day(world: Engine) -> None:
    # started at 09:30 UTC: 11:30 in Geneva (at once), but 04:30 in Bogota: there, at nine
    started = datetime(2000, 6, 1, 9, 30, tzinfo=UTC)
    with transaction(world) as session:
        session.get(Owner, "codev").timezone = "America/Bogota"  # type: ignore[union-attr]
        session.flush()
        start_campaign(session, _plan(session), started, who="secretariat")
    with transaction(world) as session:
        due = {r.recipient_id: r.due_at for r in session.exec(select(Outbox).where(Outbox.template == "campaign"))}
        assert due["codev"] == datetime(2000, 6, 1, 14, tzinfo=UTC)  # 09:00 in Bogota
        assert due["pardev"] == started
        for owner_id, at in due.items():
            owner = session.get(Owner, owner_id)
            assert owner is not None and at.astimezone(zone(owner.timezone)).time() >= time(9, 0)
