"""Stable ids for positional formats."""

from __future__ import annotations

import pytest

from engine.importers.reconcile import reconcile
from engine.plandoc import ActionRow


def rows(section: str, *timeframes: str) -> list[ActionRow]:
    return [
        ActionRow(ref=f"{section}.{i}", section_key=section, ordinal=i, title="", timeframe=tf)
        for i, tf in enumerate(timeframes, 1)
    ]


def stored(section: str, *items: tuple[str, bool]) -> list[tuple[str, str, str, bool]]:
    return [(f"{section}.{i}", section, tf, active) for i, (tf, active) in enumerate(items, 1)]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ([("A", True), ("B", True), ("C", True)], ["A", "B", "C"], ["S.1", "S.2", "S.3"]),
        ([("A", True), ("B", True), ("C", True)], ["X", "A", "B", "C"], ["S.4", "S.1", "S.2", "S.3"]),
        ([("A", True), ("B", True), ("C", True)], ["A", "C"], ["S.1", "S.3"]),
        ([("A", True), ("B", True), ("C", True)], ["A", "B2", "C"], ["S.1", "S.2", "S.3"]),
        ([("A", True), ("B", False), ("C", True)], ["A", "B", "C"], ["S.1", "S.2", "S.3"]),
        ([("A", True), ("B", False), ("C", True)], ["A", "Z", "C"], ["S.1", "S.4", "S.3"]),
        ([], ["A", "B"], ["S.1", "S.2"]),
    ],
    ids=[
        "same",
        "insert_at_top",
        "delete_middle",
        "edit_middle",
        "restore_removed",
        "never_reuse_removed_id",
        "new_section",
    ],
)
def test_reconcile(old: list[tuple[str, bool]], new: list[str], expected: list[str]) -> None:
    new_rows = rows("S", *new)
    reconcile(new_rows, stored("S", *old))
    assert [r.ref for r in new_rows] == expected


def test_a_row_dropped_among_identical_ones_is_reported_not_guessed() -> None:
    new = rows("S", "A", "B")
    assert reconcile(new, stored("S", ("A", True), ("B", True), ("B", True))) == [("S.3", "S.2")]
    assert [r.ref for r in new] == ["S.1", "S.2"]
    assert reconcile(rows("S", "A", "C"), stored("S", ("A", True), ("B", True), ("C", True))) == []
