"""The architecture's promises, checked on the source: the clock, the CLI's weight, docs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
CLOCK_READS = re.compile(r"datetime\.now\(|date\.today\(|utcnow\(|time\.time\(|time\.monotonic\(")


def test_only_clock_reads_the_clock() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in ENGINE.rglob("*.py")
        if path.name != "clock.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if CLOCK_READS.search(line)
    ]
    assert offenders == []


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from engine.cli.main import run\n"
        "try:\n    run(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('fastapi', 'uvicorn', 'apscheduler', 'sqlalchemy', 'sqlmodel', 'alembic', 'icalendar', 'jinja2') if m in sys.modules)\n"
        "print('HEAVY:' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "Usage" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_leaf_modules_import_nothing_from_engine() -> None:
    for name in ("errors", "clock", "settings", "yamlfile", "shipped/__init__"):
        source = (ENGINE / f"{name}.py").read_text()
        imports = re.findall(r"^from engine\.(\w+)", source, re.MULTILINE)
        assert set(imports) <= {"errors", "shipped"}, (name, imports)  # leaves import only other leaves
