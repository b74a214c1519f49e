"""Rehearsals for the CLI: simulations on a scratch copy or, with commit, the real store; replay files; previews."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from engine.drive.rehearse import day_start, preview_day, run_simulation, scratch
from engine.drive.simulate import start_cursors
from engine.importing import import_paths
from engine.mail.render import Renderer
from engine.rules.loader import RuleSet, load_rules
from engine.settings import Settings
from engine.store import make_engine, tables, upgrade

from ..conftest import ROOT, snapshot

DATA = Path(__file__).parent.parent / "data"
T0 = datetime(2000, 1, 3, 12, tzinfo=UTC)


@pytest.fixture
def small(database_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Settings, RuleSet, Renderer]]:
    """The small plan and its owners in a fresh database, cursors at T0."""
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(
        database_url=database_url, rules_dir=DATA / "rules", templates_dir=ROOT / "templates", maildir=tmp_path / "mail"
    )
    import_paths(engine, [DATA / "small-owners.yaml", DATA / "small-plan.yaml"], settings, T0)
    start_cursors(engine, T0)
    yield engine, settings, load_rules(DATA / "rules"), Renderer([ROOT / "templates"])
    engine.dispose()


def refs(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(tables.ACTION.c.ref).order_by(tables.ACTION.c.ref)).scalars())


def test_a_day_starts_at_midnight_utc() -> None:
    assert day_start(date(2000, 3, 31)) == datetime(2000, 3, 31, tzinfo=UTC)


def test_a_scratch_copy_is_a_throwaway_sqlite_file_and_commit_gives_the_real_store(
    small: tuple[Engine, Settings, RuleSet, Renderer], tmp_path: Path
) -> None:
    engine = small[0]
    with scratch(engine, False, tmp_path / "box") as (copy, box):
        assert copy is not engine and copy.dialect.name == "sqlite" and box != tmp_path / "box"
        assert refs(copy) == refs(engine) == ["I.1.1", "I.1.2", "I.1.3", "I.1.4"]
        path = Path(str(copy.url.database))
        assert path.exists()
    assert not path.exists()  # gone with the rehearsal
    with scratch(engine, True, tmp_path / "box") as (same, box):
        assert (same, box) == (engine, tmp_path / "box")


def test_a_simulation_without_commit_leaves_the_store_as_it_was(
    small: tuple[Engine, Settings, RuleSet, Renderer],
) -> None:
    engine, settings, rules, renderer = small
    before = snapshot(settings.database_url)
    result = run_simulation(
        engine, settings, rules, renderer, date(2000, 1, 3), date(2000, 4, 30), None, show_progress=False
    )
    assert len(result.notifications) > 10 and result.ticks > 0
    assert snapshot(settings.database_url) == before
    assert not settings.maildir.exists()  # on a scratch copy nobody reads the messages


def test_a_committed_simulation_with_a_replay_file_writes_the_store_and_the_maildir(
    small: tuple[Engine, Settings, RuleSet, Renderer], tmp_path: Path
) -> None:
    engine, settings, rules, renderer = small
    replay = tmp_path / "replay.yaml"
    replay.write_text("- {at: 2000-03-01, action: I.1.1, event: done, by: zora}\n")
    before = snapshot(settings.database_url)
    result = run_simulation(
        engine, settings, rules, renderer, date(2000, 1, 3), date(2000, 4, 30), replay, commit=True, show_progress=False
    )
    assert result.replayed == 1
    assert not [n for n in result.notifications if n["action"] == "I.1.1" and n["sent_at"] > "2000-03-02"]
    assert snapshot(settings.database_url) != before
    assert len(list((settings.maildir / "new").iterdir())) == len(result.notifications)


def test_a_days_preview_lists_that_days_messages_only(small: tuple[Engine, Settings, RuleSet, Renderer]) -> None:
    engine, settings, rules, renderer = small
    rows = preview_day(engine, settings, rules, renderer, date(2000, 3, 17))
    assert rows and all(r["sent_at"].startswith("2000-03-17") for r in rows)
    assert {r["action"] for r in rows if r["step"] == "remind:due:14d"} == {"I.1.1", "I.1.2", "I.1.3"}
