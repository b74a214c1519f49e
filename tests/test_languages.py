"""The working languages: days and numbers in words, the catalogs complete, and Jinja2 templates in each language."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2 import DictLoader, Environment

from engine.languages import (
    CATALOGS,
    DOMAIN,
    LANGUAGES,
    compile_catalog,
    day,
    install,
    language_of,
    language_problem,
    moment,
    month,
    number,
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
    assert moment(datetime(2000, 4, 30, 9, 5, tzinfo=UTC), "es") == "30 de abril de 2000, 09:05"
    assert [number(1234.5, lang) for lang in LANGUAGES] == ["1,234.5", "1\u202f234,5", "1.234,5"]


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
