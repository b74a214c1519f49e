"""How things look on a terminal: rich tables and panels for the CLI's human output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.read.queries import reading

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from engine.store.models import Action, ActionChange, Owner, Plan, Section
    from engine.store.plans import ImportReport


def actions_table(actions: Sequence[Action], title: str = "Actions") -> Table:
    """Return the table of ``planwatch actions``."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=False, header_style="bold")
    for name, style in (
        ("id", "bold"),
        ("section", ""),
        ("owner", "cyan"),
        ("time frame", ""),
        ("read as", "green"),
        ("status", ""),
    ):
        table.add_column(name, style=style, overflow="fold")
    # acceptance is a column only when some action is not plainly accepted
    accepting = any(a.acceptance != "accepted" or a.acceptance_note for a in actions)
    if accepting:
        table.add_column("acceptance", overflow="fold")
    for a in actions:
        timeframe = (
            Text(a.timeframe)
            if a.timeframe
            else Text(f"(empty; proposed: {a.timeframe_proposed or '-'})", style="italic dim")
        )
        read = Text(reading(a), style="yellow" if a.needs_review else "green")
        if a.needs_review:
            read.append(" ?", style="bold yellow")
        cells: list[str | Text] = [a.ref, a.section_key, a.owner_id or "-", timeframe, read, a.status]
        table.add_row(*cells, *([a.acceptance.replace("_", " ")] if accepting else []))
    return table


def review_table(actions: Sequence[Action]) -> Table:
    """Return the table of ``planwatch review``: phrase, reading and why it needs a decision."""
    from rich.table import Table

    table = Table(title=f"{len(actions)} action(s) need a decision", header_style="bold")
    for name in ("id", "time frame", "read as", "why"):
        table.add_column(name, overflow="fold")
    for a in actions:
        table.add_row(a.ref, a.timeframe or f"(empty; proposed: {a.timeframe_proposed or '-'})", reading(a), a.reason)
    return table


def owners_table(rows: Sequence[tuple[Owner, list[str]]]) -> Table:
    """Return the table of ``planwatch owners`` with each supervisor chain."""
    from rich.table import Table

    table = Table(title="Owners", header_style="bold")
    for name in ("id", "name", "email", "time zone", "supervisor chain", "away (deputy)", "digest"):
        table.add_column(name, overflow="fold")
    for owner, chain in rows:
        chained = " → ".join(chain) or "-"
        table.add_row(owner.id, owner.name, owner.email, owner.timezone, chained, away_text(owner), owner.digest)
    return table


def away_text(owner: Owner) -> str:
    """Return an owner's away period and deputy as ``planwatch owners`` shows them, or "-"."""
    if owner.away_from is None and owner.away_to is None:
        return "-"
    first = owner.away_from.isoformat() if owner.away_from else "?"
    last = owner.away_to.isoformat() if owner.away_to else "?"
    return f"{first} to {last}, deputy {owner.deputy_id or '-'}"


def import_summary(console: Console, report: ImportReport) -> None:
    """Print what one plan import changed."""
    verb = "created" if report.created else "updated"
    console.print(f"[bold]{report.plan_id}[/]: plan {verb}, {report.total} actions.")
    if not report.created and not report.changed:
        console.print("  Nothing changed.")
    for label, refs in (
        ("added", report.added),
        ("removed", report.removed),
        ("restored", report.restored),
        ("title changed", report.title_changed),
        ("schedule re-read", report.schedule_changed),
    ):
        if refs and not (report.created and label == "added"):
            console.print(f"  {label}: {', '.join(refs)}")
    for ref, old, new in report.timeframe_changed:
        console.print(f"  time frame changed: {ref}: {old!r} → {new!r}")
    for ref, old_owner, new_owner in report.owner_changed:
        console.print(f"  owner changed: {ref}: {old_owner or '-'} → {new_owner or '-'}")
    for warning in report.warnings:
        console.print(f"  [yellow]warning[/]: {warning}", highlight=False)


def plan_outline(console: Console, plan: Plan, sections: Sequence[Section], actions: Sequence[Action]) -> None:
    """Print a plan as Parts, issues and actions with their time frames."""
    console.print(f"[bold]{plan.symbol}[/] {plan.title}")
    console.print(f"{plan.body} · dated {plan.ref_date.isoformat()} · time zone {plan.timezone}")
    by_section: dict[str, list[Action]] = {}
    for a in actions:
        by_section.setdefault(a.section_key, []).append(a)
    for s in sections:
        if s.level == "part":
            console.rule(f"[bold]Part {s.number}[/] — {s.title}")
        elif s.level != "subheading":
            indent = "  " if s.level == "issue" else "    "
            console.print(f"{indent}[bold]{s.number}[/] {s.title}")
        for a in by_section.get(s.key, []) if s.level != "subheading" else []:
            tf = a.timeframe or f"[italic](empty cell; proposed: {a.timeframe_proposed})[/]"
            flag = " [yellow]needs review[/]" if a.needs_review else ""
            console.print(f"      {a.ref:<10} {tf} [dim]→ {reading(a)}[/]{flag}", highlight=False)


def print_action_sheet(
    console: Console,
    action: Action,
    owner: Owner | None,
    chain: list[str],
    changes: Sequence[ActionChange],
    record: dict[str, Any],
) -> None:
    """Print everything about one action."""
    console.print(f"[bold]{action.plan_id}/{action.ref}[/] {action.title}")
    rows = [
        ("section", f"{action.section_key}{' · ' + action.subheading if action.subheading else ''}"),
        ("time frame", action.timeframe or f"(empty cell; proposed: {action.timeframe_proposed})"),
        ("read as", reading(action) + ("  [yellow](needs review)[/]" if action.needs_review else "")),
        ("why", action.reason),
        (
            "milestones",
            "; ".join(
                f"{m['label'] or '-'}: {m.get('start') or ''}..{m.get('due') or ''}" for m in record["milestones"]
            )
            or "-",
        ),
        (
            "owner",
            f"{owner.name} <{owner.email}> ({owner.id}), supervisors: {' → '.join(chain) or '-'}"
            if owner
            else "(none)",
        ),
        ("status", action.status + (f" — {action.status_note}" if action.status_note else "")),
    ]
    for label, value in rows:
        console.print(f"  [dim]{label:>11}[/] {value}", highlight=False)
    if action.description:
        console.print(f"\n{action.description}\n", highlight=False)
    if changes:
        from rich.table import Table

        table = Table(title="History", header_style="bold")
        for name in ("when (UTC)", "who", "via", "what", "from", "to", "note"):
            table.add_column(name, overflow="fold")
        for c in changes:
            table.add_row(c.at.strftime("%Y-%m-%d %H:%M"), c.who, c.via, c.field, c.old or "", c.new or "", c.note)
        console.print(table)


def outbox_table(rows: Sequence[dict[str, Any]], title: str = "Outbox") -> Table:
    """Return the table of ``planwatch outbox``."""
    from rich.table import Table

    table = Table(title=f"{title} ({len(rows)})", header_style="bold")
    for name in ("planned (UTC)", "goes (UTC)", "sent (UTC)", "action", "to", "type", "step", "status", "reason"):
        table.add_column(name, overflow="fold")
    for r in rows:
        planned = r.get("planned") or r["at"]
        table.add_row(
            planned[:16].replace("T", " "),
            "same"
            if planned == r["at"]
            else f"{r['at'][:16].replace('T', ' ')}{' catch-up' if r.get('catch_up') else ''}",
            (r.get("sent_at") or "-")[:16].replace("T", " "),
            r["action"] or "-",
            r["recipient"],
            r["type"],
            r["step"],
            r["status"],
            r["reason"] or r["last_error"],
        )
    return table


def escalations_table(rows: Sequence[dict[str, Any]]) -> Table:
    """Return the table of ``planwatch escalations``."""
    from rich.table import Table

    table = Table(title=f"Escalation log ({len(rows)})", header_style="bold")
    for name in ("id", "fired (UTC)", "action", "owner", "level", "days late", "to", "acknowledged", "resolution"):
        table.add_column(name, overflow="fold")
    for r in rows:
        ack = f"{r['acknowledged_by']} {r['acknowledged_at'][:10]}" if r["acknowledged_at"] else "-"
        table.add_row(
            str(r["id"]),
            r["at"][:16].replace("T", " "),
            r["action"],
            r["owner"] or "-",
            str(r["level"]),
            str(r["days_overdue"]),
            ", ".join(r["recipients"]),
            ack,
            r["resolution"] or "-",
        )
    return table


SIMULATION_COLUMNS = ("when (UTC)", "action", "recipient", "type", "level", "step")


def simulation_table(rows: Sequence[dict[str, Any]], title: str = "Notifications", width: int | None = None) -> Table:
    """Return the timeline of ``planwatch simulate`` and ``preview`` for a console ``width`` wide (None: any)."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    lines = [
        (
            r["at"][:16].replace("T", " "),
            r["action"] or "(digest)",
            r["recipient"],
            r["type"],
            str(r["level"] or ""),
            r["step"],
        )
        for r in rows
    ]
    widths = [max(map(cell_len, column)) for column in zip(SIMULATION_COLUMNS, *lines, strict=True)]
    # When every column fits at its widest (the cells, padding and borders within ``width``), each column is given
    # its width and no wrapping: what rich would work out, without measuring each cell (a third less CPU for the
    # 533 lines of the example's life: 125 ms against 190). One line of printable text per cell, as rich measures it.
    fits = (
        width is not None
        and sum(widths) + 3 * len(widths) + 1 <= width
        and all(cell.isprintable() for line in lines for cell in line)
    )
    table = Table(title=f"{title} ({len(rows)})", header_style="bold")
    for name, wide in zip(SIMULATION_COLUMNS, widths, strict=True):
        table.add_column(name, overflow="fold", width=wide if fits else None, no_wrap=fits)
    for cells in lines:
        # Text cells: printed as they are (a "[" in a step is no markup), and a long timeline draws a fifth faster
        table.add_row(*map(Text, cells))
    return table
