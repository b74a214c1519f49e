"""The three working languages: which one a person reads, the gettext catalogs, and dates in words.

Messages, pages, reports and feed texts are written in English in the code and the templates, marked
for translation (``{% trans %}`` and ``_()`` in templates, ``gettext`` in Python); the French and
Spanish catalogs are ``engine/locale/<lang>/LC_MESSAGES/planwatch.po``, managed with Babel
(``make catalogs`` extracts and updates them; the build compiles them to ``.mo``). A checkout with no
``.mo`` compiles the ``.po`` on first use and keeps the ``.mo`` in the user's cache folder until the ``.po``
changes. Dates, numbers and month names come from Babel's
locale data in the reader's language: "30 April 2000", "30 avril 2000", "30 de abril de 2000".
"""

from __future__ import annotations

import gettext as _gettext
import os
import re
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "fr", "es")
NAMES = {"en": "English", "fr": "français", "es": "español"}
DEFAULT = "en"
DOMAIN = "planwatch"
CATALOGS = Path(__file__).resolve().parent / "locale"
# Babel's locale for each language: British English writes "30 April 2000", as the plans do.
LOCALES = {"en": "en_GB", "fr": "fr_FR", "es": "es_ES"}
MOMENT_JOINS = {"fr": " à "}  # between a day and its time: "30 avril 2000 à 09:05"; others write a comma


def language_problem(value: object) -> str | None:
    """Return why ``value`` is not a language planwatch writes in, or None when it is one."""
    if isinstance(value, str) and value.strip().lower() in LANGUAGES:
        return None
    return f"unknown language {value!r}; expected one of {', '.join(LANGUAGES)} (English, French, Spanish)"


def language_of(*choices: str | None) -> str:
    """Return the first of ``choices`` that is a known language (the person's, then the plan's), else English."""
    for choice in choices:
        if choice and choice.strip().lower() in LANGUAGES:
            return choice.strip().lower()
    return DEFAULT


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """Return the catalog of ``language`` (English, the source language, translates nothing)."""
    if language not in LANGUAGES or language == DEFAULT:
        return _gettext.NullTranslations()
    folder = CATALOGS / language / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return _gettext.GNUTranslations(handle)
    if not po.is_file():
        return _gettext.NullTranslations()
    return compiled_catalog(po, language, cache_folder() / "catalogs")


def cache_folder() -> Path:
    """Return planwatch's folder in the user's cache, ``$XDG_CACHE_HOME/planwatch`` else ``~/.cache/planwatch``: the
    log of unexpected errors, the catalogs compiled from a checkout's ``.po``, the compiled e-mail templates."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "planwatch"


def compiled_catalog(po: Path, language: str, folder: Path) -> _gettext.GNUTranslations:
    """Return the catalog ``po`` compiled, from ``folder`` where it was kept when compiled first (the name of the
    ``.mo`` there says which ``.po`` and which Babel made it); a folder that cannot be written costs the compile.

    Compiling both catalogs at every start of a checkout cost 75 ms of CPU (Babel's reader imported included).
    """
    import hashlib  # here: most commands never compile a catalog, and hashlib's import is OpenSSL's
    import struct

    source = po.read_bytes()
    made_by = _babel_stamp()
    key = hashlib.sha1(f"{language}|{made_by}|".encode() + source, usedforsecurity=False).hexdigest()[:16]
    kept = folder / f"{language}-{key}.mo"
    try:
        return _gettext.GNUTranslations(BytesIO(kept.read_bytes()))
    except (OSError, ValueError, IndexError, struct.error):  # not kept yet, or damaged: compiled again
        pass
    data = compile_catalog(source, language)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for old in folder.glob(f"{language}-*.mo"):  # the catalog of an earlier .po
            old.unlink(missing_ok=True)
        part = folder / f".{kept.name}.{os.getpid()}"
        part.write_bytes(data)
        os.replace(part, kept)  # whole or not at all for another process reading it
    except OSError:
        pass
    return _gettext.GNUTranslations(BytesIO(data))


def _babel_stamp() -> str:
    """Return the size and time of Babel's installed files, which change with its version, without importing it."""
    from importlib.util import find_spec

    spec = find_spec("babel")
    where = Path(spec.origin) if spec is not None and spec.origin else None
    if where is None:
        return ""
    found = where.stat()
    return f"{found.st_size}:{found.st_mtime_ns}"


def compile_catalog(po: Path | bytes, language: str) -> bytes:
    """Return the ``.mo`` bytes of the catalog ``po`` (a file, or its bytes; fuzzy entries left out, as msgfmt
    does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    source = po if isinstance(po, bytes) else po.read_bytes()
    catalog = read_po(BytesIO(source), locale=LOCALES[language], domain=DOMAIN)
    out = BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def gettext(language: str, message: str) -> str:
    """Return ``message`` in ``language``."""
    return translations(language).gettext(message)


def ngettext(language: str, singular: str, plural: str, n: int) -> str:
    """Return the singular or plural of a message in ``language``, chosen by ``n`` as that language does."""
    return translations(language).ngettext(singular, plural, n)


def day(value: date | None, language: str = DEFAULT, *, none: str = "") -> str:
    """Return a day in words in ``language``: "30 April 2000", "30 avril 2000", "30 de abril de 2000"; French
    writes the first of a month "1er juin 2000"."""
    if value is None:
        return none
    from babel.dates import format_date

    words = format_date(value, "long", locale=LOCALES.get(language, LOCALES[DEFAULT]))
    return f"1er{words[1:]}" if language == "fr" and value.day == 1 and words.startswith("1 ") else words


def month(value: date, language: str = DEFAULT) -> str:
    """Return a month and year in words in ``language``: "April 2000", "avril 2000", "abril de 2000"."""
    from babel.dates import format_skeleton

    return format_skeleton("yMMMM", value, locale=LOCALES.get(language, LOCALES[DEFAULT]))


def moment(value: datetime, language: str = DEFAULT) -> str:
    """Return a local date and time in ``language`` (``value`` already in the reader's zone): "30 April 2000, 09:05",
    "30 avril 2000 à 09:05", "30 de abril de 2000, 09:05"."""
    from babel.dates import format_time

    time = format_time(value, "HH:mm", locale=LOCALES.get(language, LOCALES[DEFAULT]))
    return f"{day(value.date(), language)}{MOMENT_JOINS.get(language, ', ')}{time}"


def number(value: float, language: str = DEFAULT) -> str:
    """Return a number written as ``language`` writes it (1,234.5 / 1 234,5 / 1234,5)."""
    from babel.numbers import format_decimal

    return format_decimal(value, locale=LOCALES.get(language, LOCALES[DEFAULT]))


# French drops the vowel of "de" and "que" before a word beginning with a vowel or a mute h: "d'Amélie",
# "qu'Hélène". Only before a capitalised name or a lower-case word (not before "I.1.3" or "ONU"), so a value
# put after "de" in a sentence reads as French writes it; an aspirated h ("de haut") is left alone.
_ELISION = re.compile(r"\b([dD]|[qQ]u)e (?=[AEIOUYÀÂÉÈÊÎÔÛŒaeiouyàâéèêëîïôûœ][a-zà-ÿœ]|H[aeiouyéèêâîô][a-zà-ÿ])")
QUOTES = {"en": ("“", "”"), "fr": ("«\u00a0", "\u00a0»"), "es": ("«", "»")}


_ELIDES = re.compile(r"[AEIOUYÀÂÉÈÊÎÔÛŒaeiouyàâéèêëîïôûœ][a-zà-ÿœ]|H[aeiouyéèêâîô][a-zà-ÿ]")
_VOWEL_FIRST = frozenset("AEIOUYÀÂÉÈÊÎÔÛŒaeiouyàâéèêëîïôûœH")


def elide_values(text: str, values: dict[str, Any]) -> str:
    """Return a French sentence whose ``values`` were put in, with "de" and "que" elided before those of them
    that begin with a vowel or a mute h: "relevant de Amélie" -> "relevant d'Amélie". Only the values are
    looked at (most are dates, numbers and references, and are passed over at once). A ``Markup`` stays one."""
    done = str(text)
    for value in values.values():
        if not (isinstance(value, str) and value[:1] in _VOWEL_FIRST and _ELIDES.match(value)):
            continue
        if f"e {value}" in done:  # "de Amélie", "que Amélie": then the word before is checked whole
            before = re.compile(rf"(?<![\w'])([dD]|[qQ]u)e ({re.escape(value)})")
            done = before.sub(r"\1'\2", done)
    if done == text:
        return text
    return done if type(text) is str else text.__class__(done)


def elide(text: str, language: str = DEFAULT) -> str:
    """Return ``text`` with French elision where a value follows "de" or "que": "de Amélie" -> "d'Amélie" (other
    languages: unchanged). A ``Markup`` stays ``Markup``."""
    if language != "fr" or "e " not in text:
        return text
    done = _ELISION.sub(r"\1'", str(text))  # on the plain text: Markup would escape the apostrophe
    if done == text:
        return text
    return done if type(text) is str else text.__class__(done)


def quoted(text: object, language: str = DEFAULT) -> str:
    """Return ``text`` between the quotation marks of ``language``: “text”, « text », «text»."""
    left, right = QUOTES.get(language, QUOTES[DEFAULT])
    return f"{left}{text}{right}"


# Small counts in words, as a recurrence is said: "every six months", "tous les six mois", "cada seis meses".
COUNTS = {
    "en": ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"],
    "fr": ["deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze"],
    "es": ["dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce"],
}


def recurrence(rule: str | None, language: str = DEFAULT) -> str:
    """Return an RFC 5545 recurrence rule in words: "FREQ=MONTHLY;INTERVAL=6" -> "every six months", "tous les six
    mois", "cada seis meses"; "FREQ=YEARLY;BYMONTH=3" -> "every year in March". A rule it cannot say is returned
    as it is."""
    if not rule:
        return ""
    parts = dict(p.partition("=")[::2] for p in rule.upper().removeprefix("RRULE:").split(";") if "=" in p)
    interval = parts.get("INTERVAL", "1")
    n = int(interval) if interval.isdigit() else 0
    every = _every(parts.get("FREQ", ""), n, language) if n >= 1 else None
    if every is None:
        return rule
    counted = COUNTS.get(language, COUNTS[DEFAULT])
    words = every % {"n": counted[n - 2] if 2 <= n < len(counted) + 2 else n} if n > 1 else every
    months = [int(m) for m in parts.get("BYMONTH", "").split(",") if m.isdigit() and 1 <= int(m) <= 12]
    if months and n == 1 and parts["FREQ"] == "YEARLY":
        from babel.dates import get_month_names

        names = get_month_names("wide", locale=LOCALES.get(language, LOCALES[DEFAULT]))
        listed = ", ".join(names[m] for m in months)
        words = gettext(language, "every year in %(months)s") % {"months": listed}
    return words


def _every(freq: str, n: int, language: str) -> str | None:
    """Return "every year", "every %(n)s months", ... for ``freq`` in ``language`` (None: a frequency not said)."""
    if freq == "YEARLY":
        return gettext(language, "every year") if n == 1 else gettext(language, "every %(n)s years")
    if freq == "MONTHLY":
        return gettext(language, "every month") if n == 1 else gettext(language, "every %(n)s months")
    if freq == "WEEKLY":
        return gettext(language, "every week") if n == 1 else gettext(language, "every %(n)s weeks")
    if freq == "DAILY":
        return gettext(language, "every day") if n == 1 else gettext(language, "every %(n)s days")
    return None


def _eliding(function: Any) -> Any:
    """Return Jinja's gettext ``function`` with French elision of its result (the same context it is passed)."""
    from functools import wraps

    @wraps(function)  # keeps the mark telling Jinja to pass the context
    def eliding(*args: Any, **values: Any) -> Any:
        text = function(*args, **values)
        return elide_values(text, values) if values else text

    return eliding


def install(environment: Any, language: str) -> Any:
    """Give a Jinja2 environment ``language``'s ``{% trans %}``, ``_()``, ``gettext`` and ``ngettext``; return it.

    One environment per language: its templates are compiled once for the language they are read in.
    """
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_translations(translations(language), newstyle=True)
    environment.globals["language"] = language
    environment.filters["day"] = lambda value, none="": day(value, language, none=none)
    environment.filters["month"] = lambda value: month(value, language)
    environment.filters["number"] = lambda value: number(value, language)
    environment.filters["quoted"] = lambda value: quoted(value, language)
    environment.filters["recurrence"] = lambda value: recurrence(value, language)
    environment.globals["colon"] = gettext(language, "%(label)s:") % {"label": ""}  # French: a space before it
    if language == "fr":  # a translated sentence with values elides as French does: "d'Amélie"
        for name in ("_", "gettext", "ngettext", "pgettext", "npgettext"):
            if name in environment.globals:
                environment.globals[name] = _eliding(environment.globals[name])
    return environment
