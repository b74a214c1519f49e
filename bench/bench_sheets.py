"""Benchmark: a 10,000-row .xlsx plan read by planwatch, beside pandas ``read_excel`` reading the same file.

Run from the repository root:  .venv/bin/python bench/bench_sheets.py [--rows 10000] [--rounds 5] [--no-ods]

The workbook is made here with openpyxl as Excel writes one (shared strings, a dimension): title rows
(symbol, title, date line) above a header row, then one row per action (reference, Part, issue, action,
owner, time frame, status), the time frames being the example plan's phrases in turn, as a
secretariat's follow-up sheet holds them. planwatch reads it with ``engine.importers.sheets.read``
(each sheet's XML read in one expat pass, headings found, Parts and issues made, one action per row),
pandas with ``read_excel(engine="openpyxl", header=4)`` (openpyxl in read-only mode, a DataFrame of
the same rows). Both run the same rounds in one process, alternating; the best and the median round
of each are shown. Then ``planwatch import`` of the same file into a new SQLite database is timed once
from a new process (reading, time frames resolved, rows written), for scale. The same rows saved as
an .ods (odfpy) are read the same way beside ``read_excel(engine="odf")`` (odfpy's document tree).
Target: planwatch's read at least twice pandas' speed (best rounds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def compare(path: Path, engine: str, rows: int, rounds: int, pd: Any) -> float | None:
    """Time planwatch and pandas on one file, the same rounds, alternating; return pandas' best / ours."""
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(rounds):
        seconds, count = timed(lambda: len(sheets.read(path).actions))
        assert count == rows, count
        ours.append(seconds)
        if pd is not None:
            seconds, count = timed(lambda: len(pd.read_excel(path, engine=engine, header=4)))
            assert count == rows, count
            theirs.append(seconds)
    name = path.suffix
    print(f"{name} planwatch sheets.read: best {min(ours):.2f} s, median {statistics.median(ours):.2f} s")
    if not theirs:
        print("pandas is not installed: .venv/bin/pip install pandas to compare")
        return None
    print(f"{name} pandas read_excel({engine}): best {min(theirs):.2f} s, median {statistics.median(theirs):.2f} s")
    ratio = min(theirs) / min(ours)
    print(f"{name} planwatch is {ratio:.2f}x pandas' speed (best rounds)")
    return ratio


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
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.xlsx"
        make_workbook(path, args.rows)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
        ratio = compare(path, "openpyxl", args.rows, args.rounds, pd)
        if not args.no_ods:
            ods = Path(tmp) / "plan.ods"
            make_ods(path, ods)
            compare(ods, "odf", args.rows, args.rounds, pd)
        db = Path(tmp) / "plan.db"
        cli = [str(ROOT / ".venv" / "bin" / "planwatch"), "--db", f"sqlite:///{db}", "import", str(path)]
        start = time.perf_counter()
        subprocess.run(cli, check=True, capture_output=True, cwd=tmp)
        print(
            f"planwatch import of the .xlsx into a new SQLite file (new process): {time.perf_counter() - start:.2f} s"
        )
    if ratio is not None and ratio < TARGET_RATIO:
        print(f"below target: {ratio:.2f}x < {TARGET_RATIO}x")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
