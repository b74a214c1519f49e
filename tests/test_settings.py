"""Settings from ``PLANWATCH_*`` variables and flags; bad numbers are input errors; template folders in order."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.settings import DEFAULT_DATABASE_URL, Settings, template_folders
from engine.shipped import templates_folder


def test_an_empty_environment_gives_the_defaults() -> None:
    settings = Settings.from_environ({})
    assert settings == Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///planwatch.db"
    assert (settings.rules_dir, settings.user_templates_dir, settings.smtp_rate) == (Path("rules"), None, 0)
    with pytest.raises(FrozenInstanceError):
        settings.debug = True  # type: ignore[misc]


def test_variables_are_read_and_flags_win_over_them() -> None:
    environ = {
        "PLANWATCH_DATABASE_URL": "sqlite:///env.db",
        "PLANWATCH_USER_TEMPLATES": "mine",
        "PLANWATCH_DEBUG": "1",
        "PLANWATCH_SMTP_RATE": "30",
        "PLANWATCH_SESSION_SECONDS": "90.5",
        "PLANWATCH_SECRET_KEY": "k" * 40,
        "PLANWATCH_RULES_DIR": "",  # empty counts as not set
    }
    settings = Settings.from_environ(environ, database_url="sqlite:///flag.db", rules_dir=None)
    assert settings.database_url == "sqlite:///flag.db"
    assert settings.rules_dir == Path("rules")
    assert settings.user_templates_dir == Path("mine")
    assert (settings.debug, settings.smtp_rate, settings.session_seconds) == (True, 30, 90.5)
    assert "k" * 40 not in repr(settings)  # the secret stays out of logs
    for off in ("", "0", "false"):
        assert Settings.from_environ({"PLANWATCH_DEBUG": off}).debug is False


def test_negative_numbers_count_as_zero() -> None:
    settings = Settings.from_environ({"PLANWATCH_SMTP_RATE": "-5", "PLANWATCH_FEED_CACHE_SECONDS": "-1"})
    assert (settings.smtp_rate, settings.feed_cache_seconds) == (0, 0.0)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PLANWATCH_SMTP_RATE", "fast", "PLANWATCH_SMTP_RATE: expected a whole number of messages per minute"),
        ("PLANWATCH_SIGNIN_MAILS_PER_HOUR", "2.5", "expected a whole number of sign-in links an hour, got '2.5'"),
        ("PLANWATCH_SIGNIN_LINK_SECONDS", "1h", "PLANWATCH_SIGNIN_LINK_SECONDS: expected a number of seconds, got"),
    ],
)
def test_a_bad_number_is_an_input_error_naming_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        Settings.from_environ({name: value})
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


def test_evidence_goes_to_the_database_unless_a_folder_is_named() -> None:
    assert (Settings().evidence_dir, Settings().evidence_max_bytes) == (None, 10 * 1024 * 1024)
    named = Settings.from_environ({"PLANWATCH_EVIDENCE_DIR": "/srv/evidence", "PLANWATCH_EVIDENCE_MAX_BYTES": "2048"})
    assert (named.evidence_dir, named.evidence_max_bytes) == (Path("/srv/evidence"), 2048)
    with pytest.raises(InputError, match="PLANWATCH_EVIDENCE_MAX_BYTES: expected a whole number of bytes, got '10MB'"):
        Settings.from_environ({"PLANWATCH_EVIDENCE_MAX_BYTES": "10MB"})


def test_template_folders_put_the_users_first_and_the_shipped_ones_last(tmp_path: Path) -> None:
    settings = Settings(templates_dir=tmp_path / "templates", user_templates_dir=tmp_path / "mine")
    assert template_folders(settings) == [tmp_path / "mine", tmp_path / "templates", templates_folder()]
    shipped_only = Settings(templates_dir=templates_folder())
    assert template_folders(shipped_only) == [templates_folder()]  # not listed twice
