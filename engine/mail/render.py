"""E-mail templates: a sandboxed Jinja2 environment (templates are edited by staff, not developers).

A template pair ``templates/email/NAME.txt.j2`` + ``NAME.html.j2`` holds the plain-text body
with a ``{% block subject %}``, and the HTML body (autoescaped). A user's own templates folder,
searched first, overrides the shipped ones file by file. ``StrictUndefined`` makes a missing
variable an error, and ``template_error`` says where it is: ``FILE:LINE: message``.

A message is written in its reader's language (the context's ``language``: en, fr or es): the
templates' ``{% trans %}`` blocks come from that language's catalog and ``|day`` writes dates as it
does. One environment per language, each compiling a template once; given a cache folder, the compiled
templates are kept there (Jinja2's bytecode cache) for the next process.
"""

from __future__ import annotations

import ast
import hashlib
import os
import pickle
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2 import (
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    pass_eval_context,
    select_autoescape,
)
from jinja2.bccache import Bucket
from jinja2.nodes import EvalContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from engine.languages import DEFAULT, LANGUAGES, elide_values, install, translations


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered message: subject line (one line, no control characters), text body and optional HTML body."""

    subject: str
    text: str
    html: str | None


@dataclass(frozen=True, slots=True)
class MailIdentity:
    """Who the messages come from and where their links lead (see ``engine.actions.links``).

    ``secret_key`` empty means the development key: fine on a laptop, not in service.
    """

    sender: str = "planwatch <planwatch@example.org>"
    base_url: str = "http://localhost:8000"
    secret_key: str = ""
    admin_email: str = ""

    @property
    def sender_name(self) -> str:
        """Return the display name of the sender ("planwatch")."""
        return _split_address(self.sender)[0] or "planwatch"

    @property
    def sender_address(self) -> str:
        """Return the sender's address, also the envelope sender that bounces go back to."""
        return _split_address(self.sender)[1] or "planwatch@example.org"

    @property
    def domain(self) -> str:
        """Return the domain of Message-IDs: the sender's."""
        return self.sender_address.rpartition("@")[2] or "planwatch.invalid"


AUTOESCAPED = ("html.j2", "html")  # the templates whose values are escaped for HTML


@lru_cache(maxsize=64)
def _split_address(value: str) -> tuple[str, str]:
    return parseaddr(value)


class Renderer:
    """Renders named templates from the given folders (first folder wins)."""

    def __init__(
        self, folders: Sequence[str | Path], identity: MailIdentity | None = None, cache: Path | None = None
    ) -> None:
        """``cache``: a folder of the user's to keep the compiled templates in between processes (None: none)."""
        self.folders = [Path(f) for f in folders]
        self.identity = identity or MailIdentity()
        self.cache = cache
        self.envs: dict[str, ImmutableSandboxedEnvironment] = {}
        self.env = self.environment(DEFAULT)
        self._stamp = self._mtimes()
        self._templates: dict[tuple[str, str], tuple[Template, Template | None]] = {}

    def environment(self, language: str) -> ImmutableSandboxedEnvironment:
        """Return the environment that writes in ``language`` (made once; an unknown language gets English's)."""
        language = language if language in LANGUAGES else DEFAULT
        found = self.envs.get(language)
        if found is None:
            # Sandboxed (staff edit the templates) and immutable: a template cannot change the data
            # that the next message is built from.
            env = ImmutableSandboxedEnvironment(
                loader=_TranslatingLoader([str(f) for f in self.folders], language),
                undefined=StrictUndefined,
                autoescape=select_autoescape(enabled_extensions=AUTOESCAPED, default_for_string=False),
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
                auto_reload=False,  # ``refresh`` looks once per batch instead of once per template per message
            )
            found = self.envs[language] = _fast_gettext(install(env, language), language)
            if self.cache is not None:
                found.bytecode_cache = _CompiledTemplates(self.cache, found, language)
        return found

    def refresh(self) -> bool:
        """Forget compiled templates if a template file changed since the last look; return whether one did."""
        stamp = self._mtimes()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        for env in self.envs.values():
            env.cache.clear()  # type: ignore[union-attr]
        self._templates.clear()
        return True

    def _mtimes(self) -> tuple[tuple[str, float], ...]:
        found = []
        for folder in self.folders:
            if (folder / "email").is_dir():
                found += [(str(p), p.stat().st_mtime) for p in (folder / "email").glob("*.j2")]
        return tuple(sorted(found))

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        """Return the subject and bodies of template ``name`` for ``context``, in its ``language`` (default English)."""
        language = context.get("language") or DEFAULT
        text_template, html_template = self._pair(name, language)
        values = context if isinstance(context, dict) else dict(context)  # each new context copies it
        try:  # the subject block and the body from one context (as ``Template.render`` would, twice)
            ctx = text_template.new_context(values)
            subject = "".join(text_template.blocks["subject"](ctx)) if "subject" in text_template.blocks else name
            text = "".join(text_template.root_render_func(ctx))
            html = None
            if html_template is not None:
                html = "".join(html_template.root_render_func(html_template.new_context(values)))
        except Exception:
            self.environment(language).handle_exception()  # re-raises with the traceback pointing at template lines
        return Rendered(one_line(subject), text, html)

    def _pair(self, name: str, language: str = DEFAULT) -> tuple[Template, Template | None]:
        """The compiled text and HTML templates of ``name`` in ``language`` (no HTML one: None), looked up once
        until ``refresh``."""
        found = self._templates.get((name, language))
        if found is None:
            env = self.environment(language)
            text_template = env.get_template(f"email/{name}.txt.j2")
            try:
                html_template: Template | None = env.get_template(f"email/{name}.html.j2")
            except TemplateNotFound:
                html_template = None
            found = self._templates[(name, language)] = (text_template, html_template)
        return found

    def names(self) -> list[str]:
        """Return the names of every message template (``NAME`` of ``email/NAME.txt.j2``; partials start with ``_``)."""
        found = {p.name.removesuffix(".txt.j2") for folder in self.folders for p in (folder / "email").glob("*.txt.j2")}
        return sorted(n for n in found if not n.startswith("_"))

    def files(self) -> list[str]:
        """Return the template names (``email/FILE``) of every template file, partials included."""
        found = {f"email/{p.name}" for folder in self.folders for p in (folder / "email").glob("*.j2")}
        return sorted(found)


class _CompiledTemplates(FileSystemBytecodeCache):
    """Jinja2's bytecode cache in a folder of the user's: a process loads the templates another one compiled.

    Compiling is most of what a first message of a template costs (a simulation checks each template it sends).
    Jinja2 names a file by the template's name and path and rejects it when the source read differs (a template
    edited, a catalog's translated messages) or the Python differs; the file names here also carry the language
    and everything of the environment that changes the compiled code, so environments never share a file. A
    folder that cannot be written costs the compile, nothing else.
    """

    def __init__(self, folder: Path, environment: ImmutableSandboxedEnvironment, language: str) -> None:
        super().__init__(str(folder), f"{language}-{_compiling(environment)}-%s.cache")

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError):  # unreadable or damaged: compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _compiling(env: ImmutableSandboxedEnvironment) -> str:
    """Return a short digest of what makes ``env``'s compiled code: Jinja2's version and the environment's syntax,
    whitespace, extensions, gettext style and sandbox."""
    settings = (
        jinja2.__version__,
        type(env).__module__,
        type(env).__qualname__,
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.optimized,
        env.finalize is not None,
        sorted(env.extensions),
        getattr(env, "newstyle_gettext", False),
        AUTOESCAPED,
    )
    return hashlib.sha1(repr(settings).encode(), usedforsecurity=False).hexdigest()[:12]


_STRING = r'"((?:[^"\\]|\\.)*)"'
# {{ _("text") }}, {{ _("%(label)s:", label=_("text")) }} and {{ "%-22s"|format(_("%(label)s:", label=_("text"))) }}
_CONSTANT_MESSAGE = re.compile(
    r"\{\{\s*(?:"
    + _STRING
    + r"\|format\()?_\(\s*"
    + _STRING
    + r"\s*(?:,\s*label=_\(\s*"
    + _STRING
    + r"\s*\))?\s*\)\)?\s*\}\}"
)


class _TranslatingLoader(FileSystemLoader):
    """Reads a template with each message that has no values of the message already translated (a button's
    label, a sentence without names): the text the calls would print, the same for every message, so rendering
    calls gettext only where there are values."""

    def __init__(self, searchpath: Sequence[str], language: str) -> None:
        super().__init__(searchpath)
        self.catalog = translations(language)

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        return _CONSTANT_MESSAGE.sub(self._translated, source), filename, uptodate

    def _translated(self, found: re.Match[str]) -> str:
        width, message, label = found[1], found[2], found[3]
        if width is not None and (label is None or found[0].count("(") != found[0].count(")")):
            return found[0]
        text = self.catalog.gettext(_literal(message))
        text = text % ({"label": self.catalog.gettext(_literal(label))} if label is not None else {})
        if width is not None:
            text = _literal(width) % text
        return found[0] if any(mark in text for mark in ("{", "}", "#")) else text


def _literal(text: str) -> str:
    return str(ast.literal_eval(f'"{text}"'))


def _fast_gettext(env: ImmutableSandboxedEnvironment, language: str) -> ImmutableSandboxedEnvironment:
    """Give ``env`` the ``_``, ``gettext`` and ``ngettext`` of ``jinja2.ext.i18n``'s newstyle gettext, one call
    each instead of three (a message calls them some thirty times): the same translation, the same escaping of
    the variables in an HTML template, the same ``%`` formatting."""
    catalog = translations(language)

    @pass_eval_context
    def gettext(eval_ctx: EvalContext, message: str, /, **variables: Any) -> str:
        text = catalog.gettext(message)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    @pass_eval_context
    def ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = catalog.ngettext(singular, plural, num)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    if language == "fr":  # a value after "de" or "que" elides as French does: "d'Amélie"
        return _french(env, catalog)
    env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
    return env


def _french(env: ImmutableSandboxedEnvironment, catalog: Any) -> ImmutableSandboxedEnvironment:
    """Give ``env`` the French ``_``, ``gettext`` and ``ngettext``: as ``_fast_gettext``'s, with elision where a
    value that may need it came in."""

    @pass_eval_context
    def gettext(eval_ctx: EvalContext, message: str, /, **variables: Any) -> str:
        text = catalog.gettext(message)
        text = (Markup(text) if eval_ctx.autoescape else text) % variables
        return elide_values(text, variables) if variables else text

    @pass_eval_context
    def ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = catalog.ngettext(singular, plural, num)
        text = (Markup(text) if eval_ctx.autoescape else text) % variables
        return elide_values(text, variables)

    env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
    return env


def one_line(value: str) -> str:
    """Return ``value`` on one line: any run of whitespace or control characters becomes one space."""
    if not value.isprintable():  # CR, LF, TAB, other controls, line separators: all become spaces
        if value.isascii():
            value = value.translate(_ASCII_CONTROLS)
        else:
            value = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(value.split())


_ASCII_CONTROLS = {code: " " for code in [*range(32), 127]}  # the ASCII characters that are not printable


def template_error(exc: BaseException, fallback: str) -> str:
    """Return ``FILE:LINE: message`` for an error raised while loading or rendering a template."""
    if isinstance(exc, TemplateSyntaxError):
        return f"{exc.filename or exc.name or fallback}:{exc.lineno}: {exc.message}"
    if isinstance(exc, TemplateNotFound):
        return f"{fallback}: template not found: {exc.name}"
    where = _template_frame(exc.__traceback__)
    file, line = where if where else (fallback, None)
    return f"{file}:{line}: {exc}" if line else f"{file}: {exc}"


def _template_frame(tb: TracebackType | None) -> tuple[str, int] | None:
    """Return (file, line) of the innermost template frame: Jinja maps them back to template lines."""
    found = None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(".j2"):
            found = (name, tb.tb_lineno)
        tb = tb.tb_next
    return found
