"""``planwatch demo``: the example plan's life, and figures that agree with the database."""

from __future__ import annotations

import mailbox
import re
import sqlite3
from pathlib import Path

import pytest

from engine.cli.main import run


@pytest.mark.slow
def test_demo_summary_matches_the_database_and_the_maildir(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["demo"]) == 0
    out = capsys.readouterr().out
    for heading in ("Part I", "Part II", "Part III", "1(a)", "(e) With the private sector"):
        assert heading in out
    assert "Completed by April 2000" in out and "First initiatives first half 2000" in out
    messages = re.search(
        r"Messages sent: (\d+) reminders, (\d+) check-ins, (\d+) overdue notices, (\d+) escalations, (\d+) digests", out
    )
    deadlines = re.search(r"Deadlines: (\d+) done on time, (\d+) done late, (\d+) still overdue", out)
    log = re.search(r"Escalation log: (\d+) steps \(level 0: (\d+), level 1: (\d+), level 2: (\d+)\)", out)
    maildir = re.search(r"(\d+) messages are in the Maildir (\S+)", out)
    assert messages and deadlines and log and maildir, out
    db = sqlite3.connect(workdir / "out" / "planwatch-demo.db")
    sent = dict(db.execute("select type, count(*) from outbox where status='sent' group by type").fetchall())
    assert [int(n) for n in messages.groups()] == [
        sent.get(k, 0) for k in ("reminder", "checkin", "overdue", "escalation", "digest")
    ]
    levels = dict(db.execute("select level, count(*) from escalation group by level").fetchall())
    assert [int(n) for n in log.groups()[1:]] == [levels.get(k, 0) for k in (0, 1, 2)]  # owner, supervisor, above
    assert int(maildir[1]) == sum(sent.values()) == len(mailbox.Maildir(workdir / "out" / "maildir", create=False))
    on_time, late, overdue = map(int, deadlines.groups())
    assert on_time >= 20 and late >= 1 and overdue >= 1
    done = db.execute("select count(*) from action where status='done'").fetchone()[0]
    assert done >= on_time + late
    # the replayed extension moved II.3.4, which was then done within it
    assert db.execute("select extended_to, status from action where ref='II.3.4'").fetchone() == ("2000-07-31", "done")
    db.close()
