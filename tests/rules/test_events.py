"""Named events (``rules/events.yaml``): loading, the names matched in phrases, and file errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.rules.events import NamedEvent, load


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_missing_file_means_no_events(here: Path) -> None:
    assert load(here / "events.yaml") == ()


def test_events_carry_their_name_and_every_aka(here: Path) -> None:
    (here / "events.yaml").write_text(
        "events:\n"
        "  - name: Governing Body, 277th Session\n"
        "    aka: [March 2000 session, GB.277]\n"
        "    date: 2000-03-31\n"
        "  - name: ILC 88\n"
        "    date: 2000-06-01\n",
        encoding="utf-8",
    )
    assert load("events.yaml") == (
        NamedEvent(
            "Governing Body, 277th Session",
            ("Governing Body, 277th Session", "March 2000 session", "GB.277"),
            date(2000, 3, 31),
        ),
        NamedEvent("ILC 88", ("ILC 88",), date(2000, 6, 1)),
    )


def test_an_empty_events_list_is_valid(here: Path) -> None:
    (here / "events.yaml").write_text("events: []\n", encoding="utf-8")
    assert load("events.yaml") == ()


@pytest.mark.parametrize(
    ("text", "start"),
    [
        pytest.param("- name: x\n", "events.yaml:1:1: expected a mapping with an 'events:' list", id="a-list"),
        pytest.param(
            "events:\n  - name: x\n    date: 2000-02-30\n",
            "events.yaml:3:11: 2000-02-30 is not a date",
            id="impossible-date",
        ),
        pytest.param("events:\n  - name: x\n", "events.yaml:2:5: events[0]: missing required key 'date'", id="no-date"),
        pytest.param(
            "events:\n  - name: x\n    date: 2000-01-01\n    when: soon\n",
            "events.yaml:4:5: events[0].when: unknown key 'when'",
            id="extra-key",
        ),
    ],
)
def test_bad_events_file_is_one_line_at_its_place(here: Path, text: str, start: str) -> None:
    (here / "events.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load("events.yaml")
    assert caught.value.exit_code == 2
    (line,) = str(caught.value).splitlines()
    assert line.startswith(start), line
