"""Composing the message of an outbox row: read what it is about (once per pass), render, build.

A message in a thread keeps the thread's language: the first message of an action's thread to a
recipient is written in their language (else the plan's) and the outbox row keeps it in its payload
(``language``); the later messages of that thread to that recipient read it from the sent rows, so
a person who changes language gets new threads in the new one and the old threads unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from email.message import Message
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import ARRAY, Connection, Integer, String, any_, bindparam, func, select, update

from engine.calendars.uids import event_key
from engine.mail.context import (
    Facts,
    Row,
    action_context,
    digest_context,
    envelope_for,
    message_language,
    thread_of,
)
from engine.mail.messages import build_message, headline, long_date
from engine.mail.render import MailIdentity, Renderer
from engine.settings import Settings, template_folders
from engine.store import tables

OUT = tables.OUTBOX
A = tables.ACTION
P = tables.PLAN
S = tables.SECTION
W = tables.OWNER
R = tables.FEED_EVENT
X = tables.EXTENSION_REQUEST
U = tables.PROGRESS_UPDATE
UPDATES_LIMIT = 3  # the owner's latest dated updates an escalation shows
HISTORY_TYPES = ("reminder", "checkin", "overdue", "escalation")
HISTORY_LIMIT = 8  # the most recent messages an escalation lists; it says how many earlier ones it leaves out
UNSENT = ("suppressed", "failed")
LABELS = {"reminder": "reminder", "checkin": "status request", "overdue": "overdue notice", "escalation": "escalation"}
PRELOAD_CHUNK = 1000  # actions per query when a pass's rows are read ahead
PEOPLE = ("from_owner", "reported_by", "verifier", "by", "asked_by")  # payload fields that hold an owner's id


def compose(renderer: Renderer, contexts: ContextCache, row: Row, now: datetime) -> Message:
    """Return the complete message of ``row`` as it goes out at ``now`` (aware UTC)."""
    context, facts = contexts.context_and_facts(row, now)
    rendered = renderer.render(row["template"], context)
    return build_message(rendered, envelope_for(row, context, facts, now), renderer.identity)


_UNREAD = object()


def _among(column: Any, postgresql: bool, kind: Any = Integer) -> Any:
    """Return ``column`` among the parameter ``b_ids``: ``= ANY(array)`` on PostgreSQL (one parameter, as
    ``engine.store.bulk.among``), an expanding ``IN`` elsewhere."""
    if postgresql:
        return column == any_(bindparam("b_ids", type_=ARRAY(kind)))
    return column.in_(bindparam("b_ids", expanding=True))


def _latest(columns: list[Any], where: Any, key: Any, newest: tuple[Any, ...], *more: Any) -> Any:
    """Return the query of the ``b_limit`` newest rows (by ``newest``) of each ``key`` where ``where`` holds, with
    ``more`` columns, oldest first within each key."""
    place = func.row_number().over(partition_by=key, order_by=newest).label("place")
    inner = select(*columns, place, *more).where(where).subquery()
    limit = bindparam("b_limit", type_=Integer)
    return select(inner).where(inner.c.place <= limit).order_by(inner.c[key.name], inner.c.place.desc())


@cache
def _statement(name: str, postgresql: bool) -> Any:
    """Return a statement a pass's preload runs with the ids ``b_ids``, built once: building and caching one
    costs SQLAlchemy about as much CPU as running it."""
    if name == "actions":
        return select(A).where(_among(A.c.id, postgresql))
    if name == "owners":
        return select(W).where(_among(W.c.id, postgresql, String))
    if name == "plans":
        return select(P).where(_among(P.c.id, postgresql, String))
    if name == "series":
        return select(R.c.key, R.c.uid_day).where(_among(R.c.key, postgresql, String))
    if name == "pending":
        return (
            select(X)
            .where(_among(X.c.action_id, postgresql), X.c.status == "pending")
            .order_by(X.c.requested_at, X.c.id)
        )
    if name == "updates":
        return _latest([U], _among(U.c.action_id, postgresql), U.c.action_id, (U.c.at.desc(), U.c.id.desc()))
    if name == "histories":
        sent = OUT.c.status == "sent"
        columns = [OUT.c[c] for c in ("action_id", "type", "recipient", "recipient_id", "sent_at", "payload", "id")]
        total = func.count().over(partition_by=OUT.c.action_id).label("total")
        among = _among(OUT.c.action_id, postgresql) & sent & OUT.c.type.in_(HISTORY_TYPES)
        return _latest(columns, among, OUT.c.action_id, (OUT.c.sent_at.desc(), OUT.c.id.desc()), total)
    if name == "steps":
        return (
            select(OUT.c.action_id, OUT.c.occurrence, OUT.c.step, OUT.c.recipient, OUT.c.recipient_id)
            .where(_among(OUT.c.action_id, postgresql), OUT.c.type == "escalation", OUT.c.status.not_in(UNSENT))
            .order_by(OUT.c.id)
        )
    if name == "languages":
        return select(OUT.c.action_id, OUT.c.recipient, OUT.c.type, OUT.c.step, OUT.c.payload).where(
            _among(OUT.c.action_id, postgresql),
            OUT.c.status == "sent",
            OUT.c.payload["language"].as_string().is_not(None),
        )
    raise ValueError(f"no preload statement {name!r}")


# A new thread's language, kept in the payload of its first row.
KEEP_LANGUAGE = update(OUT).where(OUT.c.id == bindparam("b_id")).values(payload=bindparam("b_payload"))


def _read(conn: Connection, name: str, ids: Iterable[Any], **more: Any) -> Any:
    """Run the preload statement ``name`` for ``ids`` (and its ``b_``-named parameters ``more``); return its
    result."""
    values = {"b_ids": list(ids)} | {f"b_{key}": value for key, value in more.items()}
    return conn.execute(_statement(name, conn.dialect.name == "postgresql"), values)


class Directory(Mapping[str, Row]):
    """The owners a pass's messages name, by id: read with ``want`` for a pass's rows in a few queries, and one by
    one for an id asked for that was not wanted (then remembered, found or not). Iterating gives those read."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.known: dict[str, Row | None] = {}

    def want(self, ids: Iterable[object]) -> None:
        """Read the owners of ``ids`` not read yet (empty and non-text ids are nobody's)."""
        missing = sorted({i for i in ids if i and isinstance(i, str) and i not in self.known})
        for start in range(0, len(missing), PRELOAD_CHUNK):
            part = missing[start : start + PRELOAD_CHUNK]
            result = _read(self.conn, "owners", part)
            keys = list(result.keys())
            self.known.update((o[0], dict(zip(keys, o, strict=True))) for o in result.all())
            for who in part:
                self.known.setdefault(who, None)

    def __getitem__(self, who: str) -> Row:
        found: Row | None = self.get(who)
        if found is None:
            raise KeyError(who)
        return found

    def get(self, who: str, default: Any = None) -> Any:  # asked some ten times a message: no KeyError raised
        """Return the owner ``who`` (read now if not yet), or ``default`` for nobody's id."""
        if not who or not isinstance(who, str):
            return default
        found = self.known.get(who, _UNREAD)
        if found is _UNREAD:
            self.want([who])
            found = self.known[who]
        return default if found is None else found

    def __iter__(self) -> Iterator[str]:
        return (who for who, found in self.known.items() if found is not None)

    def __len__(self) -> int:
        return sum(1 for found in self.known.values() if found is not None)


class ContextCache:
    """Builds template contexts, reading each action, plan, section tree and owner once per pass."""

    def __init__(self, conn: Connection, identity: MailIdentity | None = None) -> None:
        self.conn = conn
        self.identity = identity or MailIdentity()
        self.actions: dict[int, Row] = {}
        self.plans: dict[str, Row] = {}
        # Only the owners the pass's messages name: the directory may hold thousands, a pass 200 messages.
        self.owners = Directory(conn)
        self.sections: dict[str, dict[str, Row]] = {}
        self.histories: dict[int, list[dict[str, Any]]] = {}
        self.history_totals: dict[int, int] = {}
        self.pendings: dict[int, Row | None] = {}
        self.updates: dict[int, list[dict[str, Any]]] = {}
        self.also: dict[tuple[int, str, str], list[tuple[str, str]]] = {}
        self.series_days: dict[int, date | None] = {}
        self.thread_languages: dict[tuple[int, str, str], str] = {}
        self._facts: dict[int, Facts] = {}
        self._copies: dict[tuple[str, ...], dict[str, Any]] = {}

    def preload(self, rows: Iterable[Row]) -> None:
        """Read the actions, their plans, histories, pending extension requests and who each escalation step
        went to for a whole pass of rows in a few queries, instead of several per action as the rows come
        (section trees stay one per plan)."""
        rows = list(rows)
        payloads = [r["payload"] or {} for r in rows]
        self.owners.want([r["recipient_id"] for r in rows] + [p.get(k) for p in payloads for k in PEOPLE])
        ids = sorted({r["action_id"] for r in rows if r["action_id"] is not None} - set(self._facts))
        for start in range(0, len(ids), PRELOAD_CHUNK):
            part = ids[start : start + PRELOAD_CHUNK]
            result = _read(self.conn, "actions", part)
            keys = list(result.keys())  # plain dicts: each becomes its messages' ``action`` as it is
            self.actions.update((a[0], dict(zip(keys, a, strict=True))) for a in result.all())
            self.owners.want([self.actions[i]["owner_id"] for i in part if i in self.actions])
            self._preload_histories(part)
            self._preload_pending(part)
            self._preload_updates(part)
            self._preload_series_days([self.actions[i] for i in part if i in self.actions])
        self._preload_steps([r for r in rows if r["type"] == "escalation" and r["action_id"] is not None])
        wanted = {a["plan_id"] for a in self.actions.values()} - set(self.plans)
        if wanted:
            self.plans.update((p["id"], p) for p in _read(self.conn, "plans", sorted(wanted)).mappings())
        self._preload_thread_languages(
            [r for r in rows if r["action_id"] is not None and r["action_id"] in self.actions]
        )

    def _preload_thread_languages(self, rows: list[Row]) -> None:
        """Read the language of each thread of ``rows`` from its sent messages; a thread that starts with one of
        ``rows`` gets its language now, kept in that row's payload (one statement for the pass)."""
        ids = sorted({r["action_id"] for r in rows})
        for start in range(0, len(ids), PRELOAD_CHUNK):
            for r in _read(self.conn, "languages", ids[start : start + PRELOAD_CHUNK]).mappings():
                self.thread_languages.setdefault(
                    (r["action_id"], r["recipient"], thread_of(r)), r["payload"]["language"]
                )
        kept = []
        for row in rows:
            key = (row["action_id"], row["recipient"], thread_of(row))
            if key not in self.thread_languages:
                action = self.actions[row["action_id"]]
                self.thread_languages[key] = self._language(row, self.plans.get(action["plan_id"]))
                if not (row["payload"] or {}).get("language"):
                    kept.append(
                        {
                            "b_id": row["id"],
                            "b_payload": dict(row["payload"] or {}) | {"language": self.thread_languages[key]},
                        }
                    )
        if kept:
            self.conn.execute(KEEP_LANGUAGE, kept)

    def _language(self, row: Row, plan: Row | None) -> str:
        """Return the language a new thread of ``row`` is written in: the recipient's, else the plan's."""
        recipient = self.owners.get(row["recipient_id"] or "") or {}
        return message_language(row, recipient, plan)

    def thread_language(self, row: Row, plan: Row) -> str:
        """Return the language of the thread ``row``'s message belongs to (see the module doc)."""
        key = (row["action_id"], row["recipient"], thread_of(row))
        found = self.thread_languages.get(key)
        if found is None:  # a row that was not preloaded (a test message): its language, not kept
            found = self._language(row, plan)
        return found

    def _preload_histories(self, ids: list[int]) -> None:
        """Read the last HISTORY_LIMIT sent messages of each action and their count, as ``_history`` reads one's."""
        found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        totals: dict[int, int] = dict.fromkeys(ids, 0)
        read = _read(self.conn, "histories", ids, limit=HISTORY_LIMIT).mappings().all()
        self.owners.want([r["recipient_id"] for r in read])
        for r in read:
            found[r["action_id"]].append(self._history_item(r))
            totals[r["action_id"]] = r["total"]
        self.histories.update(found)
        self.history_totals.update(totals)

    def _preload_steps(self, rows: list[Row]) -> None:
        """Read who each escalation step of ``rows`` went to, for all of them in a few queries."""
        steps = {(r["action_id"], r["occurrence"], r["step"]) for r in rows} - set(self.also)
        ids = sorted({step[0] for step in steps})
        for step in steps:
            self.also[step] = []
        for start in range(0, len(ids), PRELOAD_CHUNK):
            for r in _read(self.conn, "steps", ids[start : start + PRELOAD_CHUNK]).mappings():
                step = (r["action_id"], r["occurrence"], r["step"])
                if step in steps:
                    self.also[step].append((r["recipient"], r["recipient_id"] or ""))
        self.owners.want([who for step in steps for _, who in self.also[step]])

    def _preload_pending(self, ids: list[int]) -> None:
        """Read the undecided extension request of each action (the newest when there are several)."""
        found: dict[int, Row | None] = dict.fromkeys(ids)
        for r in _read(self.conn, "pending", ids).mappings():
            found[r["action_id"]] = r
        self.owners.want([r["requested_by"] for r in found.values() if r is not None])
        self.pendings.update(found)

    def for_row(self, row: Row, now: datetime | None = None) -> dict[str, Any]:
        """Return the template context of an outbox row as it goes out at ``now`` (default: its due time)."""
        return self.context_and_facts(row, now or row["due_at"])[0]

    def context_and_facts(self, row: Row, now: datetime) -> tuple[dict[str, Any], Facts | None]:
        """Return the context of ``row`` and the facts about its action (None for digests and reports)."""
        recipient = self.owners.get(row["recipient_id"] or "") or {"name": "", "email": row["recipient"]}
        if row["action_id"] is None:
            plan = self._plan_or_none(row.get("plan_id"))
            return digest_context(row, recipient, self.identity, now, plan), None
        facts = self.facts(row["action_id"])
        others = self._also_to(row) if row["type"] == "escalation" else ()
        language = self.thread_language(row, facts.plan)
        return action_context(row, facts, recipient, self.identity, now, self.owners, others, language), facts

    def _also_to(self, row: Row) -> list[str]:
        """Return the names of the others the step of ``row`` went (or goes) to."""
        step = (row["action_id"], row["occurrence"], row["step"])
        if step not in self.also:
            query = (
                select(OUT.c.recipient, OUT.c.recipient_id)
                .where(
                    OUT.c.action_id == row["action_id"],
                    OUT.c.occurrence == row["occurrence"],
                    OUT.c.step == row["step"],
                    OUT.c.status.not_in(UNSENT),
                )
                .order_by(OUT.c.id)
            )
            self.also[step] = [(r["recipient"], r["recipient_id"] or "") for r in self.conn.execute(query).mappings()]
        mine = {row["recipient"], row["recipient_id"] or ""}
        names = [
            str((self.owners.get(who) or {}).get("name") or address)
            for address, who in self.also[step]
            if address not in mine and who not in mine - {""}
        ]
        return list(dict.fromkeys(names))

    def facts(self, action_id: int) -> Facts:
        """Return what messages about one action are built from (read and converted once per pass)."""
        if action_id not in self._facts:
            action = self._action(action_id)
            plan = self._plan(action["plan_id"])
            section, part = self._section_and_part(action["plan_id"], action["section_key"])
            owner = self.owners.get(action["owner_id"] or "")
            history = tuple(self._history(action_id))
            self._facts[action_id] = Facts(
                dict(action),
                self._shared(("plan", plan["id"]), plan),
                self._shared(("section", action["plan_id"], section["key"]), section),
                self._shared(("section", action["plan_id"], part["key"]), part),
                self._shared(("owner", owner["id"]), owner) if owner else None,
                history,
                self._series_day(action) if action["kind"] == "recurring" else None,
                self.history_totals.get(action_id, len(history)),
                self._pending(action_id),
                tuple(self._updates(action_id)),
            )
        return self._facts[action_id]

    def _shared(self, key: tuple[str, ...], row: Row) -> dict[str, Any]:
        """Return one dict of ``row`` for all the pass's facts that hold it (a plan, a section, an owner): nothing
        changes them (templates are sandboxed immutable; contexts copy what they change)."""
        found = self._copies.get(key)
        if found is None:
            found = self._copies[key] = dict(row)
        return found

    def _series_day(self, action: Row) -> date | None:
        """The day a recurring action's published series UID was made from (None: not published yet)."""
        if action["id"] not in self.series_days:
            key = event_key(action["plan_id"], action["ref"], "recurring")
            self.series_days[action["id"]] = self.conn.execute(select(R.c.uid_day).where(R.c.key == key)).scalar()
        return self.series_days[action["id"]]

    def _preload_series_days(self, actions: list[Row]) -> None:
        """Read the published series UID days of the recurring ones of ``actions`` in one query."""
        keys = {event_key(a["plan_id"], a["ref"], "recurring"): a["id"] for a in actions if a["kind"] == "recurring"}
        if keys:
            found = {key: day for key, day in _read(self.conn, "series", sorted(keys))}
            self.series_days.update((action_id, found.get(key)) for key, action_id in keys.items())

    def _action(self, action_id: int) -> Row:
        if action_id not in self.actions:
            self.actions[action_id] = self.conn.execute(select(A).where(A.c.id == action_id)).mappings().one()
        return self.actions[action_id]

    def _plan_or_none(self, plan_id: str | None) -> Row | None:
        if plan_id and plan_id not in self.plans:
            found = self.conn.execute(select(P).where(P.c.id == plan_id)).mappings().first()
            if found is None:
                return None
            self.plans[plan_id] = found
        return self.plans.get(plan_id or "")

    def _plan(self, plan_id: str) -> Row:
        if plan_id not in self.plans:
            self.plans[plan_id] = self.conn.execute(select(P).where(P.c.id == plan_id)).mappings().one()
        return self.plans[plan_id]

    def _section_and_part(self, plan_id: str, key: str) -> tuple[Row, Row]:
        """Return the action's section and the Part (top section) it belongs to."""
        if plan_id not in self.sections:
            rows = self.conn.execute(select(S).where(S.c.plan_id == plan_id)).mappings()
            self.sections[plan_id] = {r["key"]: r for r in rows}
        tree = self.sections[plan_id]
        missing = {"number": "", "title": "", "key": key, "ordinal": 0}
        section = tree.get(key) or missing
        top, seen = section, {key}
        while top.get("parent_key") and top["parent_key"] in tree and top["parent_key"] not in seen:
            seen.add(top["parent_key"])
            top = tree[top["parent_key"]]
        return section, top

    def _history(self, action_id: int) -> list[dict[str, Any]]:
        """Return the last HISTORY_LIMIT messages sent about an action, oldest first (for escalations), and
        keep how many there are in all."""
        if action_id not in self.histories:
            sent = (OUT.c.action_id == action_id, OUT.c.status == "sent", OUT.c.type.in_(HISTORY_TYPES))
            query = (
                select(OUT.c.type, OUT.c.recipient, OUT.c.recipient_id, OUT.c.sent_at, OUT.c.payload)
                .where(*sent)
                .order_by(OUT.c.sent_at.desc(), OUT.c.id.desc())
                .limit(HISTORY_LIMIT)
            )
            items = [self._history_item(r) for r in self.conn.execute(query).mappings()]
            self.histories[action_id] = items[::-1]
            total = len(items)
            if total == HISTORY_LIMIT:
                total = int(self.conn.execute(select(func.count()).select_from(OUT).where(*sent)).scalar() or 0)
            self.history_totals[action_id] = total
        return self.histories[action_id]

    def _pending(self, action_id: int) -> Row | None:
        """Return the undecided extension request of an action (the newest), or None."""
        if action_id not in self.pendings:
            query = (
                select(X)
                .where(X.c.action_id == action_id, X.c.status == "pending")
                .order_by(X.c.requested_at.desc(), X.c.id.desc())
                .limit(1)
            )
            self.pendings[action_id] = self.conn.execute(query).mappings().first()
        return self.pendings[action_id]

    def _preload_updates(self, ids: list[int]) -> None:
        """Read the latest UPDATES_LIMIT dated updates of each action, as ``_updates`` reads one's."""
        found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        read = _read(self.conn, "updates", ids, limit=UPDATES_LIMIT).mappings().all()
        self.owners.want([r["who"] for r in read])
        for r in read:
            found[r["action_id"]].append(self._update_item(r))
        self.updates.update(found)

    def _updates(self, action_id: int) -> list[dict[str, Any]]:
        """Return the latest UPDATES_LIMIT dated updates of an action, oldest first."""
        if action_id not in self.updates:
            query = select(U).where(U.c.action_id == action_id).order_by(U.c.at.desc(), U.c.id.desc())
            rows = self.conn.execute(query.limit(UPDATES_LIMIT)).mappings()
            self.updates[action_id] = [self._update_item(r) for r in rows][::-1]
        return self.updates[action_id]

    def _update_item(self, r: Row) -> dict[str, Any]:
        person = self.owners.get(r["who"] or "")
        day = r["at"].date().isoformat()
        return {
            "date": day,
            "date_long": long_date(day),
            "who": (person or {}).get("name") or r["who"],
            "percent": r["percent"],
            "state": r["state"],
            "text": r["text"] or "",
        }

    def _history_item(self, r: Row) -> dict[str, Any]:
        person = self.owners.get(r["recipient_id"] or "")
        day = r["sent_at"].date().isoformat() if r["sent_at"] else ""
        return {
            "date": day,
            "date_long": long_date(day),
            "type": r["type"],
            "label": LABELS.get(r["type"], r["type"]),
            "to": (person or {}).get("name") or r["recipient"],
            "what": headline(r["type"], r["payload"] or {}),
            "payload": r["payload"] or {},
        }


def renderer_for(settings: Settings, cache: Path | None = None) -> Renderer:
    """Return the renderer the settings ask for: template folders (the user's first) and the mail identity;
    ``cache``: where it keeps the templates it compiles for the next process (see ``Renderer``)."""
    identity = MailIdentity(
        sender=settings.sender,
        base_url=settings.base_url,
        secret_key=settings.secret_key,
        admin_email=settings.admin_email,
    )
    return Renderer(template_folders(settings), identity, cache)
