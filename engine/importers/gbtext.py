"""The plan's own text format: a converted ILO-style document whose appendix is a pipe table.

The table has three columns: the issue, its context and its time frame. After conversion each cell ends in
``|``; an action row is an empty cell line ``|`` followed by ``TIME FRAME | |``; a row whose
time-frame cell was merged with the one above is ``|`` followed by ``||``. The bullet texts of
the context column were lost in the conversion, so titles are derived and say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from engine.errors import InputError, Location
from engine.importers.places import zone_for_place
from engine.plandoc import ActionRow, PlanDocument, PlanInfo, SectionRow

SYMBOL_RE = re.compile(r"^[A-Z]{1,6}\.\d+(?:/[A-Za-z0-9.()]+)+$")
DATE_RE = re.compile(r"^(?P<place>[A-Z][\w' -]*?),\s+(?P<day>\d{1,2})\s+(?P<month>[A-Z][a-z]+)\s+(?P<year>\d{4})\.?$")
MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        1,
    )
}
PART_RE = re.compile(r"^Part\s+(?P<num>[IVXLC]+)\s+--\s+(?P<title>.+?)\s*\|\s*\|\|$")
HEADER_RE = re.compile(r"^(?:Issues to be addressed|[\w ]*elements for action|Time frame)\s*\|$")
SUB_RE = re.compile(r"^(?P<num>\d+)\((?P<letter>[a-z])\)\s+(?P<title>.+?)\s*\|$")
ISSUE_RE = re.compile(r"^(?P<num>\d+)\.\s+(?P<title>.+?)\s*\|(?P<closed>\s*\|\|)?$")
LETTER_RE = re.compile(r"^\((?P<letter>[a-z])\)\s+(?P<title>.+?)\s*\|$")
ROW_RE = re.compile(r"^(?P<tf>[^|]*[^|\s])\s+\|\s+\|$")
CONTEXT_RE = re.compile(r"^(?P<text>[^|]*[^|\s])\s+\|$")
EMPTY_CELLS_RE = re.compile(r"\|\s*\|\|")


def looks_like(text: str) -> bool:
    """Return True when ``text`` has this format's marks: a symbol line and an appendix table."""
    head = text.lstrip().split("\n", 1)[0].strip()
    return bool(SYMBOL_RE.match(head)) and "\nAppendix" in text and "| |" in text


def parse(text: str, source: str, *, timezone: str | None = None, plan_id: str | None = None) -> PlanDocument:
    """Read a whole plan in the text format; ``source`` names the file in errors."""
    lines = text.splitlines()
    info = _front_matter(lines, source, timezone, plan_id)
    start = _appendix_line(lines, source)
    reader = _TableReader(source)
    for number in range(start + 1, len(lines) + 1):
        reader.feed(number, lines[number - 1].strip())
    reader.finish(len(lines))
    if not reader.actions:
        raise InputError("the table has no action rows; expected rows ending in ' | |'", Location(source, start))
    return PlanDocument(info, reader.sections, reader.actions, positional_refs=True, path=source)


def place_of(text: str, source: str) -> str:
    """Return the place the plan's date line names ('Geneva' in 'Geneva, 28 September 1999.')."""
    return _date_line(text.splitlines(), source)[0]


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


def _front_matter(lines: list[str], source: str, timezone: str | None, plan_id: str | None) -> PlanInfo:
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    symbol = lines[first].strip() if lines else ""
    if not SYMBOL_RE.match(symbol):
        raise InputError(
            f"expected the plan's symbol (such as GB.276/TC/2) on the first line, got {symbol[:40]!r}",
            Location(source, first + 1, 1),
        )
    place, ref = _date_line(lines, source)
    return PlanInfo(
        id=plan_id or plan_id_from_symbol(symbol),
        title=_title(lines),
        symbol=symbol,
        ref_date=ref,
        timezone=timezone or zone_for_place(place),
        body=_body(lines[first + 1 : first + 8]),
        source=source,
        source_format="gbtext",
    )


def _date_line(lines: list[str], source: str) -> tuple[str, date]:
    for number, line in enumerate(lines, 1):
        if line.strip() == "Appendix":
            break
        m = DATE_RE.match(line.strip())
        if not m:
            continue
        month = MONTHS.get(m["month"])
        try:
            if month is None:
                raise ValueError(f"unknown month {m['month']!r}")
            return m["place"], date(int(m["year"]), month, int(m["day"]))
        except ValueError as exc:
            raise InputError(f"the date line is not a real date ({exc})", Location(source, number, 1)) from None
    raise InputError(
        "expected the plan's date line, such as 'Geneva, 28 September 1999.', before the Appendix",
        Location(source, 1),
    )


def _title(lines: list[str]) -> str:
    for i, line in enumerate(lines):
        if line.strip().endswith("ON THE AGENDA"):
            parts = []
            for following in lines[i + 1 :]:
                if re.match(r"^\d+\.\s", following) or not following.strip():
                    break
                parts.append(following.strip())
            return " ".join(parts)
    return ""


def _body(lines: list[str]) -> str:
    for line in lines:
        m = CONTEXT_RE.match(line.strip())
        if m and len(m["text"].split()) > 2:
            return m["text"]
    return ""


def _appendix_line(lines: list[str], source: str) -> int:
    for number, line in enumerate(lines, 1):
        if line.strip() == "Appendix":
            return number
    raise InputError(
        "expected a line 'Appendix' followed by the plan's table (Parts, issues, time frames); is the file truncated?",
        Location(source, len(lines) or 1),
    )


@dataclass
class _Issue:
    section: SectionRow
    description: str
    count: int = 0
    last_timeframe: str | None = None
    subheading: str = ""


@dataclass
class _TableReader:
    source: str
    sections: list[SectionRow] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)
    part: str | None = None
    numbered: str | None = None
    issue: _Issue | None = None
    awaiting_context: int | None = None
    previous: str = ""
    last_text_line: int | None = None

    def feed(self, number: int, line: str) -> None:
        if not line or line == "|" or line == "| |" or EMPTY_CELLS_RE.fullmatch(line) or HEADER_RE.match(line):
            self._advance(line)
            return
        # Parts start with "Part", headings with a digit or "(": most lines (time frames) skip those patterns.
        heading = line[0].isdigit() or line[0] == "(" or line.startswith("Part")
        handled = (
            (heading and (self._part(number, line) or self._heading(number, line)))
            or self._row(number, line)
            or self._context(number, line)
            or self._subheading(number, line)
        )
        if not handled:
            raise InputError(f"unexpected line {line[:40]!r}; expected a table row", Location(self.source, number, 1))
        self._advance(line)

    def _advance(self, line: str) -> None:
        self.previous = line
        if line and "|" not in line:
            return
        self.last_text_line = None

    def finish(self, last_line: int) -> None:
        if self.awaiting_context is not None:
            raise self._truncated(self.awaiting_context, "its context and action rows")
        if self.last_text_line is not None:
            raise self._truncated(self.last_text_line, "the rest of this row, ending in '|'")
        if self.issue is not None and self.issue.count == 0 and self.issue.section.context:
            raise self._truncated(self.issue.section.line, "its action rows")

    def _truncated(self, number: int, expected: str) -> InputError:
        return InputError(
            f"the table ends here; expected {expected} (is the file truncated?)", Location(self.source, number)
        )

    def _add_section(self, row: SectionRow) -> SectionRow:
        first = next((s for s in self.sections if s.key == row.key), None)
        if first is not None:
            what = "Part" if row.level == "part" else "heading"
            raise InputError(
                f"{what} {row.number or row.title!r} appears twice (first at line {first.line}); "
                "expected each Part, issue and sub-heading once",
                Location(self.source, row.line, 1),
            )
        row.ordinal = len(self.sections) + 1
        self.sections.append(row)
        return row

    def _part(self, number: int, line: str) -> bool:
        m = PART_RE.match(line)
        if not m:
            return False
        self.part, self.numbered, self.issue = m["num"], None, None
        self._add_section(SectionRow(m["num"], None, "part", m["num"], m["title"], line=number))
        return True

    def _heading(self, number: int, line: str) -> bool:
        key, parent, label, title, closed = self._match_heading(line)
        if key is None:
            return False
        if self.part is None:
            raise InputError("an issue heading before any 'Part ... --' line", Location(self.source, number, 1))
        row = self._add_section(
            SectionRow(key, parent, "issue" if parent == self.part else "subissue", label, title, line=number)
        )
        self.issue = _Issue(row, title)
        self.awaiting_context = None if closed else number
        return True

    def _match_heading(self, line: str) -> tuple[str | None, str | None, str, str, bool]:
        if m := SUB_RE.match(line):
            parent = f"{self.part}.{m['num']}"
            return f"{parent}{m['letter']}", parent, f"{m['num']}({m['letter']})", m["title"], False
        if m := ISSUE_RE.match(line):
            key = f"{self.part}.{m['num']}"
            self.numbered = key
            return key, self.part, m["num"], m["title"], bool(m["closed"])
        if m := LETTER_RE.match(line):
            enclosing = self.numbered or self.part
            return f"{self.part}.{m['letter']}", enclosing, f"({m['letter']})", m["title"], False
        return None, None, "", "", False

    def _row(self, number: int, line: str) -> bool:
        m = ROW_RE.match(line)
        empty = line == "||" and self.previous == "|"
        if not m and not empty:
            return line in {"|", "||"}
        issue = self._require_issue(number)
        issue.count += 1
        timeframe = m["tf"] if m else ""
        self.actions.append(
            ActionRow(
                ref=f"{issue.section.key}.{issue.count}",
                section_key=issue.section.key,
                ordinal=len(self.actions) + 1,
                title=f"{issue.section.number} action {issue.count} (text not in source)",
                timeframe=timeframe,
                subheading=issue.subheading,
                description=issue.description,
                timeframe_proposed=None if timeframe else issue.last_timeframe,
                line=number,
            )
        )
        if timeframe:
            issue.last_timeframe = timeframe
        return True

    def _require_issue(self, number: int) -> _Issue:
        if self.issue is None:
            raise InputError("an action row before any issue heading", Location(self.source, number, 1))
        self.awaiting_context = None
        return self.issue

    def _context(self, number: int, line: str) -> bool:
        m = CONTEXT_RE.match(line)
        if not m or self.issue is None:
            return False
        text = m["text"]
        if self.awaiting_context is not None:
            self.issue.section.context = text
            self.awaiting_context = None
        else:
            self.issue.section.context += "\n\n" + text
        self.issue.description = f"{self.issue.section.title}\n\n{self.issue.section.context}"
        return True

    def _subheading(self, number: int, line: str) -> bool:
        if "|" in line or self.issue is None:
            return False
        self.last_text_line = number
        slug = re.sub(r"[^a-z0-9]+", "-", line.lower()).strip("-")
        self._add_section(
            SectionRow(f"{self.issue.section.key}.{slug}", self.issue.section.key, "subheading", "", line, line=number)
        )
        self.issue.subheading = line
        return True
