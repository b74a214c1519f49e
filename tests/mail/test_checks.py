"""``templates check``: every template rendered against sample contexts, problems reported as FILE:LINE."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.mail.checks import check_templates, render_problems
from engine.mail.render import Renderer

from ..conftest import ROOT

TEMPLATES = ROOT / "templates"
SHIPPED = [
    "campaign",
    "checkin",
    "closure_returned",
    "closure_verified",
    "delivery_report",
    "digest",
    "escalation",
    "extension_granted",
    "extension_refused",
    "extension_requested",
    "final_reminder",
    "not_mine",
    "overdue",
    "reminder",
    "stale",
    "verification_overdue",
    "verification_request",
]


def test_every_shipped_template_passes_the_check() -> None:
    renderer = Renderer([TEMPLATES])
    assert renderer.names() == SHIPPED
    assert check_templates(renderer) == []


def test_render_problems_of_one_template(tmp_path: Path) -> None:
    renderer = Renderer([tmp_path, TEMPLATES])
    assert [render_problems(renderer, name) for name in SHIPPED] == [[]] * len(SHIPPED)
    (problem,) = render_problems(renderer, "remindr")
    assert problem.endswith("template not found: email/remindr.txt.j2")
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "mine.txt.j2").write_text("{% block subject %}x{% endblock %}\n{{ nope }}\n")
    assert render_problems(renderer, "mine") == [f"{tmp_path / 'email' / 'mine.txt.j2'}:2: 'nope' is undefined"]


def test_an_undefined_variable_fails_the_check_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    bad = tmp_path / "email" / "reminder.txt.j2"
    bad.write_text(
        '{% extends "email/_base.txt.j2" %}\n{% block subject %}[{{ action.ref }}] x{% endblock %}\n'
        "{% block body %}\nHello\n{{ action.no_such_thing }}\n{% endblock %}\n"
    )
    problems = check_templates(Renderer([tmp_path, TEMPLATES]))
    assert problems == [f"{bad}:5: 'dict object' has no attribute 'no_such_thing'"]
    bad.write_text(
        '{% extends "email/_base.txt.j2" %}\n{% block subject %}\n[{{ action.ref }}] {{ nope }}{% endblock %}\n'
    )
    assert check_templates(Renderer([tmp_path, TEMPLATES])) == [f"{bad}:3: 'nope' is undefined"]


def test_a_syntax_error_and_a_missing_twin_and_a_changing_subject_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "email"
    folder.mkdir()
    (folder / "checkin.txt.j2").write_text("{% block subject %}x{% endblock %}\n{% if %}\n")
    (folder / "custom.txt.j2").write_text(
        '{% extends "email/_base.txt.j2" %}{% block subject %}Other {{ action.ref }}{% endblock %}'
    )
    problems = check_templates(Renderer([tmp_path, TEMPLATES]))
    assert f"{folder / 'checkin.txt.j2'}:2: Expected an expression, got 'end of statement block'" in problems
    assert f"{folder / 'custom.txt.j2'}: no HTML twin email/custom.html.j2 (each message is text and HTML)" in problems
    assert any(p.startswith(f"{folder / 'custom.txt.j2'}: subject 'Other I.1a.1' differs") for p in problems)


def test_templates_check_command(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PLANWATCH_TEMPLATES_DIR", str(TEMPLATES))
    good = cli("templates", "check")
    assert good.code == 0 and f"{len(SHIPPED)} templates" in good.out
    (tmp_path / "own" / "email").mkdir(parents=True)
    (tmp_path / "own" / "email" / "digest.txt.j2").write_text(
        "{% block subject %}d{% endblock %}\n{{ nothing_here }}\n"
    )
    monkeypatch.setenv("PLANWATCH_USER_TEMPLATES", str(tmp_path / "own"))
    bad = cli("templates", "check")
    assert bad.code == 2
    assert bad.err.strip() == f"{tmp_path / 'own' / 'email' / 'digest.txt.j2'}:2: 'nothing_here' is undefined"
