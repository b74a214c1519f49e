"""``planwatch demo``: the example plan and owners in a fresh embedded database, shown."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from rich.console import Console

from engine.errors import InputError
from engine.importing import OwnersReport, import_paths
from engine.present import owners_table, plan_outline
from engine.queries import list_actions, owners_with_chains, plans, sections
from engine.settings import Settings
from engine.store import make_engine, transaction

PLAN_FILE = "gb276-tc2-implementation-plan.txt"
OWNERS_FILE = "owners.yaml"


def run_demo(console: Console, out: Path, plans_dir: Path, settings: Settings, now: datetime) -> Path:
    """Import the example into ``out/planwatch-demo.db`` (made anew) and print it; return the db path."""
    sources = [plans_dir / OWNERS_FILE, plans_dir / PLAN_FILE]
    missing = [str(p) for p in sources if not p.exists()]
    if missing:
        raise InputError(f"example files not found: {', '.join(missing)}; run the demo from the project folder or pass --plans")
    out.mkdir(parents=True, exist_ok=True)
    db = out / "planwatch-demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = replace(settings, database_url=f"sqlite:///{db}")
    engine = make_engine(settings.database_url)
    reports = import_paths(engine, sources, settings, now)
    owners_report = next(r for r in reports if isinstance(r, OwnersReport))
    with transaction(engine) as session:
        plan = plans(session)[0]
        actions = list_actions(session)
        plan_outline(console, plan, sections(session, plan.id), actions)
        console.print(owners_table(owners_with_chains(session)))
    engine.dispose()
    kinds = Counter(a.kind for a in actions)
    parts = len({a.ref.split(".")[0] for a in actions})
    console.print(
        f"Loaded {len(actions)} actions in {parts} Parts and {len(owners_report.added)} owners into {db}.\n"
        f"Time frames read as: {', '.join(f'{n} {k}' for k, n in kinds.most_common())}.\n"
        f"{sum(a.needs_review for a in actions)} need a human decision: "
        f"[bold]planwatch --db sqlite:///{db} review[/]"
    )
    return db
