"""The simulation's table given its console's width: drawn as rich draws it, with no cell measured when it fits."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from engine.cli.present import simulation_table

ROWS = [
    {
        "at": f"2000-04-{day:02d}T07:00:00Z",
        "action": None if day % 5 == 0 else f"I.{day}a.1",
        "recipient": f"person{day}@example.org" + ("-and-a-much-longer-name" if day == 3 else ""),
        "type": "digest" if day % 5 == 0 else "escalation",
        "level": day % 3 or None,
        "step": "digest" if day % 5 == 0 else f"esc:{day}d",
    }
    for day in range(1, 29)
]
# The table at its widest: the longest cell of each column, a space each side, a border between and around.
LONGEST = (
    "2000-04-01 07:00",
    "(digest)",
    "person3@example.org-and-a-much-longer-name",
    "escalation",
    "level",
    "esc:28d",
)
WIDEST = sum(map(len, LONGEST)) + 3 * 6 + 1


def drawn(table: object, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, highlight=False, color_system=None, soft_wrap=True).print(table)
    return out.getvalue()


@pytest.mark.parametrize("width", [200, WIDEST, WIDEST - 1, 80, 40])
def test_the_table_for_a_width_is_the_table_rich_measures(width: int) -> None:
    given = simulation_table(ROWS, width=width)
    assert drawn(given, width) == drawn(simulation_table(ROWS), width)
    # Within the width every column is set to its widest; beyond it, rich measures and folds as it always did.
    assert [c.width is not None for c in given.columns] == [width >= WIDEST] * 6
    assert (max(len(line) for line in drawn(given, width).splitlines()) == WIDEST) is (width >= WIDEST)


def test_a_cell_that_is_not_one_printable_line_is_left_to_rich() -> None:
    rows = [dict(ROWS[0], step="line one\nline two"), dict(ROWS[1], recipient="tab\there@example.org")]
    for row in rows:
        given = simulation_table([row], width=200)
        assert all(c.width is None for c in given.columns)
        assert drawn(given, 200) == drawn(simulation_table([row]), 200)
