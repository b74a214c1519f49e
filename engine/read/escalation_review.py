"""The escalation log, read: scoped, filtered, grouped by action for the page, flat for the CLI and CSV.

Read-only, in SQLAlchemy Core. The page shows one row per action: a page of 50 actions among
100,000 entries costs three indexed queries (the count, the page's actions in lateness order,
and their entries). The CLI (``planwatch escalations``) and the CSV export read the same filtered
entries flat, through ``log_entries``. Dates in filters are days in the viewer's zone; times in
rows are aware UTC.

Who a step was sent to is read here too (``Directory``): the log keeps recipients as the rules
name them (``owner``, ``supervisor.supervisor``, an id, an address), and the page and the
acknowledgement rules resolve them from the same directory snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, func, or_, select, true

from engine.languages import DEFAULT, gettext, ngettext
from engine.languages import day as words_day
from engine.read.csv_text import csv_chunks
from engine.store import tables
from engine.zones import zone

E = tables.ESCALATION
A = tables.ACTION
STATES = ("open", "acknowledged", "resolved", "all")
SORTS = ("late", "recent")
COLUMNS = (
    E.c.id,
    E.c.at,
    E.c.level,
    E.c.step,
    E.c.occurrence,
    E.c.policy,
    E.c.days_overdue,
    E.c.recipients,
    E.c.acknowledged_by,
    E.c.acknowledged_at,
    E.c.ack_note,
    E.c.resolved_at,
    E.c.resolution,
    E.c.action_id,
    A.c.plan_id,
    A.c.ref,
    A.c.title,
    A.c.owner_id,
    A.c.section_key,
    A.c.status,
    A.c.kind,
    A.c.due,
    A.c.extended_to,
    A.c.acceptance,
)
SET_ASIDE = ("not_accepted", "under_consideration")  # recommendations not followed up
CSV_HEADER = (
    "id",
    "fired_utc",
    "plan",
    "action",
    "title",
    "owner",
    "level",
    "step",
    "occurrence",
    "days_overdue",
    "recipients",
    "acknowledged_by",
    "acknowledged_utc",
    "note",
    "resolved_utc",
    "resolution",
)
FINISHED = ("done", "dropped")


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    """Which entries to show; None means any. ``since``/``until`` are inclusive days in ``tz``.

    ``action`` is an action's reference as shown everywhere (``I.2c.1``, or ``PLAN/I.2c.1``);
    ``page`` and ``per_page`` count actions on the page, entries in the CLI and CSV.
    """

    level: int | None = None
    state: str = "open"
    part: str | None = None
    owner: str | None = None
    since: date | None = None
    until: date | None = None
    sort: str = "late"
    page: int = 1
    per_page: int = 50
    tz: str = "UTC"
    action: str | None = None


# -- the directory: who a step was sent to, by name -------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """One entry of the owners directory, as the log's recipients are resolved against it."""

    id: str
    name: str
    email: str
    supervisor_id: str | None = None
    delegate_id: str | None = None
    role: str = "owner"


class Directory:
    """A snapshot of the owners directory: chains, and the people a step's recipients name."""

    def __init__(self, people: Iterable[Person]) -> None:
        self.by_id = {p.id: p for p in people}
        self.by_email: dict[str, Person] = {}
        for person in self.by_id.values():
            self.by_email.setdefault(person.email, person)
        self.staff = sorted(p.id for p in self.by_id.values() if p.role in {"secretariat", "admin"})

    def chain(self, owner_id: str | None) -> list[str]:
        """Return the supervisors above ``owner_id``, nearest first (a loop in a broken directory stops)."""
        out: list[str] = []
        person = self.by_id.get(owner_id) if owner_id else None
        while person is not None and person.supervisor_id and person.supervisor_id not in out:
            out.append(person.supervisor_id)
            person = self.by_id.get(person.supervisor_id)
        return out

    def recipients(self, names: Iterable[str], owner_id: str | None) -> set[str]:
        """Return who a step naming ``names`` (as the rules do) was sent to: owner ids, and the addresses it names.

        Roles (``owner``, ``delegate``, ``supervisor``, ``supervisor.supervisor``, ``secretariat``) are read
        from the chain of ``owner_id``, the action's owner.
        """
        out: set[str] = set()
        for name in names:
            parts = name.split(".")
            if "@" in name:
                out.add(name)
                found = self.by_email.get(name)
                out |= {found.id} if found else set()
            elif name == "owner" and owner_id:
                out.add(owner_id)
            elif name == "delegate" and owner_id:
                owner = self.by_id.get(owner_id)
                out |= {owner.delegate_id} if owner and owner.delegate_id else set()
            elif all(p == "supervisor" for p in parts):
                chain = self.chain(owner_id)
                out |= {chain[len(parts) - 1]} if len(parts) <= len(chain) else set()
            elif name == "secretariat":
                out |= set(self.staff) or {"secretariat"}
            else:
                out.add(name)
        return out

    def addressed_to(self, names: Iterable[str], owner_id: str | None, who: str) -> bool:
        """Return True when a step naming ``names`` was sent to ``who`` (an owner id, or an address)."""
        person = self.by_id.get(who)
        return bool({who, person.email if person else who} & self.recipients(names, owner_id))

    def may_acknowledge(self, names: Iterable[str], owner_id: str | None, who: str) -> bool:
        """Return True when ``who`` received the step or is above one of its recipients in the chain."""
        names = list(names)
        if self.addressed_to(names, owner_id, who):
            return True
        return any(who in self.chain(recipient) for recipient in self.recipients(names, owner_id))

    def name_of(self, ident: str | None) -> str:
        """Return a person's name (an address or an unknown id as it is; None: "no owner")."""
        if ident is None:
            return "no owner"
        person = self.by_id.get(ident) or self.by_email.get(ident)
        return person.name if person else ident

    def shown(self, names: Iterable[str], owner_id: str | None, viewer: str | None) -> list[str]:
        """Return the recipients of a step by name, ``you`` first for the viewer, each person once."""
        resolved = self.recipients(names, owner_id)
        ids = {r for r in resolved if r in self.by_id}
        bare = sorted(r for r in resolved if r not in ids and self.by_email.get(r) is None)
        people = sorted({self.name_of(i) for i in ids if i != viewer})
        return (["you"] if viewer in ids else []) + people + bare


def directory(conn: Connection) -> Directory:
    """Return the owners directory as it is now."""
    W = tables.OWNER
    rows = conn.execute(select(W.c.id, W.c.name, W.c.email, W.c.supervisor_id, W.c.delegate_id, W.c.role))
    return Directory(Person(*row) for row in rows)


# -- the filter's conditions ------------------------------------------------------------------


def _where(scope: frozenset[str] | None, flt: ReviewFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = _on_action(scope, flt)
    if flt.level is not None:
        found.append(E.c.level == flt.level)
    return found + _state(flt.state) + _dates(flt)


def _on_action(scope: frozenset[str] | None, flt: ReviewFilter) -> list[ColumnElement[bool]]:
    """Return the conditions on the action (scope, owner, Part, reference); without them no join is needed."""
    found: list[ColumnElement[bool]] = []
    if scope is not None:
        found.append(A.c.owner_id.in_(sorted(scope)))
    if flt.owner:
        found.append(A.c.owner_id == flt.owner)
    if flt.part:  # the Part's sections (a small table), then their actions by index
        S = tables.SECTION
        keys = select(S.c.key).where(or_(S.c.key == flt.part, S.c.key.startswith(f"{flt.part}.", autoescape=True)))
        found.append(A.c.section_key.in_(keys))
    if flt.action:
        plan, _, ref = flt.action.strip().rpartition("/")
        found.append(A.c.ref == ref)
        if plan:
            found.append(A.c.plan_id == plan)
    return found


def _state(state: str) -> list[ColumnElement[bool]]:
    if state == "open":
        return [E.c.acknowledged_at.is_(None), E.c.resolved_at.is_(None)]
    if state == "acknowledged":
        return [E.c.acknowledged_at.is_not(None)]
    if state == "resolved":
        return [E.c.resolved_at.is_not(None)]
    return []


def _dates(flt: ReviewFilter) -> list[ColumnElement[bool]]:
    tz = zone(flt.tz)
    found: list[ColumnElement[bool]] = []
    if flt.since is not None:
        found.append(E.c.at >= datetime.combine(flt.since, time(0), tz))
    if flt.until is not None:
        found.append(E.c.at < datetime.combine(flt.until + timedelta(days=1), time(0), tz))
    return found


def _order(flt: ReviewFilter) -> tuple[Any, ...]:
    if flt.sort == "late":
        return (E.c.days_overdue.desc(), E.c.at.desc(), E.c.id.desc())
    return (E.c.at.desc(), E.c.id.desc())


def _source(scope: frozenset[str] | None, flt: ReviewFilter) -> Any:
    return E.join(A, A.c.id == E.c.action_id) if _on_action(scope, flt) else E


def _query(scope: frozenset[str] | None, flt: ReviewFilter) -> Select[Any]:
    return (
        select(*COLUMNS)
        .select_from(E.join(A, A.c.id == E.c.action_id))
        .where(true(), *_where(scope, flt))
        .order_by(*_order(flt))
    )


# -- the flat log: the CLI and the CSV --------------------------------------------------------


def log_entries(conn: Connection, scope: frozenset[str] | None, flt: ReviewFilter) -> Iterator[dict[str, Any]]:
    """Yield every entry that passes ``flt`` for the owners in ``scope`` (None: everyone), in the filter's order."""
    result = conn.execution_options(yield_per=2000).execute(_query(scope, flt)).mappings()
    for row in result:
        yield dict(row)


def review_csv(
    engine: Engine, scope: frozenset[str] | None, flt: ReviewFilter, language: str = DEFAULT
) -> Iterator[str]:
    """Yield the whole filtered log as CSV text in chunks (header first, in ``language``; times ISO UTC; formulas
    defused)."""
    with engine.connect() as conn:
        yield from csv_chunks(csv_header(language), (_csv_row(row) for row in log_entries(conn, scope, flt)))


def csv_header(language: str = DEFAULT) -> tuple[str, ...]:
    """Return the CSV's column headings in ``language`` (English keeps the column names scripts read)."""
    return tuple(CSV_HEADINGS[name](language) for name in CSV_HEADER)


# Each heading a whole message: in English the column's name, in French and Spanish words a reader uses.
CSV_HEADINGS: dict[str, Callable[[str], str]] = {
    "id": lambda lang: gettext(lang, "id"),
    "fired_utc": lambda lang: gettext(lang, "fired_utc"),
    "plan": lambda lang: gettext(lang, "plan"),
    "action": lambda lang: gettext(lang, "action"),
    "title": lambda lang: gettext(lang, "title"),
    "owner": lambda lang: gettext(lang, "owner"),
    "level": lambda lang: gettext(lang, "level"),
    "step": lambda lang: gettext(lang, "step"),
    "occurrence": lambda lang: gettext(lang, "occurrence"),
    "days_overdue": lambda lang: gettext(lang, "days_overdue"),
    "recipients": lambda lang: gettext(lang, "recipients"),
    "acknowledged_by": lambda lang: gettext(lang, "acknowledged_by"),
    "acknowledged_utc": lambda lang: gettext(lang, "acknowledged_utc"),
    "note": lambda lang: gettext(lang, "note"),
    "resolved_utc": lambda lang: gettext(lang, "resolved_utc"),
    "resolution": lambda lang: gettext(lang, "resolution"),
}


def iso(moment: datetime | None) -> str:
    """Return an aware UTC time as ISO text ending in ``Z`` ("" for None)."""
    return moment.isoformat().replace("+00:00", "Z") if moment else ""


def _csv_row(row: Any) -> list[Any]:
    return [
        row["id"],
        iso(row["at"]),
        row["plan_id"],
        row["ref"],
        row["title"],
        row["owner_id"] or "",
        row["level"],
        row["step"],
        row["occurrence"],
        row["days_overdue"],
        " ".join(row["recipients"] or []),
        row["acknowledged_by"] or "",
        iso(row["acknowledged_at"]),
        row["ack_note"],
        iso(row["resolved_at"]),
        row["resolution"],
    ]


# -- the page: one row per action -------------------------------------------------------------


@dataclass
class StepLine:
    """One step of an action's escalation (its repeats folded in), in plain words."""

    what: str  # "Check-in of 28 March 2000 unanswered"
    level: str  # "2nd level"
    sent_to: list[str]  # names, "you" for the viewer
    times: int
    first_at: datetime
    last_at: datetime
    dated: bool  # about a date to meet (not a check-in): it can be late by days
    days_late: int
    state: str  # open, acknowledged, resolved
    acknowledged_by: str = ""
    acknowledged_at: datetime | None = None
    note: str = ""
    resolution: str = ""
    ids: list[int] = field(default_factory=list)
    mine: bool = False  # sent to the viewer (acknowledging the action acknowledges it)
    may_acknowledge: bool = False  # the viewer may acknowledge it (sent to them or to someone below them)
    about: str = "due"  # what the step is about: "due", "check-in", "start" or "stale"
    language: str = DEFAULT  # the language of the words

    @property
    def id(self) -> int:
        """Return the newest entry's id (the step's anchor)."""
        return self.ids[0]

    @property
    def words(self) -> str:
        """Return the whole line as a sentence."""
        names = [gettext(self.language, "you") if name == "you" else name for name in self.sent_to]
        to = _and(names, self.language) or gettext(self.language, "nobody")
        values = {"what": self.what, "to": to, "level": self.level, "n": self.times}
        if self.times > 1:
            return gettext(self.language, "%(what)s — sent to %(to)s (%(level)s), %(n)s times") % values
        return gettext(self.language, "%(what)s — sent to %(to)s (%(level)s)") % values


@dataclass
class ActionGroup:
    """One action on the page with its steps that pass the filter, newest first."""

    action_id: int
    plan_id: str
    ref: str
    title: str
    owner_id: str | None
    owner: str  # the owner's name
    status: str
    kind: str
    due: date | None
    extended_to: date | None
    steps: list[StepLine] = field(default_factory=list)
    extension_requested: date | None = None
    language: str = DEFAULT  # the language of the words
    acceptance: str = "accepted"  # not accepted or under consideration: not followed up, never late

    @property
    def set_aside(self) -> bool:
        """Return True when the recommendation is not accepted or under consideration (neither late nor worked on)."""
        return self.acceptance in SET_ASIDE

    @property
    def entries(self) -> int:
        """Return how many log entries the row stands for."""
        return sum(s.times for s in self.steps)

    @property
    def dated(self) -> bool:
        """Return True when a step is about a date to meet (so the action can be late by days)."""
        return any(s.dated for s in self.steps)

    @property
    def days_late(self) -> int | None:
        """Return how many days late the latest dated step is (None when no step is dated)."""
        days = [s.days_late for s in self.steps if s.dated]
        return max(days) if days and not self.set_aside else None

    @property
    def acknowledgeable(self) -> bool:
        """Return True when the action has an open step sent to the viewer."""
        return any(s.mine and s.state == "open" for s in self.steps)

    @property
    def extendable(self) -> bool:
        """Return True when a due date is what is late and can be moved (not for check-ins, nor finished actions)."""
        return self.due is not None and self.status not in FINISHED and self.dated and not self.set_aside

    @property
    def overdue(self) -> bool:
        """Return True when an open step is about a date missed (the page's red badge; never for one set aside)."""
        return not self.set_aside and any(s.dated for s in self.steps if s.state == "open")

    @property
    def state_words(self) -> str:
        """Return what is open about the action in plain words: "overdue by 12 days", "check-in unanswered", ..."""
        lang = self.language
        if self.set_aside:
            return gettext(lang, self.acceptance.replace("_", " "))
        words: list[str] = []
        open_steps = [s for s in self.steps if s.state == "open"]
        late = [s.days_late for s in open_steps if s.dated]
        if late:
            days = max(late)
            words.append(ngettext(lang, "overdue by %(n)s day", "overdue by %(n)s days", days) % {"n": days})
        if any(s.about == "check-in" for s in open_steps):
            words.append(gettext(lang, "check-in unanswered"))
        if any(s.about == "start" for s in open_steps):
            words.append(gettext(lang, "not started"))
        if any(s.about == "stale" for s in open_steps):
            words.append(gettext(lang, "no progress reported"))
        if self.extension_requested is not None:
            asked = day_words(self.extension_requested, lang)
            words.append(gettext(lang, "extension requested to %(day)s") % {"day": asked})
        if self.status in FINISHED:
            words.append(gettext(lang, self.status))
        if words:
            return "; ".join(words)
        if open_steps:
            return gettext(lang, "escalated")
        if any(s.state == "acknowledged" for s in self.steps):
            return gettext(lang, "acknowledged")
        return gettext(lang, "closed")


@dataclass
class ReviewPage:
    """One page of actions, how many actions and entries pass the filter, and the page count."""

    groups: list[ActionGroup]
    total: int  # actions
    entries: int
    page: int
    per_page: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.per_page))


def day_words(day: date, language: str = DEFAULT) -> str:
    """Return a day as people write it in ``language``: ``28 March 2000``, ``28 mars 2000``."""
    return words_day(day, language)


def level_words(level: int, language: str = DEFAULT) -> str:
    """Return a level as people say it: ``1st level``; level 0 is the owner's own overdue notice."""
    if level <= 0:
        return gettext(language, "to the owner")
    if language != DEFAULT:
        return gettext(language, "level %(n)s") % {"n": level}
    suffix = "th" if 10 <= level % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(level % 10, "th")
    return f"{level}{suffix} level"


def occurrence_words(occurrence: str, kind: str = "deadline", language: str = DEFAULT) -> tuple[str, date | None]:
    """Return what an occurrence label of the log means in plain words, and the day it is late from (dated only).

    ``check-in 2000-03-28`` is a check-in (not dated: it is unanswered, not late by days); ``start
    2000-03-01`` a start date; a bare date a due date, or one occurrence of recurring work.
    """
    said = {
        "check-in ": gettext(language, "Check-in of %(day)s unanswered"),
        "start ": gettext(language, "Not started by %(day)s"),
        "stale ": gettext(language, "No update since the reminder of %(day)s"),
    }
    for prefix, words in said.items():
        if occurrence.startswith(prefix):
            day = _parse_day(occurrence.removeprefix(prefix))
            return words % {"day": day_words(day, language) if day else occurrence.removeprefix(prefix)}, None
    due, reopened, again = occurrence.partition(" reopened ")  # a due date missed again after a reopening
    if reopened and (missed := _parse_day(due)) and (back := _parse_day(again)):
        words = gettext(language, "Due %(day)s, reopened %(again)s, not done")
        return words % {"day": day_words(missed, language), "again": day_words(back, language)}, missed
    day = _parse_day(occurrence)
    if day is None:
        if not occurrence:
            return gettext(language, "Escalated"), None
        return gettext(language, "Escalated: %(occurrence)s") % {"occurrence": occurrence}, None
    if kind == "recurring":
        return gettext(language, "The work of %(day)s not done") % {"day": day_words(day, language)}, day
    return gettext(language, "Due %(day)s, not done") % {"day": day_words(day, language)}, day


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _and(names: list[str], language: str = DEFAULT) -> str:
    if len(names) <= 1:
        return names[0] if names else ""
    return gettext(language, "%(names)s and %(last)s") % {"names": ", ".join(names[:-1]), "last": names[-1]}


def _entry_state(row: Any) -> str:
    return "resolved" if row["resolved_at"] else "acknowledged" if row["acknowledged_at"] else "open"


def _group_sort(flt: ReviewFilter) -> tuple[Any, ...]:
    worst, latest = func.max(E.c.days_overdue), func.max(E.c.at)
    if flt.sort == "late":
        return (worst.desc(), latest.desc(), E.c.action_id.desc())
    return (latest.desc(), E.c.action_id.desc())


def review_page(
    conn: Connection,
    scope: frozenset[str] | None,
    flt: ReviewFilter,
    *,
    viewer: str | None = None,
    today: date | None = None,
    people: Directory | None = None,
    language: str = DEFAULT,
) -> ReviewPage:
    """Return one page of actions with escalations for the owners in ``scope`` (None: everyone), most overdue first.

    Each action carries its steps that pass the filter, repeats folded into one line, recipients by name
    (``you`` for ``viewer``); ``today`` (the viewer's day) counts how late an open dated step is.
    """
    where = _where(scope, flt)
    source = _source(scope, flt)
    total, entries = conn.execute(
        select(func.count(func.distinct(E.c.action_id)), func.count()).select_from(source).where(true(), *where)
    ).one()
    page = max(1, min(flt.page, max(1, -(-total // flt.per_page))))
    ids = list(
        conn.execute(
            select(E.c.action_id)
            .select_from(source)
            .where(true(), *where)
            .group_by(E.c.action_id)
            .order_by(*_group_sort(flt))
            .limit(flt.per_page)
            .offset((page - 1) * flt.per_page)
        ).scalars()
    )
    groups: dict[int, ActionGroup] = {}
    if ids:
        people = people or directory(conn)
        rows = conn.execute(
            select(*COLUMNS)
            .select_from(E.join(A, A.c.id == E.c.action_id))
            .where(E.c.action_id.in_(ids), *_state(flt.state), *_dates(flt))
            .where(true() if flt.level is None else E.c.level == flt.level)
            .order_by(E.c.at.desc(), E.c.id.desc())
        ).mappings()
        groups = _groups(rows, people, viewer, today, language)
        _add_requests(conn, groups)
    return ReviewPage([groups[i] for i in ids if i in groups], total, entries, page, flt.per_page)


def _groups(
    rows: Iterable[Any], people: Directory, viewer: str | None, today: date | None, language: str = DEFAULT
) -> dict[int, ActionGroup]:
    groups: dict[int, ActionGroup] = {}
    lines: dict[tuple[int, str, str, str], StepLine] = {}
    for row in rows:  # newest first
        group = groups.get(row["action_id"])
        if group is None:
            group = groups[row["action_id"]] = ActionGroup(
                row["action_id"],
                row["plan_id"],
                row["ref"],
                row["title"],
                row["owner_id"],
                people.name_of(row["owner_id"]),
                row["status"],
                row["kind"],
                row["due"],
                row["extended_to"],
                language=language,
                acceptance=row["acceptance"],
            )
        state = _entry_state(row)
        key = (row["action_id"], row["occurrence"], row["step"].partition("#")[0], state)
        names = list(row["recipients"] or [])
        mine = viewer is not None and state == "open" and people.addressed_to(names, row["owner_id"], viewer)
        line = lines.get(key)
        if line is None:
            what, late_from = occurrence_words(row["occurrence"], row["kind"], language)
            days = row["days_overdue"]
            if today is not None and late_from is not None and state == "open":
                days = max(0, (today - late_from).days)
            line = lines[key] = StepLine(
                what=what,
                level=level_words(row["level"], language),
                sent_to=people.shown(names, row["owner_id"], viewer),
                times=0,
                first_at=row["at"],
                last_at=row["at"],
                dated=late_from is not None,
                days_late=days,
                state=state,
                acknowledged_by=people.name_of(row["acknowledged_by"]) if row["acknowledged_by"] else "",
                acknowledged_at=row["acknowledged_at"],
                note=row["ack_note"] or "",
                resolution=row["resolution"] or "",
                about=row["occurrence"].partition(" ")[0]
                if row["occurrence"].startswith(("check-in ", "start ", "stale "))
                else "due",
                language=language,
            )
            group.steps.append(line)
        line.times += 1
        line.first_at = row["at"]
        line.ids.append(row["id"])
        line.mine = line.mine or mine
        if viewer is not None and state == "open" and not line.may_acknowledge:
            line.may_acknowledge = people.may_acknowledge(names, row["owner_id"], viewer)
    return groups


def _add_requests(conn: Connection, groups: dict[int, ActionGroup]) -> None:
    """Mark the actions with an extension request still to be decided (the date asked for)."""
    X = tables.EXTENSION_REQUEST
    query = select(X.c.action_id, X.c.wanted).where(X.c.status == "pending", X.c.action_id.in_(list(groups)))
    for action_id, wanted in conn.execute(query.order_by(X.c.requested_at)):
        groups[action_id].extension_requested = wanted


# -- the filter's choices ---------------------------------------------------------------------


def owner_choices(conn: Connection, scope: frozenset[str] | None) -> list[tuple[str, str]]:
    """Return (id, name) of the owners in ``scope`` (None: everyone) by name, for the filter's choices."""
    W = tables.OWNER
    rows = conn.execute(select(W.c.id, W.c.name).order_by(W.c.name, W.c.id)).all()
    return [(i, n) for i, n in rows if scope is None or i in scope]


def parts(conn: Connection, plan_id: str | None = None, language: str = DEFAULT) -> list[tuple[str, str]]:
    """Return (key, "Part N: title") of every Part, for the filter's choices."""
    S = tables.SECTION
    query = select(S.c.key, S.c.number, S.c.title).where(S.c.level == "part").order_by(S.c.plan_id, S.c.ordinal)
    if plan_id is not None:
        query = query.where(S.c.plan_id == plan_id)
    label = gettext(language, "Part %(number)s: %(title)s")
    return [(r.key, label % {"number": r.number, "title": r.title}) for r in conn.execute(query)]
