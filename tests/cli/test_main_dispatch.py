"""A run that names its command builds only that command; help and usage errors stay as the whole app gives them."""

from __future__ import annotations

import pytest
import typer
from typer.main import get_command, get_command_name

from engine.cli.main import ROOT_FLAGS, ROOT_VALUE_OPTIONS, _app_for, app, run


def names() -> list[str]:
    commands = [c.name or get_command_name(c.callback.__name__) for c in app.registered_commands if c.callback]
    return [*commands, *(g.name for g in app.registered_groups if g.name)]


def built(chosen: typer.Typer) -> list[str]:
    return sorted(get_command(chosen).commands)  # type: ignore[attr-defined]


def test_the_root_options_the_choice_skips_are_the_root_command_s() -> None:
    params = [p for p in get_command(app).params if "--help" not in p.opts]
    assert sorted(o for p in params if not p.is_flag for o in p.opts) == sorted(ROOT_VALUE_OPTIONS)  # type: ignore[attr-defined]
    assert sorted(o for p in params if p.is_flag for o in p.opts) == sorted(ROOT_FLAGS)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["actions", "--json"], ["actions"]),
        (["--db", "sqlite:///x.db", "--rules=rules", "--debug", "show", "I.1a.1"], ["show"]),
        (["--rules", "actions", "review"], ["review"]),  # the value of --rules is not the command
        (["outbox"], ["outbox"]),  # a group
    ],
)
def test_a_named_command_is_built_alone(argv: list[str], expected: list[str]) -> None:
    assert built(_app_for(argv)) == expected


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h"], ["frobnicate"], ["--db", "x.db"], ["--bogus", "actions"]])
def test_anything_else_gets_the_whole_app(argv: list[str]) -> None:
    assert _app_for(argv) is app


def test_the_whole_app_keeps_every_command_after_a_run(capsys: pytest.CaptureFixture[str]) -> None:
    before = built(app)
    assert run(["actions", "--help"]) == 0
    assert built(app) == before and len(before) == len(names()) > 20


@pytest.mark.parametrize("name", names())
def test_each_command_s_help_is_the_whole_app_s(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    app(args=[name, "--help"], prog_name="planwatch", standalone_mode=False)
    whole = capsys.readouterr().out
    assert run([name, "--help"]) == 0
    assert capsys.readouterr().out == whole
    assert f"planwatch {name}" in whole
