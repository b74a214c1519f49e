"""What every command shares: the root options, reading days and times, JSON lines, the console."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine.cli.common import current_time, emit_json, make_console, parse_day, parse_instant
from engine.cli.main import run
from engine.errors import UsageError

from ..conftest import snapshot


def test_parse_day_reads_iso_and_names_the_option_otherwise() -> None:
    assert parse_day("2000-04-30", "--date") == date(2000, 4, 30)
    with pytest.raises(UsageError) as caught:
        parse_day("30/04/2000", "--as-of")
    assert caught.value.exit_code == 2
    assert str(caught.value) == "--as-of: expected a date YYYY-MM-DD, got '30/04/2000'"


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("2000-04-28", datetime(2000, 4, 28, tzinfo=UTC)),
        ("2000-04-28T09:00Z", datetime(2000, 4, 28, 9, tzinfo=UTC)),
        ("2000-04-28T11:30+02:00", datetime(2000, 4, 28, 9, 30, tzinfo=UTC)),
    ],
)
def test_parse_instant_gives_utc(given: str, meant: datetime) -> None:
    parsed = parse_instant(given, "--now")
    assert parsed == meant and parsed.utcoffset() is not None and parsed.tzinfo == UTC


def test_parse_instant_wants_a_zone_on_a_time_and_a_readable_value() -> None:
    with pytest.raises(
        UsageError, match=r"^--now: give a time zone, e\.g\. 2000-04-28T09:00Z or 2000-04-28T09:00\+02:00$"
    ):
        parse_instant("2000-04-28T09:00", "--now")
    with pytest.raises(UsageError, match=r"^--now: expected a date or an ISO time like 2000-04-28T09:00Z, got 'soon'$"):
        parse_instant("soon", "--now")


def test_emit_json_writes_one_line_keeping_non_ascii(capsys: pytest.CaptureFixture[str]) -> None:
    emit_json({"owner": "Zoë", "levels": [1, 2]})
    emit_json({"n": 2})
    out = capsys.readouterr().out
    assert out == '{"owner": "Zoë", "levels": [1, 2]}\n{"n": 2}\n'
    assert [json.loads(line) for line in out.splitlines()] == [{"owner": "Zoë", "levels": [1, 2]}, {"n": 2}]


def test_make_console_does_not_wrap_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "90")
    console = make_console()  # pytest captures standard output: not a terminal
    assert console.width == 90 and console.soft_wrap is True


def test_current_time_is_aware_utc_and_now() -> None:
    before = datetime.now(UTC)
    now = current_time()
    assert now.tzinfo is not None and now.utcoffset() == UTC.utcoffset(None)
    assert before <= now <= datetime.now(UTC)


def test_db_option_wins_over_the_environment(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_url = f"sqlite:///{workdir / 'from-env.db'}"
    flag_url = f"sqlite:///{workdir / 'from-flag.db'}"
    monkeypatch.setenv("PLANWATCH_DATABASE_URL", env_url)
    assert run(["--db", flag_url, "import", "plans/owners.yaml"]) == 0
    assert snapshot(env_url) is None  # never opened
    assert run(["import", "plans/gb276-tc2-implementation-plan.txt"]) == 0  # no flag: the environment's
    flag_rows, env_rows = snapshot(flag_url), snapshot(env_url)
    assert flag_rows is not None and env_rows is not None
    assert flag_rows["owner"] and not flag_rows["action"]
    assert env_rows["action"] and not env_rows["owner"]


def test_rules_option_chooses_the_rules_folder(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "rules").rename(workdir / "other")
    assert run(["rules", "check"]) == 2  # the default rules/ is gone
    capsys.readouterr()
    assert run(["--rules", "other", "rules", "check"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "other/default.yaml: 5 policies OK",
        "other/holidays.yaml: holiday list OK (1999 to 2002)",
        "other/holidays-bangkok.yaml: holiday list OK (1999 to 2002)",
        "other/holidays-lima.yaml: holiday list OK (1999 to 2002)",
    ]
