"""E-mail templates: a sandboxed Jinja2 environment (templates are edited by staff, not developers).

A template ``templates/email/NAME.txt.j2`` holds the plain-text body and a
``{% block subject %}``; ``NAME.html.j2``, when present, the HTML body (autoescaped).
A user's own templates folder, searched first, overrides the shipped ones file by file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape
from jinja2.sandbox import SandboxedEnvironment


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered message: subject line, text body and optional HTML body."""

    subject: str
    text: str
    html: str | None


class Renderer:
    """Renders named templates from the given folders (first folder wins)."""

    def __init__(self, folders: Sequence[str | Path]) -> None:
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader([str(Path(f)) for f in folders]),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        """Return the subject and bodies of template ``name`` for ``context``."""
        text_template = self.env.get_template(f"email/{name}.txt.j2")
        ctx = text_template.new_context(dict(context))
        subject = "".join(text_template.blocks["subject"](ctx)).strip() if "subject" in text_template.blocks else name
        text = text_template.render(context)
        try:
            html = self.env.get_template(f"email/{name}.html.j2").render(context)
        except TemplateNotFound:
            html = None
        return Rendered(" ".join(subject.split()), text, html)
