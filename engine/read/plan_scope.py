"""The plan page and the progress report for one viewer: the report cut to their scope, the
counts per Part, the needs-review queue, and checked schedule decisions from its form.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, func, select

from engine.errors import UsageError
from engine.plandoc import OVERRIDE_KEYS
from engine.read.report_model import IssueBlock, PartBlock, Report
from engine.store.models import Action, Plan
from engine.zones import zone

REVIEW_PAGE = 100


def plan_day(plan: Plan, now: datetime) -> date:
    """Return the plan-local day of ``now`` (aware)."""
    return now.astimezone(zone(plan.timezone)).date()


def visible_refs(session: Session, plan_id: str, scope: frozenset[str] | None) -> set[str] | None:
    """Return the refs of the plan's actions owned within ``scope``, or None when everything is visible."""
    if scope is None:
        return None
    query = select(Action.ref).where(Action.plan_id == plan_id, col(Action.owner_id).in_(sorted(scope)))
    return set(session.exec(query).all())


def scoped_report(report: Report, refs: set[str] | None) -> Report:
    """Return ``report`` cut to the actions in ``refs`` (None: unchanged); Parts stay, empty issues go."""
    if refs is None:
        return report
    parts = []
    for part in report.parts:
        issues = [IssueBlock(i.number, i.title, [line for line in i.lines if line.ref in refs]) for i in part.issues]
        parts.append(PartBlock(part.number, part.title, [i for i in issues if i.lines]))
    return Report(report.plan, report.as_of, parts, [e for e in report.extensions if e[0] in refs])


def review_queue(session: Session, plan_id: str, limit: int = REVIEW_PAGE) -> tuple[list[Action], int]:
    """Return the first ``limit`` actions whose reading needs a decision (plan order), and how many there are."""
    where = (Action.plan_id == plan_id, col(Action.needs_review).is_(True), col(Action.removed_at).is_(None))
    total = session.exec(select(func.count()).select_from(Action).where(*where)).one()
    rows = session.exec(select(Action).where(*where).order_by(col(Action.ordinal)).limit(limit)).all()
    return list(rows), int(total)


def schedule_values(form: Mapping[str, str]) -> dict[str, Any]:
    """Return the schedule decision a review form holds (empty fields left out), checked like a plan file's."""
    from engine.importers.planyaml import ScheduleOverride

    given = {k: form[k].strip() for k in OVERRIDE_KEYS if form.get(k, "").strip()}
    try:
        checked = ScheduleOverride.model_validate(given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = first["loc"][0] if first["loc"] else "value"
        raise UsageError(f"{where}: {str(first['msg']).removeprefix('Value error, ')}") from None
    values = checked.model_dump(exclude_none=True)
    if not values:
        raise UsageError("nothing to set: fill in at least the kind or a date")
    return values
