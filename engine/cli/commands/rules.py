"""``planwatch rules``: check rule files, and say which policy an action gets and why.

Importing this module registers them on ``engine.cli.common.app``; heavy modules are imported inside the commands.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from engine.cli.common import app, current_time, load_ruleset, make_renderer, open_session, settings_of

if TYPE_CHECKING:
    from engine.rules.loader import RuleSet
    from engine.store.models import Action

rules_app = typer.Typer(help="Rule files: check them, and see which policy an action gets.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("check")
def check(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="A rules folder or one rule file (default: the --rules folder, rules/).")
    ] = None,
    owners: Annotated[
        Path | None,
        typer.Option(
            help="The owners file a verifier named by id must be in (default: plans/owners.yaml beside the rules "
            "folder, when there is one)."
        ),
    ] = None,
) -> None:
    """Validate rule files without touching the database; any error is listed as FILE:LINE:COL (exit 2).

    Example: [bold]planwatch rules check rules/ --owners plans/owners.yaml[/] (also in CI, or as a pre-commit hook)
    """
    from engine.importers.owners import load
    from engine.rules.loader import load_rules

    target: Path = path if path is not None else settings_of(ctx).rules_dir
    folders = _template_folders(ctx, target)
    ruleset = load_rules(target, folders)
    directory = (
        owners
        if owners is not None
        else (target if target.is_dir() else target.parent).parent / "plans" / "owners.yaml"
    )
    if owners is not None or directory.is_file():
        ruleset.check_verifiers(entry.id for entry in load(directory))
    _check_rendering(ctx, ruleset, folders)
    for line in check_report(ruleset, target):
        typer.echo(line)
    for line in holiday_warnings(ruleset, current_time().year):
        typer.echo(line, err=True)


def _template_folders(ctx: typer.Context, target: Path) -> list[Path]:
    """Return the template folders a rule may name from: the user's, the project's (beside rules/), the shipped."""
    from engine.settings import template_folders

    project = (target if target.is_dir() else target.parent).parent / "templates"
    settings = settings_of(ctx)
    found = template_folders(settings)
    if project.is_dir():
        found.insert(1 if settings.user_templates_dir else 0, project)
    return list({folder.resolve(): folder for folder in reversed(found)}.values())[::-1]


def _check_rendering(ctx: typer.Context, ruleset: RuleSet, folders: list[Path]) -> None:
    """Render every template the rules name against sample messages; raise at the first place naming a broken one."""
    from engine.errors import InputError, ValidationErrors
    from engine.mail.checks import render_problems
    from engine.mail.render import Renderer

    renderer = Renderer(folders, make_renderer(ctx).identity)
    first = {name: (place, crumb) for name, place, crumb in reversed(ruleset.templates)}
    errors = [
        InputError(f"{first[name][1]}: template {name!r} does not render: {problem}", first[name][0])
        for name in sorted(first)
        for problem in render_problems(renderer, name)
    ]
    if errors:
        raise ValidationErrors(errors)


@rules_app.command("explain")
def explain(
    ctx: typer.Context, action_id: Annotated[str, typer.Argument(metavar="ID", help="Action id, e.g. I.1a.1.")]
) -> None:
    """Say which policy applies to an action and why, and what it sends: reminders, check-ins, escalations.

    Example: [bold]planwatch rules explain I.1a.1[/]
    """
    from engine.read.explain import facts_for
    from engine.read.queries import find_action
    from engine.rules.loader import describe_policy

    ruleset = load_ruleset(ctx)  # bad rules stop here, before the database opens
    with open_session(ctx) as session:
        action = find_action(session, action_id)
        facts, heading = facts_for(session, action), _heading(action)
    policy, why = ruleset.policy_for(facts)
    for line in [heading, why, *(describe_policy(policy) if policy else ["Nothing is sent for this action."])]:
        typer.echo(line)


def check_report(ruleset: RuleSet, target: Path) -> list[str]:
    """Return one line per file checked: ``rules/default.yaml: 5 policies OK``."""
    counts = Counter(place.path for place in ruleset.places)
    lines = [f"{name}: {counts[name]} {'policy' if counts[name] == 1 else 'policies'} OK" for name in ruleset.files]
    lines += [f"{name}: holiday list OK{_years(_holiday_years(name))}" for name in ruleset.holiday_files]
    return lines or [f"{target}: no rule files, so no policy applies to any action"]


def holiday_warnings(ruleset: RuleSet, this_year: int) -> list[str]:
    """Return a warning for each holiday file whose days end before ``this_year``: after its last year no day
    counts as a holiday, and people would get messages on their holidays without a word."""
    warnings = []
    for name in ruleset.holiday_files:
        years = _holiday_years(name)
        if years is not None and years[1] < this_year:
            warnings.append(
                f"{name}: warning: its holidays end with {years[1]}, so from {years[1] + 1} on no day counts as a "
                "holiday; add the years your plans run through, or take a country's public holidays from the "
                "holidays package (holidays_by_country, see docs/rules.md)"
            )
    return warnings


def _holiday_years(name: str) -> tuple[int, int] | None:
    """Return the first and last year of the days listed by the holiday file ``name`` (None if it lists none)."""
    from engine.rules.holidays import read_holidays

    path = Path(name)
    days = read_holidays(path, path.read_text(encoding="utf-8"))
    return (min(days).year, max(days).year) if days else None


def _years(years: tuple[int, int] | None) -> str:
    if years is None:
        return " (no days listed)"
    first, last = years
    return f" ({first})" if first == last else f" ({first} to {last})"


def _heading(action: Action) -> str:
    dates = [f"{word} {value.isoformat()}" for word, value in (("start", action.start), ("due", action.due)) if value]
    facts = ", ".join([action.kind, *dates, f"owner {action.owner_id or '(none)'}"])
    return f"{action.ref} ({facts}): time frame {action.timeframe or '(none)'!r}"
