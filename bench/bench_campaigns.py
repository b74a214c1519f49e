"""Benchmark: the campaign step of an idle tick (``engine.drive.campaign_rules.start_due_campaigns``).

Run from the repository root:  .venv/bin/python bench/bench_campaigns.py [--plans 20] [--ticks 540]

The rules start a campaign on the 1st of every month; a campaign missed while the service was down starts on a
later business day within half its month, so on those days an idle tick also asks which of the plans' campaigns
have started. Each plan is the tests' small plan (four actions, three owners) under its own id, June 2000's
campaign started on its day. Three kinds of idle tick, one a minute from 09:00 to 18:00 in Geneva (``--ticks``):
a business day past the half of the month (the plans are read, nothing more), a business day within it with
every campaign started (one query more), and such a day with nobody to ask (every action done: the first tick
of the day looks for actions to ask about and finds none; the day is kept, and later ticks that day do not look
again). CPU time per tick (``time.process_time``), median of three runs. No peer: nothing else starts campaigns
from these rules.

Target: the campaign step of an idle tick within the half month, every campaign started, under 5 ms of CPU with
20 plans. Exit status: 0 when under it, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402  (the repository root must be importable first)

from engine.drive.campaign_rules import start_due_campaigns  # noqa: E402
from engine.importing import import_paths  # noqa: E402
from engine.rules.loader import load_rules  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.store import make_engine, upgrade  # noqa: E402
from engine.store.tables import ACTION  # noqa: E402

TARGET_MS = 5.0
DATA = ROOT / "tests" / "data"
ON_ITS_DAY = datetime(2000, 6, 1, 12, tzinfo=UTC)  # Thursday 1 June 2000
WITHIN = datetime(2000, 6, 2, 7, tzinfo=UTC)  # Friday the 2nd, 09:00 in Geneva: a campaign may still start
PAST_HALF = datetime(2000, 6, 16, 7, tzinfo=UTC)  # Friday the 16th: June's may no longer start


def world(folder: Path, plans: int) -> tuple[object, object]:
    """A database with ``plans`` copies of the small plan and rules starting a campaign on the 1st."""
    (folder / "rules").mkdir()
    text = (DATA / "rules" / "policies.yaml").read_text()
    (folder / "rules" / "policies.yaml").write_text(text + "campaigns: [{every: 1mo, day: 1, within: 45d}]\n")
    paths = [DATA / "small-owners.yaml"]
    plan = (DATA / "small-plan.yaml").read_text()
    for n in range(plans):
        path = folder / f"plan{n}.yaml"
        path.write_text(plan.replace("  id: small\n", f"  id: small{n}\n", 1))
        paths.append(path)
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url, rules_dir=folder / "rules")
    import_paths(engine, paths, settings, datetime(2000, 1, 3, tzinfo=UTC))
    return engine, load_rules(folder / "rules")


def per_tick_ms(engine: object, rules: object, day: datetime, ticks: int) -> float:
    """Median CPU milliseconds of the campaign step per idle tick, one a minute from ``day``."""
    runs = []
    for _ in range(3):
        start = time.process_time()
        for minute in range(ticks):
            assert start_due_campaigns(engine, rules, day + timedelta(minutes=minute)) == 0  # type: ignore[arg-type]
        runs.append((time.process_time() - start) / ticks * 1000)
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--plans", type=int, default=20)
    parser.add_argument("--ticks", type=int, default=540)
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        engine, rules = world(Path(tmp), args.plans)
        assert start_due_campaigns(engine, rules, ON_ITS_DAY) == args.plans  # type: ignore[arg-type]
        past = per_tick_ms(engine, rules, PAST_HALF, args.ticks)
        within = per_tick_ms(engine, rules, WITHIN, args.ticks)
        with engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(update(ACTION).values(status="done"))
        later = WITHIN + timedelta(days=31)  # Wednesday 2 August: July's and August's not started, nobody to ask
        nobody = per_tick_ms(engine, rules, later, args.ticks)
        engine.dispose()  # type: ignore[attr-defined]
    print(f"{args.plans} plans, CPU per idle tick, median of 3 runs of {args.ticks} ticks")
    print(f"  past the half of the month:                   {past:.2f} ms")
    print(f"  within it, every campaign started:            {within:.2f} ms")
    print(f"  within it, nobody to ask (looked for once a day): {nobody:.2f} ms")
    return 0 if within < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
