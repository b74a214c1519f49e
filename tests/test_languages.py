"""The working languages: days and numbers in words, the catalogs complete, and Jinja2 templates in each language."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2 import DictLoader, Environment
from markupsafe import Markup

from engine.languages import (
    CATALOGS,
    DOMAIN,
    LANGUAGES,
    compile_catalog,
    day,
    elide_values,
    install,
    language_of,
    language_problem,
    moment,
    month,
    number,
    recurrence,
)

ROOT = Path(__file__).resolve().parent.parent
APRIL_30 = date(2000, 4, 30)
EXTRACT = (sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "--no-location", "-F", "babel.cfg")


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "30 April 2000"), ("fr", "30 avril 2000"), ("es", "30 de abril de 2000")],
)
def test_a_day_in_words_in_each_language(language: str, words: str) -> None:
    assert day(APRIL_30, language) == words


def test_months_times_and_numbers_as_each_language_writes_them() -> None:
    assert [month(APRIL_30, lang) for lang in LANGUAGES] == ["April 2000", "avril 2000", "abril de 2000"]
    assert [moment(datetime(2000, 4, 30, 9, 5, tzinfo=UTC), lang) for lang in LANGUAGES] == [
        "30 April 2000, 09:05",
        "30 avril 2000 à 09:05",
        "30 de abril de 2000, 09:05",
    ]
    assert [number(1234.5, lang) for lang in LANGUAGES] == ["1,234.5", "1\u202f234,5", "1.234,5"]


def test_french_writes_the_first_of_a_month_as_1er() -> None:
    assert [day(date(2026, 6, 1), lang) for lang in LANGUAGES] == ["1 June 2026", "1er juin 2026", "1 de junio de 2026"]
    assert day(date(2026, 6, 11), "fr") == "11 juin 2026"  # only the first


def test_the_first_known_language_wins_and_unknown_ones_are_named() -> None:
    assert language_of(None, "", "FR", "es") == "fr"
    assert language_of("de", None) == "en"
    assert language_problem("es") is None
    assert language_problem("de") == "unknown language 'de'; expected one of en, fr, es (English, French, Spanish)"


def _extracted(tmp_path: Path) -> set[str]:
    pot = tmp_path / f"{DOMAIN}.pot"
    subprocess.run(
        [*EXTRACT, "-o", str(pot), "engine", "templates"],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_message_is_translated_and_none_is_fuzzy(language: str, tmp_path: Path) -> None:
    wanted = _extracted(tmp_path)
    with (CATALOGS / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    done = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        done[key] = bool(all(strings)) and not message.fuzzy
    missing = sorted(m for m in wanted if m not in done)
    untranslated = sorted(m for m in wanted if m in done and not done[m])
    assert missing == [], f"not in the {language} catalog (run `make catalogs`, then translate): {missing[:20]}"
    assert untranslated == [], f"empty or fuzzy in the {language} catalog: {untranslated[:20]}"


def test_a_catalog_compiles_and_a_template_reads_in_its_language(tmp_path: Path) -> None:
    po = tmp_path / "fr.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\nmsgid "Due"\nmsgstr "Échéance"\n'
    )
    assert b"\xc3\x89ch\xc3\xa9ance" in compile_catalog(po, "fr")
    env = install(Environment(loader=DictLoader({"t": "{% trans %}Hello{% endtrans %}: {{ due|day }}"})), "es")
    assert env.get_template("t").render(due=APRIL_30) == "Hello: 30 de abril de 2000"


# What may stay unmarked in a template: the product's name, and the code-like values of a few fields' examples.
NOT_WORDS = frozenset({"planwatch"})
HUMAN_ATTRIBUTES = re.compile(r'\b(title|alt|aria-label|placeholder)="([^"]*)"')
SUBMIT_VALUE = re.compile(r'<input\b[^>]*\btype="(?:submit|button|reset)"[^>]*\bvalue="([^"]*)"')
CODE_LIKE = re.compile(r"[\w./=,:-]*[/=.\d-][\w./=,:-]*")  # Europe/Zurich, latin-1, FREQ=YEARLY: not words


def _unmarked(source: str) -> tuple[list[str], list[str]]:
    """Return the texts and the human-readable attribute values of a template that are not marked for
    translation: everything the Jinja lexer reads as data outside ``{% trans %}`` blocks, tags, comments, styles,
    scripts and entities taken away; ``{{ … }}`` and ``{% … %}`` count as placeholders."""
    env = Environment(extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.parse(source)  # it parses at all
    out: list[str] = []
    in_trans = False
    block: list[str] = []
    for _, kind, value in env.lex(source):
        if kind == "block_begin":
            block = []
        elif kind == "name" and not block:
            block.append(value)
            in_trans = {"trans": True, "pluralize": in_trans, "endtrans": False}.get(value, in_trans)
        out.append(value if kind == "data" and not in_trans else "\x00")
    text = "".join(out)
    attributes = [v for v in HUMAN_ATTRIBUTES.findall(text)] + [("value", v) for v in SUBMIT_VALUE.findall(text)]
    shown = [v for _, v in attributes if _has_words(v)]
    text = re.sub(r"<!--.*?-->|<(style|script)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>|&#?\w+;", " ", text)
    words = [w for w in re.split(r"[\x00\s]+", text) if _has_words(w)]
    return words, shown


def _has_words(text: str) -> bool:
    rest = text.replace("\x00", " ").strip()
    if not re.search(r"[^\W\d_]{2,}", rest):
        return False
    return not all(w.lower() in NOT_WORDS or CODE_LIKE.fullmatch(w) for w in rest.split())


@pytest.mark.parametrize("folder", ["web", "report"])
def test_every_text_of_a_page_or_report_template_is_marked_for_translation(folder: str) -> None:
    found = {}
    for path in sorted((ROOT / "templates" / folder).glob("*.j2")):
        words, attributes = _unmarked(path.read_text(encoding="utf-8"))
        if words or attributes:
            found[path.name] = words[:8] + attributes[:8]
    assert found == {}, f"text not marked for translation ({{% trans %}} or _()): {found}"


def test_the_unmarked_text_check_finds_text_and_attributes() -> None:
    words, attributes = _unmarked('<p title="Open it">{% trans %}Due{% endtrans %} Overdue {{ x }}</p><a>planwatch</a>')
    assert words == ["Overdue"] and attributes == ["Open it"]
    marked = '<input type="submit" value="{{ _(\'Send\') }}" placeholder="Europe/Zurich"><!-- a note -->'
    assert _unmarked(marked) == ([], [])
    assert _unmarked('<input type="submit" value="Send now">') == ([], ["Send now"])
    plural = "{% trans count=n %}{{ count }} day{% pluralize %}{{ count }} days{% endtrans %} late"
    assert _unmarked(plural) == (["late"], [])


def test_every_text_of_an_email_template_is_marked_for_translation() -> None:
    found = {}
    for path in sorted((ROOT / "templates" / "email").glob("*.j2")):
        words, attributes = _unmarked(path.read_text(encoding="utf-8"))
        if words or attributes:
            found[path.name] = words[:8] + attributes[:8]
    assert found == {}, f"e-mail text not marked for translation ({{% trans %}} or _()): {found}"
    unmarked = "{% extends 'email/_base.txt.j2' %}{% block body %}Dear {{ name }},{% endblock %}"
    assert _unmarked(unmarked) == (["Dear"], [])


GETTEXT_CALLS = frozenset({"gettext", "ngettext", "_"})


def _is_message(node: ast.AST) -> bool:
    """A translated message: ``gettext(...)``, or one filled with its values (``gettext(...) % {...}``)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        node = node.left
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT_CALLS


def _glued(source: str) -> list[int]:
    """Return the lines where a translated message is glued to other text with ``+`` or inside an f-string."""
    return [node.lineno for node in ast.walk(ast.parse(source)) if _glues(node)]  # type: ignore[attr-defined]


def _glues(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_message(node.left) or _is_message(node.right)
    if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
        return _is_message(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) and _is_message(part.value) for part in node.values)
    return False


# Where messages with values are made for e-mails, pages and feeds.
MESSAGE_SOURCES = ("engine/mail", "engine/web", "engine/calendars", "engine/read/escalation_review.py")


def test_no_translated_message_is_glued_to_other_text() -> None:
    """A sentence built around values is one message with placeholders; gluing translated pieces with ``+`` or an
    f-string fixes the English word order and punctuation in every language."""
    found = {}
    for place in MESSAGE_SOURCES:
        path = ROOT / place
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            lines = _glued(source.read_text(encoding="utf-8"))
            if lines:
                found[str(source.relative_to(ROOT))] = lines
    assert found == {}, f"translated messages glued to other text (use one message with %(name)s): {found}"


def test_the_glue_check_finds_glued_messages() -> None:
    glued = 'a = gettext(x, "Escalated") + f": {o}"\nb += ", " + gettext(x, "%(n)s times") % {"n": 2}\n'
    assert _glued(glued) == [1, 2]
    assert _glued("c = f\"{ngettext(x, 'a', 'b', n) % {}} late\"\n") == [1]
    assert _glued('d = gettext(x, "%(what)s: %(title)s") % {"what": w, "title": t}\n') == []


def test_no_page_chooses_a_style_by_the_words_it_shows() -> None:
    """A badge's colour follows a state value (``g.overdue``, ``alert_kind(w)``), never a test of the words shown,
    which change with the reader's language."""
    tests = re.compile(r"\.(startswith|endswith)\(|\bin\s+\w+\.\w*words\b")
    found = {
        path.name: tests.findall(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "templates").rglob("*.j2"))
        if tests.search(path.read_text(encoding="utf-8"))
    }
    assert found == {}, f"templates testing the words shown: {found}"


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=YEARLY", ["every year", "tous les ans", "cada año"]),
        ("FREQ=MONTHLY;INTERVAL=6", ["every six months", "tous les six mois", "cada seis meses"]),
        ("RRULE:FREQ=WEEKLY;INTERVAL=2", ["every two weeks", "toutes les deux semaines", "cada dos semanas"]),
        ("FREQ=MONTHLY;INTERVAL=18", ["every 18 months", "tous les 18 mois", "cada 18 meses"]),
        ("FREQ=YEARLY;BYMONTH=3", ["every year in March", "tous les ans en mars", "cada año en marzo"]),
        ("FREQ=HOURLY", ["FREQ=HOURLY"] * 3),  # a rule it cannot say is shown as it is
    ],
    ids=["yearly", "half-yearly", "fortnightly", "beyond-twelve", "in-a-month", "unsaid"],
)
def test_a_recurrence_rule_in_words(rule: str, words: list[str]) -> None:
    assert [recurrence(rule, lang) for lang in LANGUAGES] == words


def test_french_elides_de_and_que_before_a_value_beginning_with_a_vowel_or_a_mute_h() -> None:
    said = elide_values("Action relevant de Amélie Dubois", {"name": "Amélie Dubois"})
    assert said == "Action relevant d'Amélie Dubois"
    assert elide_values("Aide Amélie, et que Hélène", {"a": "Amélie", "h": "Hélène"}) == "Aide Amélie, et qu'Hélène"
    unchanged = "de I.1.3, de ONU, de Jean"
    assert elide_values(unchanged, {"r": "I.1.3", "o": "ONU", "j": "Jean", "n": 3}) == unchanged
    html = elide_values(Markup("de <b>x</b> de Hélène"), {"n": "Hélène"})
    assert isinstance(html, Markup) and html == Markup("de <b>x</b> d'Hélène")


def test_a_french_template_elides_its_sentences_values() -> None:
    env = install(Environment(autoescape=True), "fr")
    source = "{% trans name=n %}{{ name }}'s action{% endtrans %} | {{ _(\"%(name)s's action\", name=n) }}"
    page = env.from_string(source)
    assert page.render(n="Amélie Dubois") == "Action relevant d'Amélie Dubois | Action relevant d'Amélie Dubois"
    assert (
        install(Environment(), "es")
        .from_string("{% trans name=n %}{{ name }}'s action{% endtrans %}")
        .render(n="Amélie")
        .endswith("de Amélie")
    )
