"""PDF plans with a text layer: the lines before the first table give the symbol, title and date; tables the actions.

Lines outside the tables that read as Part lines start Parts; each table row is read by
:class:`engine.importers.gbtext.RowReader`, as the Word and text formats read a row. A cell merged
with the one above (a row span) is empty in its lower rows. A scanned PDF, with no text to read,
is refused in one line.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from engine.errors import InputError, Location
from engine.importers import gbtext
from engine.plandoc import PlanDocument


def handles(path: str | Path) -> bool:
    """Return True for a file named ``.pdf``."""
    return Path(path).suffix.lower() == ".pdf"


def read(path: str | Path, *, timezone: str | None = None, plan_id: str | None = None) -> PlanDocument:
    """Read a PDF plan; errors name the file, the page and the row of the page's table."""
    source = str(path)
    items = _items(Path(path), source)
    front: list[str] = []
    start = len(items)
    for i, (_page, kind, payload) in enumerate(items):
        if kind == "table" or gbtext.PART_RE.match(payload):
            start = i
            break
        if payload in gbtext.APPENDIX_WORDS:
            start = i + 1
            break
        front.append(payload)
    first_page = items[0][0] if items else 1
    info = gbtext.front_matter(front, source, timezone, plan_id, "pdf", where=lambda _n: _at(source, first_page))
    if 0 < start <= len(items) and items[start - 1][1] != "table":
        info.language = gbtext.APPENDIX_WORDS.get(items[start - 1][2], "") or info.language
    places: dict[int, Location] = {}
    rows = gbtext.RowReader(
        source, where=places.__getitem__, name=lambda n: str(places[n]).split(":", 1)[1], language=info.language
    )
    tables = 0
    for page, kind, payload in items[start:]:
        line = len(places) + 1
        if kind == "line":
            places[line] = _at(source, page)
            rows.paragraph(payload, line, heading=False)
            continue
        tables += 1
        for number, (cells, merged) in enumerate(payload, 1):
            line = len(places) + 1
            places[line] = _at(source, page, number)
            rows.row(cells, line, merged=merged)
    if tables == 0:
        raise InputError(
            "a PDF without tables; expected the plan's table (Parts, issues, time frames)", Location(source)
        )
    return rows.document(info, f"the {tables} table(s)")


def _at(source: str, page: int, row: int | None = None) -> Location:
    return Location(f"{source}:page {page}" + (f", row {row}" if row is not None else ""))


def _items(path: Path, source: str) -> list[tuple[int, str, Any]]:
    """The pages' lines outside tables and their tables' rows, in reading order: (page, 'line' or 'table', ...)."""
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        pdf = pdfplumber.open(path)
    except (PDFSyntaxError, OSError, ValueError, TypeError):
        raise InputError(
            "not a PDF that can be opened (damaged or cut short?); expected a PDF with a text layer",
            Location(source),
        ) from None
    except Exception:  # pdfminer raises its own classes for damaged and encrypted files
        raise InputError(
            "a damaged or password-protected PDF that cannot be read; expected a PDF with a text layer",
            Location(source),
        ) from None
    try:
        return _read_pages(pdf, source)
    except InputError:
        raise
    except Exception:  # a page that cannot be read: damaged contents
        what = "a damaged PDF: a page cannot be read; expected a PDF with a text layer"
        raise InputError(what, Location(source)) from None
    finally:
        pdf.close()


def _read_pages(pdf: Any, source: str) -> list[tuple[int, str, Any]]:
    """Every page's lines outside its tables and its tables' rows, sorted by page and height."""
    if not any(page.chars for page in pdf.pages):
        raise InputError(
            "a scanned PDF with no text layer; planwatch reads a PDF's text: run it through text recognition "
            "(OCR) first, or import the Word version of the plan",
            Location(source),
        )
    items: list[tuple[int, float, str, Any]] = []
    for number, page in enumerate(pdf.pages, 1):
        found = page.find_tables()
        boxes = [t.bbox for t in found]
        outside = page.filter(partial(_outside, boxes=boxes))
        for line in outside.extract_text_lines():
            items.append((number, line["top"], "line", " ".join(line["text"].split())))
        for table in found:
            items.append((number, table.bbox[1], "table", _rows(table)))
    items.sort(key=lambda item: (item[0], item[1]))
    return [(page, kind, payload) for page, _top, kind, payload in items]


def _outside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    """True for a page object (a character, a line) whose centre lies in no table."""
    if "x0" not in obj or "top" not in obj:
        return True
    x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def _rows(table: Any) -> list[tuple[list[str | None], frozenset[int]]]:
    """Each row's cells and the columns whose cell is covered by a cell above that spans down."""
    texts = table.extract()
    out = []
    for r, (row, cells) in enumerate(zip(table.rows, texts, strict=True)):
        boxes = [c for c in row.cells if c is not None]
        top = min((b[1] for b in boxes), default=0.0)
        merged = set()
        for c, box in enumerate(row.cells):
            if box is None and _spanned_from_above(table.rows, r, c, top):
                merged.add(c)
        out.append(([cell or "" for cell in cells], frozenset(merged)))
    return out


def _spanned_from_above(rows: Any, r: int, c: int, top: float) -> bool:
    for above in range(r - 1, -1, -1):
        box = rows[above].cells[c]
        if box is not None:
            return bool(box[3] > top + 0.5)
    return False
