"""Benchmark: a 10,000-row .xlsx plan read by planwatch, beside pandas ``read_excel`` reading the same file.

Run from the repository root:  .venv/bin/python bench/bench_sheets.py [--rows 10000] [--rounds 5] [--no-ods]

The workbook is made here with openpyxl as Excel writes one (shared strings, a dimension): title rows
(symbol, title, date line) above a header row, then one row per action (reference, Part, issue, action,
owner, time frame, status), the time frames being the example plan's phrases in turn, as a secretariat's
follow-up sheet holds them. planwatch reads it with ``engine.importers.sheets.read`` (each sheet's XML
read in one expat pass, headings found, Parts and issues made, one action per row), pandas with
``read_excel(engine="openpyxl", header=4)`` (its default reader for .xlsx: openpyxl in read-only mode, a
DataFrame of the same rows) and, when python-calamine is installed, with ``engine="calamine"`` (the Rust
reader pandas offers since 2.2). All run the same rounds in one process, in turn; the median round of
each is compared, the best shown beside it. Then ``planwatch import`` of the same file into a new SQLite
database is timed once from a new process (reading, time frames resolved, rows written), for scale. The
same rows saved as an .ods (odfpy) are read the same way beside ``read_excel(engine="odf")`` (odfpy's
document tree) and ``engine="calamine"``. Goal: planwatch's read at least twice the speed of pandas'
default reader (medians).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import _world  # noqa: E402

from engine.importers import gbtext, sheets  # noqa: E402  (the repository root must be importable first)

TARGET_RATIO = 2.0
SEED = ROOT / "plans" / "gb276-tc2-implementation-plan.txt"


def make_workbook(path: Path, rows: int) -> None:
    """Write the follow-up sheet of ``rows`` actions as Excel writes one (shared strings, a dimension)."""
    from openpyxl import Workbook

    phrases = [a.timeframe for a in gbtext.parse(SEED.read_text(encoding="utf-8"), str(SEED)).actions if a.timeframe]
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Plan"
    for line in (["GB.999/TC/1"], ["Follow-up of the implementation plan"], ["Geneva, 28 September 1999."], []):
        ws.append(line)
    ws.append(["Reference", "Part", "Issue", "Action", "Owner", "Time frame", "Status"])
    for i in range(rows):
        part, issue = i // 1000 + 1, (i // 50) % 20 + 1
        ws.append(
            [
                f"R{i + 1}",
                f"Part {part} -- Part number {part}",
                f"{issue}. Issue number {issue}",
                f"Action {i + 1}: what the Office will do",
                "",
                phrases[i % len(phrases)],
                "open",
            ]
        )
    book.save(path)


def make_ods(xlsx: Path, path: Path) -> None:
    """Write the same rows as an .ods with odfpy (text cells, as LibreOffice saves a follow-up sheet)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    grid = sheets._xlsx_direct(xlsx, xlsx.name, None)[0][0]
    doc = OpenDocumentSpreadsheet()
    table = Table(name="Plan")
    for values in grid.rows:
        row = TableRow()
        for value in values:
            cell = TableCell(valuetype="string") if value else TableCell()
            if value:
                cell.addElement(P(text=str(value)))
            row.addElement(cell)
        table.addElement(row)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    count = fn()
    return time.perf_counter() - start, count


def compare(path: Path, engines: tuple[str, ...], rows: int, rounds: int, pd: Any) -> float | None:
    """Time planwatch and pandas (each of ``engines``) on one file, the same rounds, in turn; return pandas'
    median with the first engine (its default for the format) over planwatch's median."""
    ours: list[float] = []
    theirs: dict[str, list[float]] = {engine: [] for engine in engines if pd is not None and _usable(engine)}
    for _ in range(rounds):
        seconds, count = timed(lambda: len(sheets.read(path).actions))
        assert count == rows, count
        ours.append(seconds)
        for engine, times in theirs.items():
            seconds, count = timed(lambda: len(pd.read_excel(path, engine=engine, header=4)))  # noqa: B023
            assert count == rows, count
            times.append(seconds)
    name = path.suffix
    mine = statistics.median(ours)
    print(f"{name} planwatch sheets.read: median {mine:.2f} s, best {min(ours):.2f} s ({rounds} rounds)")
    if pd is None:
        print("pandas is not installed: .venv/bin/pip install pandas to compare")
        return None
    for engine in engines:
        if engine not in theirs:
            print(f"{name} pandas read_excel({engine}): skipped, its reader is not installed")
    for engine, times in theirs.items():
        median = statistics.median(times)
        factor = median / mine
        print(
            f"{name} pandas read_excel(engine={engine!r}): median {median:.2f} s, best {min(times):.2f} s: "
            + (f"planwatch {factor:.2f}x faster" if factor >= 1 else f"planwatch behind, {factor:.2f}x")
            + " (medians)"
        )
    first = theirs.get(engines[0])
    return statistics.median(first) / mine if first else None


def _usable(engine: str) -> bool:
    """Whether pandas' reader ``engine`` is installed."""
    module = {"openpyxl": "openpyxl", "odf": "odf", "calamine": "python_calamine"}[engine]
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-ods", action="store_true", help="only the .xlsx")
    args = parser.parse_args()
    try:
        import pandas as pd
    except ImportError:
        pd = None
    _world.header("planwatch spreadsheets benchmark")
    if pd is not None:
        print(f"pandas {pd.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.xlsx"
        make_workbook(path, args.rows)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
        ratio = compare(path, ("openpyxl", "calamine"), args.rows, args.rounds, pd)
        if not args.no_ods:
            ods = Path(tmp) / "plan.ods"
            make_ods(path, ods)
            compare(ods, ("odf", "calamine"), args.rows, args.rounds, pd)
        db = Path(tmp) / "plan.db"
        cli = [str(ROOT / ".venv" / "bin" / "planwatch"), "--db", f"sqlite:///{db}", "import", str(path)]
        start = time.perf_counter()
        subprocess.run(cli, check=True, capture_output=True, cwd=tmp)
        print(
            f"planwatch import of the .xlsx into a new SQLite file (new process): {time.perf_counter() - start:.2f} s"
        )
    _world.footer()
    if ratio is not None and ratio < TARGET_RATIO:
        print(f"short of the goal: {ratio:.2f}x < {TARGET_RATIO}x pandas' default reader (openpyxl)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
