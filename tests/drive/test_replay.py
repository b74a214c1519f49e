"""Replay files: events read in date order, and mistakes named by file and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.drive.replay import load_replay
from engine.errors import InputError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "replay.yaml"
    path.write_text(text)
    return path


def test_events_are_read_and_sorted_by_their_day(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "- {at: 2000-06-20, action: II.2.2, event: extend, to: 2000-09-30}\n"
        "- {at: 2000-04-12, action: I.1a.1, event: done, by: jonas, note: guidelines circulated}\n"
        "- {at: 2000-05-01, action: I.1a.2, event: ack, level: 2}\n",
    )
    events = load_replay(path)
    assert [(e.at, e.action, e.event) for e in events] == [
        (date(2000, 4, 12), "I.1a.1", "done"),
        (date(2000, 5, 1), "I.1a.2", "ack"),
        (date(2000, 6, 20), "II.2.2", "extend"),
    ]
    assert (events[0].by, events[0].note, events[1].by, events[1].level) == (
        "jonas",
        "guidelines circulated",
        "replay",
        2,
    )
    assert events[2].to == date(2000, 9, 30)


def test_an_extension_without_a_new_date_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "- {at: 2000-04-12, action: I.1a.1, event: done}\n- at: 2000-06-20\n  action: II.2.2\n  event: extend\n",
    )
    with pytest.raises(InputError) as error:
        load_replay(path)
    assert error.value.exit_code == 2
    assert str(error.value).startswith(f"{path}:2:") and "needs 'to:'" in str(error.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("- {at: 2000-04-12, action: I.1, event: finished}\n", "event"),
        ("- {at: 2000-04-12, action: I.1, event: done, colour: red}\n", "colour"),
        ("- {at: someday, action: I.1, event: done}\n", "at"),
    ],
    ids=["unknown-event", "unknown-key", "bad-date"],
)
def test_a_wrong_event_is_refused_with_its_place(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as error:
        load_replay(path)
    message = str(error.value)
    assert message.startswith(f"{path}:1:") and words in message and "\n" not in message
