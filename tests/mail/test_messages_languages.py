"""Golden e-mails in French and Spanish: every message kind, to the owner and to a supervisor, as its reader gets it
(subject, bodies, buttons, footer, dates and the calendar entry in the reader's language)."""

from __future__ import annotations

import os
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage

import pytest

from engine.mail.checks import SAMPLE_NOW, sample_message, standalone_row
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
    assert "Calendrier indiqué dans le plan : By March 2000" in ics.replace("\r\n ", "")


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
