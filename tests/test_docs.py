"""The documentation tells the truth: README.md and docs/*.md are checked against the real program.

- Every command has ``--help`` with an example and appears in README.
- Every ``planwatch`` line of a ``sh`` block parses with that command's real options; blocks made only
  of planwatch commands run in order, in a project folder with the example plan imported (services
  such as ``run`` and ``serve`` are parsed, not started).
- Every ``console`` block runs and prints exactly what it shows; an error example (``FILE:LINE:COL:
  ... got 'VALUE'``) is made by writing VALUE at that place of the shipped file first.
- Every ``yaml`` block is a plan file, owners directory, rule file, owner assignment, events file,
  holiday list or progress file, and is loaded (and where it edits the example, imported) for real.
- Every option in inline ``planwatch ...`` code exists; every repository path, ``engine.`` name,
  ``PLANWATCH_`` variable and relative link names something that exists; every row of a time-frame
  example table reads as shown.
"""

from __future__ import annotations

import importlib
import json
import re
import shlex
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer.main
from ruamel.yaml import YAML

from engine.cli.main import app, run

from .conftest import OWNERS, ROOT, SEED

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PAGES = [*DOCS, ROOT / "bench" / "README.md"]  # bench/README.md: paths and names only
SERVICES = {"run", "serve"}  # long-running: their lines are parsed, never started
OTHER_PROGRAMS = {"make", "pip", "cd", "export", "pg_dump", ".venv/bin/python"}
TOP_DIRS = ("engine", "tests", "rules", "plans", "templates", "bench", "calendars", "docs")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    text: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(lang: str, pages: list[Path] = DOCS) -> list[Block]:
    """Return the fenced code blocks of ``lang`` in ``pages``, with where each starts."""
    found = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
            if m.group(1) == lang:
                found.append(Block(page, text.count("\n", 0, m.start()) + 1, lang, m.group(2)))
    return found


def inline_code(pages: list[Path] = DOCS) -> Iterator[tuple[Path, str]]:
    """Yield every inline code span (outside fenced blocks) of ``pages``."""
    for page in pages:
        text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
        for span in re.findall(r"`([^`\n]+)`", text):
            yield page, span


# -- the command tree ---------------------------------------------------------------------------------


def commands() -> list[str]:
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    for group in app.registered_groups:
        sub = group.typer_instance
        names += [f"{group.name} {c.name or c.callback.__name__}" for c in sub.registered_commands]  # type: ignore[union-attr]
    return sorted(n.replace("_", "-").rstrip("-") for n in names)


ROOT_COMMAND: Any = typer.main.get_command(app)
GLOBAL_OPTIONS = {opt for p in ROOT_COMMAND.params for opt in p.opts}


def resolve(words: list[str]) -> tuple[str, Any, list[str]]:
    """Return (name, command, the remaining words) for ``planwatch WORDS``; fail on an unknown command."""
    command, name, rest = ROOT_COMMAND, [], list(words)
    while rest and rest[0] in GLOBAL_OPTIONS:
        rest = rest[2:] if rest[0] in {"--db", "--rules"} else rest[1:]
    while hasattr(command, "commands"):
        if getattr(command, "invoke_without_command", False) and not (rest and rest[0] in command.commands):
            break  # a group that does something itself: `planwatch outbox --failed`
        assert rest and rest[0] in command.commands, f"no command 'planwatch {' '.join([*name, *rest[:1]])}'"
        name.append(rest[0])
        command, rest = command.commands[rest[0]], rest[1:]
    return " ".join(name), command, rest


def options_of(command: Any) -> set[str]:
    return {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)} | GLOBAL_OPTIONS | {"--help"}


def shell_lines(block: Block) -> Iterator[list[str]]:
    """Yield the words of each command of a ``sh`` block (comments, ``&&`` and redirections removed)."""
    for raw in block.text.splitlines():
        words = shlex.split(raw, comments=True)
        while words:
            cut = words.index("&&") if "&&" in words else len(words)
            command, words = words[:cut], words[cut + 1 :]
            for i, word in enumerate(command):
                if word in {"<", ">", "|"}:
                    command = command[:i]
                    break
            while command and re.fullmatch(r"[A-Z_]+=.*", command[0]):
                command = command[1:]  # VAR=value before a command
            if command:
                yield command


def test_there_are_commands() -> None:
    assert {"import", "export", "actions", "timeframe", "simulate", "rules check"} <= set(commands())


@pytest.mark.parametrize("name", commands())
def test_command_has_help_with_an_example_and_is_in_readme(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*name.split(), "--help"]) == 0
    text = capsys.readouterr().out
    assert "Example" in text, name
    assert f"planwatch {name}" in README or f"`{name.split()[-1]}" in README, name


@pytest.mark.parametrize("block", blocks("sh"), ids=str)
def test_shell_examples_parse(block: Block) -> None:
    for words in shell_lines(block):
        if words[0] != "planwatch":
            assert words[0] in OTHER_PROGRAMS, f"{block}: unexpected program {words[0]!r}"
            continue
        name, command, rest = resolve(words[1:])
        try:
            command.make_context(f"planwatch {name}", rest)
        except Exception as exc:  # click's usage errors: unknown option, missing argument, bad value
            pytest.fail(f"{block}: {shlex.join(words)}: {exc}")


def test_inline_commands_use_real_options() -> None:
    checked = 0
    for page, span in inline_code():
        if not re.match(r"planwatch [a-z]", span):
            continue
        words = span.split()[1:]
        lead = []
        for word in words:
            if word.startswith(("-", "[", '"')) or not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            lead.append(word)
        while lead:  # the longest run of words that names a command; the rest are arguments
            try:
                name, command, _ = resolve(lead)
                break
            except AssertionError:
                lead.pop()
        else:
            pytest.fail(f"{page.relative_to(ROOT)}: `{span}` names no command")
        for option in re.findall(r"--[a-z][a-z-]*", span):
            where = f"{page.relative_to(ROOT)}: `{span}`"
            assert option in options_of(command), f"{where}: planwatch {name} has no {option}"
        checked += 1
    assert checked > 40


# -- running examples -------------------------------------------------------------------------------------


@pytest.fixture
def project(workdir: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """A project folder with its own SQLite database; returns ``planwatch ARGS`` -> (exit code, output)."""
    url = f"sqlite:///{workdir / 'planwatch.db'}"

    def invoke(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = run(["--db", url, *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return invoke


def imported(project: Callable[..., tuple[int, str]]) -> None:
    code, out = project("import", str(OWNERS.relative_to(ROOT)), str(SEED.relative_to(ROOT)))
    assert code == 0, out


def runnable(block: Block) -> bool:
    return all(words[0] == "planwatch" for words in shell_lines(block))


@pytest.mark.parametrize("block", [b for b in blocks("sh") if runnable(b)], ids=str)
def test_shell_examples_run(block: Block, project: Callable[..., tuple[int, str]], monkeypatch: Any) -> None:
    for name in ("PLANWATCH_SMTP_URL", "PLANWATCH_RULES_DIR", "PLANWATCH_TEMPLATES_DIR", "PLANWATCH_USER_TEMPLATES"):
        monkeypatch.delenv(name, raising=False)
    lines = list(shell_lines(block))
    if not any(words[1:2] == ["import"] for words in lines):
        imported(project)
    for words in lines:
        if resolve(words[1:])[0] in SERVICES:
            continue
        code, out = project(*words[1:])
        assert code == 0, f"{block}: {shlex.join(words)} exited {code}:\n{out}"


ERROR_EXAMPLE = re.compile(r"(?P<file>[\w./-]+):(?P<line>\d+):(?P<col>\d+): .* got '(?P<value>[^']*)'")


def plant(workdir: Path, expected: str) -> int:
    """For an error example, write its bad value where it says; return the exit code to expect."""
    m = ERROR_EXAMPLE.fullmatch(expected.splitlines()[0]) if expected else None
    if m is None:
        return 0
    path = workdir / m["file"]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    row, col = int(m["line"]) - 1, int(m["col"]) - 1
    token = re.match(r"[^\s,#}\]]+", lines[row][col:])
    assert token, f"nothing to replace at {m['file']}:{m['line']}:{m['col']}"
    lines[row] = lines[row][:col] + m["value"] + lines[row][col + token.end() :]
    path.write_text("".join(lines), encoding="utf-8")
    return 2


def console_examples() -> Iterator[tuple[Block, str, str]]:
    for block in blocks("console"):
        parts = re.split(r"^\$ (.*)\n", block.text, flags=re.M)
        assert parts[0] == "", f"{block}: a console block starts with '$ command'"
        for command, output in zip(parts[1::2], parts[2::2], strict=True):
            yield block, command, output.rstrip("\n")


@pytest.mark.parametrize(("block", "command", "expected"), list(console_examples()), ids=lambda x: str(x)[:60])
def test_console_examples_print_what_they_show(
    block: Block, command: str, expected: str, project: Callable[..., tuple[int, str]], workdir: Path
) -> None:
    words = shlex.split(command)
    assert words[0] == "planwatch", f"{block}: {command}"
    want = plant(workdir, expected)
    code, out = project(*words[1:])
    assert code == want, f"{block}: {command} exited {code}:\n{out}"
    try:
        shown = json.loads(expected)
    except ValueError:
        assert out.rstrip("\n").splitlines() == expected.splitlines(), f"{block}: {command}"
    else:
        assert json.loads(out) == shown, f"{block}: {command}"


# -- YAML examples ----------------------------------------------------------------------------------------


def safe_load(text: str) -> Any:
    return YAML(typ="safe").load(text)


def safe_dump(data: Any, path: Path) -> None:
    YAML(typ="safe").dump(data, path)


def same_or_elided(shown: Any, real: Any) -> bool:
    """True when ``shown`` is ``real``, or a string that elides the middle of ``real`` with ' ... '."""
    if isinstance(shown, str) and " ... " in shown and isinstance(real, str):
        head, tail = shown.split(" ... ", 1)
        return real.startswith(head) and real.endswith(tail)
    return bool(shown == real)


def check_plan_file(data: dict[str, Any], project: Callable[..., tuple[int, str]], workdir: Path) -> None:
    """Apply the example to the exported example plan, import it, and find what the example says."""
    imported(project)
    assert project("export", "exported.yaml")[0] == 0
    plan = safe_load((workdir / "exported.yaml").read_text(encoding="utf-8"))
    for key, value in data.get("plan", {}).items():
        assert same_or_elided(value, plan["plan"][key]), f"plan.{key}: {value!r} != {plan['plan'][key]!r}"
    sections = {s["key"]: s for s in plan["sections"]}
    for section in data.get("sections", []):
        real = sections[section["key"]]
        assert {k: real.get(k) for k in section} == section, f"section {section['key']}: {real}"
    actions = {a["id"]: i for i, a in enumerate(plan["actions"])}
    for action in data.get("actions", []):
        plan["actions"][actions[action["id"]]] = action
    safe_dump(plan, workdir / "edited.yaml")
    code, out = project("import", "edited.yaml")
    assert code == 0, out
    records = {r["id"]: r for r in map(json.loads, project("actions", "--json")[1].splitlines())}
    for action in data.get("actions", []):
        record = records[action["id"]]
        for key in ("title", "owner", "timeframe", "section"):
            if key in action:
                assert record[key] == action[key], f"{action['id']}.{key}: {record[key]!r}"
        for key, value in action.get("schedule", {}).items():
            shown = value.isoformat() if isinstance(value, date) else value
            assert record[key] == shown, f"{action['id']}.schedule.{key}: {record[key]!r} != {shown!r}"
        if "schedule" in action:
            assert record["needs_review"] is False


def check_owners(data: dict[str, Any], project: Callable[..., tuple[int, str]], workdir: Path) -> None:
    """Put the example's owners into the example directory, load and import it, and find them as shown."""
    from engine.importers.owners import load

    directory = safe_load(OWNERS.read_text(encoding="utf-8"))
    ids = {o["id"]: i for i, o in enumerate(directory["owners"])}
    for owner in data["owners"]:
        if owner["id"] in ids:
            directory["owners"][ids[owner["id"]]] = owner
        else:
            directory["owners"].append(owner)
    safe_dump(directory, workdir / "owners.yaml")
    entries = {e.id: e for e in load(workdir / "owners.yaml")}
    for owner in data["owners"]:
        for key, value in owner.items():
            assert str(getattr(entries[owner["id"]], key)) == str(value), f"{owner['id']}.{key}"
    code, out = project("import", "owners.yaml", str(SEED.relative_to(ROOT)))
    assert code == 0, out
    listed = {r["id"]: r for r in map(json.loads, project("owners", "--json")[1].splitlines())}
    for owner in data["owners"]:
        for key in ("name", "email", "timezone", "supervisor"):
            assert listed[owner["id"]][key] == owner.get(key), f"{owner['id']}.{key}"


def check_rules(text: str, project: Callable[..., tuple[int, str]], workdir: Path) -> None:
    folder = workdir / "example-rules"
    folder.mkdir()
    if "holidays.yaml" in text:  # the holiday list a rule file names sits beside it
        shutil.copy(ROOT / "rules" / "holidays.yaml", folder / "holidays.yaml")
    (folder / "default.yaml").write_text(text, encoding="utf-8")
    code, out = project("rules", "check", str(folder))
    assert code == 0, out


def check_assignment(text: str, workdir: Path) -> None:
    from engine.rules.owners import load

    (workdir / "assign.yaml").write_text(text, encoding="utf-8")
    load(workdir / "assign.yaml")
    known = {o["id"] for o in safe_load(OWNERS.read_text(encoding="utf-8"))["owners"]}
    assert {rule["owner"] for rule in safe_load(text)["assign"]} <= known


def check_events(text: str, workdir: Path) -> None:
    from engine.rules.events import load

    (workdir / "events-example.yaml").write_text(text, encoding="utf-8")
    shipped = {(e.name, e.date) for e in load(ROOT / "rules" / "events.yaml")}
    assert {(e.name, e.date) for e in load(workdir / "events-example.yaml")} <= shipped


def check_holidays(text: str) -> None:
    from engine.rules.holidays import read_holidays

    shipped = ROOT / "rules" / "holidays.yaml"
    days = read_holidays(Path("example.yaml"), text)
    assert days and set(days) <= set(read_holidays(shipped, shipped.read_text(encoding="utf-8")))


def check_progress(text: str, project: Callable[..., tuple[int, str]], workdir: Path) -> None:
    imported(project)
    entries = safe_load(text)
    (workdir / "progress-example.yaml").write_text(text, encoding="utf-8")
    last = max(e["at"] for e in entries)
    code, out = project(
        "simulate", "--from", "1999-09-28", "--until", last.isoformat(), "--replay", "progress-example.yaml"
    )
    assert code == 0, out
    assert f"{len(entries)} event(s) replayed" in out, out


@pytest.mark.parametrize("block", blocks("yaml"), ids=str)
def test_yaml_examples_load(block: Block, project: Callable[..., tuple[int, str]], workdir: Path) -> None:
    data = safe_load(block.text)
    if isinstance(data, dict) and ("plan" in data or "actions" in data):
        check_plan_file(data, project, workdir)
    elif isinstance(data, dict) and "owners" in data:
        check_owners(data, project, workdir)
    elif isinstance(data, dict) and ("policies" in data or "defaults" in data):
        check_rules(block.text, project, workdir)
    elif isinstance(data, dict) and "assign" in data:
        check_assignment(block.text, workdir)
    elif isinstance(data, dict) and "events" in data:
        check_events(block.text, workdir)
    elif isinstance(data, dict) and "holidays" in data:
        check_holidays(block.text)
    elif isinstance(data, list) and data and all(isinstance(e, dict) and "event" in e for e in data):
        check_progress(block.text, project, workdir)
    else:
        pytest.fail(f"{block}: a YAML example of no known kind")


# -- names, paths and tables ------------------------------------------------------------------------------


def test_repository_paths_exist() -> None:
    checked = 0
    for page, span in inline_code(PAGES):
        for word in span.split():
            if not re.fullmatch(rf"(?:{'|'.join(TOP_DIRS)})/[\w./{{}}-]*", word):
                continue
            pattern = re.sub(r"[A-Z]+|\{[a-z]+\}", "*", word.rstrip("/.,"))
            assert list(ROOT.glob(pattern)), f"{page.relative_to(ROOT)}: `{span}`: {word} does not exist"
            checked += 1
    assert checked > 20


def test_links_lead_somewhere() -> None:
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)\)", page.read_text(encoding="utf-8")):
            if not re.match(r"\w+://", target):
                assert (page.parent / target).exists(), f"{page.relative_to(ROOT)}: link to {target}"


def test_engine_names_exist() -> None:
    checked = 0
    for page, span in inline_code(PAGES):
        m = re.match(r"engine(?:\.\w+)+", span)
        if m is None:
            continue
        parts = m.group(0).split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj: Any = importlib.import_module(".".join(parts[:cut]))
                break
            except ModuleNotFoundError:
                continue
        for attr in parts[cut:]:
            assert hasattr(obj, attr), f"{page.relative_to(ROOT)}: `{span}`: {'.'.join(parts)} does not exist"
            obj = getattr(obj, attr)
        checked += 1
    assert checked > 3


def test_environment_variables_exist() -> None:
    source = "".join(
        p.read_text(encoding="utf-8") for d in ("engine", "tests", "bench") for p in (ROOT / d).rglob("*.py")
    )
    for page in PAGES:
        for name in set(re.findall(r"PLANWATCH_[A-Z_]+", page.read_text(encoding="utf-8"))):
            assert f'"{name}"' in source or f"'{name}'" in source, f"{page.relative_to(ROOT)}: {name} is read nowhere"


TIMEFRAME_HEADER = "| phrase | reference | kind | start | due | rrule | review |"


def timeframe_rows() -> Iterator[list[str]]:
    for page in DOCS:
        lines = page.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if line.strip() == TIMEFRAME_HEADER:
                for row in lines[i + 2 :]:
                    if not row.startswith("|"):
                        break
                    yield [cell.strip().strip("`") for cell in row.strip("|").split("|")]


def test_there_are_timeframe_examples() -> None:
    assert len(list(timeframe_rows())) > 20


@pytest.mark.parametrize("row", list(timeframe_rows()), ids=lambda row: row[0])
def test_timeframe_examples_read_as_shown(row: list[str]) -> None:
    from engine.timeframe import parse

    phrase, ref, kind, start, due, rrule, review = row
    schedule = parse(phrase, date.fromisoformat(ref))
    shown = (kind, start or None, due or None, rrule or None, review == "yes")
    got = (
        schedule.kind,
        schedule.start and schedule.start.isoformat(),
        schedule.due and schedule.due.isoformat(),
        schedule.rrule,
        schedule.needs_review,
    )
    assert got == shown, schedule.reason
