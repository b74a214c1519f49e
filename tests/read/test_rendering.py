"""What the reports share when written out (``engine.read.rendering``): Markdown that shows text as typed, and
a report template's failure named by its file and line."""

from __future__ import annotations

from pathlib import Path

import markdown_it
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import FileSystemLoader
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.errors import InputError
from engine.read.rendering import TemplateRefused, md, md_paragraph, refused


@given(st.text(alphabet=st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=40))
def test_markdown_shows_any_line_as_typed(text: str) -> None:
    html = markdown_it.MarkdownIt("commonmark").renderInline(md(text))
    assert html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&") == " ".join(
        text.split()
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("1. first", "1\\. first"),
        ("- item", "\\- item"),
        ("> quote", "\\> quote"),
        ("plain *text*", "plain \\*text\\*"),
    ],
)
def test_a_paragraph_never_starts_a_list_or_a_quote(text: str, shown: str) -> None:
    assert md_paragraph(text) == shown


def test_a_failing_template_is_named_by_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "mine.md.j2").write_text("line one\n{{ 1 // 0 }}\n")
    env = ImmutableSandboxedEnvironment(loader=FileSystemLoader(tmp_path))
    try:
        env.get_template("mine.md.j2").render()
    except ZeroDivisionError as exc:
        refusal = refused(exc, "report/mine.md.j2")
    assert isinstance(refusal, TemplateRefused) and isinstance(refusal, InputError)
    assert (refusal.name, refusal.line) == ("report/mine.md.j2", 2)
    assert str(refusal).startswith(f"{tmp_path / 'mine.md.j2'}:2") and "the report template failed" in str(refusal)


def test_reaching_for_pythons_insides_says_templates_may_not_use_it() -> None:
    env = ImmutableSandboxedEnvironment()
    try:
        env.from_string("{{ x.__class__.__mro__ }}").render(x=1)
    except Exception as exc:
        refusal = refused(exc, "report/implementation.md.j2")
    assert "may not use" in str(refusal) and refusal.name == "report/implementation.md.j2"
