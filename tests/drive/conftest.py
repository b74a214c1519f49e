"""The small plan's world that the drive's tests share: its owners in a fresh database, cursors at T0."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from engine.channels.maildir import MaildirChannel
from engine.drive.simulate import start_cursors
from engine.drive.tick import run_tick
from engine.importing import import_paths
from engine.mail.render import Renderer
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, transaction, upgrade
from engine.store.models import Outbox

from ..conftest import ROOT

DATA = Path(__file__).parent.parent / "data"
T0 = datetime(2000, 1, 3, 12, tzinfo=UTC)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[tuple[Any, ...]]:
    """The small plan and its owners in a fresh database, cursors at T0."""
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(
        database_url=database_url, rules_dir=DATA / "rules", templates_dir=ROOT / "templates", maildir=tmp_path / "mail"
    )
    import_paths(engine, [DATA / "small-owners.yaml", DATA / "small-plan.yaml"], settings, T0)
    start_cursors(engine, T0)
    yield engine, load_rules(DATA / "rules"), MaildirChannel(tmp_path / "mail"), Renderer([ROOT / "templates"])
    engine.dispose()


def outbox(engine: Engine) -> list[Outbox]:
    """Every outbox row, in planned order."""
    with transaction(engine) as session:
        return list(session.exec(select(Outbox).order_by(Outbox.due_at, Outbox.key)).scalars())


def tick(world: tuple[Any, ...], at: datetime) -> Any:
    """One tick of the world at ``at``."""
    engine, rules, channel, renderer = world
    return run_tick(engine, rules, channel, renderer, at)
