"""``planwatch status`` and ``planwatch db backup``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path


def test_status_before_and_after_a_simulation(cli) -> None:  # type: ignore[no-untyped-def]
    cli("import", "plans/owners.yaml", "plans/gb276-tc2-implementation-plan.txt")
    first = json.loads(cli("status", "--json").out)
    assert first == {
        "last_tick": None,
        "pending": 0,
        "failed": 0,
        "oldest_pending": None,
        "lag_seconds": 0.0,
        "nodes": [],
    }
    assert "never (is `planwatch run` running?)" in cli("status").out
    cli("simulate", "--from", "1999-09-28", "--until", "1999-12-31", "--commit")
    outbox = [json.loads(line) for line in cli("outbox", "--json").out.splitlines()]
    statuses = {row["status"] for row in outbox}
    assert len(outbox) > 10 and "sent" in statuses and not statuses & {"pending", "failed"}
    after = json.loads(cli("status", "--json").out)
    assert (after["pending"], after["failed"], after["oldest_pending"]) == (0, 0, None)  # every row went out


def test_backup_copies_the_embedded_database(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    cli("import", "plans/gb276-tc2-implementation-plan.txt")
    result = cli("db", "backup", "backups/copy.db")
    if not cli.url.startswith("sqlite"):
        assert result.code == 2 and "pg_dump" in result.err
        return
    assert result.code == 0, result.err
    with sqlite3.connect(workdir / "backups" / "copy.db") as db:
        assert db.execute("select count(*) from action").fetchone() == (69,)
    again = cli("db", "backup", "backups/copy.db")
    assert again.code == 2 and "exists already" in again.err
