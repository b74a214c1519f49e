"""Shared fixtures: real SQLite files (and PostgreSQL when configured), the CLI in-process."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import MetaData, create_engine, text

from engine.cli.main import run

# pytest-xdist's workers set COLUMNS=80 (the width of its own terminal). The CLI sizes its tables by COLUMNS,
# so a worker would print the narrow tables of an 80-column terminal where a single process prints them whole.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)

# Longer local runs of the plan-lives invariants (tests/drive/test_simulate_lives.py):
# pytest tests/drive/test_simulate_lives.py --hypothesis-profile=lives-long
settings.register_profile(
    "lives-long", max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True
)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "plans" / "gb276-tc2-implementation-plan.txt"
OWNERS = ROOT / "plans" / "owners.yaml"


def postgres_admin_url() -> str | None:
    """Return the PostgreSQL server URL for tests, or None; in CI a missing one is an error."""
    url = os.environ.get("PLANWATCH_TEST_POSTGRES_URL") or None  # set but empty counts as not set
    if not url and os.environ.get("CI"):
        raise RuntimeError("CI is set but PLANWATCH_TEST_POSTGRES_URL is not: the PostgreSQL pass must run in CI")
    return url


@contextmanager
def fresh_postgres_database(*, durable: bool) -> Iterator[str]:
    """Yield a URL of a fresh PostgreSQL database, dropped afterwards. Unless ``durable``, its commits do not wait
    for the disk (``synchronous_commit`` off for the database): the tests never crash this server, and the run's
    thousands of commits (a schema and its migrations for each test) would otherwise each wait for an fsync."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("PLANWATCH_TEST_POSTGRES_URL is not set")
    name = f"planwatch_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        if not durable:
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Yield a URL of a fresh PostgreSQL database for this test run (for each pytest-xdist worker), dropped
    afterwards; its commits do not wait for the disk."""
    with fresh_postgres_database(durable=False) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_durable_server() -> Iterator[str]:
    """Like ``postgres_server``, with the server's own commit settings (``synchronous_commit`` on): for the tests,
    marked ``durable_commits``, of what planwatch sets for its connections."""
    with fresh_postgres_database(durable=True) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, and PostgreSQL under the ``postgres`` marker (a schema of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'planwatch.db'}"
        return
    durable = request.node.get_closest_marker("durable_commits") is not None
    server = request.getfixturevalue("postgres_durable_server" if durable else "postgres_server")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{server}?options=-csearch_path%3D{schema}"
    with engine.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project-like folder (plans/, rules/ and templates/ copied) that is the working directory."""
    shutil.copytree(ROOT / "plans", tmp_path / "plans")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".cache"))
    monkeypatch.delenv("PLANWATCH_DATABASE_URL", raising=False)
    return tmp_path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], workdir: Path, database_url: str):  # type: ignore[no-untyped-def]
    """Run ``planwatch ARGS`` in-process against the test database; return code, stdout, stderr."""

    def invoke(*args: str, db: str | None = None) -> Result:
        capsys.readouterr()
        code = run(["--db", db or database_url, *args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    invoke.url = database_url  # type: ignore[attr-defined]
    if not database_url.startswith("sqlite"):
        # A server database is upgraded on purpose, never as a side effect of another command.
        assert invoke("db", "upgrade").code == 0
    return invoke


def bring_pending_due(url: str) -> int:
    """Make every pending message due an hour ago, as if its recipient's working day had come (a message
    queued from the command line waits for it, and the command line reads the real clock); return how many."""
    from datetime import UTC, datetime, timedelta

    from engine.store.tables import OUTBOX

    engine = create_engine(url)
    with engine.begin() as conn:
        count = conn.execute(
            OUTBOX.update().where(OUTBOX.c.status == "pending").values(due_at=datetime.now(UTC) - timedelta(hours=1))
        ).rowcount
    engine.dispose()
    return count


def snapshot(url: str) -> dict[str, list[tuple[object, ...]]] | None:
    """Return every row of every table (sorted), or None when the SQLite file does not exist."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        data = {
            name: sorted((tuple(map(repr, row)) for row in conn.execute(table.select())), key=repr)
            for name, table in meta.tables.items()
        }
    engine.dispose()
    return data  # type: ignore[return-value]
