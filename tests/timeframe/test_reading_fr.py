"""The reader on real French time frames (``tests/timeframe/data/gold_fr.yaml``): the share read fully right
(kind, start, due date and rule) and the share with the right due date must not fall below the thresholds.

Score the file from the repository root with ``.venv/bin/python -m tests.timeframe.heldout --lang fr -v``.
"""

from __future__ import annotations

from tests.timeframe.heldout import GOLD, load, score

FULLY_RIGHT_AT_LEAST = 0.85
DUE_RIGHT_AT_LEAST = 0.90
PATH = GOLD["fr"]


def test_every_french_gold_phrase_has_its_source_and_is_listed_once() -> None:
    rows = load(PATH)
    assert len(rows) >= 100
    assert len({(r.text, r.ref) for r in rows}) == len(rows)
    assert all(r.source.strip() and r.ref.year >= 1990 for r in rows)


def test_the_french_gold_phrases_are_read_right_often_enough() -> None:
    result = score(load(PATH), "fr")
    missed = [g.text for g, _ in result.misses]
    assert result.fully_right_share >= FULLY_RIGHT_AT_LEAST, (
        f"{PATH.name}: {result.fully_right_share:.1%}; missed: {missed}"
    )
    assert result.due_right_share >= DUE_RIGHT_AT_LEAST


def test_guessing_the_language_of_each_french_phrase_costs_little() -> None:
    told, guessed = score(load(PATH), "fr"), score(load(PATH))
    assert guessed.fully_right >= told.fully_right - told.total // 20
