"""Content lines: escaping, folding at 75 octets, and value formats, as ``icalendar`` writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.calendars.text import (
    LIMIT,
    categories,
    dates,
    duration,
    escape,
    fold,
    line,
    local,
    recur,
    text_line,
    utc,
    ymd,
)
from engine.zones import zone

TEXTS = [
    "short",
    "Commas, semicolons; back\\slash and a\nnew line",
    "x" * 74 + "," + "y" * 80,  # an escape's backslash would land on the fold
    "é€𝄞 " * 40,  # two-, three- and four-octet characters across folds
    "Windows\r\nline ends\rand old Mac ones",
]


def _icalendar_line(name: str, value: object) -> str:
    event = icalendar.Event()
    event.add(name, value)
    text: str = event.to_ical().decode()
    return text.removeprefix("BEGIN:VEVENT\r\n").removesuffix("END:VEVENT\r\n")


@pytest.mark.parametrize("value", TEXTS, ids=["short", "specials", "escape_on_fold", "multibyte", "line_ends"])
def test_a_text_line_is_what_icalendar_writes(value: str) -> None:
    assert text_line("SUMMARY", value) == _icalendar_line("summary", value)


@pytest.mark.parametrize("value", TEXTS, ids=["short", "specials", "escape_on_fold", "multibyte", "line_ends"])
def test_folds_keep_75_octets_whole_characters_and_whole_escapes(value: str) -> None:
    folded = text_line("DESCRIPTION", value)
    assert folded.endswith("\r\n")
    pieces = folded.removesuffix("\r\n").encode().split(b"\r\n")
    assert all(len(piece) <= LIMIT for piece in pieces)
    for piece in pieces:
        piece.decode("utf-8")  # raises if a fold split a character
        assert not piece.endswith(b"\\") or piece.endswith(b"\\\\")
    unfolded = folded.removesuffix("\r\n").replace("\r\n ", "")
    assert unfolded == "DESCRIPTION:" + escape(value)
    parsed = icalendar.Event.from_ical(f"BEGIN:VEVENT\r\n{folded}END:VEVENT\r\n")
    assert str(parsed["DESCRIPTION"]) == value.replace("\r\n", "\n").replace("\r", "\n")


def test_escape_leaves_plain_text_alone_and_escapes_the_four_specials() -> None:
    assert escape("plain text: ok") == "plain text: ok"
    assert escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert categories(["Part I, the first", "deadline"]) == "Part I\\, the first,deadline"
    assert fold("x" * 74) == "x" * 74 and fold("x" * 80) == "x" * 74 + "\r\n " + "x" * 6
    assert line("UID", "a@b") == "UID:a@b\r\n"


def test_values_are_written_as_icalendar_writes_them() -> None:
    assert ymd(date(2000, 4, 3)) == "20000403" and dates([date(2000, 4, 3), date(1999, 12, 31)]) == "20000403,19991231"
    assert utc(datetime(2000, 4, 30, 21, 59, 59, tzinfo=UTC)) == "20000430T215959Z"
    assert local(datetime(2000, 4, 30, 23, 59, 59, tzinfo=zone("Europe/Zurich"))) == "20000430T235959"
    for delta in (timedelta(hours=9) - timedelta(days=30), timedelta(days=2), timedelta(minutes=-15)):
        assert duration(delta) == icalendar.vDuration(delta).to_ical().decode()
    assert recur("INTERVAL=2;BYMONTH=3;FREQ=YEARLY") == "FREQ=YEARLY;INTERVAL=2;BYMONTH=3"


@given(st.text(alphabet=st.sampled_from("ab\\^é€𝄞 ,;x"), max_size=400))
def test_a_fold_keeps_each_piece_full_and_whole(value: str) -> None:
    """Each piece holds the most whole characters that fit in 74 octets, less an escape's backslash that would end
    it; unfolding gives the line back."""
    folded = fold(value)
    pieces = folded.split("\r\n ")
    assert "".join(pieces) == value
    for piece, after in pairwise(pieces):
        size = len(piece.encode())
        assert size <= 74 and piece
        carried = after[0] in "\\^" and size + len(after[0].encode()) <= 74
        assert carried or size + len(after[0].encode()) > 74
    assert len(pieces[-1].encode()) <= 74
