"""Atomic writes: the whole new text or the old file, never half; an unchanged file is left alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.files import write_atomic


def test_writes_the_text_creating_the_folders(tmp_path: Path) -> None:
    target = tmp_path / "out" / "feeds" / "plan.ics"
    assert write_atomic(target, "BEGIN:VCALENDAR\nÉté\n") is True
    assert target.read_bytes() == "BEGIN:VCALENDAR\nÉté\n".encode()
    assert os.listdir(target.parent) == ["plan.ics"]  # no temporary file left behind


def test_an_unchanged_file_is_not_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    write_atomic(str(target), "<p>one</p>")
    os.utime(target, (1_000_000, 1_000_000))
    assert write_atomic(target, "<p>one</p>") is False
    assert target.stat().st_mtime == 1_000_000
    assert write_atomic(target, "<p>two</p>") is True
    assert target.read_text(encoding="utf-8") == "<p>two</p>"


def test_a_failed_write_keeps_nothing_half_written(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    (target / "inside").mkdir(parents=True)  # a folder where the file should go: the rename fails
    with pytest.raises(OSError):
        write_atomic(target, "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert target.is_dir() and os.listdir(target) == ["inside"]


def test_a_new_file_is_readable_by_all_and_a_replaced_one_keeps_its_mode(tmp_path: Path) -> None:
    feed = tmp_path / "calendars" / "owner-pardev.ics"
    write_atomic(feed, "BEGIN:VCALENDAR\n")
    assert feed.stat().st_mode & 0o777 == 0o644  # a web server serving the folder can read it
    feed.chmod(0o640)
    write_atomic(feed, "BEGIN:VCALENDAR\nX\n")
    assert feed.stat().st_mode & 0o777 == 0o640
