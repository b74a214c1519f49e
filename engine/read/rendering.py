"""What the reports share when they are written out: Markdown escaping, and the refusal of a report template.

The progress report (``report``) and the report on implementation (``implementation_text``) both write
Markdown and render report templates in Jinja2's sandbox; both go through these.
"""

from __future__ import annotations

import re

from engine.errors import InputError, Location, display_path

# What Markdown reads as markup inside a line: emphasis, code, links and images, raw HTML and entities,
# strike-through, table cells, a heading's closing #s, and the backslash itself. A backslash before any of
# them shows it as typed.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>&~|#])")
# What starts a block when a paragraph begins with it: a quote, a list item, a numbered one.
_MD_BLOCK = re.compile(r"^(?:[>+=-]|\d+(?=[.)]))")


def md(text: str) -> str:
    """Return ``text`` on one line, each character Markdown would read as markup escaped."""
    return _MD_INLINE.sub(r"\\\1", " ".join(text.split()))


def md_paragraph(text: str) -> str:
    """Return ``text`` as ``md`` does, also escaping what would start a heading, quote or list at a line's start."""
    line = md(text)
    found = _MD_BLOCK.match(line)
    if found is None:
        return line
    if found.group().isdigit():  # "1. text": the dot or parenthesis after the number
        return f"{found.group()}\\{line[found.end() :]}"
    return f"\\{line}"


class TemplateRefused(InputError):
    """The report's template failed, or reached for what templates may not use (the sandbox refused it).

    ``name`` is the template as ``report/FILE`` and ``line`` its line, for a page that names no server path.
    """

    def __init__(self, message: str, name: str, line: int | None, location: Location) -> None:
        super().__init__(message, location)
        self.name, self.line = name, line


def refused(exc: Exception, file: str = "report/report.html.j2") -> TemplateRefused:
    """Return the refusal of a template error: which file and line (Jinja maps template frames to lines), and why.

    ``file`` names the template when the error itself does not.
    """
    from jinja2 import TemplateSyntaxError
    from jinja2.exceptions import SecurityError

    line = None
    if isinstance(exc, TemplateSyntaxError):
        file, line = exc.filename or file, exc.lineno
    else:
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename.endswith(".j2"):
                file, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
            tb = tb.tb_next
    detail = (getattr(exc, "message", None) or str(exc)).rstrip(".")
    if isinstance(exc, SecurityError):
        message = f"the report template uses something templates may not use: {detail}"
    else:
        message = f"the report template failed: {detail}"
    name = "report/" + file.replace("\\", "/").rsplit("/", 1)[-1]
    return TemplateRefused(message, name, line, Location(display_path(file), line))
