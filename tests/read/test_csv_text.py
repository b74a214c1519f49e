"""CSV for spreadsheets: formulas defused, numbers and empty cells as they are, written in chunks."""

from __future__ import annotations

import csv
import io

import pytest

from engine.read.csv_text import FORMULA_STARTS, csv_chunks, defuse


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(start: str) -> None:
    assert defuse(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"


def test_other_values_are_left_alone() -> None:
    assert defuse("plain = text") == "plain = text"
    assert defuse("") == ""
    assert defuse(-3) == -3 and defuse(None) is None


def test_chunks_hold_the_header_and_every_row_once() -> None:
    rows = [(n, f"=row {n}", None) for n in range(5)]
    chunks = list(csv_chunks(["id", "@title", "note"], rows, every=2))
    assert len(chunks) == 3 and all(chunks)  # rows 2, 4 and the rest
    read = list(csv.reader(io.StringIO("".join(chunks))))
    assert read[0] == ["id", "'@title", "note"]
    assert read[1:] == [[str(n), f"'=row {n}", ""] for n in range(5)]


def test_line_endings_are_chosen_and_a_round_number_of_rows_ends_with_an_empty_chunk() -> None:
    chunks = list(csv_chunks(["a"], [["x"], ["y"]], lineterminator="\n", every=2))
    assert chunks == ["a\nx\ny\n", ""]
    assert "".join(csv_chunks(["a"], [])) == "a\r\n"
