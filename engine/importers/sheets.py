"""Plans kept as spreadsheets: ``.xlsx`` (openpyxl), ``.ods`` (odfpy) and ``.csv``; one row per action.

Columns are found by their headings (English, French or Spanish, any case, with or without accents),
or named with ``columns`` (``{"timeframe": "Target date"}``). The header row may sit below title rows,
which may give the plan's symbol, title and date line. A cell merged down over rows applies to each row.
A real date in the time-frame column (an Excel or ODS date) is a deadline on that date. Each sheet is a
Part unless a column names the Parts. Places in errors read ``plan.xlsx:Sheet1!C12``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from engine.errors import InputError, Location, display_path
from engine.importers.gbtext import DATE_RE, MONTHS, SYMBOL_RE, plan_id_from_symbol
from engine.importers.owners import looks_like_csv as looks_like_owners_csv
from engine.importers.places import zone_for_place
from engine.plandoc import ActionRow, PlanDocument, PlanInfo, SectionRow

SUFFIXES = (".xlsx", ".xlsm", ".ods", ".csv", ".tsv")
FIELDS = ("ref", "part", "section", "title", "owner", "timeframe", "status", "comments")
# The headings each field is known by, folded (no accents, lower case, punctuation as spaces).
HEADINGS: dict[str, tuple[str, ...]] = {
    "ref": ("reference", "ref", "ref no", "id", "no", "n", "number", "item", "referencia", "numero"),
    "part": ("part", "partie", "parte", "pillar", "chapter", "chapitre", "capitulo"),
    "section": ("section", "issue", "issues", "issues to be addressed", "question", "theme", "seccion", "cuestion",
                "tema", "asunto"),
    "title": ("action", "actions", "recommendation", "recommendations", "measure", "measures", "measures envisaged",
              "title", "action to be taken", "mesure", "mesures", "recommandation", "recommandations", "titre",
              "medida", "medidas", "accion", "acciones", "recomendacion", "recomendaciones", "titulo"),
    "owner": ("owner", "owners", "responsible", "responsibility", "responsible unit", "lead", "responsable",
              "responsables", "unite responsable", "unidad responsable"),
    "timeframe": ("time frame", "timeframe", "time frames", "timeline", "deadline", "target date", "due",
                  "due date", "completion date", "calendar", "calendrier", "echeance", "delai", "delais",
                  "date cible", "date limite", "calendario", "plazo", "plazos", "fecha limite", "fecha prevista"),
    "status": ("status", "etat", "statut", "estado", "situacion"),
    "comments": ("comments", "comment", "remarks", "notes", "observations", "commentaires", "observaciones",
                 "comentarios"),
}  # fmt: skip
FIELD_NAMES = {"id": "ref", "reference": "ref", "issue": "section", "action": "title", "time frame": "timeframe"}
HEADER_SCAN = 30
TITLE_MAX = 160
PART_RE = re.compile(
    r"^(?:part|partie|parte|section|seccion|chapter|chapitre|capitulo)\s+(?P<num>[IVXLCDM]+|[A-Z]|\d+)"
    r"(?:\s*(?:--|[-–—:.])\s*|\s+|$)(?P<title>.*)$",
    re.IGNORECASE,
)
ISSUE_RES = (
    re.compile(r"^(?P<num>\d+)\((?P<letter>[a-z])\)\s*(?P<title>.*)$"),  # 1(a)
    re.compile(r"^\((?P<letter>[a-z])\)\s*(?P<title>.*)$"),  # (a)
    re.compile(r"^(?P<num>(?:[A-Z]\.)?\d+(?:\.\d+)*)\.?(?:\s+(?P<title>.*)|$)"),  # 1.  1.1  A.1
)
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")  # fmt: skip
Value = str | date | None


@dataclass
class Grid:
    """One sheet as rows of values (text, a date, or nothing), merged cells filled in."""

    name: str
    rows: list[list[Value]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (min_row, min_col, max_row, max_col)

    def fill_merged(self) -> None:
        """Give every cell of a merged range the value of its top-left cell."""
        for r1, c1, r2, c2 in self.merged:
            if r1 > len(self.rows):
                continue
            top = self.rows[r1 - 1]
            value = top[c1 - 1] if c1 <= len(top) else None
            for r in range(r1, min(r2, len(self.rows)) + 1):
                row = self.rows[r - 1]
                if len(row) < c2:
                    row.extend([None] * (c2 - len(row)))
                for c in range(c1, c2 + 1):
                    if (r, c) != (r1, c1):
                        row[c - 1] = value


def handles(path: str | Path) -> bool:
    """Return True for a file this module reads: a workbook by its name, or a CSV/TSV that is not an owners file."""
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES or not p.is_file():
        return False
    if p.suffix.lower() in {".csv", ".tsv"}:
        with p.open("rb") as f:
            head = f.read(4096).decode("utf-8", errors="replace")
        return not looks_like_owners_csv(head)
    return True


def column_letter(number: int) -> str:
    """Return a spreadsheet column's letters: 1 -> A, 28 -> AB."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def parse_columns(spec: str | None) -> dict[str, str]:
    """Read ``"timeframe=Target date,title=Measure"`` into {field: heading}; raise ``InputError`` if malformed."""
    if not spec:
        return {}
    out: dict[str, str] = {}
    for item in spec.split(","):
        name, sep, heading = item.partition("=")
        key = _fold(name)
        key = FIELD_NAMES.get(key, key)
        if not sep or key not in FIELDS or not heading.strip():
            raise InputError(
                f"--columns: expected FIELD=HEADING pairs separated by commas, FIELD one of {', '.join(FIELDS)}; "
                f"got {item.strip()!r}"
            )
        out[key] = heading.strip()
    return out


PLACED = ("ref", "title", "owner", "timeframe", "status")  # the fields whose cells an error may name later


def parse_date(text: str | None) -> date | None:
    """Read ``--date`` (the plan's date when the file gives none): ``YYYY-MM-DD``, or None when not given."""
    if not text or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"--date: expected the plan's date as YYYY-MM-DD, such as 2024-03-04; got {text!r}") from None


def read(
    path: str | Path,
    *,
    sheet: str | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    timezone: str | None = None,
    plan_id: str | None = None,
    plan_date: date | None = None,
) -> PlanDocument:
    """Read a plan from a spreadsheet file; every error names the file, sheet and cell.

    ``plan_date`` (``--date``) is the plan's date when the file gives none; a date line or date cell in the file
    wins over it, with a warning when the two differ.
    """
    p = Path(path)
    name = display_path(p)
    if not p.is_file():
        raise InputError("no such spreadsheet" if not p.exists() else "is a directory; expected a spreadsheet",
                         Location(name))  # fmt: skip
    suffix = p.suffix.lower()
    created: date | None = None
    if suffix in {".xlsx", ".xlsm"}:
        grids, created, doc_title = _xlsx(p, name, sheet)
    elif suffix == ".ods":
        grids, created, doc_title = _ods(p, name, sheet)
    else:
        grids, doc_title = [_csv(p, name, encoding)], ""
    if sheet is not None and suffix in {".csv", ".tsv"}:
        raise InputError("--sheet: a CSV file has one table and no sheets; leave --sheet out", Location(name))
    reader = _Reader(name, dict(columns or {}))
    read_any = False
    for grid in grids:
        read_any |= reader.sheet(grid, required=sheet is not None or len(grids) == 1)
    if not read_any:
        raise reader.first_problem or InputError(
            "the workbook has no rows; expected a header row (Reference, Part, Issue, Action, Time frame, ...) "
            "and one row per action",
            Location(name),
        )
    if not reader.actions:
        raise InputError("the table has a header row but no action rows below it", reader.place(grids[0].name, 1))
    info, warnings = reader.plan_info(p, created, doc_title, timezone, plan_id, plan_date)
    return PlanDocument(info, reader.sections, reader.actions, positional_refs=False, path=name, warnings=warnings)


# --- reading the files -------------------------------------------------------------------------------


def _xlsx(path: Path, name: str, wanted: str | None) -> tuple[list[Grid], date | None, str]:
    head = path.read_bytes()[:8]
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            "is password-protected or an old .xls workbook (not an .xlsx zip); open it in your spreadsheet "
            "program and save it as .xlsx without a password",
            Location(name),
        )
    if not head.startswith(b"PK"):
        raise InputError("is not an .xlsx workbook (not a zip file; damaged or renamed?)", Location(name))
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"is a damaged .xlsx workbook ({exc})", Location(name)) from None
    if "xl/workbook.xml" not in members:
        raise InputError("is a zip file but not an .xlsx workbook (it has no xl/workbook.xml)", Location(name))
    try:
        return _xlsx_direct(path, name, wanted)
    except InputError:
        raise
    except Exception:  # an unusual but valid workbook: openpyxl reads it, or says what is wrong with it
        return _xlsx_openpyxl(path, name, wanted)


def _xlsx_openpyxl(path: Path, name: str, wanted: str | None) -> tuple[list[Grid], date | None, str]:
    """Read a workbook with openpyxl in read-only mode (merged ranges from the sheet's XML)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise InputError(f"is a damaged .xlsx workbook ({type(exc).__name__}: {exc})", Location(name)) from None
    try:
        names = _chosen(book.sheetnames, wanted, name)
        grids = []
        with zipfile.ZipFile(path) as archive:
            for title in names:
                ws = book[title]
                rows = [[_xlsx_value(v) for v in row] for row in ws.iter_rows(values_only=True)]
                _trim(rows)
                grid = Grid(title, rows, _xlsx_merged(archive, getattr(ws, "_worksheet_path", "")))
                grid.fill_merged()
                grids.append(grid)
        props = book.properties
        created = props.created.date() if isinstance(props.created, datetime) else None
        return grids, created, props.title or ""
    finally:
        book.close()


def _xlsx_direct(path: Path, name: str, wanted: str | None) -> tuple[list[Grid], date | None, str]:
    """Read a workbook's sheets with one pass of expat over each sheet's XML (several times openpyxl's speed).

    openpyxl (read-only mode) builds a cell object per cell and, for sheets without a ``<dimension>``, reads
    each sheet twice; this reads the same parts (workbook, relationships, shared strings, number formats)
    and asks openpyxl only which number formats are dates and what day a serial number is.
    """
    import xml.etree.ElementTree as ET

    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())

        def xml(member: str) -> ET.Element:
            return ET.fromstring(archive.read(member))

        book = xml("xl/workbook.xml")
        rels = {}
        if "xl/_rels/workbook.xml.rels" in members:
            for rel in xml("xl/_rels/workbook.xml.rels"):
                target = rel.get("Target", "")
                rels[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        sheet_parts: dict[str, str] = {}
        date1904 = False
        for node in book.iter():
            tag = _local(node.tag)
            if tag == "sheet":
                rid = next(v for k, v in node.attrib.items() if _local(k) == "id")
                sheet_parts[node.get("name", "")] = rels[rid]
            elif tag == "workbookPr":
                date1904 = node.get("date1904", "0").lower() in {"1", "true"}
        strings = _shared_strings(xml("xl/sharedStrings.xml")) if "xl/sharedStrings.xml" in members else []
        dates = _date_styles(xml("xl/styles.xml")) if "xl/styles.xml" in members else set()
        grids = []
        for title in _chosen(list(sheet_parts), wanted, name):
            reader = _SheetXml(strings, dates, date1904)
            reader.feed(archive.read(sheet_parts[title]))
            _trim(reader.rows)
            grid = Grid(title, reader.rows, reader.merged)
            grid.fill_merged()
            grids.append(grid)
        created, title = None, ""
        if "docProps/core.xml" in members:
            for node in xml("docProps/core.xml"):
                if _local(node.tag) == "created" and node.text:
                    created = date.fromisoformat(node.text[:10])
                elif _local(node.tag) == "title" and node.text:
                    title = node.text
    return grids, created, title


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _shared_strings(root: Any) -> list[str]:
    out = []
    for si in root:
        parts = []
        for node in si.iter():
            tag = _local(node.tag)
            if tag == "rPh":  # phonetic runs are not part of the text; their <t> come after this element
                node.clear()
            elif tag == "t" and node.text:
                parts.append(node.text)
        out.append("".join(parts))
    return out


def _date_styles(root: Any) -> set[int]:
    """Return the indexes of the cell formats whose number format shows a date."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    codes = dict(BUILTIN_FORMATS)
    xfs: list[int] = []
    for node in root:
        tag = _local(node.tag)
        if tag == "numFmts":
            codes.update({int(f.get("numFmtId", "0")): f.get("formatCode", "") for f in node})
        elif tag == "cellXfs":
            xfs = [int(xf.get("numFmtId", "0")) for xf in node]
    return {i for i, fmt in enumerate(xfs) if is_date_format(codes.get(fmt, "General"))}


class _SheetXml:
    """Rows of one sheet's XML: shared and inline strings, numbers, dates (by their cell format), merges."""

    def __init__(self, strings: list[str], dates: set[int], date1904: bool) -> None:
        self.strings, self.dates, self.date1904 = strings, dates, date1904
        self.rows: list[list[Value]] = []
        self.merged: list[tuple[int, int, int, int]] = []
        self.row: list[Value] = []
        self.col = 0
        self.kind = ""
        self.style = 0
        self.text: list[str] | None = None
        self.value: list[str] = []

    def feed(self, data: bytes) -> None:
        from xml.parsers import expat

        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.chars
        parser.Parse(data, True)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        tag = tag.rsplit(":", 1)[-1]
        if tag == "c":
            ref = attrs.get("r")
            self.col = _column_number(ref.rstrip("0123456789")) if ref else len(self.row) + 1
            self.kind, self.style, self.value = attrs.get("t", "n"), int(attrs.get("s", "0")), []
        elif tag == "v" or (tag == "t" and self.kind == "inlineStr"):
            self.text = self.value
        elif tag == "row":
            number = int(attrs.get("r", len(self.rows) + 1))
            self.rows.extend([] for _ in range(number - 1 - len(self.rows)))
            self.row = []
        elif tag == "rPh":
            self.kind = "phonetic:" + self.kind
        elif tag == "mergeCell":
            first, _, last = attrs["ref"].partition(":")
            last = last or first
            c1, c2 = first.rstrip("0123456789"), last.rstrip("0123456789")
            self.merged.append((int(first[len(c1) :]), _column_number(c1), int(last[len(c2) :]), _column_number(c2)))

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def end(self, tag: str) -> None:
        tag = tag.rsplit(":", 1)[-1]
        if tag in {"v", "t"}:
            self.text = None
        elif tag == "rPh":
            self.kind = self.kind.removeprefix("phonetic:")
        elif tag == "c":
            value = self._value("".join(self.value))
            if value is not None:
                self.row.extend([None] * (self.col - 1 - len(self.row)))
                self.row.append(value)
        elif tag == "row":
            self.rows.append(self.row)
            self.row = []

    def _value(self, raw: str) -> Value:
        kind = self.kind
        if kind == "s":
            return self.strings[int(raw)].strip() or None if raw else None
        if kind in {"inlineStr", "str"}:
            return raw.strip() or None
        if not raw or kind == "e":
            return None
        if kind == "b":
            return "TRUE" if raw == "1" else "FALSE"
        if kind == "d":
            return date.fromisoformat(raw[:10])
        if self.style in self.dates:
            from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

            day = from_excel(float(raw), CALENDAR_MAC_1904 if self.date1904 else CALENDAR_WINDOWS_1900)
            return day.date() if isinstance(day, datetime) else None
        number = float(raw)
        return str(int(number)) if number.is_integer() else raw


MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _xlsx_merged(archive: zipfile.ZipFile, member: str) -> list[tuple[int, int, int, int]]:
    """Return a sheet's merged ranges: read-only mode does not load them, so they are read from its XML."""
    if not member:
        return []
    with archive.open(member.lstrip("/")) as f:
        data = f.read()
    at = data.rfind(b"</sheetData>")
    return [
        (int(r1), _column_number(c1.decode()), int(r2), _column_number(c2.decode()))
        for c1, r1, c2, r2 in MERGE_RE.findall(data, max(at, 0))
    ]


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _xlsx_value(value: Any) -> Value:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _ods(path: Path, name: str, wanted: str | None) -> tuple[list[Grid], date | None, str]:
    if not path.read_bytes()[:2] == b"PK":
        raise InputError("is not an .ods workbook (not a zip file; damaged or renamed?)", Location(name))
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            manifest = archive.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in members else b""
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"is a damaged .ods workbook ({exc})", Location(name)) from None
    if "content.xml" not in members:
        raise InputError("is a zip file but not an .ods workbook (it has no content.xml)", Location(name))
    if b"encryption-data" in manifest:
        raise InputError(
            "is password-protected; open it in your spreadsheet program and save it without a password",
            Location(name),
        )
    try:
        return _ods_direct(path, name, wanted)
    except InputError:
        raise
    except Exception:  # an unusual but valid file: odfpy reads it, or says what is wrong with it
        return _ods_odfpy(path, name, wanted)


def _ods_odfpy(path: Path, name: str, wanted: str | None) -> tuple[list[Grid], date | None, str]:
    """Read an .ods with odfpy (a whole document tree)."""
    from odf import teletype
    from odf.namespaces import METANS, OFFICENS, TABLENS
    from odf.opendocument import load

    try:
        document = load(str(path))
    except Exception as exc:  # odfpy raises many kinds on a damaged file
        raise InputError(f"is a damaged .ods workbook ({type(exc).__name__}: {exc})", Location(name)) from None
    tables = [t for t in document.spreadsheet.childNodes if t.qname == (TABLENS, "table")]
    names = _chosen([t.getAttrNS(TABLENS, "name") for t in tables], wanted, name)
    grids = []
    for table in tables:
        title = table.getAttrNS(TABLENS, "name")
        if title not in names:
            continue
        grid = Grid(title, [])
        for row_node in _descendants(table, (TABLENS, "table-row")):
            repeat = int(row_node.getAttrNS(TABLENS, "number-rows-repeated") or 1)
            row: list[Value] = []
            for cell in row_node.childNodes:
                if cell.qname not in {(TABLENS, "table-cell"), (TABLENS, "covered-table-cell")}:
                    continue
                times = int(cell.getAttrNS(TABLENS, "number-columns-repeated") or 1)
                value: Value
                if cell.getAttrNS(OFFICENS, "value-type") == "date":
                    value = date.fromisoformat(cell.getAttrNS(OFFICENS, "date-value")[:10])
                else:
                    paragraphs = [p for p in cell.childNodes if p.qname != (OFFICENS, "annotation")]
                    text = "\n".join(teletype.extractText(p) for p in paragraphs).strip()
                    value = text or None
                spans = (
                    cell.getAttrNS(TABLENS, "number-rows-spanned"),
                    cell.getAttrNS(TABLENS, "number-columns-spanned"),
                )
                if cell.qname == (TABLENS, "table-cell") and any(s and int(s) > 1 for s in spans):
                    r, c = len(grid.rows) + 1, len(row) + 1
                    grid.merged.append((r, c, r + int(spans[0] or 1) - 1, c + int(spans[1] or 1) - 1))
                if value is None and times > 1:
                    row.extend([None] * min(times, 1024))
                else:
                    row.extend([value] * times)
            while row and row[-1] is None:
                row.pop()
            grid.rows.extend([row] if not row else [list(row) for _ in range(repeat)])
            if not row and repeat > 1:
                grid.rows.extend([] for _ in range(min(repeat, 1024) - 1))
        _trim(grid.rows)
        grid.fill_merged()
        grids.append(grid)
    created = None
    title = ""
    for node in document.meta.childNodes:
        if node.qname == (METANS, "creation-date"):
            try:
                created = date.fromisoformat(str(node)[:10])
            except ValueError:
                created = None
        elif node.qname[1] == "title":
            title = str(node)
    return grids, created, title


_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0 "
_META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0 "
_ROWS_CAP = 1024  # an empty row or cell repeated to the sheet's end is not materialised


def _ods_direct(path: Path, name: str, wanted: str | None) -> tuple[list[Grid], date | None, str]:
    """Read an .ods's tables with one pass of expat over content.xml (many times odfpy's speed)."""
    from xml.parsers import expat

    with zipfile.ZipFile(path) as archive:
        content = archive.read("content.xml")
        meta = archive.read("meta.xml") if "meta.xml" in archive.namelist() else b""
    reader = _OdsXml()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.chars
    parser.Parse(content, True)
    names = _chosen([g.name for g in reader.grids], wanted, name)
    grids = [g for g in reader.grids if g.name in names]
    for grid in grids:
        _trim(grid.rows)
        grid.fill_merged()
    created, title = None, ""
    if meta:
        import xml.etree.ElementTree as ET

        for node in ET.fromstring(meta).iter():
            if node.tag == "{" + _META.strip() + "}creation-date" and node.text:
                created = date.fromisoformat(node.text[:10])
            elif node.tag.endswith("}title") and node.text:
                title = node.text
    return grids, created, title


class _OdsXml:
    """The tables of an .ods content.xml: text, dates, repeated rows and cells, merged ranges."""

    def __init__(self) -> None:
        self.grids: list[Grid] = []
        self.row: list[Value] = []
        self.repeat = 1
        self.cell: dict[str, str] = {}
        self.paragraphs: list[str] = []
        self.text: list[str] | None = None
        self.annotation = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == _TABLE + "table-cell" or tag == _TABLE + "covered-table-cell":
            self.cell, self.paragraphs = attrs, []
        elif tag.startswith(_TEXT):
            if self.annotation:
                return
            local = tag[len(_TEXT) :]
            if local == "p" or local == "h":
                self.text = []
            elif self.text is None:
                return
            elif local == "s":
                self.text.append(" " * int(attrs.get(_TEXT + "c", "1")))
            elif local == "tab":
                self.text.append("\t")
            elif local == "line-break":
                self.text.append("\n")
        elif tag == _OFFICE + "annotation":
            self.annotation += 1
        elif tag == _TABLE + "table-row":
            self.row, self.repeat = [], int(attrs.get(_TABLE + "number-rows-repeated", "1"))
        elif tag == _TABLE + "table":
            self.grids.append(Grid(attrs.get(_TABLE + "name", f"Sheet{len(self.grids) + 1}"), []))

    def chars(self, data: str) -> None:
        if self.text is not None and not self.annotation:
            self.text.append(data)

    def end(self, tag: str) -> None:
        if tag == _TEXT + "p" or tag == _TEXT + "h":
            if self.text is not None and not self.annotation:
                self.paragraphs.append("".join(self.text))
                self.text = None
        elif tag == _OFFICE + "annotation":
            self.annotation -= 1
        elif tag == _TABLE + "table-cell" or tag == _TABLE + "covered-table-cell":
            self._cell(covered=tag.endswith("covered-table-cell"))
        elif tag == _TABLE + "table-row":
            grid, row = self.grids[-1], self.row
            while row and row[-1] is None:
                row.pop()
            if row:
                grid.rows.extend(list(row) for _ in range(self.repeat))
            else:
                grid.rows.extend([] for _ in range(min(self.repeat, _ROWS_CAP)))

    def _cell(self, *, covered: bool) -> None:
        attrs, row = self.cell, self.row
        times = int(attrs.get(_TABLE + "number-columns-repeated", "1"))
        value: Value
        if attrs.get(_OFFICE + "value-type") == "date":
            value = date.fromisoformat(attrs[_OFFICE + "date-value"][:10])
        else:
            value = "\n".join(self.paragraphs).strip() or None
        spans = (attrs.get(_TABLE + "number-rows-spanned"), attrs.get(_TABLE + "number-columns-spanned"))
        if not covered and any(s and int(s) > 1 for s in spans):
            r, c = len(self.grids[-1].rows) + 1, len(row) + 1
            self.grids[-1].merged.append((r, c, r + int(spans[0] or 1) - 1, c + int(spans[1] or 1) - 1))
        row.extend([value] * (min(times, _ROWS_CAP) if value is None else times))


def _descendants(node: Any, qname: tuple[str, str]) -> Iterator[Any]:
    for child in node.childNodes:
        if child.qname == qname:
            yield child
        elif child.qname is not None and child.qname[1] in {"table-row-group", "table-rows", "table-header-rows"}:
            yield from _descendants(child, qname)


def _csv(path: Path, name: str, encoding: str | None) -> Grid:
    raw = path.read_bytes()
    if encoding:
        try:
            text = raw.decode(encoding)
        except LookupError:
            raise InputError(
                f"--encoding: unknown encoding {encoding!r}; expected one such as utf-8 or latin-1"
            ) from None
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise InputError(
                f"is not {encoding} text (byte 0x{raw[exc.start]:02x}); give the file's own encoding with --encoding",
                Location(name, line),
            ) from None
        text = text.removeprefix("\ufeff")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise InputError(
                f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); if it was saved as Latin-1, "
                "import it again with --encoding latin-1",
                Location(name, line),
            ) from None
    if not text.strip():
        raise InputError("is empty; expected a header row (Reference, Action, Time frame, ...) and one row per action",
                         Location(name, 1))  # fmt: skip
    rows: list[list[Value]] = [[c.strip() or None for c in row] for row in _split(text, path.suffix.lower())]
    _trim(rows)
    return Grid(path.stem, rows)


def _split(text: str, suffix: str) -> list[list[str]]:
    """Split a CSV text by the delimiter under which its header row has the most known headings."""
    try:
        sniffed = [csv.Sniffer().sniff(text[:16384], delimiters=",;\t|").delimiter]
    except csv.Error:
        sniffed = ["\t" if suffix == ".tsv" else ","]
    head = "\n".join(text.splitlines()[:HEADER_SCAN])
    best, score = sniffed[0], 0
    for delimiter in dict.fromkeys([*sniffed, ",", ";", "\t", "|"]):
        rows = csv.reader(io.StringIO(head), delimiter=delimiter)
        found = max((sum(_known(c) is not None for c in row) for row in rows), default=0)
        if found > score:
            best, score = delimiter, found
    return list(csv.reader(io.StringIO(text), delimiter=best))


def _trim(rows: list[list[Value]]) -> None:
    for row in rows:
        while row and row[-1] is None:
            row.pop()
    while rows and not rows[-1]:
        rows.pop()


def _chosen(names: list[str], wanted: str | None, source: str) -> list[str]:
    if wanted is None:
        return names
    if wanted in names:
        return [wanted]
    folded = [n for n in names if _fold(n) == _fold(wanted)]
    if folded:
        return folded[:1]
    raise InputError(f"--sheet: no sheet named {wanted!r}; the sheets are {', '.join(map(repr, names))}",
                     Location(source))  # fmt: skip


# --- reading the tables --------------------------------------------------------------------------------


def _fold(text: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", plain.casefold()).split())


def _known(heading: str) -> str | None:
    folded = _fold(heading)
    for key, names in HEADINGS.items():
        if folded in names:
            return key
    if len(folded.split()) > 4:  # a sentence ("Due dates are indicative"), not a heading
        return None
    for key, names in HEADINGS.items():  # "Time frame (indicative)", "Responsible unit(s)"
        if any(folded.startswith(n + " ") for n in names if len(n) > 3):
            return key
    return None


def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(value.split())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _fold(text)).strip("-")[:40] or "x"


@dataclass
class _Header:
    row: int
    columns: dict[str, int]  # field -> 0-based column
    headings: list[str]
    seen: int = 0


@dataclass
class _Reader:
    source: str
    named: dict[str, str]
    sections: list[SectionRow] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)
    keys: dict[str, SectionRow] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # ref -> place
    counts: dict[str, int] = field(default_factory=dict)
    last_timeframe: dict[str, str] = field(default_factory=dict)
    above: list[list[Value]] = field(default_factory=list)
    first_problem: InputError | None = None
    pending: dict[str, SectionRow] = field(default_factory=dict)

    def place(self, sheet: str, row: int, col: int = 1) -> Location:
        if self.source.lower().endswith((".csv", ".tsv")):
            return Location(self.source, row, col)
        return Location(f"{self.source}:{sheet}!{column_letter(col)}{row}")

    def sheet(self, grid: Grid, *, required: bool) -> bool:
        """Read one sheet's actions; return False for a sheet without a header row when it may be skipped."""
        if not grid.rows:
            return False
        header = self._header(grid, required)
        if header is None:
            return False
        if not self.above:
            self.above = grid.rows[: header.row - 1]
        default_part = self._sheet_part(grid) if "part" not in header.columns else None
        part = default_part
        numbered: str | None = None
        section: str | None = part
        for number in range(header.row + 1, len(grid.rows) + 1):
            cells = grid.rows[number - 1]
            if not any(v is not None for v in cells):
                continue

            def cell(key: str, cells: list[Value] = cells) -> Value:
                col = header.columns.get(key)
                return cells[col] if col is not None and col < len(cells) else None

            filled = [v for v in cells if v is not None]
            only = filled[0] if len(set(filled)) == 1 and isinstance(filled[0], str) else None
            if only is not None and cell("timeframe") in {None, only} and (len(filled) > 1 or PART_RE.match(only)):
                # A heading written across the table (often merged over its columns): a Part or an issue.
                if PART_RE.match(only) or part is None:
                    part = self._part(only, grid, number)
                    section, numbered = part, None
                else:
                    section, numbered = self._section(only, part, numbered, grid, number, 1)
                continue
            if (value := _text(cell("part"))) and (
                key := self._part(value, grid, number, header.columns["part"] + 1)
            ) != part:
                part, section, numbered = key, key, None
            if part is None:
                raise InputError(
                    "a row before any Part; expected the Part column filled on the first row",
                    self.place(grid.name, number, header.columns["part"] + 1),
                )
            if value := _text(cell("section")):
                section, numbered = self._section(value, part, numbered, grid, number, header.columns["section"] + 1)
            title, tf, ref = cell("title"), cell("timeframe"), _text(cell("ref"))
            if title is None and tf is None and not ref:
                continue  # a heading row: its Part or issue is now current
            assert section is not None
            self._action(grid, number, header, section, ref, title, tf, cell("owner"), cell("status"),
                         cell("comments"))  # fmt: skip
        return True

    def _header(self, grid: Grid, required: bool) -> _Header | None:
        named = {key: _fold(heading) for key, heading in self.named.items()}
        best: _Header | None = None
        for number, cells in enumerate(grid.rows[:HEADER_SCAN], 1):
            columns: dict[str, int] = {}
            titles: list[int] = []
            headings = [_text(v) for v in cells]
            seen = 0  # headings known, including one --columns gives another meaning
            for col, heading in enumerate(headings):
                if not heading:
                    continue
                key = next((k for k, h in named.items() if _fold(heading) == h), None) or _known(heading)
                seen += key is not None
                if key == "title" and "title" not in named:
                    titles.append(col)
                elif key is not None and key not in columns and (key not in named or _fold(heading) == named[key]):
                    columns[key] = col
            if len(titles) > 1 and "section" not in columns:  # "Recommendations | Measures envisaged | ..."
                columns["section"] = titles.pop(0)
            if titles:
                columns["title"] = titles[0]
            if sum(1 for h in headings if h) < 2:
                continue  # a title row ("Deadline: 30 June"), not a header
            if "timeframe" in columns:
                return _Header(number, columns, [h for h in headings if h])
            if seen >= 2 and (best is None or seen > best.seen):
                best = _Header(number, columns, [h for h in headings if h], seen)
        if best is None and not required:
            self.first_problem = self.first_problem or self._no_header(grid)
            return None
        if best is None:
            raise self._no_header(grid)
        found = ", ".join(repr(h) for h in best.headings)
        wanted = self.named.get("timeframe")
        expected = (
            f"a column headed {wanted!r} (from --columns)"
            if wanted
            else "a time-frame column (Time frame, Deadline, Target date, Due, Calendrier, Échéance, Plazo, ...)"
        )
        raise InputError(
            f"the header row (row {best.row}) has no time-frame column; headings found: {found}; expected {expected}, "
            "or name it with --columns timeframe=HEADING",
            self.place(grid.name, best.row),
        )

    def _no_header(self, grid: Grid) -> InputError:
        first = next((r for r in grid.rows if any(v is not None for v in r)), [])
        found = ", ".join(repr(_text(v)) for v in first if v is not None)
        return InputError(
            f"no header row in the first {HEADER_SCAN} rows of sheet {grid.name!r}; expected headings such as "
            f"Reference, Part, Issue, Action, Owner, Time frame (first row holds {found or 'nothing'})",
            self.place(grid.name, 1),
        )

    def _sheet_part(self, grid: Grid) -> str:
        m = PART_RE.match(grid.name)
        key = m["num"].upper() if m else _slug(grid.name)
        if key not in self.keys:  # added with the sheet's first action, unless a Part heading row comes first
            title = (m["title"] if m else "") or grid.name
            self.pending[key] = SectionRow(key, None, "part", m["num"].upper() if m else "", title, line=1)
        return key

    def _part(self, value: str, grid: Grid, number: int, col: int = 1) -> str:
        m = PART_RE.match(value)
        if m:
            key, label, title = m["num"].upper(), m["num"].upper(), m["title"].strip()
        elif re.fullmatch(r"[IVXLCDM]+|[A-Z]|\d+", value):
            key, label, title = value, value, ""
        else:
            key, label, title = _slug(value), "", value
        if key not in self.keys:
            self._add(SectionRow(key, None, "part", label, title or value, line=number))
        return key

    def _section(
        self, value: str, part: str, numbered: str | None, grid: Grid, number: int, col: int
    ) -> tuple[str, str | None]:
        if part in self.pending:
            self._add(self.pending.pop(part))
        key = parent = label = title = ""
        for i, pattern in enumerate(ISSUE_RES):
            m = pattern.match(value)
            if not m:
                continue
            title = (m["title"] or "").strip()
            if i == 0:
                parent = f"{part}.{m['num']}"
                key, label = f"{parent}{m['letter']}", f"{m['num']}({m['letter']})"
                if parent not in self.keys:
                    self._add(SectionRow(parent, part, "issue", m["num"], "", line=number))
            elif i == 1:
                key, parent, label = f"{part}.{m['letter']}", numbered or part, f"({m['letter']})"
            else:  # an issue numbered after its Part ("A.1" in Part A) is keyed A.1, as in the text format
                own = m["num"].removeprefix(f"{part}.") if m["num"].startswith(f"{part}.") else m["num"]
                key, parent, label = f"{part}.{own}", part, m["num"]
                numbered = key
            break
        else:
            key, parent, title = f"{part}.{_slug(value)}", part, value
        if key not in self.keys:
            level = "issue" if parent == part else "subissue"
            self._add(SectionRow(key, parent, level, label, title or label, line=number))
        return key, numbered

    def _add(self, row: SectionRow) -> None:
        row.ordinal = len(self.sections) + 1
        self.sections.append(row)
        self.keys[row.key] = row

    def _action(
        self,
        grid: Grid,
        number: int,
        header: _Header,
        section: str,
        ref: str,
        title_cell: Value,
        tf_cell: Value,
        owner: Value,
        status: Value,
        comments: Value,
    ) -> None:
        cols = header.columns
        if section in self.pending:
            self._add(self.pending.pop(section))
        count = self.counts[section] = self.counts.get(section, 0) + 1
        if ref:
            ref = re.sub(r"\s+", "-", ref)
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._()-]*", ref):
                raise InputError(
                    f"reference {ref!r} is not usable as an id; expected letters, digits and . _ ( ) -",
                    self.place(grid.name, number, cols["ref"] + 1),
                )
        else:
            ref = f"{section}.{count}"
            while ref in self.refs:
                ref += "x"
        here = self.place(grid.name, number, cols["ref"] + 1 if "ref" in cols else 1)
        if ref in self.refs:
            raise InputError(
                f"action {ref!r} appears twice (first at {self.refs[ref]}); expected each reference once", here
            )
        self.refs[ref] = str(here)
        override: dict[str, Any] = {}
        if isinstance(tf_cell, date):
            timeframe = f"{tf_cell.day} {MONTH_NAMES[tf_cell.month - 1]} {tf_cell.year}"
            override = {"kind": "deadline", "due": tf_cell.isoformat()}
        else:
            timeframe = _text(tf_cell)
        text = _text(title_cell) if not isinstance(title_cell, str) else title_cell.strip()
        sec = self.keys[section]
        title, description = _title(text, sec, count)
        proposed = None if timeframe else self.last_timeframe.get(section)
        if timeframe:
            self.last_timeframe[section] = timeframe
        self.actions.append(
            ActionRow(
                ref=ref,
                section_key=section,
                ordinal=len(self.actions) + 1,
                title=title,
                timeframe=timeframe,
                description=description,
                timeframe_proposed=proposed,
                owner=_text(owner) or None,
                status=_text(status) or None,
                status_note=(comments.strip() if isinstance(comments, str) else _text(comments)) or None,
                override=override,
                line=number,
                places={key: str(self.place(grid.name, number, cols[key] + 1)) for key in PLACED if key in cols},
            )
        )

    def plan_info(
        self,
        path: Path,
        created: date | None,
        doc_title: str,
        timezone: str | None,
        plan_id: str | None,
        plan_date: date | None = None,
    ) -> tuple[PlanInfo, list[str]]:
        symbol = title = place = ""
        ref_date: date | None = None
        for cells in self.above:
            texts = [value.strip() for value in cells if isinstance(value, str) and value.strip()]
            if len(texts) > 1 and DATE_RE.match(", ".join(texts)):  # a date line cut at its commas (a .csv)
                cells = [", ".join(texts)]
            for value in cells:
                if value is None:
                    continue
                if isinstance(value, date):
                    ref_date = ref_date or value
                    continue
                text = " ".join(value.split())
                if not symbol and SYMBOL_RE.match(text):
                    symbol = text
                elif ref_date is None and (m := DATE_RE.match(text)) and (month := _month(m["month"])):
                    try:
                        ref_date, place = date(int(m["year"]), month, int(m["day"])), m["place"]
                    except ValueError:
                        continue
                elif not title:
                    title = text
        warnings = []
        if ref_date is not None and plan_date is not None and plan_date != ref_date:
            warnings.append(
                f"the file gives the plan's date as {ref_date.isoformat()}; --date {plan_date.isoformat()} was not "
                "used (a date in the file wins; remove it from the file to use another)"
            )
        ref_date = ref_date or plan_date or created
        if ref_date is None:
            raise InputError(
                "no date for the plan: expected a line such as 'Geneva, 28 September 1999.' or a date cell "
                "above the header row (time frames such as 'within six months' count from it); "
                "or give the plan's date with --date YYYY-MM-DD",
                Location(self.source),
            )
        if timezone is not None:
            from engine.zones import zone_problem

            problem = zone_problem(timezone)
            if problem:
                raise InputError(f"--tz: {problem}")
        info = PlanInfo(
            id=plan_id or (plan_id_from_symbol(symbol) if symbol else _slug(path.stem)),
            title=title or doc_title or path.stem,
            symbol=symbol,
            ref_date=ref_date,
            timezone=timezone or (zone_for_place(place) if place else "UTC"),
            source=self.source,
            source_format=path.suffix.lower().lstrip("."),
            place=place,
        )
        return info, warnings


def _month(name: str) -> int | None:
    return MONTHS.get(name.casefold()) or MONTHS.get(name)


def _title(text: str, section: SectionRow, count: int) -> tuple[str, str]:
    """Return an action's title and description: a long cell keeps its whole text as the description."""
    heading = section.title if section.title != section.number else ""
    default = f"{heading}\n\n{section.context}" if section.context else heading
    if not text:
        return f"{section.number or section.title} action {count}", default
    flat = " ".join(text.split())
    if len(flat) <= TITLE_MAX:
        return flat, default
    sentence = re.split(r"(?<=[.;:])\s", flat, maxsplit=1)[0]
    short = sentence if len(sentence) <= TITLE_MAX else flat[: TITLE_MAX - 1].rsplit(" ", 1)[0] + "…"
    return short, text
