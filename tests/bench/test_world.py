"""bench/_world.py: the instant a generated world's reminders go out, and what every benchmark prints."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import _world  # noqa: E402  (bench/ is not a package)

from engine.rules.loader import load_rules  # noqa: E402


def test_busy_instant_is_the_rules_delivery_hour_in_the_owners_zone() -> None:
    rules = load_rules(_world.RULES)  # delivery at 09:00: Zurich is UTC+1 in January
    assert _world.busy_instant(rules) == datetime(2030, 1, 8, 8, 0, tzinfo=UTC)


def test_busy_instant_follows_a_later_delivery_hour(tmp_path: Path) -> None:
    text = (_world.RULES / "policies.yaml").read_text(encoding="utf-8")
    (tmp_path / "policies.yaml").write_text(text.replace('hour: "09:00"', 'hour: "10:30"', 1), encoding="utf-8")
    assert _world.busy_instant(load_rules(tmp_path)) == datetime(2030, 1, 8, 9, 30, tzinfo=UTC)


def test_busy_instant_is_never_before_the_cursors_the_world_wrote(tmp_path: Path) -> None:
    text = (_world.RULES / "policies.yaml").read_text(encoding="utf-8")
    (tmp_path / "policies.yaml").write_text(text.replace('hour: "09:00"', 'hour: "07:00"', 1), encoding="utf-8")
    assert _world.busy_instant(load_rules(tmp_path)) == _world.nine_local(_world.NOW.date(), _world.ZONES[0])


def test_a_three_zone_world_has_no_busy_instant() -> None:
    with pytest.raises(ValueError, match="never all at work"):
        _world.busy_instant(load_rules(_world.RULES), single_zone=False)


def test_rounds_give_the_median_and_the_best() -> None:
    assert _world.rounds([3.0, 1.0, 2.0, 10.0, 4.0]) == (3.0, 1.0)


def test_ratio_says_faster_or_behind() -> None:
    assert _world.ratio(6.0, 2.0) == "3.00x faster"
    assert _world.ratio(1.0, 2.0) == "0.50x (behind)"


def test_header_prints_load_time_machine_and_command(capsys: pytest.CaptureFixture[str]) -> None:
    load = _world.header("a benchmark")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("a benchmark: started ") and out[0].endswith(" UTC")
    assert out[1].startswith(f"load average at the start: {load:.2f} ")
    assert out[2].startswith("machine: ") and " cores, " in out[2] and "Python" in out[2]
    assert out[3].startswith("command: ")
