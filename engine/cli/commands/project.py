"""CLI command that starts a project folder: init.

The command is a few lines over engine.shipped.project; the import stays inside the function.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from engine.cli.common import app, make_console


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The project folder to write; new or empty.")],
) -> None:
    """Write a project folder to edit: the default rules, the example plan and owners, a templates/ for overrides.

    Example: [bold]planwatch init gb276[/], then [bold]cd gb276[/] and [bold]planwatch demo[/]
    (its README.md says what next)
    """
    from engine.shipped.project import new_project

    written = new_project(folder)
    console = make_console()
    console.print(f"Wrote a planwatch project in {folder} ({len(written)} files):", markup=False)
    for name, what in (
        ("rules/", "the rule files: when reminders, check-ins and escalations go out"),
        ("plans/", "the example plan, its owners and its progress file; put your own plan here"),
        ("templates/", "empty: your own e-mail and page templates, file by file"),
        ("README.md", "what each folder is for and what to run next"),
    ):
        console.print(f"  {name:<11} {what}", markup=False)
    console.print(f"Next: cd {shlex.quote(str(folder))} && planwatch demo", markup=False)
