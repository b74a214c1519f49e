"""Engines, transactions and schema upgrades (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlmodel import Session, create_engine

from engine.errors import InputError, OperationalError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
HEAD = "0012"
CONNECT_TIMEOUT = 10  # seconds to wait for a database server to answer a new connection


def make_engine(url: str) -> Engine:
    """Return an engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(
            f"database URL {url!r} is not a URL; expected e.g. sqlite:///planwatch.db "
            "or postgresql+psycopg://user@host/db"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_path(parsed.database)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pre_ping: a connection cut by a server restart is replaced, not handed out; the timeout keeps
    # a job from hanging on an unreachable host (and SIGTERM from waiting for it) for minutes.
    timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT}
    return create_engine(url, pool_pre_ping=True, connect_args=timeout)


def _check_sqlite_path(database: str | None) -> None:
    if not database or database == ":memory:":
        return
    parent = Path(database).expanduser().resolve().parent
    if not parent.is_dir():
        raise InputError(f"database folder {parent} does not exist; create it or choose another --db")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def is_embedded(engine: Engine) -> bool:
    """Return True for SQLite, which planwatch upgrades without being asked."""
    return engine.dialect.name == "sqlite"


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision the database is at, or None for an empty database.

    A database that has a schema answers with one plain query, so a command on it pays for no
    schema inspection (and imports no Alembic); only when that query fails is the table looked for.
    """
    try:
        with engine.connect() as conn:
            try:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except SQLAlchemyError:
                conn.rollback()  # PostgreSQL refuses further statements in a failed transaction
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SAOperationalError as exc:
        raise OperationalError(f"cannot open the database: {exc.orig}") from None


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; return (revision before, revision after)."""
    before = current_revision(engine)
    if before == HEAD:
        return before, HEAD
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return before, HEAD


def ensure_schema(engine: Engine) -> bool:
    """Upgrade an embedded database; ask for ``planwatch db upgrade`` on a server database.

    Returns True when the database was empty and its schema was made just now.
    """
    revision = current_revision(engine)
    if revision == HEAD:
        return False
    if is_embedded(engine):
        upgrade(engine)
        return revision is None
    raise OperationalError(
        f"the database schema is at revision {revision or 'none'}, planwatch needs {HEAD}; "
        "run `planwatch db upgrade` first"
    )


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """Yield a session inside one transaction: committed on success, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session, _translated(), session.begin():
        yield session


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except SAOperationalError as exc:
        raise OperationalError(f"database error: {exc.orig}") from None


@contextmanager
def first_transaction(engine: Engine) -> Iterator[Session]:
    """``transaction`` for the first writes into a SQLite file whose schema was made just now (a first import):
    the transaction keeps a rollback journal instead of the write-ahead log, then the file goes back to WAL.

    A new file's rows are written once this way: with the write-ahead log every page goes to the log, then
    is copied into the file at the checkpoint (a 1,000,000-action import writes 530 MB twice). It is as safe:
    the journal keeps the pages the file had (its schema) until the commit, so a crash at any point leaves
    the file as it was, and ``synchronous=FULL`` syncs the journal before the file is written, and the file
    before the journal is deleted (a commit is durable once it returns; WAL's NORMAL syncs at checkpoints).
    Another connection to the file keeps it in WAL mode: the switch is refused and the transaction runs as
    ``transaction``'s does.
    """
    if engine.dialect.name != "sqlite":
        with transaction(engine) as session:
            yield session
        return
    with engine.connect() as conn:
        try:
            switched = conn.exec_driver_sql("PRAGMA journal_mode=DELETE").scalar() == "delete"
        except SAOperationalError:  # another connection holds the file open in WAL mode
            switched = False
        if switched:
            conn.exec_driver_sql("PRAGMA synchronous=FULL")
        conn.commit()
        try:
            with Session(bind=conn, expire_on_commit=False) as session, _translated(), session.begin():
                yield session
        finally:
            if switched:
                _back_to_wal(conn)


def _back_to_wal(conn: Any) -> None:
    """Give the file and the connection WAL back (after the transaction: the mode changes outside one). Should
    that fail, the file stays as safe in its rollback journal, and the next connection opened makes it WAL."""
    try:
        conn.rollback()
        _sqlite_pragmas(conn.connection.driver_connection, None)
        conn.commit()
    except SQLAlchemyError:
        pass
