"""Benchmark: a 200-page PDF plan read by planwatch, beside camelot and tabula-py reading the same tables.

Run from the repository root:  .venv/bin/python bench/bench_pdf.py [--pages 200] [--rounds 2] [--no-tabula]

The PDF is drawn here with fpdf2 as the tests draw the example plan (``tests/importers/documents.py``:
the front lines, then per Part its line and a ruled table, a time frame shared by two rows as a row
span), the example plan's Parts repeated, numbered on (Part 1, Part 2, ... Part 102), until the
document has at least ``--pages`` pages. planwatch reads it with ``engine.importers.pdf.read``
(pdfplumber: every page's words and ruling lines, tables found, each row read as the text format
reads a row, Parts, issues and actions made). The peers read the same tables as a competent user
would set them up for a ruled table: camelot ``read_pdf(pages="all", flavor="lattice")`` (tables
found from the ruling lines; a DataFrame per table) and tabula-py ``read_pdf(pages="all",
lattice=True)`` (tabula-java in the same process through jpype, as tabula-py's documentation advises;
a subprocess when jpype1 is missing, which pays the JVM's start at every read).
They give tables of cells and nothing more: no Parts, no issues, no actions. All three run the same
rounds in one process, in turn; the median round of each is compared, the best shown beside it. Then ``planwatch
import`` of the same file into a new SQLite database is timed once from a new process (reading, time
frames resolved, rows written), for scale.

camelot and tabula-py are not planwatch's dependencies: install them into the venv to compare
(``.venv/bin/pip install camelot-py "tabula-py[jpype]"``; tabula needs Java). A peer that is missing is skipped.
Goal: planwatch's read no slower than the faster peer (medians).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import _world  # noqa: E402

from engine.importers import gbtext, pdf  # noqa: E402  (the repository root must be importable first)
from engine.plandoc import PlanDocument  # noqa: E402

TARGET_RATIO = 1.0
SEED = ROOT / "plans" / "gb276-tc2-implementation-plan.txt"


def repeated(doc: PlanDocument, copies: int) -> PlanDocument:
    """Return ``doc`` with its Parts repeated ``copies`` times, numbered on (Part 1, 2, ...), ids following."""
    parts = [s.number for s in doc.sections if s.level == "part"]
    sections, actions = [], []
    for k in range(copies):
        numbers = {old: str(k * len(parts) + i + 1) for i, old in enumerate(parts)}

        def rekey(key: str, numbers: dict[str, str] = numbers) -> str:
            head, dot, rest = key.partition(".")
            return numbers[head] + dot + rest

        for s in doc.sections:
            number = numbers[s.number] if s.level == "part" else s.number
            parent = rekey(s.parent_key) if s.parent_key else None
            sections.append(replace(s, key=rekey(s.key), parent_key=parent, number=number))
        actions += [replace(a, ref=rekey(a.ref), section_key=rekey(a.section_key)) for a in doc.actions]
    return replace(doc, sections=sections, actions=actions)


def make_pdf(path: Path, pages: int) -> tuple[int, int]:
    """Draw the plan of at least ``pages`` pages; return (pages, actions)."""
    import pdfplumber

    from tests.importers.documents import write_pdf

    doc = gbtext.parse(SEED.read_text(encoding="utf-8"), str(SEED))
    write_pdf(doc, path)
    with pdfplumber.open(path) as one:
        per_copy = len(one.pages)
    copies = -(-pages // per_copy)
    while True:
        big = repeated(doc, copies)
        write_pdf(big, path)
        with pdfplumber.open(path) as drawn:
            count = len(drawn.pages)
        if count >= pages:
            return count, len(big.actions)
        copies += 1


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    found = fn()
    return time.perf_counter() - start, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-tabula", action="store_true")
    args = parser.parse_args()
    _world.header("planwatch PDF plans benchmark")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.pdf"
        start = time.perf_counter()
        pages, actions = make_pdf(path, args.pages)
        print(f"{path.name}: {pages} pages, {actions} actions, {path.stat().st_size / 2**20:.1f} MiB, "
              f"drawn in {time.perf_counter() - start:.1f} s")  # fmt: skip
        sides: dict[str, Callable[[Path], int]] = {"planwatch pdf.read": lambda at: len(pdf.read(at).actions)}
        try:
            import camelot

            sides["camelot lattice"] = lambda at: sum(
                len(t.df) for t in camelot.read_pdf(str(at), pages="all", flavor="lattice")
            )
        except ImportError:
            print("camelot is not installed: skipped (.venv/bin/pip install camelot-py)")
        if not args.no_tabula:
            try:
                import tabula

                def by_tabula(at: Path) -> int:
                    found = tabula.read_pdf(str(at), pages="all", lattice=True, silent=True)
                    return sum(len(frame) for frame in found)

                how = "jpype" if importlib.util.find_spec("jpype") else "a subprocess (pip install jpype1: in process)"
                print(f"tabula-py runs tabula-java through {how}")
                sides["tabula-py lattice"] = by_tabula
            except ImportError:
                print("tabula-py is not installed: skipped (.venv/bin/pip install tabula-py; it needs Java)")
        small = Path(tmp) / "warm-up.pdf"
        make_pdf(small, 1)
        for fn in sides.values():  # imports, caches and tabula's JVM started once, as in a process reading many
            fn(small)
        print("each reader warmed up on a one-page PDF first (not timed)")
        times: dict[str, list[float]] = {name: [] for name in sides}
        for r in range(args.rounds):
            for name, fn in sides.items():
                seconds, found = timed(lambda: fn(path))  # noqa: B023
                times[name].append(seconds)
                unit = "actions" if name.startswith("planwatch") else "table rows"
                print(f"round {r + 1}: {name:<20} {seconds:7.2f} s  ({found} {unit})", flush=True)
        median = {name: statistics.median(t) for name, t in times.items()}
        print(f"medians of {args.rounds} rounds on each side, best beside")
        for name, t in times.items():
            ratio = ""
            if not name.startswith("planwatch"):
                factor = median[name] / median["planwatch pdf.read"]
                ratio = f"  planwatch {factor:.1f}x faster" if factor >= 1 else f"  planwatch {1 / factor:.1f}x slower"
            print(f"{name:<20} median {median[name]:7.2f} s  best {min(t):7.2f} s{ratio}")
        db = Path(tmp) / "plan.db"
        command = [str(ROOT / ".venv" / "bin" / "planwatch"), "--db", f"sqlite:///{db}", "import", str(path)]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp)
        print(
            f"planwatch import (new process, new SQLite file): {time.perf_counter() - start:.1f} s, "
            f"exit {done.returncode}"
        )
        if done.returncode != 0:
            print(done.stderr.strip())
            return 1
    _world.footer()
    peers = [m for name, m in median.items() if not name.startswith("planwatch")]
    if peers and median["planwatch pdf.read"] * TARGET_RATIO > min(peers):
        print(f"planwatch's read is slower than the faster peer (goal: {TARGET_RATIO}x, medians)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
