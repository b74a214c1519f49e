"""Importing files into the store: detect the format, read, reconcile, resolve, write.

Every import is one transaction: on any error nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from engine import yamlfile
from engine.actions.acceptance import apply_file_acceptance
from engine.actions.resolve import resolve_plan, resolve_rows
from engine.actions.workflow import SOURCE_CHANGED, awaits_redecision
from engine.errors import InputError, Location, ValidationErrors, display_path
from engine.importers import docx, gbtext, owners
from engine.importers.owners import OwnerEntry
from engine.importers.places import known_zone
from engine.importers.reconcile import action_number, reconcile
from engine.plandoc import ActionRow, PlanDocument, PlanInfo
from engine.rules import events as event_rules
from engine.rules import owners as owner_rules
from engine.settings import Settings
from engine.store import plans as store_plans
from engine.store.bulk import paused_gc
from engine.store.db import ensure_schema, first_transaction, transaction
from engine.store.lookups import owner_ids, owners_by_id, section_parents
from engine.store.models import Action, Owner, Plan
from engine.store.plans import ImportReport, Resolved
from engine.timeframe import detect_plan

# The start of the review reason of an action whose owner the plan file changed after it was given by hand.
OWNER_CHANGED = "The plan file changed the owner you had chosen"

FORMATS = (
    "the plan's own text format (a symbol line such as GB.276/TC/2 and a table after 'Appendix', "
    "'Annexe' or 'Anexo'), "
    "a Word document (.docx) or a PDF holding the plan's table, "
    "a planwatch plan file (YAML with 'plan:' and 'actions:') "
    "or an owners directory (YAML 'owners:' or CSV with id,name,email,...)"
)


@dataclass
class OwnersReport:
    """What an owners import changed."""

    path: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    reassigned: int = 0


SHEET_SUFFIXES = frozenset([".xlsx", ".xlsm", ".ods", ".csv", ".tsv"])  # engine.importers.sheets.SUFFIXES


def detect(path: str | Path) -> tuple[str, str]:
    """Return (format, text) of a file: ``gbtext``, ``planyaml``, ``owners-yaml``, ``owners-csv`` or ``sheet``."""
    # The spreadsheet, PDF and YAML plan readers are imported for their own files only: a text plan's import
    # starts without them.
    suffix = Path(path).suffix.lower()
    if suffix in SHEET_SUFFIXES:
        from engine.importers import sheets

        if sheets.handles(path):  # .xlsx, .ods, or a .csv that is not an owners directory: read by sheets.read
            return "sheet", ""
    if docx.handles(path):  # .docx (a .doc is refused by docx.read with the way to convert it)
        return "docx", ""
    if suffix == ".pdf":
        return "pdf", ""
    text = yamlfile.read_text(path, what="plan or owners file")
    if gbtext.looks_like(text):
        return "gbtext", text
    if owners.looks_like_csv(text):
        return "owners-csv", text
    from engine.importers import planyaml

    if planyaml.looks_like(text):
        return "planyaml", text
    if owners.looks_like_yaml(text):
        return "owners-yaml", text
    raise InputError(f"not a file planwatch can import; expected {FORMATS}", Location(display_path(path), 1))


def import_paths(
    engine: Engine,
    paths: list[Path],
    settings: Settings,
    now: datetime,
    *,
    timezone: str | None = None,
    plan_id: str | None = None,
    sheet_options: dict[str, Any] | None = None,
    names: dict[Path, str] | None = None,
    dry_run: bool = False,
    read: dict[Path, tuple[PlanDocument, dict[str, dict[str, Any]]]] | None = None,
) -> list[ImportReport | OwnersReport]:
    """Import owners directories first, then plans, all in one transaction.

    ``names`` gives the name to record for a path (a web upload's own file name, not its temporary path).
    With ``dry_run`` everything is done as for a real import, reports included, and the transaction is rolled
    back: ``import --dry-run`` and the import page's preview say what this very code would change. ``read``,
    when given, receives each plan path's document and readings, as the import stored them.
    """
    detected = [(p, *detect(p)) for p in paths]
    detected.sort(key=lambda item: not item[1].startswith("owners"))
    rules = owner_rules.load(settings.rules_dir / "owners.yaml")
    named_events = event_rules.load(settings.rules_dir / "events.yaml")
    fresh = False
    if dry_run:
        engine = _scratch_if_unready(engine)
    else:
        fresh = ensure_schema(engine)
    reports: list[ImportReport | OwnersReport] = []
    with paused_gc(), _session(engine, dry_run, fresh) as session:
        for at in range(len(detected)):  # by index: an iterator over the list would keep the text alive
            path, fmt, text = detected[at]
            if fmt.startswith("owners"):
                reports.append(_import_owners(session, path, rules, now))
                continue
            detected[at] = (path, fmt, "")  # the text goes once read: it is not held beside the rows
            doc = _read_plan(fmt, text, display_path(path), timezone, plan_id, sheet_options)
            del text
            name = (names or {}).get(path)
            if name:
                doc.plan.source = name
            via = f"import:{name or display_path(path)}"
            report = _import_plan(session, doc, rules, named_events, now, via, read is not None)
            if read is not None:
                read[path] = (doc, report.readings)
                report.readings = {}
            _mark_zone_review(session, doc, timezone)
            report.warnings.extend(doc.warnings)
            report.warnings.extend(plan_warnings(doc, timezone, settings))
            reports.append(report)
    return reports


@contextmanager
def _session(engine: Engine, dry_run: bool, fresh: bool = False) -> Iterator[Session]:
    """The import's one transaction: committed, or with ``dry_run`` always rolled back. A ``fresh`` database (its
    schema made for this import) is written as ``first_transaction`` says."""
    if not dry_run:
        with first_transaction(engine) if fresh else transaction(engine) as session:
            yield session
        return
    with Session(engine, expire_on_commit=False) as session:
        session.begin()
        try:
            yield session
        finally:
            session.rollback()


def _scratch_if_unready(engine: Engine | None) -> Engine:
    """Return ``engine`` when its schema is current, else an empty database in memory (a dry run stores nothing,
    so it never creates or upgrades a database: it imports into an empty one, as a first import would)."""
    from sqlalchemy.pool import StaticPool

    from engine.store.db import HEAD, current_revision

    if engine is not None and current_revision(engine) == HEAD:
        return engine
    from sqlalchemy import create_engine

    scratch = create_engine("sqlite://", poolclass=StaticPool)
    ensure_schema(scratch)
    return scratch


def _mark_zone_review(session: Session, doc: PlanDocument, timezone: str | None) -> None:
    """Put the plan in review when its date line's place has no known time zone (its times are in UTC until one
    is chosen); a zone given with ``--tz`` or read from a known place takes it out. A file without a place (a
    plan file, as exported) keeps the review while its zone is still UTC."""
    from engine.store.models import Plan

    plan = session.get(Plan, doc.plan.id)
    assert plan is not None
    place = doc.plan.place
    if timezone is None and place and known_zone(place) is None:
        wanted = place
    elif timezone is None and not place and plan.zone_review and doc.plan.timezone == "UTC":
        wanted = plan.zone_review
    else:
        wanted = ""
    if plan.zone_review != wanted:
        plan.zone_review = wanted
        session.add(plan)


def plan_warnings(doc: PlanDocument, timezone: str | None, settings: Settings) -> list[str]:
    """Say what the import had to assume: a place with no known time zone, a missing rules folder."""
    warnings = []
    place = doc.plan.place
    if timezone is None and place and known_zone(place) is None:
        warnings.append(
            f"the date line's place {place!r} has no time zone planwatch knows: the plan's times are in UTC "
            "until you choose its zone; import it again with --tz ZONE (such as Europe/Zurich)"
        )
    if not settings.rules_dir.is_dir():
        warnings.append(
            f"no rules folder at {settings.rules_dir}: no owner rules were applied and actions without an owner "
            "stay unowned; make one with planwatch init, or give --rules FOLDER"
        )
    return warnings


@dataclass
class PlanChanges:
    """What importing a file would change in the plan already stored, by action id: the report of the import
    itself, run and rolled back."""

    added: list[str]
    restored: list[str]
    removed: list[str]
    retitled: list[str]
    retimed: list[tuple[str, str, str]]  # id, the stored time frame, the file's
    owners: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # id, stored owner, new owner
    reread: list[str] = field(default_factory=list)  # the readings that change with the time frame unchanged

    def __bool__(self) -> bool:
        return bool(
            self.added or self.restored or self.removed or self.retitled or self.retimed or self.owners or self.reread
        )

    @classmethod
    def of(cls, report: ImportReport) -> PlanChanges:
        """Return the changes an import's report names."""
        return cls(
            added=report.added,
            restored=report.restored,
            removed=report.removed,
            retitled=report.title_changed,
            retimed=report.timeframe_changed,
            owners=report.owner_changed,
            reread=report.schedule_changed,
        )


@dataclass
class Preview:
    """What importing one plan file would store, read without storing anything (``import --dry-run`` and the
    web's import page): the document, each action's reading, what needs review, what would change."""

    doc: PlanDocument
    schedules: dict[str, dict[str, Any]]
    review: list[ActionRow]
    unknown_place: str  # the date line's place when planwatch knows no time zone for it (times would be UTC)
    changes: PlanChanges | None  # None: a new plan
    warnings: list[str]
    report: ImportReport | None = None  # the import's own report, rolled back

    def rows_by_section(self) -> dict[str, list[ActionRow]]:
        """Return the actions by section key, in file order."""
        found: dict[str, list[ActionRow]] = {}
        for row in self.doc.actions:
            found.setdefault(row.section_key, []).append(row)
        return found


# Nothing of a dry run is kept, so the time it runs at is never seen; a caller with a clock passes its own.
_DRY_RUN_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def preview_paths(
    engine: Engine | None,
    paths: list[Path],
    settings: Settings,
    now: datetime | None = None,
    *,
    timezone: str | None = None,
    plan_id: str | None = None,
    sheet_options: dict[str, Any] | None = None,
    names: dict[Path, str] | None = None,
) -> list[Preview | OwnersReport]:
    """Import ``paths`` as ``import_paths`` does, in a transaction rolled back; return each plan's preview and each
    owners directory's report. Errors are the import's own. ``engine`` None: there is no database yet."""
    read: dict[Path, tuple[PlanDocument, dict[str, dict[str, Any]]]] = {}
    reports = import_paths(
        engine,  # type: ignore[arg-type]
        paths,
        settings,
        now or _DRY_RUN_TIME,
        timezone=timezone,
        plan_id=plan_id,
        sheet_options=sheet_options,
        names=names,
        dry_run=True,
        read=read,
    )
    plans = iter(path for path in sorted(paths, key=lambda p: p not in read) if path in read)
    shown: list[Preview | OwnersReport] = []
    for report in reports:
        if isinstance(report, OwnersReport):
            shown.append(report)
            continue
        doc, schedules = read[next(plans)]
        place = doc.plan.place
        shown.append(
            Preview(
                doc=doc,
                schedules=schedules,
                review=[row for row in doc.actions if schedules[row.ref].get("needs_review")],
                unknown_place=place if timezone is None and place and known_zone(place) is None else "",
                changes=None if report.created else PlanChanges.of(report),
                warnings=report.warnings,
                report=report,
            )
        )
    return shown


def preview_plan_file(
    path: Path,
    engine: Engine | None,
    settings: Settings,
    *,
    timezone: str | None = None,
    plan_id: str | None = None,
    sheet_options: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Preview | None:
    """Read ``path`` as an import would and say what it would store and change; write nothing.

    ``engine`` is the database to compare with (None: there is none yet). An owners directory gives None.
    """
    fmt, _ = detect(path)
    if fmt.startswith("owners"):
        return None
    shown = preview_paths(
        engine, [path], settings, now, timezone=timezone, plan_id=plan_id, sheet_options=sheet_options
    )[0]
    assert isinstance(shown, Preview)
    return shown


def reading_text(fields: dict[str, Any]) -> str:
    """How a time frame was read, as ``planwatch actions`` says it (kind, dates, rule, event)."""
    bits = [str(fields["kind"])]
    for key, label in (("start", "from "), ("due", "due "), ("rrule", ""), ("event", "on: "), ("after_ref", "after ")):
        value = fields.get(key)
        if value:
            bits.append(f"{label}{value.isoformat() if hasattr(value, 'isoformat') else value}")
    return " ".join(bits)


def read_plan_file(
    path: Path, *, timezone: str | None = None, plan_id: str | None = None, sheet_options: dict[str, Any] | None = None
) -> PlanDocument | None:
    """Detect and read one file without storing anything; an owners directory gives None."""
    fmt, text = detect(path)
    if fmt.startswith("owners"):
        return None
    return _read_plan(fmt, text, display_path(path), timezone, plan_id, sheet_options)


def sheet_options(
    sheet: str | None, columns: str | None, encoding: str | None, plan_date: str | None
) -> dict[str, Any]:
    """Read the spreadsheet options as given (``--sheet``, ``--columns``, ``--encoding``, ``--date``, or the
    import page's fields) into the ``sheet_options`` of an import; a bad value is an ``InputError`` naming it."""
    if not columns and not (plan_date and plan_date.strip()):  # nothing to read: the sheet reader is not needed
        return {"sheet": sheet or None, "columns": {}, "encoding": encoding or None, "plan_date": None}
    from engine.importers import sheets

    return {
        "sheet": sheet or None,
        "columns": sheets.parse_columns(columns or None),
        "encoding": encoding or None,
        "plan_date": sheets.parse_date(plan_date),
    }


def _read_plan(
    fmt: str,
    text: str,
    name: str,
    timezone: str | None,
    plan_id: str | None,
    sheet_options: dict[str, Any] | None = None,
) -> PlanDocument:
    if fmt == "sheet":  # sheet_options: sheet, columns ({field: heading}), encoding, plan_date
        from engine.importers import sheets

        return sheets.read(name, timezone=timezone, plan_id=plan_id, **(sheet_options or {}))
    if fmt in {"gbtext", "docx", "pdf"} and timezone is not None:
        from engine.zones import zone_problem

        problem = zone_problem(timezone)
        if problem:
            raise InputError(f"--tz: {problem}")
    if fmt == "docx":
        return docx.read(name, timezone=timezone, plan_id=plan_id)
    if fmt == "pdf":
        from engine.importers import pdf

        return pdf.read(name, timezone=timezone, plan_id=plan_id)
    if fmt == "gbtext":  # its reader gives the rows one string per time frame
        return gbtext.parse(text, name, timezone=timezone, plan_id=plan_id)
    from engine.importers import planyaml

    return _shared_phrases(planyaml.parse(text, name))


def _shared_phrases(doc: PlanDocument) -> PlanDocument:
    """Give the rows that repeat a time frame one string for it: a large plan repeats a few hundred
    phrases, and its rows are held until they are written (70 MB of a 1,000,000-row import)."""
    seen: dict[str, str] = {}
    for row in doc.actions:
        row.timeframe = seen.setdefault(row.timeframe, row.timeframe)
        if row.timeframe_proposed is not None:
            row.timeframe_proposed = seen.setdefault(row.timeframe_proposed, row.timeframe_proposed)
    return doc


def _owner_key(column: str) -> str:
    """The owners-file key a column of the owner table comes from."""
    return "away" if column in {"away_from", "away_to", "deputy_id"} else column.removesuffix("_id")


def _import_owners(session: Session, path: Path, rules: owner_rules.OwnerRules, now: datetime) -> OwnersReport:
    known = owners_by_id(session)
    entries = owners.load(path, known=known)
    report = OwnersReport(display_path(path))
    _check_merged_loops(entries, known, display_path(path))
    for entry in entries:
        current = known.get(entry.id)
        values: dict[str, Any] = {
            "name": entry.name,
            "email": entry.email,
            "timezone": entry.timezone,
            "supervisor_id": entry.supervisor,
            "delegate_id": entry.delegate,
            "digest": entry.digest,
            "role": entry.role,
            "away_from": entry.away.first if entry.away else None,
            "away_to": entry.away.last if entry.away else None,
            "deputy_id": entry.away.deputy if entry.away else None,
            "country": entry.country,
            "language": entry.language,
            "unit": entry.unit,
        }
        if current is not None:  # an optional key the file leaves out keeps what is stored
            values = {k: v for k, v in values.items() if _owner_key(k) in entry.given}
        if current is None:
            session.add(Owner(id=entry.id, **values))
            report.added.append(entry.id)
        elif any(getattr(current, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(current, k, v)
            session.add(current)
            report.updated.append(entry.id)
    session.flush()
    report.reassigned = apply_owner_rules(session, rules, now)
    return report


def _check_merged_loops(entries: list[OwnerEntry], known: dict[str, Owner], name: str) -> None:
    bosses = {o.id: o.supervisor_id for o in known.values()}
    bosses.update({e.id: e.supervisor for e in entries if "supervisor" in e.given or e.id not in bosses})
    for entry in entries:
        chain = owners.supervisor_chain(entry.id, bosses)
        last = chain[-1] if chain else None
        if last is not None and bosses.get(last) is not None:
            loop = " -> ".join([entry.id, *chain, bosses[last] or ""])
            raise InputError(f"supervisor loop with the owners already stored: {loop}", Location(name))


def apply_owner_rules(session: Session, rules: owner_rules.OwnerRules, now: datetime) -> int:
    """Give every action that has no owner set by hand its rule owner; return how many changed."""
    known = owner_ids(session)
    if not known or not rules.rules:
        return 0
    changed = 0
    replanned: list[int] = []
    matchers: dict[str, owner_rules.OwnerMatcher] = {}
    hits: list[tuple[Action, tuple[str, int] | None]] = []
    given: dict[int, list[str]] = {}
    for action in store_plans.active_actions(session):
        if action.owner_source == "plan" or action.owner_source.startswith("cli"):
            continue
        matcher = matchers.get(action.plan_id)
        if matcher is None:
            matcher = matchers[action.plan_id] = rules.matcher(section_parents(session, action.plan_id))
        hit = matcher.owner_for(action.ref, action.section_key)
        hits.append((action, hit))
        if hit:
            given.setdefault(hit[1], []).append(action.ref)
    rules.check_used(known, given)  # the plans' imports say which rules were skipped
    for action, hit in hits:
        owner_id, source = (hit[0], _rule_source(hit[1])) if hit else (None, "")
        if (action.owner_id, action.owner_source) != (owner_id, source):
            changed += action.owner_id != owner_id
            action.owner_id, action.owner_source = owner_id, source
            if action.next_fire_at is not None or action.status in {"open", "in_progress"}:
                action.next_fire_at = now
            if action.id is not None:
                replanned.append(action.id)
            session.add(action)
    if replanned:
        store_plans.forget_planned_ahead(session.connection(), replanned, now)
    return changed


def _import_plan(
    session: Session,
    doc: PlanDocument,
    rules: owner_rules.OwnerRules,
    named_events: tuple[object, ...],
    now: datetime,
    via: str,
    keep_readings: bool = False,
) -> ImportReport:
    existing = store_plans.actions_by_ref(session, doc.plan.id)
    warnings: list[str] = []
    if doc.positional_refs and existing:  # a first import has nothing to match its rows with
        ambiguous = reconcile(doc.actions, store_plans.stored_refs(session, doc.plan.id))
        warnings.extend(_keep_twins(session, doc, ambiguous))
        _keep_edits(doc, existing)
    elif existing:
        _keep_decisions(session, doc, existing)
    _check_owner_ids(session, doc)
    if not doc.plan.language:  # the file does not say: the words of its time frames do
        doc.plan.language = detect_plan({row.timeframe for row in doc.actions})  # each phrase once
    # Beside the rows, a large import holds one list of schedules and one of owners (8 bytes a row each:
    # the fields and owners are shared by the rows that read alike), and makes each stored row as it writes.
    schedules = resolve_rows(
        doc.actions,
        doc.sections,
        doc.plan.ref_date,
        doc.plan.fy_start,
        named_events,  # type: ignore[arg-type]
        shared=True,  # read only below, but for the rows with values set in the file (their own copies)
        language=doc.plan.language,
    )
    owners = _owners(session, doc, existing, rules, warnings)
    if existing:
        warnings.extend(_review_owner_changes(session, doc, existing, owners, schedules))
    report_created = store_plans.write_plan(session, doc.plan, now)
    _keep_language(session, doc.plan)
    store_plans.write_sections(session, doc.plan.id, doc.sections)
    if existing:
        warnings.extend(
            _review_changed_sources(doc, existing, schedules, doc.plan.ref_date, doc.plan.fy_start, named_events)
        )
    # made in C, a tuple at a time: (row, owner id, source, fields) with no call per row
    ids, sources = map(itemgetter(0), owners), map(itemgetter(1), owners)
    resolved = map(tuple.__new__, repeat(Resolved), zip(doc.actions, ids, sources, schedules, strict=True))
    report = store_plans.write_actions(session, doc.plan.id, resolved, now, via)
    report.created = report_created
    warnings.extend(apply_file_acceptance(session, doc.plan.id, doc.actions, now, via))
    report.warnings.extend(warnings)
    if keep_readings:
        report.readings = {row.ref: fields for row, fields in zip(doc.actions, schedules, strict=True)}
    return report


def _owners(
    session: Session,
    doc: PlanDocument,
    existing: dict[str, Action],
    rules: owner_rules.OwnerRules,
    warnings: list[str],
) -> list[tuple[str | None, str]]:
    """Return (owner id, source) of each row, in order; raise for a rule that would give an owner not in the
    owners directory, and warn of the rules skipped."""
    known = owner_ids(session)
    use_rules = bool(known and rules.rules)
    matcher = rules.matcher({s.key: s.parent_key for s in doc.sections}) if use_rules else None
    if existing or matcher is None:
        owners = [_owner(row, existing.get(row.ref), matcher) for row in doc.actions]
    else:  # a first import: ``_owner`` without a stored action, inline (a large plan's rows are many)
        owner_for, rule_owner = matcher.owner_for, _rule_owner
        owners = [
            (row.owner, "plan")
            if row.owner is not None
            else rule_owner(*hit)
            if (hit := owner_for(row.ref, row.section_key))
            else _NO_OWNER
            for row in doc.actions
        ]
    if use_rules:
        unknown = {f"rule:{n}": n for n in rules.unknown_owners(known)}
        given: dict[int, list[str]] = {}  # only the rules that name an unknown owner are said by id
        if unknown:
            for row, (_, source) in zip(doc.actions, owners, strict=True):
                if source in unknown:
                    given.setdefault(unknown[source], []).append(row.ref)
        if skipped := rules.check_used(known, given):
            warnings.append(skipped)
    return owners


def _keep_decisions(session: Session, doc: PlanDocument, existing: dict[str, Action]) -> None:
    """A plan file that writes no ``schedule:`` for an action keeps the decision made by hand for it (``planwatch
    set``, the review form): it stays in force until someone decides again, even when the file's time frame changed.
    A ``schedule:`` that only an earlier file gave goes with the file's."""
    from sqlmodel import select

    from engine.store.models import ActionChange

    wanted = [
        stored.id
        for row in doc.actions
        if not row.override
        and (stored := existing.get(row.ref)) is not None
        and stored.override
        and stored.removed_at is None
    ]
    if not wanted:
        return
    decided: set[int] = set()
    for start in range(0, len(wanted), 500):
        query = select(ActionChange.action_id).where(
            col(ActionChange.action_id).in_(wanted[start : start + 500]),
            ActionChange.field == "schedule",
            ActionChange.who != "import",
        )
        decided.update(session.exec(query).all())
    for row in doc.actions:
        stored = existing.get(row.ref)
        if not row.override and stored is not None and stored.id in decided:
            row.override = dict(stored.override or {})


def _review_owner_changes(
    session: Session,
    doc: PlanDocument,
    existing: dict[str, Action],
    owners: list[tuple[str | None, str]],
    schedules: list[dict[str, Any]],
) -> list[str]:
    """Put in review each action given by hand whose owner the plan file has changed since (the file wins), and
    keep in review those still waiting for a look; return the warnings. ``owners`` and ``schedules`` are the
    rows', in order."""
    warnings: list[str] = []
    names: dict[str, str] | None = None
    for at, (row, (owner, source)) in enumerate(zip(doc.actions, owners, strict=True)):
        stored = existing.get(row.ref)
        if stored is None:
            continue
        manual = stored.owner_source.startswith("cli")
        if manual and source == "plan" and owner != stored.owner_id:
            if names is None:
                names = {o.id: o.name for o in owners_by_id(session).values()}
            now_named = names.get(owner or "", owner or "nobody")
            had = names.get(stored.owner_id, stored.owner_id) if stored.owner_id else "nobody (it was handed back)"
            fields = schedules[at] = dict(schedules[at])  # its own copy: readings may be shared
            fields["needs_review"] = True
            fields["reason"] = (
                f"{OWNER_CHANGED}: the plan now names {now_named}; you had given it to {had}. "
                f"{now_named} owns it now; reassign it if {had} should keep it. "
                f"The time frame reads: {fields.get('reason') or reading_text(fields)}"
            )
            warnings.append(f"{row.ref}: the plan now names {now_named}; you had given it to {had}; in review")
        elif (
            stored.needs_review
            and (stored.reason or "").startswith(OWNER_CHANGED)
            and (owner, source) == (stored.owner_id, stored.owner_source)
            and stored.timeframe == row.timeframe
            and not row.override
        ):
            fields = schedules[at] = dict(schedules[at])
            fields["needs_review"], fields["reason"] = True, stored.reason
    return warnings


def _keep_language(session: Session, info: PlanInfo) -> None:
    """Store the plan's language (the file's, or the one its time frames are written in)."""
    plan = session.get(Plan, info.id)
    if plan is not None and info.language and plan.language != info.language:
        plan.language = info.language


def _review_changed_sources(
    doc: PlanDocument,
    existing: dict[str, Action],
    schedules: list[dict[str, Any]],
    ref_date: Any,
    fy_start: int | None,
    named_events: tuple[object, ...],
) -> list[str]:
    """Put back in review every decision whose time-frame text changed since; return the warnings.

    A decision (``planwatch set``, the review form, or a ``schedule:`` written before) read the
    old text. When the text changes and the decision is carried over unchanged, it is kept in force
    but flagged, with the old and the new text, until someone decides again.
    """
    warnings: list[str] = []
    for at, row in enumerate(doc.actions):
        stored = existing.get(row.ref)
        if stored is None or stored.removed_at is not None or not row.override:
            continue
        if dict(stored.override or {}) != row.override:
            continue  # decided anew in this very file
        fields = schedules[at]
        if stored.timeframe != row.timeframe:
            decision = ", ".join(f"{k} {v}" for k, v in row.override.items())
            prior = str(fields.get("reason") or "")
            owner_note = prior if prior.startswith(OWNER_CHANGED) else ""
            fresh = resolve_plan(
                [replace(row, override={})],
                doc.sections,
                ref_date,
                fy_start,
                named_events,  # type: ignore[arg-type]
                language=doc.plan.language,
            )
            fields["needs_review"] = True
            fields["reason"] = (
                f"{SOURCE_CHANGED}: the time frame was {stored.timeframe!r} and is now {row.timeframe!r}; "
                f"your decision ({decision}) stays in force until you confirm or change it "
                "(in the review list, or in the plan file's schedule). "
                f"Read afresh, the new text gives: {reading_text(fresh[row.ref])}."
            ) + (f" Also: {owner_note.split('. The time frame reads:')[0]}." if owner_note else "")
            warnings.append(
                f"{row.ref}: {SOURCE_CHANGED.lower()} ({decision}): "
                f"{stored.timeframe!r} → {row.timeframe!r}; back in review"
            )
        elif awaits_redecision(stored):
            fields["needs_review"], fields["reason"] = True, stored.reason
    return warnings


def _keep_twins(session: Session, doc: PlanDocument, ambiguous: list[tuple[str, str]]) -> list[str]:
    """Keep each stored row the file may or may not have dropped (its twin has the same time frame)."""
    if not ambiguous:
        return []
    stored = store_plans.read_document(session, doc.plan.id)
    assert stored is not None
    by_ref = {row.ref: row for row in stored.actions}
    warnings = []
    for ref, twin in ambiguous:
        row = by_ref[ref]
        at = next(i for i, r in enumerate(doc.actions) if r.ref == twin)
        doc.actions.insert(at + 1, row)
        warnings.append(
            f"{ref}: the file has one row fewer with the time frame {row.timeframe!r} in {row.section_key}, "
            f"and {twin} and {ref} cannot be told apart, so both are kept; "
            f"if one of them went, drop it with `planwatch drop ID`"
        )
    for ordinal, row in enumerate(doc.actions, 1):
        row.ordinal = ordinal
    return warnings


def _keep_edits(doc: PlanDocument, existing: dict[str, Action]) -> None:
    """On re-import of the text format, keep titles, descriptions and overrides edited since."""
    numbers = {s.key: s.number for s in doc.sections}
    for row in doc.actions:
        row.title = f"{numbers.get(row.section_key, '')} action {action_number(row.ref)} (text not in source)"
        stored = existing.get(row.ref)
        if stored is None:
            continue
        if not stored.title.endswith("(text not in source)"):
            row.title, row.description = stored.title, stored.description
        row.override = dict(stored.override or {})
        row.tags = list(stored.tags or [])
        if stored.owner_source == "plan":
            row.owner = stored.owner_id


def _check_owner_ids(session: Session, doc: PlanDocument) -> None:
    wanted = {row.owner for row in doc.actions if row.owner}
    if not wanted:
        return
    known = owner_ids(session)
    errors = [
        InputError(
            f"{'owner' if 'owner' in row.places else f'actions[{i}].owner'}: unknown owner id {row.owner!r}; "
            "expected an id from the owners directory (`planwatch owners`)",
            Location(row.places["owner"]) if "owner" in row.places else Location(doc.path, row.line or None),
        )
        for i, row in enumerate(doc.actions)
        if row.owner and row.owner not in known
    ]
    if errors:
        raise ValidationErrors(errors)


def _owner(row: ActionRow, stored: Action | None, rules: owner_rules.OwnerMatcher | None) -> tuple[str | None, str]:
    """Return (owner id, source) for a row. An owner given by hand (``cli``, ``cli:X`` when the plan file named X
    then) is kept while the file names the same owner as then, or none; a file that names another owner wins."""
    if stored is not None and stored.owner_source.startswith("cli"):
        named = stored.owner_source.removeprefix("cli").removeprefix(":") or None
        if row.owner is None or (row.owner == named and row.owner != stored.owner_id):
            return stored.owner_id, f"cli:{row.owner}" if row.owner else "cli"
    if row.owner is not None:
        return row.owner, "plan"
    if rules is not None:
        hit = rules.owner_for(row.ref, row.section_key)
        if hit:
            return _rule_owner(*hit)
    return _NO_OWNER


_NO_OWNER: tuple[str | None, str] = (None, "")


@cache
def _rule_owner(owner: str, number: int) -> tuple[str | None, str]:
    """Return (owner, source) as rule ``number`` gives them: one tuple per rule, however many actions it gives."""
    return owner, _rule_source(number)


@cache
def _rule_source(number: int) -> str:
    """Return an owner's source for rule ``number``: one string per rule, however many actions it gives."""
    return f"rule:{number}"
