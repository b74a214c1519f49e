"""Backups of the embedded database with SQLite's online backup API (safe while the service runs)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine

from engine.errors import UsageError


def backup_sqlite(engine: Engine, target: Path) -> int:
    """Copy the SQLite database of ``engine`` to ``target`` page by page; return its size in bytes."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        raise UsageError(
            "planwatch db backup copies the embedded SQLite database; for PostgreSQL use "
            "pg_dump --format=custom --file=planwatch.dump DBNAME"
        )
    if target.exists():
        raise UsageError(f"{target} exists already; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(str(engine.url.database))
    dest = sqlite3.connect(str(target))
    try:
        source.backup(dest, pages=256)
    finally:
        dest.close()
        source.close()
    return target.stat().st_size
