"""Golden e-mails in French and Spanish: every message kind, to the owner and to a supervisor, as its reader gets it
(subject, bodies, buttons, footer, dates and the calendar entry in the reader's language)."""

from __future__ import annotations

import os
from dataclasses import replace
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage

import pytest

from engine.mail.checks import SAMPLE_NOW, sample_facts, sample_message, standalone_row
from engine.mail.messages import as_bytes
from engine.mail.render import Renderer

from .test_messages import GOLDEN, GOLDEN_CASES, IDENTITY, TEMPLATES, golden_row

LANGUAGES = ("fr", "es")
CASES = [(lang, name, variant) for lang in LANGUAGES for name, variant in GOLDEN_CASES]
RENDERER = Renderer([TEMPLATES], IDENTITY)


def language_row(name: str, variant: int, language: str) -> dict:  # type: ignore[type-arg]
    """The golden row of ``name`` whose reader reads ``language`` (a digest's items are made in it)."""
    row = (
        standalone_row(name, language) if golden_row(name, variant)["action_id"] is None else golden_row(name, variant)
    )
    return row | {"payload": row["payload"] | {"language": language}}


def rendered(name: str, variant: int, language: str) -> bytes:
    return as_bytes(sample_message(RENDERER, language_row(name, variant, language), now=SAMPLE_NOW))


@pytest.mark.parametrize(("language", "name", "variant"), CASES, ids=[f"{lang}/{n}-{v}" for lang, n, v in CASES])
def test_messages_in_french_and_spanish_match_their_golden_files(language: str, name: str, variant: int) -> None:
    """Byte for byte; after a deliberate change: PLANWATCH_UPDATE_GOLDEN=1 pytest tests/mail/test_messages_languages.py,
    then read each changed file as its recipient would."""
    raw = rendered(name, variant, language)
    path = GOLDEN / language / f"{name}-{variant}.eml"
    if os.environ.get("PLANWATCH_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(raw)
    assert raw == path.read_bytes()


def test_every_golden_file_in_each_language_is_checked() -> None:
    for language in LANGUAGES:
        found = sorted(p.name for p in (GOLDEN / language).glob("*.eml"))
        assert found == sorted(f"{n}-{v}.eml" for n, v in GOLDEN_CASES)


def _text(raw: bytes) -> tuple[str, str, str]:
    msg = message_from_bytes(raw, policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    return str(msg["Subject"]), plain.get_content(), html.get_content()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ["Bonjour Jonas Lindqvist,", "Échéance dans 7 jours (31 mars 2000)", "Marquer comme réalisée"]),
        (
            "es",
            ["Estimado/a Jonas Lindqvist:", "Vence dentro de 7 días (31 de marzo de 2000)", "Marcar como realizada"],
        ),
    ],
)
def test_a_reminder_reads_in_its_readers_language_with_no_english_left(language: str, words: list[str]) -> None:
    _, text, html = _text(rendered("reminder", 0, language))
    for word in words:
        assert word in text and word in html.replace("&#39;", "'")
    english = [
        "Dear ",
        "Mark done",
        "Report progress",
        "notification preferences",
        "Time frame in the plan",
        " is due on ",
    ]
    assert not [w for w in english if w in text or w in html]
    assert f'<html lang="{language}">' in html


def test_the_calendar_entry_of_a_french_reminder_is_in_french() -> None:
    msg = message_from_bytes(rendered("reminder", 0, "fr"), policy=email_policy.default)
    ics = next(p for p in msg.walk() if p.get_content_type() == "text/calendar").get_content()
    assert "SUMMARY:[I.1a.1] Échéance : Circulate the implementation plan" in ics
    assert "Délai indiqué dans le plan : By March 2000" in ics.replace("\r\n ", "")


def test_an_escalation_in_spanish_names_the_history_and_updates_in_spanish() -> None:
    subject, text, _html = _text(rendered("escalation", 1, "es"))
    assert subject == "[I.1a.1] Escalamiento: Circulate the implementation plan to all field offices"
    assert "Acción I.1a.1 a cargo de Jonas Lindqvist: 12 días de retraso (fecha límite: 12 de marzo de 2000)." in text
    assert "1 de marzo de 2000: recordatorio a Jonas Lindqvist (Vence dentro de 30 días (31 de marzo de 2000))" in text
    assert "15 de marzo de 2000, Jonas Lindqvist: en riesgo, completada al 60 %" in text


def test_a_french_digest_groups_its_items_under_french_headings() -> None:
    subject, text, html = _text(rendered("digest", 0, "fr"))
    text = text.replace("\r\n", "\n")
    assert subject == "Récapitulatif quotidien planwatch pour Jonas Lindqvist"
    assert "\nEn retard\n- [I.1a.1] 3 jours de retard (échéance : 21 mars 2000)" in text
    assert "\nPartie II : Practice\n" in text
    assert 'color:#b42318;">En retard</h3>' in html


def test_french_mails_quote_elide_and_space_as_french_does() -> None:
    _, returned, returned_html = _text(rendered("closure_returned", 0, "fr"))
    assert "«\u00a0Please attach the letter as it was sent.\u00a0»" in returned and "“" not in returned
    assert "«\u00a0Please attach the letter as it was sent.\u00a0»</blockquote>" in returned_html
    _, escalation, _ = _text(rendered("escalation", 0, "fr"))
    assert "\nI.1a.1 : Circulate the implementation plan" in escalation  # a space before the colon
    assert "1er mars 2000 : rappel — destinataire : Jonas Lindqvist" in escalation  # no "à Jonas", the 1st as 1er
    assert "Jonas Lindqvist : à risque, réalisée à 60 % : «\u00a0Sent to 30" in escalation
    _, digest, digest_html = _text(rendered("digest", 0, "fr"))
    assert "  Marquer comme réalisée : https://" in digest and "réalisée : https://" not in digest.replace(
        "Marquer comme réalisée", ""
    )
    assert ">Marquer comme réalisée</a> · <a " in digest_html and ">Signaler l'avancement</a>" in digest_html
    _, spanish, _ = _text(rendered("closure_returned", 0, "es"))
    assert "«Please attach the letter as it was sent.»" in spanish


def test_a_plan_without_a_symbol_is_called_by_its_title() -> None:
    row = language_row("reminder", 0, "es")
    facts = sample_facts()
    facts = replace(facts, plan=facts.plan | {"symbol": "", "title": "Plan de acción 2027"})
    _, text, html = _text(as_bytes(sample_message(RENDERER, row, facts, now=SAMPLE_NOW)))
    text = text.replace("\r\n", "\n")
    assert "de la acción I.1a.1 del plan «Plan de acción 2027» es el" in text and "  " not in text.split("\n")[2]
    assert "\nPlan de acción 2027\n" in text  # the footer: no empty symbol before the title
    assert "del plan «Plan de acción 2027»" in html


def test_a_french_name_beginning_with_a_vowel_is_elided() -> None:
    from engine.languages import elide

    assert elide("Action I.2.4 relevant de Amélie Dubois", "fr") == "Action I.2.4 relevant d'Amélie Dubois"
    assert elide("remontée de Hélène Moreau", "fr") == "remontée d'Hélène Moreau"
    assert (
        elide("de Jean-Pierre, de I.1.3, de ONU, de haut niveau", "fr")
        == "de Jean-Pierre, de I.1.3, de ONU, de haut niveau"
    )
    assert elide("de Amélie", "es") == "de Amélie"


def test_the_occurrence_a_returned_report_is_about_is_a_day_in_words() -> None:
    row = language_row("closure_returned", 0, "fr")
    row = row | {"payload": row["payload"] | {"reported_occurrence": "2026-10-31"}}
    _, text, html = _text(as_bytes(sample_message(RENDERER, row, now=SAMPLE_NOW)))
    assert "(échéance du 31 octobre 2026)" in text and "2026-10-31" not in text and "2026-10-31" not in html


def test_an_action_without_a_due_date_is_offered_no_extension() -> None:
    facts = sample_facts()
    facts = replace(facts, action=facts.action | {"kind": "start", "due": None, "extended_to": None})
    _, text, html = _text(as_bytes(sample_message(RENDERER, language_row("checkin", 0, "es"), facts, now=SAMPLE_NOW)))
    assert "Solicitar una prórroga" not in text and "Solicitar una prórroga" not in html
    assert "Informar del avance" in text  # the other buttons stay
    _, with_due, _ = _text(rendered("checkin", 0, "es"))
    assert "Solicitar una prórroga" in with_due
