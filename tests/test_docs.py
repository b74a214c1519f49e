"""Every command teaches with an example and appears in README."""

from __future__ import annotations

import pytest

from engine.cli.main import app, run

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    for group in app.registered_groups:
        sub = group.typer_instance
        names += [f"{group.name} {c.name or c.callback.__name__}" for c in sub.registered_commands]  # type: ignore[union-attr]
    return sorted(n.replace("_", "-").rstrip("-") for n in names)


def test_there_are_commands() -> None:
    assert {"import", "export", "actions", "timeframe", "simulate", "rules check"} <= set(commands())


@pytest.mark.parametrize("name", commands())
def test_command_has_help_with_an_example_and_is_in_readme(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*name.split(), "--help"]) == 0
    text = capsys.readouterr().out
    assert "Example" in text, name
    assert f"planwatch {name}" in README or f"`{name.split()[-1]}" in README, name
