"""Benchmark: planwatch's time-frame reader against dateparser on the tests' gold phrases.

Run from the repository root:  .venv/bin/python bench/bench_timeframe.py [--skip-default] [--languages en,fr,es]

The phrase list is the gold table of ``tests/timeframe/test_timeframe.py`` (every time-frame phrase of the
seed plan plus the further phrases, each with its reference date and expected due date). The
readers get the same phrases and reference dates, on one core, in one process: planwatch, and
dateparser as its users set it up for an English plan: told the language (``languages=["en"]``),
one ``DateDataParser`` made once per reference date with its settings (the plan's date as base,
day first, end of period) and reused for every phrase. planwatch and that dateparser run the same
rounds of the same passes; the headline is the median round of each, in phrases per second of the process's
CPU time (which the other jobs on a shared machine inflate less than wall time), and the ratio compares those
medians; the best round is printed beside it. It prints phrases per second, the ratio, and the share of phrases
whose due date each reader gets right ("right" for dateparser means its datetime falls on the gold due date, or
it finds no date where the gold has none). dateparser with its default settings (it detects every phrase's
language, a new parser per call through ``dateparser.parse``) is timed over one pass and shown as such (its one
round is its median). planwatch keeps, in bounded caches, the Periods of the months and days it built, the
connecting words it looked up, and per phrase its words for the grammar, its skeleton and tokens and its guessed
language (never its reading): every pass after the first finds them, as a plan read again does; the row "caches
cleared every pass" reads every pass as a new process reads a plan's phrases the first time.
Targets: planwatch >= 100,000 phrases/s and >= 25x the English-only dateparser.

French and Spanish: the gold sets ``tests/timeframe/data/gold_fr.yaml`` and ``gold_es.yaml`` (real phrases, each
with its reference date and gold due date), read by planwatch told the plan's language (as an import of a plan
with ``language: fr`` reads them) and, for comparison, guessing each phrase's language; and by dateparser set up
the same way as for English but told that language (``languages=["fr"]`` / ``["es"]``), one reused parser per
reference date. The same rounds and passes, the median (headline) and the best round of each. Target: planwatch
>= 35,000 phrases/s in each language (median round, CPU time).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.timeframe import clear_caches, parse  # noqa: E402  (the repository root must be importable first)

Gold = tuple[str, date, "int | None", "date | None"]
TARGET_RATE = 100_000
TARGET_RATIO = 25.0
TARGET_RATE_OTHER = 35_000  # French and Spanish, each


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


def load_language_gold(lang: str) -> list[Gold]:
    """The French or Spanish gold set as (text, reference date, fy_start, gold due date)."""
    from ruamel.yaml import YAML

    rows = YAML(typ="safe").load((ROOT / "tests" / "timeframe" / "data" / f"gold_{lang}.yaml").read_text("utf-8"))
    return [(str(r["text"]), r["ref"], r.get("fy"), r.get("due")) for r in rows]


Reader = Callable[[str, date, "int | None"], "date | None"]


def planwatch_due(text: str, ref: date, fy: int | None) -> date | None:
    return parse(text, ref, fy_start=fy).due


def planwatch_in(lang: str | None) -> Reader:
    """planwatch told the plan's language (None: guessing each phrase's)."""

    def read(text: str, ref: date, fy: int | None) -> date | None:
        return parse(text, ref, fy_start=fy, language=lang).due

    return read


def dateparser_reader(languages: list[str] | None) -> Reader:
    """dateparser as its users would set it up, with the settings that suit a plan: the plan's date as
    base, day first, end of period, dates in the future.

    ``["en"]``: one ``DateDataParser`` per reference date, made once and reused (a plan has one
    reference date). ``None``: ``dateparser.parse`` with its default language detection, as its
    README's first example calls it (a new parser for every phrase).
    """
    import dateparser  # imported here: it is a dev dependency only
    from dateparser.date import DateDataParser

    def settings(ref: date) -> dict[str, object]:
        return {
            "RELATIVE_BASE": datetime(ref.year, ref.month, ref.day),  # noqa: DTZ001
            "PREFER_DAY_OF_MONTH": "last",
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "DMY",
        }

    parsers: dict[date, DateDataParser] = {}

    def reused(text: str, ref: date, fy: int | None) -> date | None:
        parser = parsers.get(ref)
        if parser is None:
            parser = parsers[ref] = DateDataParser(languages=languages, settings=settings(ref))
        found = parser.get_date_data(text).date_obj
        return found.date() if found is not None else None

    def default(text: str, ref: date, fy: int | None) -> date | None:
        found = dateparser.parse(text, settings=settings(ref))
        return found.date() if found is not None else None

    return reused if languages else default


Row = tuple[str, float, float, float, float, float]  # reader, median CPU, best CPU, median wall, best wall, share right


def measure(
    read: Reader, gold: Sequence[Gold], passes: int, rounds: int, before_pass: Callable[[], None] | None = None
) -> tuple[float, float, float, float, float]:
    """Return phrases per second of ``rounds`` rounds of ``passes`` passes: the median round's of CPU time, the
    best round's of CPU time, the median and best rounds' of wall time; and the share of gold dues read right. On a
    loaded machine the CPU rates are the ones to compare. ``before_pass`` runs before every pass, untimed."""
    right = sum(read(text, ref, fy) == due for text, ref, fy, due in gold)
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(rounds):
        wall = cpu = 0.0
        for _ in range(passes):
            if before_pass is not None:
                before_pass()
            start, start_cpu = time.perf_counter(), time.process_time()
            for text, ref, fy, _due in gold:
                read(text, ref, fy)
            wall += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
        walls.append(passes * len(gold) / wall)
        cpus.append(passes * len(gold) / max(cpu, 1e-9))
    return statistics.median(cpus), max(cpus), statistics.median(walls), max(walls), right / len(gold)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    args.load = ", ".join(f"{x:.2f}" for x in os.getloadavg())  # at the start: other processes slow every reader
    warnings.simplefilter("ignore")  # dateparser's own deprecation noise is not the benchmark
    if "en" in args.languages:
        _english(args)
    for lang in ("fr", "es"):
        if lang in args.languages:
            _other_language(lang, args)
    return 0


def _other_language(lang: str, args: argparse.Namespace) -> None:
    gold = load_language_gold(lang)
    peer = dateparser_reader([lang])
    for text, ref, fy, _due in gold:  # load its data and make its parser for every reference date before timing
        peer(text, ref, fy)
    rows: list[Row] = [
        (f"planwatch, language='{lang}'", *measure(planwatch_in(lang), gold, args.passes, args.rounds)),
        (
            "planwatch, caches cleared every pass",
            *measure(planwatch_in(lang), gold, args.passes, args.rounds, clear_caches),
        ),
        ("planwatch, language guessed", *measure(planwatch_in(None), gold, args.passes, args.rounds)),
        (f"dateparser, languages=['{lang}'], reused", *measure(peer, gold, args.passes, args.rounds)),
    ]
    print()
    print(
        f"{len(gold)} phrases (tests/timeframe/data/gold_{lang}.yaml); every reader: {args.rounds} rounds of "
        f"{args.passes} passes; one core, one process; load average at start {args.load}; "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    )
    _table(rows)
    ours = rows[0][1]
    verdict = "met" if ours >= TARGET_RATE_OTHER else "NOT met"
    print(f"planwatch ({lang}) >= {TARGET_RATE_OTHER:,} phrases per CPU second (median round): {verdict}")
    print(f"planwatch / dateparser ({lang}), median rounds, CPU: {ours / rows[3][1]:,.1f}x")


def _table(rows: Sequence[Row]) -> None:
    print(f"{'':40} {'per CPU second':>21} {'per second (wall)':>21}")
    print(f"{'reader':40} {'median':>10} {'best':>10} {'median':>10} {'best':>10}  gold due date")
    for name, median_cpu, cpu, median, rate, share in rows:
        print(f"{name:40} {median_cpu:10,.0f} {cpu:10,.0f} {median:10,.0f} {rate:10,.0f}  {share:13.1%}")


def _english(args: argparse.Namespace) -> None:
    gold = load_gold()
    english = dateparser_reader(["en"])
    english("1 January 2000", date(2000, 1, 1), None)  # load its data before timing
    for text, ref, fy, _due in gold:  # make its parser for every reference date before timing
        english(text, ref, fy)
    rows: list[Row] = [
        ("planwatch", *measure(planwatch_due, gold, args.passes, args.rounds)),
        ("planwatch, caches cleared every pass", *measure(planwatch_due, gold, args.passes, args.rounds, clear_caches)),
        ("dateparser, languages=['en'], reused", *measure(english, gold, args.passes, args.rounds)),
    ]
    if not args.skip_default:
        rows.append(("dateparser, default settings (1 pass)", *measure(dateparser_reader(None), gold, 1, 1)))
    _report(rows, len(gold), args)


def _report(rows: Sequence[Row], n: int, args: argparse.Namespace) -> None:
    print(
        f"{n} phrases (the gold table of tests/timeframe/test_timeframe.py); planwatch and the English dateparser: "
        f"{args.rounds} rounds of {args.passes} passes; one core, one process; "
        f"load average at start {args.load}; {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    )
    _table(rows)
    ours = rows[0][1]
    verdict = "met" if ours >= TARGET_RATE else "NOT met"
    print(f"planwatch >= {TARGET_RATE:,} phrases per CPU second (median round): {verdict}")
    for name, median_cpu, *_ in (row for row in rows if row[0].startswith("dateparser")):
        ratio = ours / median_cpu
        headline = "languages=['en']" in name
        verdict = f" (target {TARGET_RATIO:.0f}x: {'met' if ratio >= TARGET_RATIO else 'NOT met'})" if headline else ""
        print(f"planwatch / {name}, median rounds, CPU: {ratio:,.1f}x{verdict}")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3, help="passes per round, both readers (default 3)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds, every reader; the median counts (default 10)")
    parser.add_argument(
        "--skip-default", action="store_true", help="skip dateparser's default settings (slow: about 5 s)"
    )
    parser.add_argument(
        "--languages",
        type=lambda v: v.split(","),
        default=["en", "fr", "es"],
        help="which gold sets: en, fr, es, comma-separated (default all three)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
