"""The read commands import only what they use: no web server, no calendar writer, no page templates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.store.db import HEAD, current_revision, make_engine

from ..conftest import ROOT

HEAVY = ("fastapi", "uvicorn", "starlette", "icalendar", "jinja2", "apscheduler")
WATCHED = (*HEAVY, "alembic", "rich", "rich.table")

# Run ``python -m engine ARGS`` in this new process, then say which of WATCHED it imported.
PROBE = f"""
import json, runpy, sys
sys.argv = ["planwatch", *sys.argv[1:]]
code = 0
try:
    runpy.run_module("engine", run_name="__main__")
except SystemExit as exit:
    code = exit.code
print(json.dumps({{"code": code, "loaded": [m for m in {WATCHED!r} if m in sys.modules]}}))
"""


def probe(*args: str, cwd: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd, check=False, timeout=120
    )
    last = done.stdout.strip().splitlines()[-1]
    return dict(json.loads(last))


@pytest.fixture(scope="module")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("imports")
    url = f"sqlite:///{folder / 'example.db'}"
    plans = ROOT / "plans"
    imported = probe(
        "--db", url, "import", str(plans / "owners.yaml"), str(plans / "gb276-tc2-implementation-plan.txt"), cwd=folder
    )
    assert imported["code"] == 0, imported
    return url


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("actions", "--help"), id="actions-help"),
        pytest.param(("actions",), id="actions"),
        pytest.param(("actions", "--json"), id="actions-json"),
        pytest.param(("show", "I.1a.1"), id="show"),
        pytest.param(("review",), id="review"),
        pytest.param(("why", "I.1a.1"), id="why"),
        pytest.param(("owners",), id="owners"),
        pytest.param(("status",), id="status"),
        pytest.param(("outbox",), id="outbox"),
        pytest.param(("escalations",), id="escalations"),
    ],
)
def test_a_read_command_imports_no_web_server_calendar_or_templates(
    args: tuple[str, ...], example_db: str, tmp_path: Path
) -> None:
    found = probe("--db", example_db, "--rules", str(ROOT / "rules"), *args, cwd=tmp_path)
    assert found["code"] == 0, found
    loaded = [m for m in found["loaded"] if m in HEAVY]
    assert loaded == [], f"planwatch {' '.join(args)} imported {loaded}"


def test_a_read_command_on_an_up_to_date_database_imports_no_alembic(example_db: str, tmp_path: Path) -> None:
    found = probe("--db", example_db, "--rules", str(ROOT / "rules"), "actions", "--json", cwd=tmp_path)
    assert found["code"] == 0, found
    assert "alembic" not in found["loaded"]


@pytest.mark.parametrize("args", [("actions", "--json"), ("status", "--json")])
def test_json_output_imports_no_terminal_tables(args: tuple[str, ...], example_db: str, tmp_path: Path) -> None:
    found = probe("--db", example_db, "--rules", str(ROOT / "rules"), *args, cwd=tmp_path)
    assert found["code"] == 0, found
    assert "rich" not in found["loaded"]


def test_a_table_command_does_import_the_terminal_tables(example_db: str, tmp_path: Path) -> None:
    found = probe("--db", example_db, "--rules", str(ROOT / "rules"), "actions", cwd=tmp_path)
    assert found["code"] == 0, found
    assert "rich.table" in found["loaded"]  # the probe sees rich when a command prints a table


def test_a_read_command_on_a_new_database_still_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    found = probe("--db", url, "--rules", str(ROOT / "rules"), "actions", "--json", cwd=tmp_path)
    assert found["code"] == 0, found
    assert "alembic" in found["loaded"]  # the upgrade needs it, and runs
    engine = make_engine(url)
    try:
        assert current_revision(engine) == HEAD
    finally:
        engine.dispose()


def test_the_probe_sees_what_a_command_imports(example_db: str, tmp_path: Path) -> None:
    built = probe("--db", example_db, "--rules", str(ROOT / "rules"), "feeds", "build", cwd=tmp_path)
    assert built["code"] == 0, built
    assert "icalendar" in built["loaded"]  # writing the calendar feeds does import the calendar writer
