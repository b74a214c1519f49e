"""Governing Body plans of action converted to text: a front matter and an appendix of pipe tables.

The family this reads: a symbol line (``GB.276/TC/2``), a date line (``Geneva, 28 September 1999.``),
a line ``Appendix``, then one table per Part. French and Spanish papers have the same layout in their own
words (``Genève, le 4 mars 2024.``, ``Annexe``/``Anexo``, ``Partie``/``Parte``, ``Calendrier``/``Plazo``);
their Appendix word gives the plan's language, so its time frames are read in it. A Part line is
``Part I -- Title | ||`` (``Partie``, ``Parte``; Roman numerals, letters or digits, any case, with ``--``,
``-``, ``:`` or ``.``; ``Section 1 - Title`` and ``Sección 1 - Título`` too). A header
row has two to five cells, one line each, ending in a time-frame heading (``Time frame |``,
``Deadline |``, ``Target date |`` ...). Issue headings are numbered ``1.``, ``1(a)``, ``(a)``, ``A.1``
or ``1.1``. After conversion each cell ends in ``|``: an action row is an empty cell line ``|``,
then the measure's cells when the document kept them (``Measure text |``), then ``TIME FRAME | |``;
a row whose time-frame cell was merged with the one above is ``|`` followed by ``||``. When the
measure text was lost in the conversion, titles are derived and say so.

:class:`RowReader` places Parts, headings, context and action rows; the Word and PDF readers feed it
the cells of their table rows, so every format reads a row the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from itertools import islice
from typing import Any

from engine.errors import InputError, Location
from engine.importers.places import zone_for_place
from engine.plandoc import ActionRow, PlanDocument, PlanInfo, SectionRow

SYMBOL_RE = re.compile(r"^[A-Z]{1,6}\.\d+(?:/[A-Za-z0-9.()]+)+$")
DATE_RE = re.compile(
    r"^(?P<place>[^\W\d_][\w'’ -]*?(?:,\s*D\.\s?C\.)?),\s+(?:le\s+|den\s+)?"
    r"(?P<day>\d{1,2})(?:er|\.?[º°]|\.)?\s+(?:de\s+)?"
    r"(?P<month>[^\W\d_]+)\s+(?:de\s+)?(?P<year>\d{4})\.?$"
)
_MONTH_NAMES = (
    "january february march april may june july august september october november december",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "januar februar märz april mai juni juli august september oktober november dezember",
)
MONTHS = {name: i for names in _MONTH_NAMES for i, name in enumerate(names.split(), 1)} | {"setiembre": 9}
# The line before the tables, in each language the papers are published in; "" when English (the time frames decide).
APPENDIX_WORDS = {"Appendix": "", "Annexe": "fr", "Appendice": "fr", "Anexo": "es", "Apéndice": "es"}
PART_RE = re.compile(
    r"^(?:part|partie|parte|section|secci[oó]n)"
    r"\s+(?P<num>[ivxlc]+|[a-z]|\d+)\s*(?:--|-|–|—|:|\.)\s*(?P<title>[^|]*[^|\s])[\s|]*$",
    re.I,
)
# The time-frame column's headings; the header row is found by this cell, whatever the others say.
TIMEFRAME_HEADINGS = frozenset(
    [
        "time frame",
        "timeframe",
        "time-frame",
        "time frames",
        "timeframes",
        "timeline",
        "timelines",
        "deadline",
        "deadlines",
        "target date",
        "target dates",
        "completion date",
        "completion dates",
        "calendar",
        "due",
        "due date",
        "calendrier",
        "délai",
        "délais",
        "échéance",
        "échéancier",
        "plazo",
        "plazos",
        "calendario",
        "fecha límite",
        "calendrier d'exécution",
        "calendrier de mise en œuvre",
        "délai d'exécution",
        "échéances",
        "date limite",
        "dates limites",
        "échéanciers",
        "calendario de ejecución",
        "plazo de ejecución",
        "plazos de ejecución",
        "fechas límite",
        "cronograma",
    ]
)
# The headings as compared: lower case without accents, so 'DÉLAI', 'DELAI' and 'Délai' are one heading.


def _fold(text: str) -> str:
    """Return ``text`` in lower case without accents ('DÉLAI' -> 'delai')."""
    low = text.casefold()
    if low.isascii():  # most cells: nothing to take off
        return low
    return "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))


_FOLDED_HEADINGS = frozenset(_fold(h) for h in TIMEFRAME_HEADINGS)
_LONGEST_HEADING = max(map(len, TIMEFRAME_HEADINGS))
SUB_RE = re.compile(r"^(?P<num>\d+)\((?P<letter>[a-z])\)\s+(?P<title>\S.*)$")
ISSUE_RE = re.compile(r"^(?P<num>\d+)\.\s+(?P<title>\S.*)$")
LETTER_RE = re.compile(r"^\((?P<letter>[a-z])\)\s+(?P<title>\S.*)$")
DOTTED_RE = re.compile(r"^(?P<first>\d+|[A-Z])\.(?P<second>\d+)\.?\s+(?P<title>\S.*)$")
CELL_RE = re.compile(r"^(?P<text>[^|]*[^|\s])\s*\|(?P<closed>\s*\|\|)?$")
ROW_RE = re.compile(r"^(?P<tf>[^|]*[^|\s])\s+\|\s+\|$")
CONTEXT_RE = re.compile(r"^(?P<text>[^|]*[^|\s])\s+\|$")
EMPTY_CELLS_RE = re.compile(r"\|\s*\|\|")
LOOKS = (
    "expected a Part line (such as 'Part A -- Financial management | ||'), "
    "a header row ending in a time-frame heading (such as 'Time frame |') "
    "or a table row (an empty cell '|', the measure's cells, then 'TIME FRAME | |')"
)
# The same, with the forms a French or a Spanish paper prints.
LOOKS_IN = {
    "": LOOKS,
    "fr": (
        "expected a Part line (such as 'Partie A -- Gestion financière | ||'), "
        "a header row ending in a time-frame heading (such as 'Calendrier |' or 'Délai |') "
        "or a table row (an empty cell '|', the measure's cells, then 'CALENDRIER | |')"
    ),
    "es": (
        "expected a Part line (such as 'Parte A -- Gestión financiera | ||'), "
        "a header row ending in a time-frame heading (such as 'Calendario |' or 'Plazo |') "
        "or a table row (an empty cell '|', the measure's cells, then 'CALENDARIO | |')"
    ),
}
TITLE_LENGTH = 120


def looks_like(text: str) -> bool:
    """Return True when ``text`` has this format's marks: a symbol line and an appendix table."""
    head = text.lstrip().split("\n", 1)[0].strip()
    appendix = any(f"\n{word}" in text for word in APPENDIX_WORDS)
    return bool(SYMBOL_RE.match(head)) and appendix and "| |" in text


def parse(text: str, source: str, *, timezone: str | None = None, plan_id: str | None = None) -> PlanDocument:
    """Read a whole plan in the text format; ``source`` names the file in errors."""
    lines = text.splitlines()
    info = front_matter(lines, source, timezone, plan_id)
    start = _appendix_line(lines, source)
    info.language = APPENDIX_WORDS[lines[start - 1].strip()] or info.language
    reader = _TextTable(RowReader(source, language=info.language), _header_lines(lines, start))
    del lines  # the rows are read from the text a part at a time: the list of lines is not held beside them
    for number, line in enumerate(islice(_lines_of(text), start, None), start + 1):
        reader.feed(number, line.strip())
    reader.finish()
    if not reader.rows.actions:
        raise InputError("the table has no action rows; expected rows ending in ' | |'", Location(source, start))
    return PlanDocument(info, reader.rows.sections, reader.rows.actions, positional_refs=True, path=source)


def _lines_of(text: str, part: int = 1 << 20) -> Iterator[str]:
    """Yield the lines of ``text`` as ``text.splitlines()`` gives them, splitting about ``part`` characters at a time.

    Each part ends just after a newline, so no line break is cut in two and the lines are the same.
    """
    at = 0
    while at < len(text):
        end = text.find("\n", at + part)
        end = len(text) if end < 0 else end + 1
        yield from text[at:end].splitlines()
        at = end


def place_of(text: str, source: str) -> str:
    """Return the place the plan's date line names ('Geneva' in 'Geneva, 28 September 1999.')."""
    return date_line(text.splitlines(), source)[0]


def plan_id_from_symbol(symbol: str) -> str:
    """Return a readable plan id: ``GB.276/TC/2`` -> ``gb276-tc2``."""
    parts = [p for p in re.split(r"[/\s]+", symbol.lower().replace(".", "")) if p]
    out: list[str] = []
    for part in parts:
        if out and part.isdigit():
            out[-1] += part
        else:
            out.append(re.sub(r"[^a-z0-9]+", "-", part).strip("-"))
    return "-".join(p for p in out if p) or "plan"


def front_matter(
    lines: Sequence[str],
    source: str,
    timezone: str | None,
    plan_id: str | None,
    source_format: str = "gbtext",
    where: Callable[[int], Location] | None = None,
) -> PlanInfo:
    """Read the symbol, title, body, date and place from the lines before the table.

    ``where`` turns a 1-based line number into the place errors name (a paragraph of a Word file).
    """
    where = where or (lambda n: Location(source, n, 1))
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    symbol = lines[first].strip() if lines else ""
    if not SYMBOL_RE.match(symbol):
        raise InputError(
            f"expected the plan's symbol (such as GB.276/TC/2) on the first line, got {symbol[:40]!r}", where(first + 1)
        )
    place, ref = date_line(lines, source, where)
    return PlanInfo(
        id=plan_id or plan_id_from_symbol(symbol),
        title=_title(lines, first),
        symbol=symbol,
        ref_date=ref,
        timezone=timezone or zone_for_place(place),
        body=_body(lines[first + 1 : first + 8], plain=source_format != "gbtext"),
        source=source,
        source_format=source_format,
        place=place,
    )


def date_line(lines: Sequence[str], source: str, where: Callable[[int], Location] | None = None) -> tuple[str, date]:
    """Return the place and the date of the plan's date line (before the Appendix)."""
    where = where or (lambda n: Location(source, n, 1))
    for number, line in enumerate(lines, 1):
        if line.strip() in APPENDIX_WORDS:
            break
        m = DATE_RE.match(line.strip())
        if not m:
            continue
        month = MONTHS.get(m["month"].casefold())
        try:
            if month is None:
                raise ValueError(f"unknown month {m['month']!r}")
            return m["place"], date(int(m["year"]), month, int(m["day"]))
        except ValueError as exc:
            raise InputError(f"the date line is not a real date ({exc})", where(number)) from None
    raise InputError(
        "expected the plan's date line, such as 'Geneva, 28 September 1999.' (in French 'Genève, le 4 mars 2024.', "
        "in Spanish 'Ginebra, 4 de marzo de 2024.'), before the Appendix",
        Location(source, 1),
    )


# How the agenda line ends ('SECOND ITEM ON THE AGENDA', 'DEUXIÈME QUESTION À L'ORDRE DU JOUR',
# 'SEGUNDO PUNTO DEL ORDEN DEL DÍA'): the plan's title follows it.
AGENDA_ENDS = ("ON THE AGENDA", "ORDRE DU JOUR", "ORDEN DEL DÍA", "ORDEN DEL DIA")


def _title(lines: Sequence[str], first: int) -> str:
    for i, line in enumerate(lines):
        if line.strip().upper().endswith(AGENDA_ENDS):
            parts = []
            for following in lines[i + 1 :]:
                if re.match(r"^\d+\.\s", following) or not following.strip() or DATE_RE.match(following.strip()):
                    break
                parts.append(following.strip())
            return " ".join(parts)
    for line in lines[first + 1 : first + 8]:  # no agenda line: the first sentence-like paragraph
        text = line.strip()
        if len(text.split()) > 3 and "|" not in text and not DATE_RE.match(text) and not text.isupper():
            return text
    return ""


def _body(lines: Sequence[str], *, plain: bool = False) -> str:
    """The body the plan goes to ('Committee on Technical Cooperation'): a cell, or with ``plain`` a paragraph."""
    for line in lines:
        text = line.strip()
        m = CONTEXT_RE.match(text)
        if m and len(m["text"].split()) > 2:
            return m["text"]
        if plain and len(text.split()) > 2 and not text.isupper() and not DATE_RE.match(text):
            return text
    return ""


def _appendix_line(lines: list[str], source: str) -> int:
    for number, line in enumerate(lines, 1):
        if line.strip() in APPENDIX_WORDS:
            return number
    raise InputError(
        "expected a line 'Appendix' (in a French paper 'Annexe', in a Spanish one 'Anexo') followed by the plan's "
        "table (Parts, issues, time frames); is the file truncated?",
        Location(source, len(lines) or 1),
    )


def is_timeframe_heading(cell: str) -> bool:
    """Return True when a header cell names the time-frame column ('Time frame', 'Deadline', ...).

    Case and accents do not count: 'DÉLAI', 'DELAI' and 'Délai' are one heading. A cell much longer
    than the longest heading is a measure's text, and is not looked at further.
    """
    if len(cell) > 3 * _LONGEST_HEADING:
        return False
    flat = " ".join(cell.replace("\n", " ").split()).strip(" :*")
    return len(flat) <= 2 * _LONGEST_HEADING and _fold(flat) in _FOLDED_HEADINGS


def _header_lines(lines: list[str], start: int) -> dict[int, list[str]]:
    """Find the header rows: a time-frame heading cell and the one to four heading cells before it.

    Returns the 1-based numbers of the header's lines, each mapped to the header's headings.
    """
    found: dict[int, list[str]] = {}
    for i in range(start, len(lines)):
        if lines[i] == "|" or lines[i].endswith(" | |"):  # a row's first cell or its time frame: never a header
            continue
        m = CELL_RE.match(lines[i].strip())
        if not m or m["closed"] or not is_timeframe_heading(m["text"]):
            continue
        j = i
        while j > start and i - j < 4 and (c := CONTEXT_RE.match(lines[j - 1].strip())) and not _is_heading(c["text"]):
            j -= 1
        headings = [lines[k].strip().rstrip("|").strip() for k in range(j, i + 1)]
        found.update({k + 1: headings for k in range(j, i + 1)})
    return found


def _is_heading(text: str) -> bool:
    return any(r.match(text) for r in (SUB_RE, ISSUE_RE, LETTER_RE, DOTTED_RE, PART_RE))


def short_title(text: str) -> str:
    """Return a measure's text as a one-line title (its first sentence, at most 120 characters)."""
    flat = " ".join(text.split()).rstrip(" ;,")
    if len(flat) <= TITLE_LENGTH:
        return flat
    cut = flat[: TITLE_LENGTH - 1]
    return cut[: cut.rfind(" ")].rstrip(" ;,") + "…" if " " in cut else cut + "…"


# The text format sets no schedule, tags or cell places: every row shares one empty container of each
# (about 180 bytes a row, a sixth of a large import's memory). Rows are never changed in place; code that
# gives a row its own values assigns new ones.
_NOTHING_SET: dict[str, Any] = {}
_NO_TAGS: list[str] = []
_NO_PLACES: dict[str, str] = {}
# ActionRow's fields in order: ``RowReader.action`` makes a row by position (a call by keyword took 1.3 µs a row of
# the 2.9 µs a large plan's row is read in, by position 0.5 µs), so the order it writes is checked here once.
_ROW_FIELDS = (
    "ref",
    "section_key",
    "ordinal",
    "title",
    "timeframe",
    "subheading",
    "description",
    "timeframe_proposed",
    "owner",
    "status",
    "status_note",
    "override",
    "tags",
    "acceptance",
    "acceptance_note",
    "line",
    "places",
)
if tuple(f.name for f in fields(ActionRow)) != _ROW_FIELDS:
    raise TypeError(f"engine.importers.gbtext makes ActionRow by position in the order {_ROW_FIELDS}; update it")


@dataclass
class Columns:
    """Which cell of a table row holds what: ``tf`` the time frame, ``measure`` the recommendation or measure."""

    headings: list[str]
    tf: int
    measure: int

    @classmethod
    def of(cls, headings: Sequence[str]) -> Columns | None:
        """Return the columns of a header row, or None when no cell is a time-frame heading."""
        names = [" ".join(h.split()) for h in headings]
        tf = next((i for i, h in enumerate(names) if is_timeframe_heading(h)), None)
        if tf is None:
            return None
        measure = 1 if len(names) > 2 and tf != 1 else 0
        return cls(names, tf, measure)

    def extras(self, cells: Sequence[str]) -> list[tuple[str, str]]:
        """The other columns' headings and texts (a responsible unit, an indicator)."""
        skip = {0, self.tf, self.measure}
        return [(self.headings[i], c) for i, c in enumerate(cells[: len(self.headings)]) if i not in skip and c]


@dataclass
class _Issue:
    section: SectionRow
    description: str
    count: int = 0
    last_timeframe: str | None = None
    subheading: str = ""


def _clean(cell: str | None) -> str:
    return " ".join((cell or "").split())


@dataclass
class RowReader:
    """Places Parts, issue headings, context, sub-headings and action rows, for every table format.

    ``line`` numbers are the reader's own (file lines for text, a running row count for Word and
    PDF); ``where`` turns one into the place an error names, ``name`` into words ("line 12").
    """

    source: str
    where: Callable[[int], Location] | None = None
    name: Callable[[int], str] = lambda n: f"line {n}"
    language: str = ""  # the paper's language (fr, es), so errors show its forms; "" for English
    sections: list[SectionRow] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)
    columns: Columns | None = None
    part: str | None = None
    numbered: str | None = None
    issue: _Issue | None = None
    # One string per distinct time frame (a large plan repeats a few hundred phrases), and the sections by key
    phrases: dict[str, str] = field(default_factory=dict, repr=False)
    keys: dict[str, SectionRow] = field(default_factory=dict, repr=False)

    def at(self, line: int) -> Location:
        """The place an error about ``line`` names."""
        return self.where(line) if self.where else Location(self.source, line, 1)

    def unexpected(self, line: int, text: str) -> InputError:
        """The error for a row that is neither a Part, a header, a heading nor a table row."""
        return InputError(f"unexpected line {text[:40]!r}; {LOOKS_IN.get(self.language, LOOKS)}", self.at(line))

    # ------------------------------------------------------------------ whole rows (Word, PDF)

    def row(self, raw: Sequence[str | None], line: int, *, merged: frozenset[int] = frozenset()) -> None:
        """Read one table row given as its cells; ``merged`` holds the cells merged with the one above."""
        cells = [_clean(c) for c in raw]
        texts = [c for c in cells if c]
        if not texts and not merged:
            return
        if len(texts) == 1 and (m := PART_RE.match(texts[0])):
            self.add_part(m["num"], m["title"], line)
            return
        if (columns := Columns.of(cells)) is not None:
            self.columns = columns
            return
        columns = self.columns or Columns([""] * len(cells), len(cells) - 1, 1 if len(cells) > 2 else 0)
        tf = cells[columns.tf] if columns.tf < len(cells) else ""
        first = cells[0]
        measure = cells[columns.measure] if columns.measure < len(cells) else ""
        if first and self.heading(first, line) is not None:
            if tf or columns.tf in merged:
                self.action(line, tf, "" if columns.measure == 0 else measure, columns.extras(cells))
            elif columns.measure and measure:
                self.context(measure, line)
            return
        if tf or columns.tf in merged:
            self.action(line, tf, measure, columns.extras(cells))
        elif first and columns.measure and not measure and len(texts) == 1:
            self.subheading(first, line)
        elif measure or first:
            self.context(measure or first, line)

    def paragraph(self, text: str, line: int, *, heading: bool) -> None:
        """Read a paragraph outside the tables: a Part line, or (when styled as a heading) an issue heading."""
        text = _clean(text)
        if m := PART_RE.match(text):
            self.add_part(m["num"], m["title"], line)
        elif heading and self.part is not None:
            self.heading(text, line)

    def document(self, info: PlanInfo, what: str) -> PlanDocument:
        """The plan read so far; ``what`` names the file's tables in the error when it has no action row."""
        if not self.actions:
            raise InputError(
                f"no action rows in {what}; expected a table whose header row has a time-frame column "
                "('Time frame', 'Deadline', 'Target date' ...) and rows with a time frame",
                Location(self.source),
            )
        return PlanDocument(info, self.sections, self.actions, positional_refs=True, path=self.source)

    # ------------------------------------------------------------------ the parts of a row

    def add_section(self, row: SectionRow) -> SectionRow:
        """Add a Part, issue or sub-heading; each may appear once."""
        first = self.keys.get(row.key)
        if first is not None:
            what = "Part" if row.level == "part" else "heading"
            raise InputError(
                f"{what} {row.number or row.title!r} appears twice (first at {self.name(first.line)}); "
                "expected each Part, issue and sub-heading once",
                self.at(row.line),
            )
        row.ordinal = len(self.sections) + 1
        self.sections.append(row)
        self.keys[row.key] = row
        return row

    def add_part(self, number: str, title: str, line: int) -> None:
        """Start a Part ('Part A -- Title'): its number in upper case ('ii' reads as 'II')."""
        number = number.upper()
        self.part, self.numbered, self.issue = number, None, None
        self.add_section(SectionRow(number, None, "part", number, title, line=line))

    def heading(self, text: str, line: int) -> SectionRow | None:
        """Start an issue if ``text`` is an issue heading ('1.', '1(a)', '(a)', 'A.1', '1.1'); else None."""
        key, parent, label, title = self._match_heading(text)
        if key is None or parent is None:
            return None
        if self.part is None:
            raise InputError("an issue heading before any Part line (such as 'Part I -- Title')", self.at(line))
        level = "issue" if parent == self.part else "subissue"
        row = self.add_section(SectionRow(key, parent, level, label, title, line=line))
        self.issue = _Issue(row, title)
        return row

    def _match_heading(self, line: str) -> tuple[str | None, str | None, str, str]:
        part = self.part
        if m := SUB_RE.match(line):
            parent = f"{part}.{m['num']}"
            return f"{parent}{m['letter']}", parent, f"{m['num']}({m['letter']})", m["title"]
        if m := ISSUE_RE.match(line):
            key = f"{part}.{m['num']}"
            self.numbered = key
            return key, part, m["num"], m["title"]
        if m := LETTER_RE.match(line):
            enclosing = self.numbered or part
            return f"{part}.{m['letter']}", enclosing, f"({m['letter']})", m["title"]
        if m := DOTTED_RE.match(line):
            label = f"{m['first']}.{m['second']}"
            if m["first"] == part:
                return f"{part}.{m['second']}", part, label, m["title"]
            enclosing = f"{part}.{m['first']}"
            within = enclosing if enclosing in self.keys else part
            return f"{part}.{label}", within, label, m["title"]
        return None, None, "", ""

    def context(self, text: str, line: int) -> None:
        """Add a paragraph to the current issue's context (a lead-in such as 'The Office will:')."""
        issue = self.require_issue(line, text)
        section = issue.section
        section.context = f"{section.context}\n\n{text}" if section.context else text
        issue.description = f"{section.title}\n\n{section.context}"

    def subheading(self, text: str, line: int) -> None:
        """Start a sub-heading inside the current issue ('Learning from experience')."""
        issue = self.require_issue(line, text)
        slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
        self.add_section(
            SectionRow(f"{issue.section.key}.{slug}", issue.section.key, "subheading", "", text, line=line)
        )
        issue.subheading = text

    def action(self, line: int, timeframe: str, measure: str = "", extras: Sequence[tuple[str, str]] = ()) -> None:
        """Add one action of the current issue; an empty time frame proposes the one above."""
        issue = self.issue or self.require_issue(line, timeframe or measure)
        issue.count += 1
        timeframe = self.phrases.setdefault(timeframe, timeframe)
        if measure:
            title = short_title(measure)
            description = "\n\n".join([measure, *(f"{name or 'Note'}: {text}" for name, text in extras)])
        else:
            title = f"{issue.section.number} action {issue.count} (text not in source)"
            description = issue.description
        section = issue.section
        self.actions.append(  # by position, in ``_ROW_FIELDS``' order: a call by keyword costs twice as much
            ActionRow(
                f"{section.key}.{issue.count}",  # ref
                section.key,  # section_key
                len(self.actions) + 1,  # ordinal
                title,
                timeframe,
                issue.subheading,
                description,
                None if timeframe else issue.last_timeframe,  # timeframe_proposed
                None,  # owner
                None,  # status
                None,  # status_note
                _NOTHING_SET,  # override
                _NO_TAGS,  # tags
                None,  # acceptance
                None,  # acceptance_note
                line,
                _NO_PLACES,  # places
            )
        )
        if timeframe:
            issue.last_timeframe = timeframe

    def require_issue(self, line: int, text: str = "") -> _Issue:
        """The current issue; a row before any issue heading is an error."""
        if self.issue is None:
            what = f" ({text[:40]!r})" if text else ""
            raise InputError(
                f"a table row{what} before any issue heading; expected an issue numbered such as "
                "'1.', '1(a)', '(a)', 'A.1' or '1.1' first",
                self.at(line),
            )
        return self.issue


@dataclass
class _TextTable:
    """The text format's lines, one cell a line, turned into the row reader's parts."""

    rows: RowReader
    headers: dict[int, list[str]]
    awaiting_context: int | None = None
    previous: str = ""
    last_text_line: int | None = None
    pending: list[tuple[int, str]] = field(default_factory=list)

    def feed(self, number: int, line: str) -> None:
        if line == "|" and number not in self.headers:  # a row's empty first cell, half the lines of a large table
            if self.pending:
                self._flush()
            self.previous, self.last_text_line = line, None  # as _advance
            return
        if number in self.headers:
            self._flush()
            self.rows.columns = Columns.of(self.headers[number])
            self._advance(line)
            return
        if self._row(number, line):
            self.previous, self.last_text_line = line, None  # as _advance: a row's line holds a '|'
            return
        if self._pending(number, line):
            self._advance(line)
            return
        self._flush()
        if not line or line in {"|", "||", "| |"} or EMPTY_CELLS_RE.fullmatch(line):
            self._advance(line)
            return
        handled = self._part(number, line) or self._heading(number, line) or self._context(number, line)
        handled = handled or self._subheading(number, line)
        if not handled:
            raise self.rows.unexpected(number, line)
        self._advance(line)

    def _advance(self, line: str) -> None:
        self.previous = line
        if line and "|" not in line:
            return
        self.last_text_line = None

    def finish(self) -> None:
        self._flush()
        if self.awaiting_context is not None:
            raise self._truncated(self.awaiting_context, "its context and action rows")
        if self.last_text_line is not None:
            raise self._truncated(self.last_text_line, "the rest of this row, ending in '|'")
        issue = self.rows.issue
        if issue is not None and issue.count == 0 and issue.section.context:
            raise self._truncated(issue.section.line, "its action rows")

    def _truncated(self, number: int, expected: str) -> InputError:
        return InputError(
            f"the table ends here; expected {expected} (is the file truncated?)", Location(self.rows.source, number)
        )

    def _part(self, number: int, line: str) -> bool:
        if not (m := PART_RE.match(line)):
            return False
        self.rows.add_part(m["num"], m["title"], number)
        return True

    def _heading(self, number: int, line: str) -> bool:
        m = CELL_RE.match(line)
        if not m or not (line[0].isdigit() or line[0] == "(" or line[0].isupper()):
            return False
        if self.rows.heading(m["text"], number) is None:
            return False
        self.awaiting_context = None if m["closed"] else number
        return True

    def _pending(self, number: int, line: str) -> bool:
        """Keep a cell that follows an empty first cell: a measure if a time frame follows, else context."""
        m = CONTEXT_RE.match(line)
        if not m or not (self.previous == "|" or self.pending) or self.rows.issue is None or _is_heading(m["text"]):
            return False
        if self.pending and self.pending[-1][0] != number - 1:
            return False
        self.pending.append((number, m["text"]))
        return True

    def _flush(self) -> None:
        for number, text in self.pending:
            self.rows.context(text, number)
        self.pending.clear()

    def _row(self, number: int, line: str) -> bool:
        m = ROW_RE.match(line)
        empty = line == "||" and (self.previous == "|" or bool(self.pending))
        if not m and not empty:
            return False
        self.awaiting_context = None
        if not self.pending:  # the measure's text was lost in the conversion: the time frame alone
            self.rows.action(number, m["tf"] if m else "")
            return True
        cells = [text for _, text in self.pending]
        self.pending.clear()
        columns = self.rows.columns
        names = columns.headings if columns else []
        extras = [(names[i + 1] if i + 1 < len(names) else "", c) for i, c in enumerate(cells[1:], 1)]
        self.rows.action(number, m["tf"] if m else "", cells[0], extras)
        return True

    def _context(self, number: int, line: str) -> bool:
        m = CONTEXT_RE.match(line)
        if not m or self.rows.issue is None:
            return False
        self.rows.context(m["text"], number)
        self.awaiting_context = None
        return True

    def _subheading(self, number: int, line: str) -> bool:
        if "|" in line or self.rows.issue is None:
            return False
        self.last_text_line = number
        self.rows.subheading(line, number)
        return True
