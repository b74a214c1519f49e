"""``planwatch timeframe --lang``: French and Spanish phrases from the command line."""

from __future__ import annotations

import json

from tests.cli.commands.test_plan import planwatch


def test_timeframe_reads_a_french_phrase_when_told_its_language() -> None:
    out = planwatch("timeframe", "Premier semestre 2000", "--ref", "1999-09-28", "--lang", "fr", "--json")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert (obj["text"], obj["kind"], obj["due"], obj["needs_review"]) == (
        "Premier semestre 2000",
        "deadline",
        "2000-06-30",
        False,
    )


def test_timeframe_guesses_the_language_of_each_phrase_without_lang() -> None:
    phrases = ["Para junio de 2000", "Annuellement ou au moins tous les deux ans", "By June 2000"]
    out = planwatch("timeframe", "--ref", "1999-09-28", "--json", stdin="\n".join(phrases) + "\n")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["kind"], r["due"], r["rrule"]) for r in rows] == [
        ("deadline", "2000-06-30", None),
        ("recurring", None, "FREQ=YEARLY"),
        ("deadline", "2000-06-30", None),
    ]


def test_timeframe_with_an_unknown_language_is_a_usage_error() -> None:
    out = planwatch("timeframe", "Bis Juni 2000", "--ref", "1999-09-28", "--lang", "de")
    assert out.returncode == 2
    assert out.stderr.strip() == "planwatch: --lang: expected en, fr or es, got 'de'"
    assert out.stdout == ""
