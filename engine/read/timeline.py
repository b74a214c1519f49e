"""The plan timeline as an SVG picture drawn on the server.

Parts are lanes; an action is a diamond at its due date, a bar for a window, ticks for a
recurring rhythm, a hollow circle at the start of ongoing work; colour says its state; a line
marks the report's day. Years are labelled, and months too when the plan spans three years or
less. Every mark is a focusable image with its own accessible name (its ``<title>`` is the
tooltip, the same words), so screen readers and keyboards reach each action. Every text is
escaped once (titles come from people).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from xml.sax.saxutils import escape, quoteattr

from babel.dates import format_date
from dateutil.rrule import rrulestr

from engine.languages import DEFAULT, LOCALES, gettext
from engine.languages import day as day_words
from engine.read.report_model import ActionLine, Report, state_words

COLOURS = {
    "done": "#2e7d32",
    "on track": "#1565c0",
    "needs attention": "#a65e00",
    "overdue": "#c62828",
    "unscheduled": "#757575",
    "dropped": "#9e9e9e",
    "on hold": "#ef6c00",
    "not accepted": "#bdbdbd",
}
LANE, LEFT, WIDTH, ROW = 44, 190, 1000, 9
MONTHS_UP_TO_YEARS = 3  # month ticks when the picture spans this many years or fewer
Scale = Callable[[date], float]


def _span(report: Report) -> tuple[date, date]:
    days = [d for line in report.lines() for d in (line.start, line.due) if d is not None]
    first = min([report.plan.ref_date, *days])
    last = max([report.as_of, *days])
    return date(first.year, 1, 1), date(last.year + 1, 1, 1)


def render_svg(report: Report, rrules: dict[str, str] | None = None, language: str = DEFAULT) -> str:
    """Return the timeline of ``report`` as a standalone SVG document (UTF-8 text), its words in ``language``."""
    first, last = _span(report)
    scale = (WIDTH - LEFT - 20) / max((last - first).days, 1)

    def x(day: date) -> float:
        return round(LEFT + (day - first).days * scale, 1)

    lanes = [
        (part.number, part.title, [line for issue in part.issues for line in issue.lines]) for part in report.parts
    ]
    height = 40 + sum(max(LANE, 14 + ROW * _rows(lines)) for _, _, lines in lanes) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="group" '
        f'aria-labelledby="tl-title" font-family="sans-serif" font-size="11">',
        '<title id="tl-title">'
        + escape(
            gettext(language, "Timeline of %(symbol)s as of %(day)s")
            % {"symbol": report.plan.symbol or report.plan.title, "day": day_words(report.as_of, language)}
        )
        + "</title>",
    ]
    out += _years(first, last, x, height)
    if last.year - first.year <= MONTHS_UP_TO_YEARS:
        out += _months(first, last, x, height, labelled=last.year - first.year <= 2, language=language)
    top = 30
    for number, title, lines in lanes:
        lane_height = max(LANE, 14 + ROW * _rows(lines))
        out.append(
            f'<g class="lane"><rect x="0" y="{top}" width="{WIDTH}" height="{lane_height}" '
            'fill="#fafafa" stroke="#e0e0e0"/>'
        )
        part = gettext(language, "Part %(number)s") % {"number": number}
        out.append(f'<text x="6" y="{top + 14}" font-weight="bold">{escape(part)}</text>')
        out.append(f'<text x="6" y="{top + 28}" fill="#555">{escape(_short(title, 30))}</text>')
        for i, line in enumerate(lines):
            out += _mark(
                line,
                x,
                top + 10 + ROW * (i % _rows(lines)),
                (report.plan.ref_date, last),
                (rrules or {}).get(line.ref),
                language,
            )
        out.append("</g>")
        top += lane_height
    today = x(report.as_of)
    out.append(f'<line x1="{today}" y1="20" x2="{today}" y2="{height - 20}" stroke="#000" stroke-dasharray="4 3"/>')
    near_edge = today > WIDTH - 90  # the day's label goes to the left of the line rather than off the picture
    anchor = f'x="{today - 3}" text-anchor="end"' if near_edge else f'x="{today + 3}"'
    shown = escape(format_date(report.as_of, "medium", locale=LOCALES.get(language, LOCALES[DEFAULT])))  # 3 nov. 2026
    out.append(f'<text {anchor} y="28" font-weight="bold">{shown}</text>')
    out += _legend(height, language)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _rows(lines: list[ActionLine]) -> int:
    return max(1, min(len(lines), 8))


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _years(first: date, last: date, x: Scale, height: int) -> list[str]:
    """A line at each 1 January; a label for each year drawn (not the closing line at the right edge)."""
    out = []
    for year in range(first.year, last.year + 1):
        pos = x(date(year, 1, 1))
        out.append(f'<line x1="{pos}" y1="20" x2="{pos}" y2="{height - 20}" stroke="#ccc"/>')
        if year < last.year:
            out.append(f'<text x="{pos + 3}" y="16" fill="#555">{year}</text>')
    return out


def _months(first: date, last: date, x: Scale, height: int, *, labelled: bool, language: str = DEFAULT) -> list[str]:
    """A short tick at the first of each month (not January: the year's line is there), labelled when they fit."""
    out = []
    day = first
    while day < last:
        if day.month != 1:
            pos = x(day)
            out.append(f'<line x1="{pos}" y1="20" x2="{pos}" y2="26" stroke="#bbb" class="month"/>')
            out.append(f'<line x1="{pos}" y1="{height - 26}" x2="{pos}" y2="{height - 20}" stroke="#bbb"/>')
            if labelled:
                name = escape(format_date(day, "MMM", locale=LOCALES.get(language, LOCALES[DEFAULT])))
                out.append(f'<text x="{pos + 2}" y="16" fill="#777" font-size="9">{name}</text>')
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return out


def _mark(
    line: ActionLine, pos: Scale, y: float, span: tuple[date, date], rule: str | None, language: str = DEFAULT
) -> list[str]:
    plan_date, last = span
    colour = COLOURS[line.state]
    named = gettext(language, "%(label)s:") % {"label": f"{line.ref} {line.title}"}  # French: "A.1 titre :"
    text = f"{named} {line.words_in(language)}"
    if line.due:
        text += ", " + gettext(language, "due %(when)s") % {"when": day_words(line.due, language)}
    # Each mark is an image of its own, named, focusable; the title (the tooltip) says the same, escaped once.
    label = f'role="img" tabindex="0" class="mark" aria-label={quoteattr(text)}'
    tip = f"<title>{escape(text)}</title>"
    if line.recurring and rule:
        return [
            f"<g {label}>{tip}"
            + "".join(
                f'<line x1="{pos(d)}" y1="{y - 3}" x2="{pos(d)}" y2="{y + 3}" stroke="{colour}" stroke-width="2"/>'
                for d in _occurrences(rule, line.start or plan_date, plan_date, last)
            )
            + "</g>"
        ]
    if line.start and line.due and line.start < line.due:
        return [
            f'<rect x="{pos(line.start)}" y="{y - 3}" width="{max(pos(line.due) - pos(line.start), 2)}" height="6" '
            f'fill="{colour}" opacity="0.7" {label}>{tip}</rect>'
        ]
    if line.due:
        cx = pos(line.due)
        return [
            f'<path d="M{cx} {y - 4} L{cx + 4} {y} L{cx} {y + 4} L{cx - 4} {y} Z" fill="{colour}" {label}>{tip}</path>'
        ]
    if line.start:
        return [f'<circle cx="{pos(line.start)}" cy="{y}" r="3.5" fill="none" stroke="{colour}" {label}>{tip}</circle>']
    return []


def _occurrences(rule: str, start: date, first: date, last: date) -> Iterable[date]:
    """Occurrences after ``start`` (the plan's date or the action's own start) and before ``last``."""
    dtstart = datetime.combine(start, time(0))
    for moment in rrulestr(rule, dtstart=dtstart).between(
        dtstart, dtstart.replace(year=min(last.year, start.year + 30)), inc=False
    ):
        if first < moment.date() < last:
            yield moment.date()


def _legend(height: int, language: str = DEFAULT) -> list[str]:
    out, pos = [], LEFT
    for state, colour in COLOURS.items():
        out.append(f'<rect x="{pos}" y="{height - 18}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{pos + 14}" y="{height - 9}">{escape(state_words(state, language))}</text>')
        pos += 95
    return out
