"""plan_due in many small batches (overlapped on PostgreSQL) stores what one batch on SQLite stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

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
