"""Tests of ``engine.timeframe.words_fr``: French time frames of every kind, read with the English conventions."""

from __future__ import annotations

from datetime import date

import pytest

from engine.timeframe import parse
from engine.timeframe.languages import plain
from engine.timeframe.words_fr import MARKERS, MONTHS, PHRASES

REF = date(1999, 9, 28)
D = date.fromisoformat
YEARLY, TWO_YEARS, QUARTERLY = "FREQ=YEARLY", "FREQ=YEARLY;INTERVAL=2", "FREQ=MONTHLY;INTERVAL=3"

# (phrase, kind, start, due, rrule), read against the example plan's date 1999-09-28
CASES = [
    ("D'ici juin 2000", "deadline", None, "2000-06-30", None),
    ("d’ici juin 2000", "deadline", None, "2000-06-30", None),
    ("Au plus tard le 30 avril 2000", "deadline", None, "2000-04-30", None),
    ("au plus tard en mars 2000", "deadline", None, "2000-03-31", None),
    ("Fin 2000", "deadline", None, "2000-12-31", None),
    ("Achevé d'ici fin 2000", "deadline", None, "2000-12-31", None),
    ("Jusqu'à fin 2000", "deadline", None, "2000-12-31", None),
    ("jusqu'en juin 2000", "deadline", None, "2000-06-30", None),
    ("Avant la fin de 2000", "deadline", None, "2000-12-31", None),
    ("D'ici septembre", "deadline", None, "2000-09-30", None),
    ("Mi-2000", "deadline", None, "2000-06-30", None),
    ("Début 2001", "deadline", None, "2001-04-30", None),
    ("fevrier 2000", "deadline", None, "2000-02-29", None),
    ("Mai 2000", "deadline", None, "2000-05-31", None),
    ("Le 1er avril 2000", "deadline", None, "2000-04-01", None),
    ("30/04/2000", "deadline", None, "2000-04-30", None),
    ("30.4.2000", "deadline", None, "2000-04-30", None),
    ("À partir de janvier 2000", "start", "2000-01-01", None, None),
    ("a partir de 2000", "start", "2000-01-01", None, None),
    ("Dès janvier 2000", "start", "2000-01-01", None, None),
    ("À compter du 1er juillet 2000", "start", "2000-07-01", None, None),
    ("Commencer immédiatement", "start", "1999-09-28", None, None),
    ("De janvier à juin 2000", "window", "2000-01-01", "2000-06-30", None),
    ("Du 1er janvier au 30 juin 2000", "window", "2000-01-01", "2000-06-30", None),
    ("Entre janvier et juin 2000", "window", "2000-01-01", "2000-06-30", None),
    ("novembre 2017 à septembre 2018", "window", "2017-11-01", "2018-09-30", None),
    ("18 – 23 novembre 2009", "window", "2009-11-18", "2009-11-23", None),
    ("Exercice biennal 2002-2003", "window", "2002-01-01", "2003-12-31", None),
    ("biennium 2002-03", "window", "2002-01-01", "2003-12-31", None),
    ("Premier semestre 2000", "deadline", None, "2000-06-30", None),
    ("Second semestre 2000", "deadline", None, "2000-12-31", None),
    ("2e semestre 2000", "deadline", None, "2000-12-31", None),
    ("Premier trimestre 2001", "deadline", None, "2001-03-31", None),
    ("Troisième trimestre 2000", "deadline", None, "2000-09-30", None),
    ("Exercice 2000", "deadline", None, "2000-12-31", None),
    ("Dans un délai de six mois", "deadline", None, "2000-03-28", None),
    ("Annuellement", "recurring", None, None, YEARLY),
    ("Tous les deux ans", "recurring", None, None, TWO_YEARS),
    ("Trimestriellement", "recurring", None, None, QUARTERLY),
    ("Deux fois par an", "recurring", None, None, "FREQ=MONTHLY;INTERVAL=6"),
    ("Annuellement ou au moins tous les deux ans", "recurring", None, None, YEARLY),
    ("Chaque année en octobre", "recurring", None, None, "FREQ=YEARLY;BYMONTH=10"),
    ("Périodiquement", "recurring", None, None, None),
    ("En continu", "continuous", None, None, None),
    ("En permanence", "continuous", None, None, None),
    ("En cours", "continuous", None, None, None),
    ("Commencé, à poursuivre", "continuous", None, None, None),
    ("Lié à l'examen de la structure extérieure", "event", None, None, None),
    ("Lors de la prochaine session du Conseil d'administration", "event", None, None, None),
    ("Selon les besoins", "unscheduled", None, None, None),
    ("Sans objet", "unscheduled", None, None, None),
    ("À déterminer", "unscheduled", None, None, None),
]


@pytest.mark.parametrize(("text", "kind", "start", "due", "rrule"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_french_time_frame(
    text: str, kind: str, start: str | None, due: str | None, rrule: str | None
) -> None:
    s = parse(text, REF, language="fr")
    assert (s.kind, s.start, s.due, s.rrule) == (kind, start and D(start), due and D(due), rrule)
    guessed = parse(text, REF)
    assert (guessed.kind, guessed.start, guessed.due, guessed.rrule) == (s.kind, s.start, s.due, s.rrule)


def test_quarters_and_halves_may_be_written_t1_and_s1() -> None:
    assert parse("T2 2000", REF, language="fr").due == date(2000, 6, 30)
    assert parse("S2 2000", REF, language="fr").due == date(2000, 12, 31)


def test_accents_may_be_left_out() -> None:
    for with_accents, without in (
        ("Achevé d'ici février 2000", "Acheve d'ici fevrier 2000"),
        ("Août 2000", "aout 2000"),
    ):
        assert parse(with_accents, REF, language="fr").due == parse(without, REF, language="fr").due is not None


def test_the_looser_bound_of_a_rhythm_is_kept_in_the_reason() -> None:
    s = parse("Annuellement ou au moins tous les deux ans", REF, language="fr")
    assert "the looser bound 'tous les deux ans' (FREQ=YEARLY;INTERVAL=2)" in s.reason


def test_rhythm_words_after_a_noun_qualify_it() -> None:
    s = parse("À partir de mars 2000 pour les rapports annuels", REF, language="fr")
    assert (s.kind, s.start, s.rrule) == ("start", date(2000, 3, 1), None)
    assert parse("Rapport annuel", REF, language="fr").rrule == YEARLY


def test_the_vocabulary_is_written_without_accents_in_lower_case() -> None:
    for key in (*PHRASES, *MARKERS):
        assert key.partition(" <")[0] == plain(key.partition(" <")[0]), key
        assert key == key.strip() and "  " not in key, key
    months = "january february march april may june july august september october november december jan feb apr jul dec"
    assert set(MONTHS.values()) <= set(months.split())
