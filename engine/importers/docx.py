"""Word plans (.docx): the front paragraphs give the symbol, title and date; the tables give the actions.

Headings and Part lines outside the tables are Parts and issues; each table row is read by
:class:`engine.importers.gbtext.RowReader`, as the text format reads a row. A cell merged with the one
above (``vMerge``) is empty in its lower rows: an empty time frame there proposes the one above.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from engine.errors import InputError, Location
from engine.importers import gbtext
from engine.plandoc import PlanDocument

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary formats (.doc, .xls) start with these bytes


def handles(path: str | Path) -> bool:
    """Return True for a Word file, new (.docx) or old (.doc, refused with a way to convert it)."""
    return Path(path).suffix.lower() in {".docx", ".doc", ".docm"}


def read(path: str | Path, *, timezone: str | None = None, plan_id: str | None = None) -> PlanDocument:
    """Read a Word plan; errors name the file and the paragraph or the table and row."""
    source = str(path)
    document = _open(Path(path), source)
    body = document.element.body
    blocks = [child for child in body.iterchildren() if child.tag in (_P, _TBL)]
    front, start = _front(blocks)
    info = gbtext.front_matter(
        front, source, timezone, plan_id, "docx", where=lambda n: Location(f"{source}:paragraph {n}")
    )
    if 0 < start <= len(blocks) and blocks[start - 1].tag == _P:
        info.language = gbtext.APPENDIX_WORDS.get(_text(blocks[start - 1]), "") or info.language
    places: dict[int, Location] = {}
    rows = gbtext.RowReader(
        source, where=places.__getitem__, name=lambda n: str(places[n]).split(":", 1)[1], language=info.language
    )
    tables = 0
    paragraphs = sum(block.tag == _P for block in blocks[:start])
    for block in blocks[start:]:
        line = len(places) + 1
        if block.tag == _P:
            paragraphs += 1
            places[line] = Location(f"{source}:paragraph {paragraphs}")
            rows.paragraph(_text(block), line, heading=_is_heading(block))
            continue
        tables += 1
        for number, tr in enumerate(block.iterchildren(_TR), 1):
            line = len(places) + 1
            places[line] = Location(f"{source}:table {tables}, row {number}")
            cells, merged = _cells(tr)
            rows.row(cells, line, merged=merged)
    if tables == 0:
        raise InputError(
            "a Word document without tables; expected the plan's table (Parts, issues, time frames) in a Word table",
            Location(source),
        )
    return rows.document(info, f"the {tables} table(s)")


def _open(path: Path, source: str) -> Any:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", Location(source)) from None
    if head == OLE_MAGIC or path.suffix.lower() == ".doc":
        raise InputError(
            "an old Word document (.doc); planwatch reads .docx: convert it with LibreOffice "
            f"(soffice --headless --convert-to docx {path.name}) and import the .docx",
            Location(source),
        )
    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(
            f"not a Word document that can be opened ({exc.__class__.__name__}: {str(exc)[:80]}); "
            "expected a .docx saved by Word or LibreOffice",
            Location(source),
        ) from None
    except Exception as exc:  # lxml's XMLSyntaxError and the like: a damaged document
        raise InputError(
            f"a damaged Word document ({exc.__class__.__name__}); expected a .docx saved by Word or LibreOffice",
            Location(source),
        ) from None


_P, _TBL, _TR, _TC, _T = (
    "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + t for t in ("p", "tbl", "tr", "tc", "t")
)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _text(element: Any) -> str:
    """The text of a paragraph or a cell: its paragraphs joined by spaces."""
    paragraphs = list(element.iter(_P)) if element.tag != _P else [element]
    return " ".join("".join(t.text or "" for t in p.iter(_T)) for p in paragraphs).strip()


def _is_heading(p: Any) -> bool:
    style = p.find(f"{_W}pPr/{_W}pStyle")
    name = (style.get(f"{_W}val") or "") if style is not None else ""
    return name.lower().startswith(("heading", "titre", "título", "titulo", "berschrift", "title"))


def _front(blocks: list[Any]) -> tuple[list[str], int]:
    """The front paragraphs' texts and where the tables start: after 'Appendix' (or 'Annexe', 'Anexo'...), or at
    the first Part or table."""
    texts: list[str] = []
    for i, block in enumerate(blocks):
        if block.tag == _TBL:
            return texts, i
        text = _text(block)
        if text in gbtext.APPENDIX_WORDS:
            return texts, i + 1
        if gbtext.PART_RE.match(text) and _is_heading(block):
            return texts, i
        texts.append(text)
    return texts, len(blocks)


def _cells(tr: Any) -> tuple[list[str], frozenset[int]]:
    """A row's cells by grid column (a cell spanning columns fills the first), and the columns merged from above."""
    cells: list[str] = []
    merged: set[int] = set()
    for tc in tr.iterchildren(_TC):
        column = len(cells)
        if tc.vMerge == "continue":
            merged.add(column)
            cells.append("")
        else:
            cells.append(_text(tc))
        cells.extend([""] * (tc.grid_span - 1))
    return cells, frozenset(merged)
