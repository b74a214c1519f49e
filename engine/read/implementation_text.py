"""The implementation report as words and tables: numbered paragraphs stating the figures, the tables, and
the report as Markdown, CSV (the underlying table, one row per action) and printable HTML.

The paragraphs are shared by every format (the Word paper too), so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

from engine.read.csv_text import csv_chunks
from engine.read.implementation import (
    ACCEPTANCE_WORDS,
    BANDS,
    NO_CAUSE,
    ImplementationReport,
    Row,
    Tally,
    collector_paused,
)
from engine.read.report import _md, _refused

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

CSV_FIELDS = (
    "ref",
    "Part",
    "owner",
    "unit",
    "acceptance",
    "status as of",
    "due",
    "extended to",
    "extensions",
    "overdue days",
    "age band",
    "delay cause",
    "owner rating",
    "verifier rating",
    "verified on",
)
GROUP_HEAD = ("accepted", "implemented", "reported, awaiting verification", "overdue", "implementation rate")


@lru_cache(maxsize=4096)
def words(value: str) -> str:
    """Return a stored value (``partially_implemented``) as words (``partially implemented``)."""
    return value.replace("_", " ")


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _refs(refs: Iterable[str]) -> str:
    found = list(refs)
    return ", ".join(found[:20]) + (f" and {len(found) - 20} more" if len(found) > 20 else "")


def paragraphs(report: ImplementationReport) -> list[str]:
    """Return the report's numbered paragraphs (without their numbers), each stating figures in sentences."""
    out = [_opening(report), _acceptance(report), _rate(report), _overdue(report)]
    out += [p for p in (_ratings(report), _extensions(report)) if p]
    if report.changes is not None:
        out.append(_since(report))
    return out


def _opening(report: ImplementationReport) -> str:
    plan = report.plan
    text = f"This report gives the state of implementation of {plan.title}"
    text += f" ({plan.symbol})" if plan.symbol else ""
    text += f" at the end of {_long(report.as_of)}"
    if report.changes is not None:
        text += f", and what changed since {_long(report.changes.since)}"
    return text + ". Every figure is read from the recorded history as it stood on that day."


def _acceptance(report: ImplementationReport) -> str:
    counts = report.acceptance()
    parts = [f"{counts.get(k, 0)} {w}" for k, w in ACCEPTANCE_WORDS.items()]
    return (
        f"Of the {_count(len(report.rows), 'action')} in the plan, {', '.join(parts[:-1])} and {parts[-1]}."
        " Acceptance is counted apart from implementation: an action not accepted or under consideration is"
        " neither implemented nor overdue."
    )


def _rate(report: ImplementationReport) -> str:
    total = report.total()
    text = (
        f"Of the {_count(total.accepted, 'accepted action')} (partially accepted actions count as accepted; dropped"
        f" and recurring actions are left out), {total.implemented} {'was' if total.implemented == 1 else 'were'}"
        " implemented, their closure verified:"
        f" an implementation rate of {total.percent}."
    )
    if total.reported:
        text += f" {_count(total.reported, 'more action was', 'more actions were')} reported implemented"
        text += " and await verification."
    if report.changes is not None:
        then = report.changes.earlier
        text += (
            f" On {_long(report.changes.since)} the rate was {then.percent} ({then.implemented} of {then.accepted})."
        )
    return text


def _overdue(report: ImplementationReport) -> str:
    late = report.overdue()
    if not late:
        return "No accepted action was overdue."
    bands = report.bands()
    spread = [f"{sum(bands[b].values())} for {b}" for b in BANDS]
    causes = sum((bands[b] for b in BANDS), start=type(bands[BANDS[0]])())
    common = ", ".join(f"{words(c)} ({n})" for c, n in causes.most_common())
    long = report.long_overdue()
    return (
        f"{_count(len(late), 'accepted action was', 'accepted actions were')} overdue, by how long past the due"
        f" date in force: {', '.join(spread)}. The causes of delay given: {common}."
        f" {_count(len(long), 'action has', 'actions have')} been overdue for more than twelve months"
        + (f": {_refs(r.ref for r in long)}." if long else ".")
    )


def _ratings(report: ImplementationReport) -> str:
    pairs = report.ratings()
    rated = sum(pairs.values())
    if not rated:
        return ""
    decided = {k: n for k, n in pairs.items() if k[1]}
    agree = sum(n for (own, theirs), n in decided.items() if own == theirs)
    return (
        f"Owners rated {_count(rated, 'closure')} they reported; the verifier rated {sum(decided.values())} of"
        f" them and agreed with the owner's own rating in {agree}. The table of ratings sets the owner's rating"
        " beside the verifier's."
    )


def _extensions(report: ImplementationReport) -> str:
    actions, granted, days = report.extensions()
    if not granted:
        return "No extension was granted."
    return (
        f"{_count(granted, 'extension was', 'extensions were')} granted to {_count(actions, 'action')},"
        f" adding {_count(days, 'day')} to their due dates in all."
    )


def _since(report: ImplementationReport) -> str:
    c = report.changes
    assert c is not None
    items = [
        (c.implemented, "newly implemented"),
        (c.overdue, "newly overdue"),
        (c.extended, "extended"),
        (c.returned, "returned to their owners by the verifier"),
    ]
    said = [f"{len(refs)} {what}" + (f" ({_refs(refs)})" if refs else "") for refs, what in items]
    return f"Since {_long(c.since)}: {'; '.join(said)}."


def _long(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def group_rows(tallies: list[Tally]) -> list[list[str]]:
    """Return the rows of a figures table: label, accepted, implemented, reported, overdue, rate."""
    return [[t.label, str(t.accepted), str(t.implemented), str(t.reported), str(t.overdue), t.percent] for t in tallies]


def band_rows(report: ImplementationReport) -> list[list[str]]:
    """Return the overdue table's rows: per age band, how many, and the causes with their counts."""
    bands = report.bands()
    return [
        [band, str(sum(bands[band].values())), "; ".join(f"{words(c)}: {n}" for c, n in bands[band].most_common())]
        for band in BANDS
    ]


def rating_rows(report: ImplementationReport) -> list[list[str]]:
    """Return the ratings table's rows: owner's rating, verifier's rating ("not yet verified"), how many."""
    return [
        [words(own), words(theirs) if theirs else "not yet verified", str(n)]
        for (own, theirs), n in sorted(report.ratings().items())
    ]


def long_rows(report: ImplementationReport) -> list[list[str]]:
    """Return the long-overdue list's rows: ref, title, owner, due in force, days overdue, cause."""
    return [
        [r.ref, r.title, r.owner, _day(r.due_in_force), str(r.overdue_days), words(r.delay_cause or NO_CAUSE)]
        for r in report.long_overdue()
    ]


def extension_rows(report: ImplementationReport) -> list[list[str]]:
    """Return the extensions granted: action, granted on, from, to, asked by, granted by, reason."""
    return [
        [
            ref,
            e.at.date().isoformat(),
            _day(e.from_due),
            e.to.isoformat(),
            e.requested_by or "(granted directly)",
            e.granted_by,
            e.reason,
        ]
        for ref, e in report.granted
    ]


def csv_row(row: Row) -> list[str]:
    """Return one action's line of the underlying table, in ``CSV_FIELDS`` order."""
    return [
        row.ref,
        row.part,
        row.owner,
        row.unit,
        words(row.acceptance),
        row.status + (" (overdue)" if row.overdue else ""),
        _day(row.due),
        _day(row.extended_to),
        str(row.extensions),
        str(row.overdue_days),
        row.band,
        words(row.delay_cause),
        words(row.owner_rating),
        words(row.verifier_rating),
        _day(row.verified_on),
    ]


@lru_cache(maxsize=65536)
def _day(day: date | None) -> str:
    return day.isoformat() if day else ""


def render_csv(report: ImplementationReport) -> Iterator[str]:
    """Yield the underlying table as CSV, a header line first."""
    return csv_chunks(list(CSV_FIELDS), (csv_row(r) for r in report.rows), lineterminator="\n")


def render_markdown(report: ImplementationReport) -> str:
    """Return the report as Markdown; text from the plan or people shows as typed, never as markup."""
    with collector_paused():
        return _markdown(report)


def _markdown(report: ImplementationReport) -> str:
    out = [f"# {_md(report.symbol)}: report on implementation", "", f"{_md(report.plan.title)}", ""]
    out += [f"As of {report.as_of.isoformat()}" + (f", since {report.changes.since}" if report.changes else "") + "."]
    out.append("")
    out += [f"{i}. {_md(text)}" for i, text in enumerate(paragraphs(report), start=1)]
    tables = [*sections(report), ("Appendix: every action", list(CSV_FIELDS), [csv_row(r) for r in report.rows])]
    for title, head, rows in tables:
        out += ["", f"## {title}", ""]
        out += [_md_row(head), "|" + "---|" * len(head)] if rows else ["None."]
        out += [_md_row(r) for r in rows] if rows else []
    return "\n".join(out) + "\n"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(map(_md_cell, cells)) + " |"


@lru_cache(maxsize=65536)
def _md_cell(text: str) -> str:
    """Return ``_md(text)``, remembered: a table of 100,000 actions repeats its Parts, owners and dates."""
    return _md(text)


def sections(report: ImplementationReport) -> list[tuple[str, list[str], list[list[str]]]]:
    """Return the report's tables in order: (title, header, rows)."""
    return [
        ("Implementation by Part", ["Part", *GROUP_HEAD], group_rows([*report.by("part"), report.total()])),
        ("By responsible unit", ["Unit", *GROUP_HEAD], group_rows(report.by("unit"))),
        ("By owner", ["Owner", *GROUP_HEAD], group_rows(report.by("owner"))),
        ("Overdue actions by age and cause of delay", ["Overdue for", "Actions", "Causes"], band_rows(report)),
        (
            "The owner's rating beside the verifier's",
            ["Owner's rating", "Verifier's rating", "Closures"],
            rating_rows(report),
        ),
        (
            "Overdue for more than twelve months",
            ["Action", "Title", "Owner", "Due", "Days overdue", "Cause"],
            long_rows(report),
        ),
        (
            "Extensions granted",
            ["Action", "Granted on", "From", "To", "Asked by", "Granted by", "Reason"],
            extension_rows(report),
        ),
    ]


def render_body(report: ImplementationReport, folders: tuple[str, ...] = ()) -> str:
    """Return the report's body as an HTML fragment (autoescaped), for the page and the printable report."""
    return _render("report/_implementation_body.html.j2", report, folders)


def render_html(report: ImplementationReport, folders: tuple[str, ...] = ()) -> str:
    """Return the report as one printable HTML page."""
    return _render("report/implementation.html.j2", report, folders)


def _render(name: str, report: ImplementationReport, folders: tuple[str, ...]) -> str:
    from jinja2 import TemplateError

    try:
        return (
            _environment(folders)
            .get_template(name)
            .render(
                report=report,
                paragraphs=paragraphs(report),
                tables=sections(report),
                appendix_head=CSV_FIELDS,
                appendix=[csv_row(r) for r in report.rows],
            )
        )
    except TemplateError as exc:
        raise _refused(exc) from None


@lru_cache(maxsize=8)
def _environment(folders: tuple[str, ...]) -> ImmutableSandboxedEnvironment:
    from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from engine.shipped import templates_folder

    return ImmutableSandboxedEnvironment(
        loader=FileSystemLoader([*folders, str(templates_folder())]),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2")),
    )
