"""Tests of ``engine.timeframe.languages``: French and Spanish phrases read through the grammar's English words.

The example plan's time frames, translated as the Governing Body's French and Spanish papers word
them (``data/parallel.yaml``), must read to the same schedules in the three languages.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from engine.timeframe import KINDS, LANGUAGES, Schedule, clear_caches, detect, detect_plan, parse, words_es, words_fr
from engine.timeframe.languages import (
    _DATE_WORDS,
    _GUESSES,
    _PLAIN,
    _PLAIN_BYTES,
    _PLAIN_WORDS,
    _SPACES,
    _SPACES_BYTES,
    _guess,
    _last_word,
    plain,
    to_english,
    translated,
    unaccented,
)

PARALLEL = Path(__file__).resolve().parent / "data" / "parallel.yaml"
REF = date(1999, 9, 28)  # the example plan's date


def _parallel() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = YAML(typ="safe").load(PARALLEL.read_text(encoding="utf-8"))
    return rows


def _read(text: str, language: str | None) -> tuple[str, date | None, date | None, str | None]:
    s = parse(text, REF, language=language)
    return s.kind, s.start, s.due, s.rrule


def test_the_parallel_file_holds_the_example_plans_cells_in_three_languages() -> None:
    rows = _parallel()
    assert len(rows) >= 40
    assert all(set(r) == {"en", "fr", "es"} and all(r.values()) for r in rows)
    assert len({r["en"] for r in rows}) == len(rows)
    plan = (Path(__file__).resolve().parents[2] / "plans" / "gb276-tc2-implementation-plan.txt").read_text()
    assert sum(r["en"] in plan for r in rows) >= 40  # the plan's own cells, not made-up phrases


@pytest.mark.parametrize("row", _parallel(), ids=lambda r: r["en"][:40])
def test_a_phrase_and_its_translations_read_to_the_same_schedule(row: dict[str, str]) -> None:
    english = _read(row["en"], "en")
    assert english[0] in KINDS
    assert _read(row["fr"], "fr") == english, row["fr"]
    assert _read(row["es"], "es") == english, row["es"]


@pytest.mark.parametrize("row", _parallel(), ids=lambda r: r["en"][:40])
def test_a_phrase_reads_the_same_when_its_language_is_guessed(row: dict[str, str]) -> None:
    for lang in LANGUAGES:
        assert _read(row[lang], None) == _read(row[lang], lang), row[lang]


def test_each_plan_of_the_parallel_file_is_recognised_as_its_language() -> None:
    rows = _parallel()
    assert {lang: detect_plan(r[lang] for r in rows) for lang in LANGUAGES} == {"en": "en", "fr": "fr", "es": "es"}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("By June 2000", "en"),
        ("Annually or at least biennially", "en"),
        ("Sept 2017-Aug 2018", "en"),
        ("Activities may continue", "en"),
        ("2000-03", "en"),
        ("D'ici juin 2000", "fr"),
        ("Achevé d'ici fin 2000", "fr"),
        ("Annuellement ou au moins tous les deux ans", "fr"),
        ("En continu", "fr"),
        ("Premier semestre 2000", "fr"),
        ("Para junio de 2000", "es"),
        ("Primer semestre de 2000", "es"),
        ("Anualmente o al menos cada dos años", "es"),
        ("De forma continua", "es"),
        ("Vinculado al examen de la estructura exterior", "es"),
        ("a mas tardar el 30 de abril de 2000", "es"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_the_language_of_a_phrase_is_guessed_from_its_words(text: str, language: str) -> None:
    assert detect(text) == language


def test_a_plan_with_no_marker_word_is_english() -> None:
    assert detect_plan(["2000-03", "30/04/2000", ""]) == "en"
    assert detect_plan([]) == "en"


def test_accents_are_dropped_one_letter_for_one() -> None:
    assert plain("Février, Año, ÉTÉ, à, ç, œuvre") == "fevrier, ano, ete, a, c, ouvre"
    assert len(plain("Achevé d’ici fin 2000")) == len("Achevé d’ici fin 2000")
    assert unaccented("achevé d’ici fin 2000") == plain("Achevé d’ici fin 2000") == "acheve d'ici fin 2000"


@pytest.mark.parametrize(
    ("text", "language", "english"),
    [
        ("d'ici fin 2000", "fr", "by end 2000"),
        ("au plus tard le 30 avril 2000", "fr", "no later than the 30 april 2000"),
        ("de janvier a juin 2000", "fr", "from january to june 2000"),
        ("le 1er avril 2000", "fr", "the 1st april 2000"),
        ("a partir de mars 2000 pour les rapports annuels", "fr", "starting from march 2000 for the rapports annuels"),
        ("un bilan annuel", "fr", "one bilan annually"),
        ("cada institucion debera mensualmente actualizar", "es", "every institucion debera every month actualizar"),
        ("la session de novembre 2000", "fr", "the session  november 2000"),
        ("a mas tardar el 30 de abril de 2000", "es", "no later than the 30  april  2000"),
        ("entre enero y junio de 2000", "es", "between january and june  2000"),
        ("del 1 de enero al 30 de junio de 2000", "es", "from 1  january to 30  june  2000"),
        ("en junio del ano 2016", "es", "in june  2016"),
    ],
)
def test_the_phrase_is_given_the_grammars_english_words(text: str, language: str, english: str) -> None:
    assert to_english(text, language).text == english


def test_every_position_of_the_english_words_leads_back_to_the_phrase() -> None:
    low = "vinculado al examen de la estructura exterior"
    english = to_english(low, "es")
    assert english.text == "linked to the review de the estructura exterior"
    at = english.text.index("review")
    assert low[english.back(at, keep=False) :] == "examen de la estructura exterior"
    assert low[english.back(at, keep=False) : english.back(at + len("review"), keep=False)] == "examen"
    inside = english.text.index("the review")  # within the words "vinculado al" stand for
    assert english.back(inside, keep=False) == len("vinculado al")
    assert english.back(inside, keep=True) == 0
    assert english.back(len(english.text), keep=False) == len(low)


def test_events_labels_and_reasons_quote_the_phrase_as_written() -> None:
    event = parse("Vinculado al examen de la estructura exterior", REF, language="es")
    assert event.event == "examen de la estructura exterior"
    first = parse("Premiers résultats d'ici septembre 2000", REF, language="fr")
    assert (first.due, first.reason) == (
        date(2000, 9, 30),
        "Read as a deadline on 2000-09-30 (the last day of 'septembre 2000').",
    )
    parts = parse("Premier rapport: juin 2000; rapport final: décembre 2000", REF, language="fr")
    assert parts.milestones[0].label == "Premier rapport"


def test_numeric_dates_in_french_and_spanish_are_day_first_without_doubt() -> None:
    english = parse("05/08/2004", REF, language="en")
    french = parse("05/08/2004", REF, language="fr")
    assert (english.due, english.needs_review) == (date(2004, 8, 5), True)
    assert (french.due, french.needs_review) == (date(2004, 8, 5), False)
    assert parse("30.4.2000", REF, language="es").due == date(2000, 4, 30)
    assert parse("12/31/2004", REF, language="fr").kind == "unscheduled"  # no 31st month


def test_an_unknown_language_is_guessed() -> None:
    by_june = ("deadline", None, date(2000, 6, 30), None)
    assert _read("D'ici juin 2000", "de") == _read("D'ici juin 2000", "fr") == by_june


def test_english_phrases_read_alike_told_or_guessed() -> None:
    for text in ("By end 2000", "Starting January 2000 and continuing", "Quarterly", "From 1 to 15 May 2001"):
        assert parse(text, REF) == parse(text, REF, language="en")


_VOCABULARY = """
    d'ici au plus tard le la de du des à a al el y et ou o en fin finales début mi- jusqu'à hasta
    janvier février juin août diciembre enero junio año años mois ans semestre trimestre
    premier primer segundo deuxième 1er 2e 39.º 1ᵉʳ tous les cada dos deux fois veces día
    annuellement anualmente trimestriellement semestral continu continua permanente lié vinculado
    2000 2002-03 30 31 0 13 30/04/2000 31.12.2000 29/02/2001 ( ) ; : , - -> / ' ’
"""
_WORDS = sorted(set(_VOCABULARY.split()))
_PHRASES = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(_WORDS), min_size=1, max_size=10).map(" ".join),
)
KEYS = ["text", "kind", "start", "due", "rrule", "milestones", "event", "needs_review", "reason"]


@settings(max_examples=300, deadline=None)
@given(
    text=_PHRASES,
    ref=st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)),
    language=st.sampled_from([*LANGUAGES, None]),
)
def test_parse_never_raises_in_any_language_and_keeps_the_schema(text: str, ref: date, language: str | None) -> None:
    s = parse(text, ref, language=language)
    data = s.as_json()
    assert list(data) == KEYS and data["text"] == text and data["kind"] in KINDS
    assert s.reason.endswith(".") and "internal error" not in s.reason
    if s.start and s.due:
        assert s.due >= s.start
    if s.rrule is not None:
        rrulestr(s.rrule, dtstart=datetime(2000, 1, 1, tzinfo=UTC))
    if s.kind in ("event", "unscheduled"):
        assert s.needs_review
    assert Schedule.from_json(json.loads(json.dumps(data))) == s


def test_words_that_announce_an_event_and_name_none_are_unscheduled() -> None:
    s = parse("SOUS RESERVE DES", date(2000, 1, 1))
    assert (s.kind, s.event, s.reason) == (
        "unscheduled",
        None,
        "Read as unscheduled: 'SOUS RESERVE DES' names no event.",
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab z09 ,.-'é٣²", max_size=14), st.integers(min_value=0, max_value=14))
def test_the_word_before_a_place_is_the_last_word_up_to_it(text: str, end: int) -> None:
    end = min(end, len(text))
    words = _PLAIN_WORDS.findall(text, 0, end)
    assert _last_word(text, end) == (words[-1] if words else "")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x2100), max_size=40))
def test_accents_and_spaces_are_dropped_through_bytes_as_through_the_tables(text: str) -> None:
    assert translated(text, _PLAIN_BYTES, _PLAIN) == text.translate(_PLAIN)
    assert translated(text, _SPACES_BYTES, _SPACES) == text.translate(_SPACES)


def test_the_english_months_are_those_the_vocabularies_give() -> None:
    months = {*words_fr.MONTHS.values(), *words_es.MONTHS.values()}
    assert months == _DATE_WORDS


def test_a_kept_guess_is_the_guess_made_afresh() -> None:
    clear_caches()
    phrases = ["D'ici fin 2000", "Para junio de 2001", "By end 2000", "Anualmente", "En cours"]
    first = [detect(text) for text in phrases]
    assert first == ["fr", "es", "en", "es", "fr"]
    assert [detect(text) for text in phrases] == first == [_guess(text) for text in phrases]
    for n in range(5000):
        detect(f"by {n}")
    assert 0 < len(_GUESSES) <= 4096
    clear_caches()
    assert not _GUESSES


def test_the_french_and_spanish_tables_are_built_only_when_a_phrase_needs_them() -> None:
    code = """
import sys
from datetime import date
from engine.timeframe import parse
from engine.timeframe.languages import _marks, _vocabulary_of
loaded = lambda: sorted(m for m in sys.modules if m.startswith("engine.timeframe.words_"))
told = parse("Completed by April 2000", date(1999, 9, 28), language="en")
print(loaded(), _marks.cache_info().currsize, _vocabulary_of.cache_info().currsize, told.due)
guessed = parse("Completed by April 2000", date(1999, 9, 28))
print(loaded(), _marks.cache_info().currsize, _vocabulary_of.cache_info().currsize, guessed.due)
french = parse("Achevé d'ici avril 2000", date(1999, 9, 28))
print(loaded(), _marks.cache_info().currsize, _vocabulary_of.cache_info().currsize, french.due)
"""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "[] 0 0 2000-04-30",  # an English plan loads no French or Spanish word
        "['engine.timeframe.words_es', 'engine.timeframe.words_fr'] 1 0 2000-04-30",  # guessing needs the markers
        "['engine.timeframe.words_es', 'engine.timeframe.words_fr'] 1 1 2000-04-30",  # French: its vocabulary
    ]
