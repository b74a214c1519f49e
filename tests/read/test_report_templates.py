"""The HTML report's template: a user's own replaces the shipped one, and renders in Jinja2's immutable sandbox."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.read.report import ActionLine, IssueBlock, PartBlock, Report, TemplateRefused, render_html
from engine.store.models import Plan

# Each reaches Python's insides from a template (the template's own frame, the globals Jinja gives every
# template, a string's class); unsandboxed, each runs ``id`` and prints ``uid=...``.
PAYLOADS = [
    "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
]


def small_report() -> Report:
    plan = Plan(id="p", title="A <b>plan</b>", symbol="GB.1/X", ref_date=date(2000, 1, 1), timezone="UTC")
    line = ActionLine("I.1", "Write it", "Ann", "on track", "deadline", None, date(2000, 6, 30))
    return Report(plan, date(2000, 6, 1), [PartBlock("I", "Part one", [IssueBlock("I.1", "Issue", [line])])], [])


def plant(folder: Path, text: str) -> list[str]:
    (folder / "report").mkdir(parents=True, exist_ok=True)
    (folder / "report" / "report.html.j2").write_text(text)
    return [str(folder)]


def test_a_users_report_template_replaces_the_shipped_one_and_is_escaped(tmp_path: Path) -> None:
    folders = plant(tmp_path, "<h1>{{ report.plan.symbol }}: {{ report.plan.title }}</h1>\n")
    assert render_html(small_report(), folders=folders) == "<h1>GB.1/X: A &lt;b&gt;plan&lt;/b&gt;</h1>"
    assert "<svg" in render_html(small_report())  # without it, the shipped one


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_template_reaching_for_pythons_insides_is_refused_naming_file_and_line(tmp_path: Path, payload: str) -> None:
    folders = plant(tmp_path, f"<h1>Report</h1>\n<p>{payload}</p>\n")
    with pytest.raises(TemplateRefused) as refused:
        render_html(small_report(), folders=folders)
    error = refused.value
    assert "uid=" not in str(error)
    assert (error.name, error.line, error.exit_code) == ("report/report.html.j2", 2, 2)
    assert error.message.startswith("the report template uses something templates may not use: ")
    assert "is unsafe" in error.message
    assert str(error.location).endswith("report.html.j2:2")


def test_a_template_cannot_change_the_data_it_is_given(tmp_path: Path) -> None:
    folders = plant(tmp_path, "{{ report.parts.append(1) }}{{ report.parts | length }}")
    with pytest.raises(TemplateRefused, match="may not use"):
        render_html(small_report(), folders=folders)


def test_a_template_that_fails_says_where(tmp_path: Path) -> None:
    folders = plant(tmp_path, "<p>ok</p>\n{{ no_such_thing }}\n")
    with pytest.raises(TemplateRefused) as refused:
        render_html(small_report(), folders=folders)
    assert (
        refused.value.line == 2 and refused.value.message == "the report template failed: 'no_such_thing' is undefined"
    )
    folders = plant(tmp_path / "other", "<p>{% if %}</p>\n")
    with pytest.raises(TemplateRefused) as broken:
        render_html(small_report(), folders=folders)
    assert broken.value.line == 1 and broken.value.message.startswith("the report template failed: ")
