"""The held-apart gold set of real English time-frame phrases, and how well the reader does on it.

``tests/timeframe/data/heldout_en.yaml`` holds phrases copied from published plans, management
responses, audit follow-up tables and timelines, each with its source, reference date and the
reading expected from its meaning. Score it from the repository root with
``.venv/bin/python -m tests.timeframe.heldout`` (add ``-v`` to list the misses); the French and
Spanish gold sets, in the same format, with ``--lang fr`` or ``--lang es`` (``--guess`` lets the
reader guess each phrase's language instead of being told).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ruamel.yaml import YAML

from engine.timeframe import parse

DATA = Path(__file__).resolve().parent / "data"
HELDOUT = DATA / "heldout_en.yaml"
GOLD = {"en": HELDOUT, "fr": DATA / "gold_fr.yaml", "es": DATA / "gold_es.yaml"}


@dataclass(frozen=True, slots=True)
class Gold:
    text: str
    ref: date
    fy: int | None
    kind: str
    start: date | None
    due: date | None
    rrule: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Score:
    total: int
    fully_right: int
    due_right: int
    misses: tuple[tuple[Gold, tuple[str, date | None, date | None, str | None]], ...]

    @property
    def fully_right_share(self) -> float:
        return self.fully_right / self.total

    @property
    def due_right_share(self) -> float:
        return self.due_right / self.total


def load(path: Path = HELDOUT) -> list[Gold]:
    """Every gold row of the held-out file, in file order."""
    rows = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return [
        Gold(
            text=str(r["text"]),
            ref=r["ref"],
            fy=r.get("fy"),
            kind=r["kind"],
            start=r.get("start"),
            due=r.get("due"),
            rrule=r.get("rrule"),
            source=str(r["source"]),
        )
        for r in rows
    ]


def score(rows: list[Gold], language: str | None = None) -> Score:
    """How many rows are read fully right (kind, start, due, rrule) and how many have the right due date."""
    fully = due_ok = 0
    misses = []
    for g in rows:
        s = parse(g.text, g.ref, fy_start=g.fy, language=language)
        got = (s.kind, s.start, s.due, s.rrule)
        if got == (g.kind, g.start, g.due, g.rrule):
            fully += 1
        else:
            misses.append((g, got))
        due_ok += s.due == g.due
    return Score(len(rows), fully, due_ok, tuple(misses))


def main(argv: list[str]) -> int:
    lang = argv[argv.index("--lang") + 1] if "--lang" in argv else "en"
    result = score(load(GOLD[lang]), None if "--guess" in argv else lang)
    print(
        f"{result.total} {GOLD[lang].name} phrases: {result.fully_right} fully right ({result.fully_right_share:.1%}), "
        f"{result.due_right} with the right due date ({result.due_right_share:.1%})"
    )
    if "-v" in argv:
        for g, (kind, start, due, rrule) in result.misses:
            expected = f"{g.kind} {g.start} {g.due} {g.rrule}"
            print(f"  {g.text!r} [{g.ref}]: expected {expected}; read {kind} {start} {due} {rrule}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
