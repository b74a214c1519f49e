"""Logging set-up: one JSON object per line (UTC time, level, logger, message, known extras) or plain lines."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest

from engine.logs import JsonFormatter, configure


@pytest.fixture
def planwatch_logger() -> Iterator[logging.Logger]:
    """The ``planwatch`` logger, put back as it was afterwards."""
    logger = logging.getLogger("planwatch")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield logger
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("planwatch.tick", logging.WARNING, __file__, 1, message, args, None)
    record.created = 946_728_000.5  # 2000-01-01 12:00:00.5 UTC
    record.__dict__.update(extra)
    return record


def test_json_lines_carry_utc_time_level_logger_message_and_known_extras() -> None:
    record = _record("sent %d messages", 3, count=3, node="n1", elapsed_ms=12.5, password="secret")
    entry = json.loads(JsonFormatter().format(record))
    assert entry == {
        "time": "2000-01-01T12:00:00.500000Z",
        "level": "warning",
        "logger": "planwatch.tick",
        "message": "sent 3 messages",
        "node": "n1",
        "count": 3,
        "elapsed_ms": 12.5,
    }


def test_json_lines_carry_the_exception_and_keep_text_unescaped() -> None:
    try:
        raise RuntimeError("Zürich unreachable")
    except RuntimeError:
        record = _record("tick failed")
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line and "Zürich" in line
    entry = json.loads(line)
    assert entry["error"].startswith("Traceback") and entry["error"].endswith("RuntimeError: Zürich unreachable")


def test_configure_json_sends_one_object_a_line_to_stderr(
    planwatch_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(as_json=True, level=logging.DEBUG)
    logging.getLogger("planwatch.drive").debug("planned", extra={"action": "I.1a.1", "count": 2})
    logging.getLogger("planwatch.drive").debug("again")
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = [json.loads(line) for line in captured.err.splitlines()]
    assert [(e["message"], e.get("action"), e.get("count")) for e in lines] == [
        ("planned", "I.1a.1", 2),
        ("again", None, None),
    ]
    assert len(planwatch_logger.handlers) == 1 and planwatch_logger.propagate is False


def test_configure_plain_replaces_the_handler_and_honours_the_level(
    planwatch_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(as_json=True)
    configure(as_json=False, level=logging.WARNING)
    assert len(planwatch_logger.handlers) == 1
    logging.getLogger("planwatch.web").info("not shown")
    logging.getLogger("planwatch.web").warning("shown %s", "here")
    err = capsys.readouterr().err
    assert "not shown" not in err
    assert err.count("\n") == 1 and err.rstrip().endswith(" WARNING shown here")
    assert not err.startswith("{")
