"""Copying a database into a scratch SQLite file (for simulations and previews)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine, MetaData, select
from sqlmodel import SQLModel

from engine.store.db import make_engine, upgrade


def copy_to_sqlite(source: Engine, target: Path) -> Engine:
    """Copy every planwatch table of ``source`` into a new SQLite file ``target``; return its engine."""
    target.unlink(missing_ok=True)
    if source.dialect.name == "sqlite" and source.url.database not in (None, "", ":memory:"):
        # VACUUM INTO writes a consistent, compact copy in one statement (SQLite 3.27+).
        raw = sqlite3.connect(str(source.url.database))
        try:
            raw.execute("VACUUM INTO ?", (str(target),))
        finally:
            raw.close()
        return make_engine(f"sqlite:///{target}")
    engine = make_engine(f"sqlite:///{target}")
    upgrade(engine)
    meta = MetaData()
    meta.reflect(source)
    with source.connect() as src, engine.begin() as dst:
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in meta.tables:
                continue
            rows = [dict(r) for r in src.execute(select(meta.tables[table.name])).mappings()]
            if rows:
                dst.execute(table.insert(), rows)
    return engine
