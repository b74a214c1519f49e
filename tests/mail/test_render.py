"""Sandboxed rendering: escaping, the user's templates first, refreshing edited files, no reach into Python."""

from __future__ import annotations

import os
import re
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from jinja2 import TemplateNotFound, UndefinedError

from engine.mail.checks import check_templates, sample_facts, sample_message, sample_row
from engine.mail.messages import as_bytes
from engine.mail.render import MailIdentity, Renderer, one_line, template_error

from ..conftest import ROOT

TEMPLATES = ROOT / "templates"
IDENTITY = MailIdentity(
    sender="Plan Watch <planwatch@example.org>", base_url="https://plans.example.org/", secret_key="test-key"
)


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def build(row: dict, title: str = "Circulate the implementation plan", identity: MailIdentity = IDENTITY) -> bytes:  # type: ignore[type-arg]
    return as_bytes(sample_message(Renderer([TEMPLATES], identity), row, sample_facts(title)))


def test_html_is_escaped_and_text_keeps_the_title() -> None:
    msg = parse(build(sample_row("reminder", "reminder"), title="<script>alert(1)</script> & more"))
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<script>alert(1)</script> & more" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_user_template_overrides_the_shipped_one_file_by_file(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "reminder.html.j2").write_text("<p>{{ headline }} — our own look</p>\n")
    msg = parse(as_bytes(sample_message(Renderer([tmp_path, TEMPLATES]), sample_row("reminder", "reminder"))))
    assert (
        msg.get_body(("html",)).get_content().replace("\r\n", "\n")
        == "<p>Due in 7 days (31 March 2000) — our own look</p>\n"
    )  # type: ignore[union-attr]
    assert msg.get_body(("plain",)).get_content().startswith("Due in 7 days")  # type: ignore[union-attr]


def test_an_edited_template_is_read_again_at_the_next_refresh(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    own = tmp_path / "email" / "reminder.html.j2"
    own.write_text("<p>first</p>\n")
    renderer = Renderer([tmp_path, TEMPLATES])
    row = sample_row("reminder", "reminder")
    assert "first" in parse(as_bytes(sample_message(renderer, row))).get_body(("html",)).get_content()  # type: ignore[union-attr]
    own.write_text("<p>second</p>\n")
    os.utime(own, (own.stat().st_mtime + 5, own.stat().st_mtime + 5))
    assert renderer.refresh() and not renderer.refresh()
    assert "second" in parse(as_bytes(sample_message(renderer, row))).get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_a_template_can_neither_change_the_data_nor_reach_python_internals(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    bad = tmp_path / "email" / "checkin.txt.j2"
    bad.write_text(
        '{% extends "email/_base.txt.j2" %}{% block subject %}[{{ action.ref }}] x{% endblock %}\n'
        "{% block body %}\n{{ action.update({'title': 'changed'}) }}\n{% endblock %}\n"
    )
    [problem] = check_templates(Renderer([tmp_path, TEMPLATES]))
    assert problem.startswith(f"{bad}:3: ") and "unsafe" in problem
    bad.write_text(
        '{% extends "email/_base.txt.j2" %}{% block subject %}[{{ action.ref }}] x{% endblock %}\n'
        "{% block body %}\n{{ recipient.__class__.__mro__ }}\n{% endblock %}\n"
    )
    [problem] = check_templates(Renderer([tmp_path, TEMPLATES]))
    assert problem.startswith(f"{bad}:3: ")


def test_the_identity_reads_its_name_address_and_domain_from_the_sender() -> None:
    assert (IDENTITY.sender_name, IDENTITY.sender_address, IDENTITY.domain) == (
        "Plan Watch",
        "planwatch@example.org",
        "example.org",
    )
    bare = MailIdentity(sender="office@plans.example.net")
    assert (bare.sender_name, bare.domain) == ("planwatch", "plans.example.net")


def test_a_subject_is_one_line_whatever_the_template_writes(tmp_path: Path) -> None:
    assert one_line("a\r\nb\tc\u2028d   e") == "a b c d e"
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "note.txt.j2").write_text("{% block subject %}\n  Hello\n  {{ who }}\n{% endblock %}Body\n")
    rendered = Renderer([tmp_path]).render("note", {"who": "Zoë\r\nBcc: x@example.org"})
    assert rendered.subject == "Hello Zoë Bcc: x@example.org"
    assert rendered.text.endswith("Body\n") and rendered.html is None  # no HTML twin: a text-only message


def test_a_missing_variable_or_template_is_an_error_that_names_the_place(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    bad = tmp_path / "email" / "note.txt.j2"
    bad.write_text("{% block subject %}s{% endblock %}\nfirst\n{{ missing }}\n")
    renderer = Renderer([tmp_path])
    with pytest.raises(UndefinedError) as undefined:
        renderer.render("note", {})
    assert template_error(undefined.value, "fallback") == f"{bad}:3: 'missing' is undefined"
    with pytest.raises(TemplateNotFound) as absent:
        renderer.render("nothing", {})
    assert template_error(absent.value, "email/nothing") == "email/nothing: template not found: email/nothing.txt.j2"


def _every_message() -> list[tuple[str, int, EmailMessage]]:
    """Every shipped template rendered against each of its sample rows (owner, supervisor, plain address)."""
    from engine.mail.checks import sample_rows

    renderer = Renderer([TEMPLATES], IDENTITY)
    found = []
    for name in renderer.names():
        rows = list(sample_rows(name))
        if rows[0]["action_id"] is not None:
            rows.append(rows[3] | {"recipient": "committee@example.org", "recipient_id": None})
        for n, row in enumerate(rows):
            found.append((name, n, parse(as_bytes(sample_message(renderer, row)))))
    return found


def _bodies(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return text, html


def test_no_message_tells_anyone_to_run_a_command() -> None:
    for name, n, msg in _every_message():
        text, html = _bodies(msg)
        for body in (text, html):
            assert not re.search(r"`planwatch |<code>planwatch|\bplanwatch [a-z-]+ --", body), (name, n)


def test_people_are_named_never_shown_by_id() -> None:
    for name, n, msg in _every_message():
        for body in _bodies(msg):
            words = re.sub(r"https?://\S+", "", body)
            assert not re.search(r"\b(ed-devcoop|program)\b", words), (name, n)


def test_the_text_part_carries_the_details_the_html_part_shows() -> None:
    for name, n, msg in _every_message():
        text, html = _bodies(msg)
        for detail in ("Decentralization and field structure", "By March 2000", "Jonas Lindqvist"):
            if detail in html:
                assert detail in text, (name, n, detail)


def test_a_plain_address_gets_only_a_link_to_open_the_action() -> None:
    row = sample_row("escalation", "escalation", "supervisor") | {
        "recipient": "committee@example.org",
        "recipient_id": None,
    }
    text, html = _bodies(parse(build(row)))
    links = re.findall(r"https://plans\.example\.org/a/\S+/(\w+)", text)
    assert links == ["view"] and "after signing in" in text
    assert "/acknowledge" not in html and "/not_mine" not in html and "Open in planwatch" in html


def test_the_last_reminder_on_the_day_says_so_without_promising_another_date() -> None:
    msg = parse(build(sample_row("final_reminder", "reminder", date="2000-03-24", days_left=0)))
    text, html = _bodies(msg)
    assert text.splitlines()[0] == "Due today (24 March 2000): the last reminder."
    assert "before the date" not in text.splitlines()[0] and "Due today (24 March 2000): the last reminder." in html
    assert "Section: 1(a) Decentralization and field structure" in text


def test_line_breaks_in_a_title_make_no_lines_of_their_own() -> None:
    title = "Circulate the plan\nDear Jonas, ignore the above\r\nto field offices"
    for template, kind, role in (("reminder", "reminder", "owner"), ("escalation", "escalation", "supervisor")):
        msg = parse(build(sample_row(template, kind, role), title=title))
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Circulate the plan Dear Jonas, ignore the above to field offices" in text
        assert not any(line.startswith(("Dear Jonas, ignore", "to field offices")) for line in text.splitlines())
        assert "\n" not in str(msg["Subject"]) and str(msg["Subject"]).startswith("[I.1a.1] ")


def test_an_extended_action_shows_its_original_and_extended_dates_in_both_parts() -> None:
    from dataclasses import replace
    from datetime import date

    facts = sample_facts()
    facts = replace(facts, action=dict(facts.action) | {"extended_to": date(2000, 6, 30)})
    for template, kind, role in (("reminder", "reminder", "owner"), ("escalation", "escalation", "supervisor")):
        row = sample_row(template, kind, role, date="2000-06-30")
        msg = parse(as_bytes(sample_message(Renderer([TEMPLATES], IDENTITY), row, facts)))
        for body in _bodies(msg):
            assert "Due date extended from 31 March 2000 to 30 June 2000" in body, template
    plain = parse(build(sample_row("reminder", "reminder")))
    assert "extended" not in _bodies(plain)[0]


def test_a_deputy_is_told_whose_place_they_take_not_that_they_own_the_action() -> None:
    row = sample_row("reminder", "reminder", in_place_of="program") | {
        "recipient": "zora.deputy@example.org",
        "recipient_id": "zora",
    }
    for body in _bodies(parse(build(row))):
        assert "deputy while Jonas Lindqvist is away" in body
        assert "You receive this as its owner" not in body
    own = _bodies(parse(build(sample_row("reminder", "reminder"))))
    assert all("You receive this as its owner." in body and "deputy" not in body for body in own)


def test_a_supervisor_can_give_the_action_to_someone_else_from_the_escalation_the_owner_cannot() -> None:
    text, html = _bodies(parse(build(sample_row("escalation", "escalation", "supervisor"))))
    assert re.search(r"Give it to someone else: +https://plans\.example\.org/a/\S+/reassign", text)
    assert "/reassign" in html and "Give it to someone else" in html
    owner_text, owner_html = _bodies(parse(build(sample_row("overdue", "overdue", "owner"))))
    assert "/reassign" not in owner_text + owner_html and "/not_mine" in owner_text
