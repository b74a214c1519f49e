"""The implementation report as words and tables: numbered paragraphs stating the figures, the tables, and
the report as Markdown, CSV (the underlying table, one row per action) and printable HTML.

The paragraphs are shared by every format (the Word paper too), so they cannot disagree.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

from engine.languages import DEFAULT, LOCALES, gettext, install, ngettext
from engine.languages import day as day_words
from engine.read.csv_text import csv_chunks
from engine.read.implementation import (
    ACCEPTANCE_WORDS,
    BANDS,
    NO_CAUSE,
    ImplementationReport,
    Row,
    Tally,
    Update,
    collector_paused,
)
from engine.read.rendering import md, refused

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is written; it is translated where it is shown."""
    return message


CSV_FIELDS = (
    N_("ref"),
    N_("Part"),
    N_("owner"),
    N_("unit"),
    N_("acceptance"),
    N_("status as of"),
    N_("due"),
    N_("extended to"),
    N_("extensions"),
    N_("overdue days"),
    N_("age band"),
    N_("delay cause"),
    N_("owner rating"),
    N_("verifier rating"),
    N_("verified on"),
    N_("latest update"),
)
GROUP_HEAD = (
    N_("Accepted"),
    N_("Implemented"),
    N_("Reported, awaiting verification"),
    N_("Overdue"),
    N_("Implementation rate"),
)
# The words of the stored values the report shows (acceptance, age bands, causes of delay, ratings, statuses).
VALUE_WORDS = (
    N_("partially accepted"), N_("not accepted"), N_("under consideration"), N_("under 6 months"),
    N_("6 to 12 months"), N_("12 to 24 months"), N_("over 24 months"), N_("not given"), N_("whole plan"),
    N_("(no owner)"), N_("partially implemented"), N_("not implemented"), N_("reported"), N_("dropped"),
    N_("on hold"), N_("open"), N_("in progress"), N_("done"), N_("resources"), N_("external factors"),
    N_("dependencies"), N_("capacity"), N_("other"), N_("(overdue)"), N_("not yet verified"), N_("(granted directly)"),
)  # fmt: skip


@lru_cache(maxsize=4096)
def words(value: str, language: str = DEFAULT) -> str:
    """Return a stored value (``partially_implemented``) as words in ``language`` (``partially implemented``)."""
    plain = value.replace("_", " ")
    return gettext(language, plain) if plain else plain


def _refs(refs: Iterable[str], language: str) -> str:
    found = list(refs)
    shown = ", ".join(found[:20])
    if len(found) <= 20:
        return shown
    return gettext(language, "%(refs)s and %(n)s more") % {"refs": shown, "n": len(found) - 20}


def percent(tally: Tally, language: str = DEFAULT) -> str:
    """Return a group's implementation rate as a whole percentage written as ``language`` writes it ("-": none)."""
    from babel.numbers import format_percent

    return "-" if tally.rate is None else format_percent(tally.rate, locale=LOCALES[language])


def paragraphs(report: ImplementationReport, language: str = DEFAULT) -> list[str]:
    """Return the report's numbered paragraphs (without their numbers), each stating figures in sentences."""
    out = [_opening(report, language), _acceptance(report, language), _rate(report, language)]
    out.append(_overdue(report, language))
    out += [p for p in (_ratings(report, language), _extensions(report, language)) if p]
    if report.changes is not None:
        out.append(_since(report, language))
    return [typeset(text, language) for text in out]


_FRENCH_SPACES = {" ;": "\u202f;", " :": "\u00a0:", " ?": "\u202f?", " !": "\u202f!"}


def typeset(text: str, language: str) -> str:
    """Return ``text`` with French typographic spacing in French: a narrow no-break space before ";", "?" and "!",
    a no-break space before ":" (so a line never starts with them); other languages unchanged."""
    if language != "fr":
        return text
    for plain, fine in _FRENCH_SPACES.items():
        text = text.replace(plain, fine)
    return text


def _opening(report: ImplementationReport, language: str) -> str:
    plan = report.plan
    title = f"{plan.title} ({plan.symbol})" if plan.symbol else plan.title
    when = day_words(report.as_of, language)
    if report.changes is not None:
        text = gettext(
            language,
            "This report gives the state of implementation of %(plan)s at the end of %(day)s, and what"
            " changed since %(since)s.",
        ) % {"plan": title, "day": when, "since": day_words(report.changes.since, language)}
    else:
        text = gettext(language, "This report gives the state of implementation of %(plan)s at the end of %(day)s.")
        text %= {"plan": title, "day": when}
    return text + " " + gettext(language, "Every figure is read from the recorded history as it stood on that day.")


def _acceptance(report: ImplementationReport, language: str) -> str:
    parts = _acceptance_counts(report.acceptance(), language)
    n = len(report.rows)
    text = ngettext(
        language,
        "Of the %(n)s action in the plan, %(parts)s and %(last)s.",
        "Of the %(n)s actions in the plan, %(parts)s and %(last)s.",
        n,
    ) % {"n": n, "parts": ", ".join(parts[:-1]), "last": parts[-1]}
    return (
        text
        + " "
        + gettext(
            language,
            "Acceptance is counted apart from implementation: an action not accepted or under consideration is"
            " neither implemented nor overdue.",
        )
    )


def _acceptance_counts(counts: Counter[str], language: str) -> list[str]:
    """Return how many actions have each acceptance, each count agreeing with its word ("1 acceptée", "7 acceptées")."""
    n = [counts.get(k, 0) for k in ACCEPTANCE_WORDS]
    return [
        ngettext(language, "%(n)s accepted", "%(n)s accepted", n[0]) % {"n": n[0]},
        ngettext(language, "%(n)s partially accepted", "%(n)s partially accepted", n[1]) % {"n": n[1]},
        ngettext(language, "%(n)s not accepted", "%(n)s not accepted", n[2]) % {"n": n[2]},
        ngettext(language, "%(n)s under consideration", "%(n)s under consideration", n[3]) % {"n": n[3]},
    ]


def _rate(report: ImplementationReport, language: str) -> str:
    total = report.total()
    accepted = ngettext(language, "%(n)s accepted action", "%(n)s accepted actions", total.accepted)
    verified = sum(1 for r in report.counted if r.implemented and r.verifier_rating)
    figures = {
        "accepted": accepted % {"n": total.accepted},
        "done": total.implemented,
        "verified": verified,
        "one_step": total.implemented - verified,
        "rate": percent(total, language),
    }
    text = (
        ngettext(
            language,
            "Of the %(accepted)s (partially accepted actions count as accepted; dropped and recurring actions are left"
            " out), %(done)s was implemented: an implementation rate of %(rate)s.",
            "Of the %(accepted)s (partially accepted actions count as accepted; dropped and recurring actions are left"
            " out), %(done)s were implemented: an implementation rate of %(rate)s.",
            total.implemented,
        )
        % figures
    )
    if total.implemented:
        text += " " + _closed(verified, total.implemented - verified, language) % figures
    if total.reported:
        text += " " + ngettext(
            language,
            "%(n)s more action was reported implemented and awaits verification.",
            "%(n)s more actions were reported implemented and await verification.",
            total.reported,
        ) % {"n": total.reported}
    if report.changes is not None:
        then = report.changes.earlier
        text += " " + gettext(language, "On %(day)s the rate was %(rate)s (%(done)s of %(accepted)s).") % {
            "day": day_words(report.changes.since, language),
            "rate": percent(then, language),
            "done": then.implemented,
            "accepted": then.accepted,
        }
    return text


def _closed(verified: int, one_step: int, language: str) -> str:
    """Return the sentence saying how the implemented actions were closed: verified, or in one step."""
    if not one_step:
        return ngettext(
            language,
            "Its owner reported it implemented and the verifier confirmed it.",
            "Each was reported implemented by its owner and confirmed by the verifier.",
            verified,
        )
    if not verified:
        return ngettext(
            language,
            "It was closed in one step, by its owner, as the rules allow.",
            "They were closed in one step, by their owners, as the rules allow.",
            one_step,
        )
    return gettext(
        language,
        "Of these, the verifier confirmed %(verified)s on the owner's report, and the owner closed %(one_step)s in"
        " one step, as the rules allow.",
    )


def _overdue(report: ImplementationReport, language: str) -> str:
    late = report.overdue()
    if not late:
        return gettext(language, "No accepted action was overdue.")
    bands = report.bands()
    spread = [
        gettext(language, "%(n)s for %(band)s") % {"n": sum(bands[b].values()), "band": gettext(language, b)}
        for b in BANDS
    ]
    causes = sum((bands[b] for b in BANDS), start=type(bands[BANDS[0]])())
    common = ", ".join(f"{words(c, language)} ({n})" for c, n in causes.most_common())
    long = report.long_overdue()
    text = ngettext(
        language,
        "%(n)s accepted action was overdue, by how long past the due date in force: %(spread)s.",
        "%(n)s accepted actions were overdue, by how long past the due date in force: %(spread)s.",
        len(late),
    ) % {"n": len(late), "spread": ", ".join(spread)}
    text += " " + gettext(language, "The causes of delay given: %(causes)s.") % {"causes": common}
    if long:
        text += " " + ngettext(
            language,
            "%(n)s action has been overdue for more than twelve months: %(refs)s.",
            "%(n)s actions have been overdue for more than twelve months: %(refs)s.",
            len(long),
        ) % {"n": len(long), "refs": _refs((r.ref for r in long), language)}
    else:
        text += " " + gettext(language, "No action has been overdue for more than twelve months.")
    return text


def _ratings(report: ImplementationReport, language: str) -> str:
    pairs = report.ratings()
    rated = sum(pairs.values())
    if not rated:
        return ""
    decided = {k: n for k, n in pairs.items() if k[1]}
    agree = sum(n for (own, theirs), n in decided.items() if own == theirs)
    return ngettext(
        language,
        "Owners rated %(n)s closure they reported; the verifier rated %(decided)s of them and agreed with the"
        " owner's own rating in %(agree)s. The table of ratings sets the owner's rating beside the verifier's.",
        "Owners rated %(n)s closures they reported; the verifier rated %(decided)s of them and agreed with the"
        " owner's own rating in %(agree)s. The table of ratings sets the owner's rating beside the verifier's.",
        rated,
    ) % {"n": rated, "decided": sum(decided.values()), "agree": agree}


def _extensions(report: ImplementationReport, language: str) -> str:
    actions, granted, days = report.extensions()
    if not granted:
        return gettext(language, "No extension was granted.")
    to = ngettext(language, "%(n)s action", "%(n)s actions", actions) % {"n": actions}
    adding = ngettext(language, "%(n)s day", "%(n)s days", days) % {"n": days}
    return ngettext(
        language,
        "%(n)s extension was granted to %(actions)s, adding %(days)s to their due dates in all.",
        "%(n)s extensions were granted to %(actions)s, adding %(days)s to their due dates in all.",
        granted,
    ) % {"n": granted, "actions": to, "days": adding}


def _since(report: ImplementationReport, language: str) -> str:
    c = report.changes
    assert c is not None
    day = day_words(c.since, language)
    said = [
        ngettext(
            language,
            "Since %(day)s, %(n)s action has been newly implemented%(refs)s.",
            "Since %(day)s, %(n)s actions have been newly implemented%(refs)s.",
            len(c.implemented),
        ),
        ngettext(
            language,
            "%(n)s action has become overdue%(refs)s.",
            "%(n)s actions have become overdue%(refs)s.",
            len(c.overdue),
        ),
        ngettext(language, "%(n)s action has been extended%(refs)s.", "%(n)s actions have been extended%(refs)s.",
                 len(c.extended)),
        ngettext(
            language,
            "%(n)s action has been returned to its owner by the verifier%(refs)s.",
            "%(n)s actions have been returned to their owners by the verifier%(refs)s.",
            len(c.returned),
        ),
    ]  # fmt: skip
    refs = [c.implemented, c.overdue, c.extended, c.returned]
    text = " ".join(
        sentence % {"day": day, "n": len(found), "refs": f" ({_refs(found, language)})" if found else ""}
        for sentence, found in zip(said, refs, strict=True)
    )
    return _no_record(c.asked, c.since, language) + text


def _no_record(asked: date | None, since: date, language: str) -> str:
    """Return the sentence saying the comparison starts later than the day asked for (empty when it does not)."""
    if asked is None:
        return ""
    return (
        gettext(
            language,
            "planwatch has no record of this plan before %(day)s, so the comparison is with the end of that day"
            " instead of %(asked)s.",
        )
        % {"day": day_words(since, language), "asked": day_words(asked, language)}
        + " "
    )


def group_rows(tallies: list[Tally], language: str = DEFAULT) -> list[list[str]]:
    """Return the rows of a figures table: label, accepted, implemented, reported, overdue, rate."""
    return [
        [_shown(t.label, language), str(t.accepted), str(t.implemented), str(t.reported), str(t.overdue),
         percent(t, language)]
        for t in tallies
    ]  # fmt: skip


def band_rows(report: ImplementationReport, language: str = DEFAULT) -> list[list[str]]:
    """Return the overdue table's rows: per age band, how many, and the causes with their counts."""
    bands = report.bands()
    return [
        [
            gettext(language, band),
            str(sum(bands[band].values())),
            typeset(" ; " if language == "fr" else "; ", language).join(
                typeset(f"{words(c, language)} : {n}" if language == "fr" else f"{words(c, language)}: {n}", language)
                for c, n in bands[band].most_common()
            ),
        ]
        for band in BANDS
    ]


def rating_rows(report: ImplementationReport, language: str = DEFAULT) -> list[list[str]]:
    """Return the ratings table's rows: owner's rating, verifier's rating ("not yet verified"), how many."""
    return [
        [words(own, language), words(theirs, language) if theirs else gettext(language, "not yet verified"), str(n)]
        for (own, theirs), n in sorted(report.ratings().items())
    ]


def long_rows(report: ImplementationReport, language: str = DEFAULT) -> list[list[str]]:
    """Return the long-overdue list's rows: ref, title, owner, due in force, days overdue, cause."""
    return [
        [r.ref, r.title, _shown(r.owner, language), _day(r.due_in_force, language), str(r.overdue_days),
         words(r.delay_cause or NO_CAUSE, language)]
        for r in report.long_overdue()
    ]  # fmt: skip


def extension_rows(report: ImplementationReport, language: str = DEFAULT) -> list[list[str]]:
    """Return the extensions granted: action, granted on, from, to, asked by, granted by, reason."""
    return [
        [
            ref,
            _day(e.at.date(), language),
            _day(e.from_due, language),
            _day(e.to, language),
            e.requested_by or gettext(language, "(granted directly)"),
            e.granted_by,
            e.reason,
        ]
        for ref, e in report.granted
    ]


def csv_row(row: Row, language: str = DEFAULT) -> list[str]:
    """Return one action's line of the underlying table, in ``CSV_FIELDS`` order."""
    return [
        row.ref,
        _part(row.part, language),
        _shown(row.owner, language),
        _shown(row.unit, language),
        words(row.acceptance, language),
        _shown(row.status, language) + (" " + gettext(language, "(overdue)") if row.overdue else ""),
        _day(row.due, language),
        _day(row.extended_to, language),
        str(row.extensions),
        str(row.overdue_days),
        _shown(row.band, language),
        words(row.delay_cause, language),
        words(row.owner_rating, language),
        words(row.verifier_rating, language),
        _day(row.verified_on, language),
        update_words(row.update, language),
    ]


def update_words(update: Update | None, language: str = DEFAULT) -> str:
    """Return an action's latest dated update in a cell: its day, the percent complete when given, who, the text."""
    if update is None:
        return ""
    said = {"day": _day(update.day, language), "who": update.who, "text": update.text or "—", "percent": update.percent}
    if update.percent is None:
        return gettext(language, "%(day)s, %(who)s: %(text)s") % said
    return gettext(language, "%(day)s, %(percent)s%% complete, %(who)s: %(text)s") % said


@lru_cache(maxsize=4096)
def _part(label: str, language: str) -> str:
    """Return a Part's label in ``language``: planwatch's words translated, the plan's number and title as typed."""
    return label if language == DEFAULT or not _PART.match(label) else _shown(label, language)


def _shown(value: str, language: str) -> str:
    """Return a value the report shows as stored in English ("(no owner)", "in_progress"), translated otherwise;
    a Part's label ("Part A.: Governance") keeps the plan's number and title, planwatch's words translated."""
    if language == DEFAULT:
        return value
    part = _PART.match(value)
    if part:
        return typeset(
            gettext(language, "Part %(number)s: %(title)s") % {"number": part[1], "title": part[2]}, language
        )
    return words(value, language)


_PART = re.compile(r"Part (\S+): (.*)\Z", re.DOTALL)  # the label ``implementation`` gives a numbered Part


@lru_cache(maxsize=65536)
def _day(day: date | None, language: str = DEFAULT) -> str:
    """Return a day as the tables show it: ISO in English (as before), in words in French and Spanish."""
    if day is None:
        return ""
    return day.isoformat() if language == DEFAULT else day_words(day, language)


def render_csv(report: ImplementationReport, language: str = DEFAULT) -> Iterator[str]:
    """Yield the underlying table as CSV, a header line first (the headings in ``language``)."""
    head = [gettext(language, f) for f in CSV_FIELDS]
    return csv_chunks(head, (csv_row(r, language) for r in report.rows), lineterminator="\n")


def render_markdown(report: ImplementationReport, language: str = DEFAULT) -> str:
    """Return the report as Markdown in ``language``; text from the plan or people shows as typed, never as markup."""
    with collector_paused():
        return _markdown(report, language)


def _markdown(report: ImplementationReport, language: str) -> str:
    title = gettext(language, "%(symbol)s: report on implementation") % {"symbol": md(symbol(report, language))}
    out = [f"# {typeset(title, language)}", "", f"{md(report.plan.title)}", ""]
    when = {"day": day_words(report.as_of, language)}
    if report.changes:
        when["since"] = day_words(report.changes.since, language)
        out.append(gettext(language, "As of %(day)s, since %(since)s.") % when)
    else:
        out.append(gettext(language, "As of %(day)s.") % when)
    out.append("")
    out += [f"{i}. {md(text)}" for i, text in enumerate(paragraphs(report, language), start=1)]
    appendix = (
        gettext(language, "Appendix: every action"),
        [gettext(language, f) for f in CSV_FIELDS],
        [csv_row(r, language) for r in report.rows],
    )
    for title, head, rows in [*sections(report, language), appendix]:
        out += ["", f"## {typeset(title, language)}", ""]
        out += [_md_row(head), "|" + "---|" * len(head)] if rows else [gettext(language, "None.")]
        out += [_md_row(r) for r in rows] if rows else []
    return "\n".join(out) + "\n"


def symbol(report: ImplementationReport, language: str = DEFAULT) -> str:
    """Return the report's own symbol: the plan's with an addendum mark, else its name in ``language``."""
    return report.symbol if report.plan.symbol else gettext(language, "Implementation report")


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(map(_md_cell, cells)) + " |"


@lru_cache(maxsize=65536)
def _md_cell(text: str) -> str:
    """Return ``md(text)``, remembered: a table of 100,000 actions repeats its Parts, owners and dates."""
    return md(text)


def sections(report: ImplementationReport, language: str = DEFAULT) -> list[tuple[str, list[str], list[list[str]]]]:
    """Return the report's tables in order, in ``language``: (title, header, rows)."""

    def _(message: str) -> str:
        return gettext(language, message)

    group_head = [_(h) for h in GROUP_HEAD]
    return [
        (
            _("Implementation by Part"),
            [_("Part"), *group_head],
            group_rows([*report.by("part"), report.total()], language),
        ),
        (_("By responsible unit"), [_("Unit"), *group_head], group_rows(report.by("unit"), language)),
        (_("By owner"), [_("Owner"), *group_head], group_rows(report.by("owner"), language)),
        (
            _("Overdue actions by age and cause of delay"),
            [_("Overdue for"), _("Actions"), _("Causes")],
            band_rows(report, language),
        ),
        (
            _("The owner's rating beside the verifier's"),
            [_("Owner's rating"), _("Verifier's rating"), _("Closures")],
            rating_rows(report, language),
        ),
        (
            _("Overdue for more than twelve months"),
            [_("Action"), _("Title"), _("Owner"), _("Due"), _("Days overdue"), _("Cause")],
            long_rows(report, language),
        ),
        (
            _("Extensions granted"),
            [_("Action"), _("Granted on"), _("From"), _("To"), _("Asked by"), _("Granted by"), _("Reason")],
            extension_rows(report, language),
        ),
    ]


def render_body(report: ImplementationReport, folders: tuple[str, ...] = (), language: str = DEFAULT) -> str:
    """Return the report's body as an HTML fragment (autoescaped), for the page and the printable report."""
    return _render("report/_implementation_body.html.j2", report, folders, language)


def render_html(report: ImplementationReport, folders: tuple[str, ...] = (), language: str = DEFAULT) -> str:
    """Return the report as one printable HTML page in ``language``."""
    return _render("report/implementation.html.j2", report, folders, language)


def _render(name: str, report: ImplementationReport, folders: tuple[str, ...], language: str) -> str:
    from jinja2 import TemplateError

    try:
        return (
            _environment(folders, language)
            .get_template(name)
            .render(
                report=report,
                symbol=symbol(report, language),
                paragraphs=paragraphs(report, language),
                tables=sections(report, language),
                appendix_head=[gettext(language, f) for f in CSV_FIELDS],
                appendix=[csv_row(r, language) for r in report.rows],
            )
        )
    except TemplateError as exc:
        raise refused(exc, name) from None


@lru_cache(maxsize=24)
def _environment(folders: tuple[str, ...], language: str = DEFAULT) -> ImmutableSandboxedEnvironment:
    from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from engine.shipped import templates_folder

    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader([*folders, str(templates_folder())]),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2")),
    )
    install(env, language)
    env.filters["typeset"] = lambda text: _typeset_markup(text, language)
    return env


def _typeset_markup(text: str, language: str) -> str:
    """Return ``typeset`` of template output, kept as markup when it was (a ``{% filter typeset %}`` block)."""
    from markupsafe import Markup

    done = typeset(str(text), language)
    return Markup(done) if isinstance(text, Markup) else done  # already escaped by the template
