"""``planwatch demo``: the example plan's whole life, in a fresh embedded database.

It imports the example plan and owners, replays the sample progress file from the plan's
date to the end of 2001 with the simulator, writes every message to a Maildir under
``out/``, and ends with a summary. It reads ``plans/`` and ``rules/`` of the working folder;
where that folder has none, the example and the default rules planwatch ships.
"""

from __future__ import annotations

import secrets
import shutil
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine, func, select, update
from sqlmodel import Session

from engine.cli.present import owners_table, plan_outline
from engine.drive.rehearse import run_simulation
from engine.errors import InputError
from engine.importing import OwnersReport, import_paths
from engine.mail.compose import renderer_for
from engine.mail.messages import long_date
from engine.plandoc import effective_due
from engine.read.queries import (
    SentMessage,
    escalation_steps_by_level,
    last_done_at,
    list_actions,
    owners_of_actions,
    owners_with_chains,
    plans,
    sections,
    sent_by_type,
    sent_messages,
)
from engine.rules.loader import RuleSet, load_rules
from engine.settings import Settings
from engine.shipped import plans_folder, rules_folder
from engine.store import make_engine, tables, transaction
from engine.store.state import LINK_KEY, set_state
from engine.zones import aware_utc, zone

PLAN_FILE = "gb276-tc2-implementation-plan.txt"
OWNERS_FILE = "owners.yaml"
PROGRESS_FILE = "progress.yaml"
UNTIL = date(2001, 12, 31)
DEFAULT_PLANS = Path("plans")  # the demo command's --plans default
DEFAULT_RULES = Path("rules")  # the settings' default rules folder


@dataclass(frozen=True)
class Busiest:
    """The largest number of escalation messages one person received in one week (their own Monday to Sunday):
    each escalation sent on its own, and each digest that carried any; who, and the Monday of that week."""

    messages: int = 0
    who: str = ""
    week_of: date | None = None


@dataclass
class DemoSummary:
    """The figures the demo ends with."""

    actions: int = 0
    messages: Counter[str] = field(default_factory=Counter)
    done_on_time: int = 0
    done_late: int = 0
    overdue: int = 0
    escalations: Counter[int] = field(default_factory=Counter)
    maildir: Path = Path()
    mail_count: int = 0
    checkins: int = 0  # check-ins sent on their own (not in a digest)
    checkins_late: int = 0  # of those, sent more than one business day after their planned time
    outside_hours: int = 0  # messages sent off a business day of the recipient or outside business hours
    escalations_before_owner: int = 0  # escalations sent before the owner was sent anything about the occurrence
    busiest: Busiest = field(default_factory=Busiest)  # the most escalation messages to one person in a week
    own_key: bool = False  # links signed with a key of the demo's own, kept in its database


END_OF_DAY = time(18, 0)  # business hours run from the delivery hour to this local time


def run_demo(console: Console, out: Path, plans_dir: Path, settings: Settings, now: datetime) -> DemoSummary:
    """Import, replay and summarise the example into ``out/``; return the summary."""
    plans_dir, settings = example_inputs(console, plans_dir, settings)
    sources = [plans_dir / OWNERS_FILE, plans_dir / PLAN_FILE]
    missing = [str(p) for p in [*sources, plans_dir / PROGRESS_FILE] if not p.exists()]
    if missing:
        raise InputError(
            f"example files not found: {', '.join(missing)}; pass --plans a folder holding them, or leave --plans"
            " out to play the example planwatch ships"
        )
    db, maildir = _fresh(out)
    settings = replace(settings, database_url=f"sqlite:///{db}", maildir=maildir)
    engine = make_engine(settings.database_url)
    try:
        reports = import_paths(engine, sources, settings, now)
        settings, own_key = signing_key(engine, settings, now)
        _show_plan(console, engine)
        owners_report = next(r for r in reports if isinstance(r, OwnersReport))
        console.print(
            f"Loaded {len(owners_report.added)} owners. Now playing the plan's life, 1999-09-28 to {UNTIL} ..."
        )
        start = came_with_the_plan(engine)
        rules = load_rules(settings.rules_dir)
        run_simulation(
            engine,
            settings,
            rules,
            renderer_for(settings),
            start,
            UNTIL,
            plans_dir / PROGRESS_FILE,
            commit=True,
            maildir=maildir,
        )
        summary = summarise(engine, UNTIL, maildir, rules)
        summary.own_key = own_key
    finally:
        engine.dispose()
    shipped_rules = settings.rules_dir if settings.rules_dir == rules_folder() else None
    print_summary(console, summary, db, shipped_rules)
    return summary


def came_with_the_plan(engine: Engine) -> date:
    """Date the example's actions from the plan's own date (the import ran today, but the life starts then):
    an action nobody has updated counts its quiet days from then, as the rules' ``stale:`` reads them.
    Return the plan's date."""
    with transaction(engine) as session:
        plan = plans(session)[0]
        start, tz = plan.ref_date, plan.timezone
    began = datetime.combine(start, time(0), zone(tz))
    with engine.begin() as conn:
        conn.execute(update(tables.ACTION).values(created_at=began))
    return start


def signing_key(engine: Engine, settings: Settings, now: datetime) -> tuple[Settings, bool]:
    """Return the settings the demo signs its links with, and whether the key is the demo's own.

    With ``PLANWATCH_SECRET_KEY`` set the links are signed with it, so a web app with the same key
    accepts them. Without one the demo makes a key of its own and keeps it in its database, where
    the web app serving that database (with no key configured) finds it.
    """
    if settings.secret_key:
        return settings, False
    key = secrets.token_urlsafe(32)
    set_state(engine, LINK_KEY, key, now)
    return replace(settings, secret_key=key), True


def example_inputs(console: Console, plans_dir: Path, settings: Settings) -> tuple[Path, Settings]:
    """Return the plans folder and settings the demo reads: the shipped example where the defaults name none here.

    The default ``plans/`` gives way when it lacks one of the example's files, the default ``rules/``
    when it does not exist; any other folder given with ``--plans``, ``--rules`` or ``PLANWATCH_RULES_DIR``
    is read as it is. The demo says which shipped folder it reads.
    """
    if plans_dir == DEFAULT_PLANS and not all(
        (plans_dir / f).is_file() for f in (PLAN_FILE, OWNERS_FILE, PROGRESS_FILE)
    ):
        plans_dir = plans_folder()
        console.print(f"No example plan in plans/ here: playing the one planwatch ships ({plans_dir}).", markup=False)
    if settings.rules_dir == DEFAULT_RULES and not settings.rules_dir.exists():
        settings = replace(settings, rules_dir=rules_folder())
        console.print(f"No rules/ here: using the default rules planwatch ships ({settings.rules_dir}).", markup=False)
    return plans_dir, settings


def _fresh(out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    db, maildir = out / "planwatch-demo.db", out / "maildir"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(maildir, ignore_errors=True)
    return db, maildir


def _show_plan(console: Console, engine: Engine) -> None:
    with transaction(engine) as session:
        plan = plans(session)[0]
        plan_outline(console, plan, sections(session, plan.id), list_actions(session))
        console.print(owners_table(owners_with_chains(session)))


def summarise(engine: Engine, until: date, maildir: Path, rules: RuleSet) -> DemoSummary:
    """Count what the plan's life produced, and check its messages were timely and went to the owner first."""
    summary = DemoSummary(maildir=maildir)
    with Session(engine) as session:
        tz = plans(session)[0].timezone
        actions = list_actions(session)
        summary.actions = len(actions)
        summary.messages.update(sent_by_type(session))
        summary.escalations.update(escalation_steps_by_level(session))
        done_at = last_done_at(session) | reported_at(session)
        messages = sent_messages(session)
        owners = owners_of_actions(session)
    check_delivery(summary, messages, owners, rules, tz)
    for action in actions:
        due = effective_due(action.due, action.extended_to)
        if due is None or action.kind == "recurring":
            continue
        deadline = datetime.combine(due + timedelta(days=1), time(0), zone(tz))
        if action.status == "done" and action.id in done_at:
            on_time = done_at[action.id] < deadline
            summary.done_on_time += on_time
            summary.done_late += not on_time
        elif due < until:
            summary.overdue += 1
    summary.mail_count = sum(1 for p in (maildir / "new").iterdir()) if (maildir / "new").exists() else 0
    summary.busiest = busiest_week(engine, tz)
    return summary


def reported_at(session: Session) -> dict[int, datetime]:
    """Return, for each action whose closure was verified, when its owner reported the verified report: an action
    is done on time when it was reported implemented by its due date, however long the verification took."""
    report = tables.CLOSURE_REPORT
    query = (
        select(report.c.action_id, func.max(report.c.reported_at))
        .where(report.c.status == "verified", report.c.occurrence == "")
        .group_by(report.c.action_id)
    )
    return {action_id: aware_utc(at) for action_id, at in session.connection().execute(query)}


def busiest_week(engine: Engine, plan_tz: str) -> Busiest:
    """Return the most escalation messages any one person received in one week of their own zone (an address
    outside the owners directory keeps the plan's zone): escalations sent singly, and digests carrying any."""
    out, owner = tables.OUTBOX, tables.OWNER
    query = (
        select(out.c.recipient, out.c.type, out.c.sent_at, out.c.payload, owner.c.name, owner.c.timezone)
        .outerjoin(owner, owner.c.id == out.c.recipient_id)
        .where(out.c.status == "sent", out.c.type.in_(("escalation", "digest")))
    )
    weeks: Counter[tuple[str, date]] = Counter()
    names: dict[str, str] = {}
    with engine.connect() as conn:
        for address, kind, sent_at, payload, name, tz in conn.execute(query):
            items = (payload or {}).get("items", []) if kind == "digest" else []
            if kind == "digest" and not any(i.get("type") == "escalation" for i in items):
                continue
            day = aware_utc(sent_at).astimezone(zone(tz or plan_tz)).date()
            weeks[(address, day - timedelta(days=day.weekday()))] += 1
            names[address] = name or address
    if not weeks:
        return Busiest()
    (address, monday), count = max(weeks.items(), key=lambda kv: (kv[1], kv[0][1]))
    return Busiest(count, names[address], monday)


def check_delivery(
    summary: DemoSummary, messages: list[SentMessage], owners: dict[int, set[str]], rules: RuleSet, plan_tz: str
) -> None:
    """Count late check-ins, messages sent outside business hours, and escalations before the owner was told.

    Business days and hours are the recipient's own: their zone's calendar (``holidays_by_zone``, else
    ``holidays``) and the delivery hour, until the end of the working day; an address outside the
    owners directory keeps the plan's zone. A notice folded into a digest is told when the digest goes out.
    """
    hour = rules.policies[0].delivery.hour if rules.policies else time(9, 0)
    told: dict[tuple[int, str], datetime] = {}
    for m in messages:
        to_owner = m.type in {"reminder", "checkin", "overdue"} or m.recipient_id in owners.get(m.action_id or -1, ())
        if m.action_id is not None and to_owner:
            key = (m.action_id, m.occurrence)
            told[key] = min(told.get(key, m.sent_at), m.sent_at)
    for m in messages:
        if m.in_digest:
            continue  # the digest itself is checked
        tzname = m.timezone or plan_tz
        calendar, here = rules.calendar_of(tzname), zone(tzname)
        if m.type == "checkin":
            planned = m.due_at.astimezone(here)
            limit = datetime.combine(calendar.add_business_days(planned.date(), 1), planned.timetz())
            summary.checkins += 1
            summary.checkins_late += m.sent_at > limit
        local = m.sent_at.astimezone(here)
        summary.outside_hours += not (calendar.is_business_day(local.date()) and hour <= local.time() < END_OF_DAY)
        if m.type == "escalation" and m.action_id is not None and m.recipient_id not in owners.get(m.action_id, ()):
            first = told.get((m.action_id, m.occurrence))
            summary.escalations_before_owner += first is None or first > m.sent_at


def print_summary(console: Console, s: DemoSummary, db: Path, rules: Path | None = None) -> None:
    """Print the demo's closing summary (``rules``: a rules folder the commands it suggests must name)."""
    console.rule("[bold]The plan's life, 1999-09-28 to 2001-12-31[/]")
    console.print(
        f"Messages sent: {s.messages['reminder']} reminders, {s.messages['checkin']} check-ins, "
        f"{s.messages['overdue']} overdue notices, {s.messages['escalation']} escalations, "
        f"{s.messages['digest']} digests."
    )
    console.print(
        f"Deadlines: {s.done_on_time} done on time, {s.done_late} done late, {s.overdue} still overdue at the end."
    )
    levels = ", ".join(f"level {lvl}: {n}" for lvl, n in sorted(s.escalations.items())) or "none"
    console.print(f"Escalation log: {sum(s.escalations.values())} steps ({levels}).")
    late = (
        f"{s.checkins_late} more than a business day late" if s.checkins_late else "none more than a business day late"
    )
    console.print(f"Check-ins on time: {s.checkins - s.checkins_late} of {s.checkins} ({late}).")
    console.print(f"Sent outside business hours: {s.outside_hours or 'none'}.")
    console.print(f"Escalations before the owner was told: {s.escalations_before_owner or 'none'}.")
    if s.busiest.week_of is None:
        console.print("Most escalation messages to one person in a week: none.")
    else:
        console.print(
            f"Most escalation messages to one person in a week: {s.busiest.messages} ({s.busiest.who}, week of "
            f"{long_date(s.busiest.week_of.isoformat())}; a digest counts as one)."
        )
    console.print(f"{s.mail_count} messages are in the Maildir {s.maildir} (open it with `mutt -f {s.maildir}`).")
    options = f"--db sqlite:///{db}" + (f" --rules {rules}" if rules else "")
    console.print(
        f"Explore: [bold]planwatch {options} escalations --open[/], [bold]... why I.2c.3[/], [bold]... review[/]"
    )
    console.print(
        f"The governing body's report: [bold]planwatch {options} report implementation --as-of {UNTIL}"
        f" --since {UNTIL.replace(month=6, day=30)} --out report.docx[/] (or .md, .csv, .html)."
    )
    signed = "a key kept in its database" if s.own_key else "PLANWATCH_SECRET_KEY (serve with the same key)"
    console.print(
        f"Its links are signed with {signed}: [bold]planwatch --db sqlite:///{db} serve --as-of 2001-12-31[/]"
        " opens the plan as it was at the end and accepts the links of its last 60 days (each expires 60 days"
        " after its message)."
    )
