"""CSV for spreadsheets: every text cell a spreadsheet would read as a formula is defused.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a
leading apostrophe (CSV injection: ``=HYPERLINK(...)`` in a title must stay text). Numbers and
empty cells are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: object) -> object:
    """Return ``value``, with a leading apostrophe when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return f"'{value}"
    return value


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, lineterminator: str = "\r\n", every: int = 2000
) -> Iterator[str]:
    """Yield the CSV text of ``header`` and ``rows`` (None as an empty cell) in chunks of ``every`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator)
    writer.writerow([defuse(name) for name in header])
    for n, row in enumerate(rows, 1):
        writer.writerow([defuse(cell) for cell in row])
        if n % every == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


__all__ = ["FORMULA_STARTS", "csv_chunks", "defuse"]
