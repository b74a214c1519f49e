"""E-mail templates from the user's folder render in Jinja2's immutable sandbox: Python's insides are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from engine.mail.render import Renderer, template_error
from engine.shipped import templates_folder

from ..read.test_report_templates import PAYLOADS


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("suffix", ["txt", "html"])
def test_a_users_email_template_reaching_for_pythons_insides_is_refused(
    tmp_path: Path, payload: str, suffix: str
) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / f"plain.{suffix}.j2").write_text(f"Hello\n{payload}\n")
    if suffix == "html":
        (tmp_path / "email" / "plain.txt.j2").write_text("{% block subject %}Hi{% endblock %}Hello\n")
    renderer = Renderer([tmp_path, templates_folder()])
    with pytest.raises(SecurityError) as refused:
        renderer.render("plain", {})
    said = template_error(refused.value, f"email/plain.{suffix}.j2")
    assert said.startswith(f"{tmp_path / 'email' / f'plain.{suffix}.j2'}:2: access to attribute ")
    assert said.endswith("is unsafe.") and "uid=" not in said


def test_a_users_email_template_cannot_change_the_context(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "plain.txt.j2").write_text("{{ people.append('mallory') }}\n")
    people = ["ann"]
    with pytest.raises(SecurityError):
        Renderer([tmp_path]).render("plain", {"people": people})
    assert people == ["ann"]
