"""Tests of ``engine.timeframe.words_es``: Spanish time frames of every kind, read with the English conventions."""

from __future__ import annotations

from datetime import date

import pytest

from engine.timeframe import parse
from engine.timeframe.languages import plain
from engine.timeframe.words_es import MARKERS, MONTHS, PHRASES

REF = date(1999, 9, 28)
D = date.fromisoformat
YEARLY, TWO_YEARS, QUARTERLY = "FREQ=YEARLY", "FREQ=YEARLY;INTERVAL=2", "FREQ=MONTHLY;INTERVAL=3"

# (phrase, kind, start, due, rrule), read against the example plan's date 1999-09-28
CASES = [
    ("Para junio de 2000", "deadline", None, "2000-06-30", None),
    ("A más tardar el 30 de abril de 2000", "deadline", None, "2000-04-30", None),
    ("a mas tardar el 30 de abril de 2000", "deadline", None, "2000-04-30", None),
    ("Finales de 2000", "deadline", None, "2000-12-31", None),
    ("A finales de 2000", "deadline", None, "2000-12-31", None),
    ("Concluido para finales de 2000", "deadline", None, "2000-12-31", None),
    ("Antes de junio de 2000", "deadline", None, "2000-05-31", None),
    ("Antes de finales de 2000", "deadline", None, "2000-12-31", None),
    ("Hasta el 31 de diciembre de 2000", "deadline", None, "2000-12-31", None),
    ("Para septiembre", "deadline", None, "2000-09-30", None),
    ("Mediados de 2000", "deadline", None, "2000-06-30", None),
    ("Principios de 2001", "deadline", None, "2001-04-30", None),
    ("en junio del año 2016", "deadline", None, "2016-06-30", None),
    ("Mayo de 2000", "deadline", None, "2000-05-31", None),
    ("30/04/2000", "deadline", None, "2000-04-30", None),
    ("30.4.2000", "deadline", None, "2000-04-30", None),
    ("A partir de enero de 2000", "start", "2000-01-01", None, None),
    ("Desde el 1 de julio de 2000", "start", "2000-07-01", None, None),
    ("Comenzar de inmediato", "start", "1999-09-28", None, None),
    ("De enero a junio de 2000", "window", "2000-01-01", "2000-06-30", None),
    ("Entre enero y junio de 2000", "window", "2000-01-01", "2000-06-30", None),
    ("Del 1 de enero al 30 de junio de 2000", "window", "2000-01-01", "2000-06-30", None),
    ("del 27 al 29 de marzo del 2019", "window", "2019-03-27", "2019-03-29", None),
    ("Bienio 2002-2003", "window", "2002-01-01", "2003-12-31", None),
    ("durante los años 2000-2015", "window", "2000-01-01", "2015-12-31", None),
    ("Primer semestre de 2000", "deadline", None, "2000-06-30", None),
    ("Segundo semestre del 2000", "deadline", None, "2000-12-31", None),
    ("Primer trimestre de 2001", "deadline", None, "2001-03-31", None),
    ("Tercer trimestre de 2000", "deadline", None, "2000-09-30", None),
    ("Ejercicio 2000", "deadline", None, "2000-12-31", None),
    ("En un plazo de seis meses", "deadline", None, "2000-03-28", None),
    ("Dentro de seis meses", "deadline", None, "2000-03-28", None),
    ("Anualmente", "recurring", None, None, YEARLY),
    ("Cada dos años", "recurring", None, None, TWO_YEARS),
    ("Cada dos anos", "recurring", None, None, TWO_YEARS),
    ("Trimestralmente", "recurring", None, None, QUARTERLY),
    ("Semestral", "recurring", None, None, "FREQ=MONTHLY;INTERVAL=6"),
    ("Dos veces al año", "recurring", None, None, "FREQ=MONTHLY;INTERVAL=6"),
    ("Anualmente o al menos cada dos años", "recurring", None, None, YEARLY),
    ("Periódicamente", "recurring", None, None, None),
    ("De forma continua", "continuous", None, None, None),
    ("Permanente", "continuous", None, None, None),
    ("En curso", "continuous", None, None, None),
    ("Vinculado al examen de la estructura exterior", "event", None, None, None),
    ("En la próxima sesión del Consejo de Administración", "event", None, None, None),
    ("Según sea necesario", "unscheduled", None, None, None),
    ("No aplica", "unscheduled", None, None, None),
    ("Por determinar", "unscheduled", None, None, None),
]


@pytest.mark.parametrize(("text", "kind", "start", "due", "rrule"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_spanish_time_frame(
    text: str, kind: str, start: str | None, due: str | None, rrule: str | None
) -> None:
    s = parse(text, REF, language="es")
    assert (s.kind, s.start, s.due, s.rrule) == (kind, start and D(start), due and D(due), rrule)
    guessed = parse(text, REF)
    assert (guessed.kind, guessed.start, guessed.due, guessed.rrule) == (s.kind, s.start, s.due, s.rrule)


def test_accents_may_be_left_out() -> None:
    for with_accents, without in (("A más tardar en febrero de 2000", "a mas tardar en febrero de 2000"),):
        assert parse(with_accents, REF, language="es").due == parse(without, REF, language="es").due is not None


def test_ordinal_numbers_of_sessions_are_no_dates() -> None:
    text = "Mandato: desde el 1 de julio de 2016 hasta el final del 41.º período de sesiones de la Conferencia"
    s = parse(f"{text} (junio de 2019)", date(2017, 7, 8), language="es")
    assert (s.kind, s.start, s.due) == ("window", date(2016, 7, 1), date(2019, 6, 30))


def test_rhythm_words_after_a_noun_qualify_it() -> None:
    s = parse("A partir de marzo de 2000 para los informes anuales", REF, language="es")
    assert (s.kind, s.start, s.rrule) == ("start", date(2000, 3, 1), None)
    assert parse("Informe anual", REF, language="es").rrule == YEARLY


def test_the_vocabulary_is_written_without_accents_in_lower_case() -> None:
    for key in (*PHRASES, *MARKERS):
        assert key.partition(" <")[0] == plain(key.partition(" <")[0]), key
        assert key == key.strip() and "  " not in key, key
    months = "january february march april may june july august september october november december jan apr aug dec"
    assert set(MONTHS.values()) <= set(months.split())
