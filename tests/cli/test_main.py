"""The ``planwatch`` entry point: --help, usage errors, and errors mapped to one line, exit codes and the log."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import main, run

from ..conftest import ROOT
from ..smtpserver import free_port

GROUPS = [
    "init",
    "import",
    "done",
    "tick",
    "send-test",
    "serve",
    "db",
    "outbox",
    "templates",
    "feeds",
    "users",
    "rules",
]


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def log_of(workdir: Path) -> Path:
    return workdir / ".cache" / "planwatch" / "planwatch.log"  # XDG_CACHE_HOME is the workdir's .cache


def test_help_lists_the_command_groups_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "--help")
    assert code == 0
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("│ ") and line[2] != " "]
    positions = [next(i for i, name in enumerate(listed) if name == group) for group in GROUPS]
    assert positions == sorted(positions)


def test_help_imports_no_heavy_module() -> None:
    probe = (
        "import sys, contextlib, io\n"
        "from engine.cli.main import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = run(['--help'])\n"
        "print(code, sorted(m for m in ('sqlalchemy', 'sqlmodel', 'jinja2', 'fastapi', 'icalendar', 'apscheduler')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0 []"


def test_no_arguments_show_the_help_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(
        capsys,
    )
    assert code == 2 and "Usage: planwatch [OPTIONS] COMMAND [ARGS]..." in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["frobnicate"], "No such command 'frobnicate'."),
        (["actions", "--bogus"], "No such option: --bogus"),
        (["ack", "twelve"], "Invalid value for 'ESCALATION'"),
    ],
)
def test_usage_errors_exit_2_with_the_parser_s_message(
    workdir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = invoke(capsys, *args)
    assert (code, out) == (2, "")
    assert message in err and "Traceback" not in err
    assert not log_of(workdir).exists()


def test_bad_input_is_one_line_exit_2_and_no_log(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "--db", f"sqlite:///{workdir / 'p.db'}", "import", "nothere.txt")
    assert (code, out, err) == (2, "", "nothere.txt: no such plan or owners file\n")  # a place: no "planwatch:" prefix
    code, _, err = invoke(capsys, "--db", "sqlite:////nonexistent/folder/p.db", "actions")
    assert code == 2
    assert err == "planwatch: database folder /nonexistent/folder does not exist; create it or choose another --db\n"
    assert not log_of(workdir).exists()


def test_an_operational_failure_exits_1_and_logs_the_traceback(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql+psycopg://planwatch:s3cret@127.0.0.1:{free_port()}/none"
    code, out, err = invoke(capsys, "--db", url, "actions")
    assert (code, out) == (1, "")
    assert err.startswith("planwatch: cannot open the database: ") and "Traceback" not in err
    logged = log_of(workdir).read_text(encoding="utf-8")
    head, rest = logged.split("\n", 1)
    # When and what: the time (UTC) and the command line, its password hidden, above the traceback.
    assert re.fullmatch(r"--- \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ planwatch --db \S+ actions", head), head
    assert url.replace(":s3cret@", ":***@") in head and "s3cret" not in logged
    assert rest.startswith("Traceback (most recent call last)")


def test_an_unexpected_error_exits_3_names_the_log_and_debug_shows_the_traceback(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file that is not a SQLite database: SQLAlchemy raises, and nothing in planwatch maps that error.
    (workdir / "bad.db").write_text("this is not a database\n" * 10, encoding="utf-8")
    url = f"sqlite:///{workdir / 'bad.db'}"
    code, out, err = invoke(capsys, "--db", url, "actions")
    assert (code, out) == (3, "")
    line = err.splitlines()[-1]
    assert err.startswith("planwatch: unexpected error (a bug): DatabaseError: ")
    assert line.endswith(f"; details in {log_of(workdir)}") and "Traceback" not in err
    logged = log_of(workdir).read_text(encoding="utf-8")
    assert logged.startswith("--- ") and f" planwatch --db {url} actions\nTraceback (most recent call last)" in logged
    assert "file is not a database" in logged
    code, _, err = invoke(capsys, "--debug", "--db", url, "actions")
    assert code == 3 and err.startswith("Traceback (most recent call last)")
    assert "\nplanwatch: unexpected error (a bug): DatabaseError: " in err
    again = log_of(workdir).read_text(encoding="utf-8")
    assert again.startswith(logged)  # appended, not replaced
    added = again[len(logged) :]
    assert added.startswith("--- ") and f" planwatch --debug --db {url} actions\nTraceback (most recent" in added


def test_main_exits_with_the_code_run_returns(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--db", f"sqlite:///{workdir / 'p.db'}", "import", "nothere.txt"])
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
