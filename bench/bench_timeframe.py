"""Benchmark: planwatch's time-frame reader against dateparser on the tests' gold phrases.

Run from the repository root:  .venv/bin/python bench/bench_timeframe.py [--skip-default]

The phrase list is the gold table of ``tests/timeframe/test_timeframe.py`` (every time-frame phrase of the
seed plan plus the further phrases, each with its reference date and expected due date). The
readers get the same phrases and reference dates, on one core, in one process: planwatch, and
dateparser twice, restricted to English (its fastest setting) and with its default settings
(it detects each phrase's language). It prints phrases per second for each, the ratios, and the
share of phrases whose due date each reader gets right ("right" for dateparser means its
datetime falls on the gold due date, or it finds no date where the gold has none). The timed
loops use the best of several rounds, as ``timeit`` advises. Targets: planwatch >= 35,000
phrases/s and >= 50x dateparser.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.timeframe import parse  # noqa: E402  (the repository root must be importable first)

Gold = tuple[str, date, "int | None", "date | None"]
TARGET_RATE = 35_000
TARGET_RATIO = 50.0


def load_gold() -> list[Gold]:
    """The tests' phrases as (text, reference date, fy_start, gold due date)."""
    module = _load_tests(ROOT / "tests" / "timeframe" / "test_timeframe.py")
    gold: list[Gold] = []
    for text, expected in module.SEED.items():
        due = expected["due"]
        gold.append((text, module.SEED_REF, None, date.fromisoformat(due) if due else None))
    for text, ref, fy, _kind, _start, due, *_ in module.EXTRA:
        gold.append((text, date.fromisoformat(ref), fy, date.fromisoformat(due) if due else None))
    return gold


def _load_tests(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("timeframe_gold", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Reader = Callable[[str, date, "int | None"], "date | None"]


def planwatch_due(text: str, ref: date, fy: int | None) -> date | None:
    return parse(text, ref, fy_start=fy).due


def dateparser_reader(languages: list[str] | None) -> Reader:
    """dateparser as fairly as it allows: the plan's date as base, day-first, end of period.

    ``languages=None`` is its default (it detects the language of every phrase); ``["en"]``
    is its fastest setting for English plans.
    """
    import dateparser  # imported here: it is a dev dependency only

    def read(text: str, ref: date, fy: int | None) -> date | None:
        settings = {
            "RELATIVE_BASE": datetime(ref.year, ref.month, ref.day),  # noqa: DTZ001
            "PREFER_DAY_OF_MONTH": "last",
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "DMY",
        }
        found = dateparser.parse(text, languages=languages, settings=settings)
        return found.date() if found is not None else None

    return read


def measure(read: Reader, gold: Sequence[Gold], passes: int, rounds: int) -> tuple[float, float]:
    """Return (phrases per second, best of ``rounds`` of ``passes`` passes; share of gold dues)."""
    right = sum(read(text, ref, fy) == due for text, ref, fy, due in gold)
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(passes):
            for text, ref, fy, _due in gold:
                read(text, ref, fy)
        best = max(best, passes * len(gold) / (time.perf_counter() - start))
    return best, right / len(gold)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    gold = load_gold()
    warnings.simplefilter("ignore")  # dateparser's own deprecation noise is not the benchmark
    rows = [("planwatch", *measure(planwatch_due, gold, args.passes, args.rounds))]
    english = dateparser_reader(["en"])
    english("1 January 2000", date(2000, 1, 1), None)  # load its data before timing
    rows.append(("dateparser, languages=['en']", *measure(english, gold, 1, args.rounds)))
    if not args.skip_default:
        rows.append(("dateparser, default settings", *measure(dateparser_reader(None), gold, 1, 1)))
    _report(rows, len(gold), args)
    return 0


def _report(rows: Sequence[tuple[str, float, float]], n: int, args: argparse.Namespace) -> None:
    print(
        f"{n} phrases (the gold table of tests/timeframe/test_timeframe.py); planwatch: best of "
        f"{args.rounds} rounds of {args.passes} passes; one core, one process"
    )
    print(f"{'reader':32} {'phrases/s':>10}  gold due date")
    for name, rate, share in rows:
        print(f"{name:32} {rate:10,.0f}  {share:13.1%}")
    ours = rows[0][1]
    print(f"planwatch >= {TARGET_RATE:,} phrases/s: {'met' if ours >= TARGET_RATE else 'NOT met'}")
    for name, rate, _share in rows[1:]:
        ratio = ours / rate
        verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
        print(f"planwatch / {name}: {ratio:,.1f}x (target {TARGET_RATIO:.0f}x: {verdict})")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=10, help="passes per round for planwatch")
    parser.add_argument("--rounds", type=int, default=20, help="rounds; the best one counts")
    parser.add_argument(
        "--skip-default", action="store_true", help="skip dateparser's default settings (slow: about 5 s)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
