"""The follow-up tables on a real SQLite file and on PostgreSQL: a closure report with a stored file, kept."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from engine.store import Action, ClosureReport, Evidence, Plan, ProgressUpdate, make_engine, transaction, upgrade

NOW = datetime(2000, 5, 2, 9, tzinfo=UTC)


def test_a_report_its_evidence_and_updates_are_kept(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with transaction(engine) as session:
        session.add(
            Plan(id="p", title="t", ref_date=date(1999, 9, 28), timezone="UTC", imported_at=NOW, updated_at=NOW)
        )
        session.flush()
        action = Action(plan_id="p", ref="I.1", section_key="I", ordinal=1, title="x", created_at=NOW, updated_at=NOW)
        session.add(action)
        session.flush()
        assert action.id is not None and action.acceptance == "accepted"
        report = ClosureReport(action_id=action.id, reported_at=NOW, reported_by="amina", links=["https://ilo.org/r"])
        session.add(report)
        session.flush()
        session.add(Evidence(action_id=action.id, closure_id=report.id, name="r.pdf", data=b"%PDF-1.4\x00", at=NOW))
        session.add(ProgressUpdate(action_id=action.id, at=NOW, who="amina", text="drafted", percent=40))
    with transaction(engine) as session:
        kept = session.exec(select(ClosureReport)).one()
        assert (kept.status, kept.links, kept.reported_at) == ("reported", ["https://ilo.org/r"], NOW)
        assert session.exec(select(Evidence)).one().data == b"%PDF-1.4\x00"
        assert session.exec(select(ProgressUpdate)).one().percent == 40
    engine.dispose()
