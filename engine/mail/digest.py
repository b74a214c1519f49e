"""Digests: people who prefer one message get their held notices bundled daily or weekly, at
``DIGEST_HOUR`` in their own zone, on business days of their own calendar (a weekly one on the first
business day of the week); and the administrator's report of failed deliveries.

Only what is held for a recipient goes in; a day with nothing held sends nothing. A digest's
items carry the plan Part and the due date, so the template groups them: overdue first, then
Part by Part, by due date within (``mail.context.digest_sections``). A digest is written in its
recipient's language, else the language of the plan of its first notice (kept in its payload).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, update

from engine.languages import gettext, language_of, ngettext
from engine.mail.context import Row
from engine.mail.messages import headline, long_date
from engine.mail.render import MailIdentity
from engine.outbox import enqueue, message_key, outbox_row
from engine.rules.durations import BusinessCalendar
from engine.store import tables
from engine.store.bulk import run_once_lock
from engine.zones import zone

OUT = tables.OUTBOX
A = tables.ACTION
W = tables.OWNER
S = tables.SECTION
P = tables.PLAN
DIGEST_HOUR = time(9, 0)
LATE_TYPES = frozenset({"overdue", "escalation"})
log = logging.getLogger("planwatch.digest")
CalendarOf = Callable[[str, str | None], BusinessCalendar]  # a recipient's zone and country -> their business days
WEEKENDS = BusinessCalendar()


def digest_due(period: str, local: datetime, calendar: BusinessCalendar = WEEKENDS) -> bool:
    """Return True when a digest of ``period`` may go out at the recipient's local time ``local``: a business
    day of their ``calendar``, the first of its week for a weekly digest."""
    day = local.date()
    if local.time() < DIGEST_HOUR or not calendar.is_business_day(day):
        return False
    earlier = (day - timedelta(days=n) for n in range(1, day.weekday() + 1))
    return period == "daily" or (period == "weekly" and not any(calendar.is_business_day(d) for d in earlier))


def next_digest_time(now: datetime, tz: str) -> datetime:
    """Return the next ``DIGEST_HOUR`` in zone ``tz`` at or after ``now``, in UTC."""
    local = now.astimezone(zone(tz))
    day = local.date() if local.time() <= DIGEST_HOUR else local.date() + timedelta(days=1)
    return datetime.combine(day, DIGEST_HOUR, zone(tz)).astimezone(now.tzinfo)


# Built once (each tick with held notices runs them): the people with a digest and notices held for them, which of
# the digests due are queued already, one person's held notices due by ``now``, and marking them bundled.
DIGEST_READERS = select(W.c.id, W.c.email, W.c.timezone, W.c.digest, W.c.country, W.c.language).where(
    W.c.digest.in_(["daily", "weekly"]),
    W.c.id.in_(select(OUT.c.recipient_id).where(OUT.c.status == "held").distinct().scalar_subquery()),
)
KEYS_QUEUED = select(OUT.c.key).where(OUT.c.key.in_(bindparam("keys", expanding=True)))
HELD_FOR = (
    select(
        OUT.c.id,
        OUT.c.type,
        OUT.c.level,
        OUT.c.payload,
        OUT.c.occurrence,
        A.c.ref,
        A.c.title,
        A.c.plan_id,
        A.c.section_key,
        A.c.owner_id,
        W.c.name.label("owner_name"),
        P.c.language.label("plan_language"),
    )
    .join(A, A.c.id == OUT.c.action_id)
    .join(P, P.c.id == A.c.plan_id)
    .outerjoin(W, W.c.id == A.c.owner_id)
    .where(OUT.c.recipient_id == bindparam("owner"), OUT.c.status == "held", OUT.c.due_at <= bindparam("now"))
    .order_by(OUT.c.due_at, OUT.c.id)
)
DIGESTED = (
    update(OUT)
    .where(OUT.c.id.in_(bindparam("ids", expanding=True)))
    .values(status="digested", reason=bindparam("why", type_=OUT.c.reason.type))
)


def build_digests(engine: Engine, now: datetime, calendar_of: CalendarOf | None = None) -> int:
    """Bundle held notices into digest rows for every recipient whose digest time has come; return how many.

    ``calendar_of`` gives a recipient's business days from their zone and country (weekends only without it)."""
    made = 0
    with engine.begin() as conn:
        if not run_once_lock(conn, "digests"):
            return 0  # another node is bundling digests right now
        owners = conn.execute(DIGEST_READERS).all()
        due = {}
        languages = {}
        for owner_id, email, tz, period, country, language in owners:
            local = now.astimezone(zone(tz))
            if digest_due(period, local, calendar_of(tz, country) if calendar_of else WEEKENDS):
                due[_digest_key(owner_id, local)] = (owner_id, email, period, local)
                languages[owner_id] = language
        keys = list(due)
        for start in range(0, len(keys), 500):  # today's digests already made: their notices wait for the next one
            for key in conn.execute(KEYS_QUEUED, {"keys": keys[start : start + 500]}).scalars():
                del due[key]
        parts = _Parts(conn)
        for key, (owner_id, email, period, local) in due.items():
            made += _digest_for(conn, parts, key, (owner_id, email, languages[owner_id]), period, local, now)
    return made


def _digest_key(owner_id: str, local: datetime) -> str:
    return message_key("digest", owner_id, local.date().isoformat())


def _digest_for(
    conn: Connection,
    parts: _Parts,
    key: str,
    who: tuple[str, str, str | None],
    period: str,
    local: datetime,
    now: datetime,
) -> int:
    owner_id, email, owner_language = who
    held = conn.execute(HELD_FOR, {"owner": owner_id, "now": now}).mappings().all()
    if not held:
        return 0
    today = local.date()
    lang = language_of(owner_language, held[0]["plan_language"])
    latest = latest_per_occurrence(held, today)
    items = [
        digest_item(h, parts.of(h["plan_id"], h["section_key"], lang), today, lang) for h in latest if not _escalated(h)
    ]
    items += escalation_items(held, [h for h in latest if _escalated(h)], parts, today, lang)
    row = _digest_row(key, owner_id, email, period, items, now, extra={"language": lang})
    if not enqueue(conn, [row]):
        return 0  # today's digest went out already: these wait for the next one
    conn.execute(DIGESTED, {"ids": [h["id"] for h in held], "why": f"sent in {key}"})
    return 1


def latest_per_occurrence(held: Sequence[Row], today: date) -> list[Row]:
    """Return one notice per action occurrence, the latest (rows come oldest first); a reminder
    whose date has passed by ``today`` (local) says nothing true any more and is left out."""
    latest: dict[tuple[str, str, str], Row] = {}
    for row in held:
        latest[(row["plan_id"], row["ref"], row["occurrence"])] = row
    return [
        r
        for r in latest.values()
        if not (r["type"] == "reminder" and str((r["payload"] or {}).get("date") or "9999") < today.isoformat())
    ]


def digest_item(held: Row, part: tuple[str, int], today: date, language: str = "en") -> dict[str, Any]:
    """Return one line of a digest: the action, what changed (as of ``today``, local), its Part and due date,
    and the role the recipient was sent it in (their links are that role's)."""
    payload = held["payload"] or {}
    return {
        "ref": held["ref"],
        "plan_id": held["plan_id"],
        "title": held["title"],
        "type": held["type"],
        "level": held["level"],
        "role": payload.get("role") or "owner",
        "headline": headline(held["type"], payload, today, language),
        "due": payload.get("date"),
        "overdue": held["type"] in LATE_TYPES,
        "part": part[0],
        "part_order": part[1],
    }


def _escalated(held: Row) -> bool:
    """Whether a held notice is an escalation: about someone else's action (a supervisor's, the secretariat's...)."""
    return bool(held["type"] == "escalation")


def escalation_items(
    held: Sequence[Row], latest: Sequence[Row], parts: _Parts, today: date, language: str = "en"
) -> list[dict[str, Any]]:
    """Return one digest line per escalated action: whose it is, how late (as of ``today``, local) for each
    missed date or unanswered check-in, and how many escalation notices about it the digest stands for."""
    notices: dict[tuple[str, str], int] = {}
    for row in held:
        if _escalated(row):
            notices[(row["plan_id"], row["ref"])] = notices.get((row["plan_id"], row["ref"]), 0) + 1
    by_action: dict[tuple[str, str], list[Row]] = {}
    for row in latest:
        by_action.setdefault((row["plan_id"], row["ref"]), []).append(row)
    items = []
    for key, rows in by_action.items():
        lateness = sorted(
            (how_late(r["payload"] or {}, r["occurrence"], today, language) for r in rows), key=lambda x: -x[0]
        )
        first = rows[-1]
        item = digest_item(first, parts.of(first["plan_id"], first["section_key"], language), today, language)
        item |= {
            "level": max(r["level"] for r in rows),
            "owner": first["owner_name"] or first["owner_id"] or "",
            "days_late": lateness[0][0],
            "late": [text for _, text in lateness],
            "headline": "; ".join(text for _, text in lateness),
            "due": min(str((r["payload"] or {}).get("date") or "9999") for r in rows),
            "notices": notices.get(key, len(rows)),
        }
        items.append(item)
    return sorted(items, key=lambda i: (-i["days_late"], i["ref"]))


def how_late(payload: Row, occurrence: str, today: date, language: str = "en") -> tuple[int, str]:
    """Return (days, words) for what an escalation is about, as of ``today``: a due date missed N days ago,
    or a check-in unanswered for N days."""
    when = str(payload.get("date") or "")
    try:
        days = max(0, (today - date.fromisoformat(when)).days)
    except ValueError:
        days = int(payload.get("days_overdue", 0))
    values = {"num": days, "date": long_date(when, language)}
    if payload.get("missed") == "check-in" or occurrence.startswith("check-in "):
        text = ngettext(
            language,
            "status update asked for on %(date)s, unanswered for %(num)d day",
            "status update asked for on %(date)s, unanswered for %(num)d days",
            days,
        )
        return days, text % values
    if not days:
        return days, gettext(language, "overdue (due %(date)s)") % values
    return days, ngettext(
        language, "%(num)d day overdue (due %(date)s)", "%(num)d days overdue (due %(date)s)", days
    ) % values


class _Parts:
    """The Part (top section) of each section, read once per plan."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.trees: dict[str, dict[str, Row]] = {}

    def of(self, plan_id: str, key: str, language: str = "en") -> tuple[str, int]:
        """Return (heading, ordinal) of the Part that section ``key`` belongs to."""
        if plan_id not in self.trees:
            self.trees[plan_id] = {
                r["key"]: r for r in self.conn.execute(select(S).where(S.c.plan_id == plan_id)).mappings()
            }
        tree = self.trees[plan_id]
        node, seen = tree.get(key), set()
        while node is not None and node["parent_key"] in tree and node["parent_key"] not in seen:
            seen.add(node["parent_key"])
            node = tree[node["parent_key"]]
        if node is None:
            return "", 0
        if not node["number"]:
            return node["title"], node["ordinal"]
        return gettext(language, "Part %(number)s: %(title)s") % {
            "number": node["number"],
            "title": node["title"],
        }, node["ordinal"]


def _digest_row(
    key: str,
    owner_id: str | None,
    email: str,
    period: str,
    items: list[dict[str, Any]],
    now: datetime,
    *,
    kind: str = "digest",
    extra: Row | None = None,
) -> dict[str, Any]:
    return outbox_row(
        key,
        plan_id=None,
        action_id=None,
        occurrence=now.date().isoformat(),
        step=kind,
        type=kind,
        level=0,
        recipient=email,
        recipient_id=owner_id,
        template="digest" if kind == "digest" else "delivery_report",
        due_at=now,
        now=now,
        payload={"items": items, "period": period, **(extra or {})},
    )


def report_to_admin(
    conn: Connection, identity: MailIdentity, now: datetime, *, failures: Sequence[Row] = (), pauses: Sequence[Row] = ()
) -> str | None:
    """Add failures and pauses to the administrator's next report (at ``DIGEST_HOUR`` their time); return its key."""
    failures = [f for f in failures if f.get("type") != "report"]  # a report that fails is not reported again
    admin = administrator(conn, identity)
    if admin is None or not (failures or pauses):
        if failures or pauses:
            log.error(
                "no administrator address (PLANWATCH_ADMIN_EMAIL) to report to: %s", list(failures) or list(pauses)
            )
        return None
    owner_id, email, tz = admin
    due = next_digest_time(now, tz)
    while True:  # the report of a day that already went out takes the next day's
        key = message_key("report", email, due.astimezone(zone(tz)).date().isoformat())
        found = conn.execute(select(OUT.c.id, OUT.c.payload, OUT.c.status).where(OUT.c.key == key)).first()
        if found is None or found.status == "pending":
            break
        due += timedelta(days=1)
    if found is None:
        row = _digest_row(key, owner_id, email, "daily", [], due, kind="report", extra={"failures": [], "pauses": []})
        row["created_at"] = now
        enqueue(conn, [row])
        found = conn.execute(select(OUT.c.id, OUT.c.payload, OUT.c.status).where(OUT.c.key == key)).one()
    payload = dict(found.payload or {})
    payload["failures"] = [*payload.get("failures", []), *map(dict, failures)]
    payload["pauses"] = [*payload.get("pauses", []), *map(dict, pauses)]
    conn.execute(update(OUT).where(OUT.c.id == found.id).values(payload=payload))
    conn.commit()
    return key


def administrator(conn: Connection, identity: MailIdentity) -> tuple[str | None, str, str] | None:
    """Return (owner id, address, IANA zone) of the administrator: the configured address, else an admin or
    secretariat owner."""
    owners = conn.execute(select(W.c.id, W.c.email, W.c.timezone, W.c.role)).all()
    if identity.admin_email:
        match = next((o for o in owners if o.email.lower() == identity.admin_email.lower()), None)
        return (match.id, match.email, match.timezone) if match else (None, identity.admin_email, "UTC")
    for wanted in _admin_roles(owners):
        return wanted.id, wanted.email, wanted.timezone
    return None


def _admin_roles(owners: Iterable[Any]) -> list[Any]:
    rows = list(owners)
    return (
        [o for o in rows if o.role == "admin"]
        + [o for o in rows if o.role == "secretariat"]
        + [o for o in rows if o.id == "secretariat"]
    )
