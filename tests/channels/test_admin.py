"""The administrator's second route: a real SMTP server, a sendmail program, a webhook on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import stat
import sys
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from engine.channels.admin import Alert, admin_route
from engine.settings import Settings

from ..smtpserver import Recorder, free_port, smtp_server

ALERT = Alert("pause", "planwatch: no e-mail can go out", "Since 2000-03-17 20:00 UTC, the mail server refuses us.")


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP server on 127.0.0.1 that keeps the JSON bodies POSTed to it."""
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", bodies
    server.shutdown()
    server.server_close()


def fake_sendmail(folder: Path) -> Path:
    """A sendmail program (a Python script) that keeps its arguments and the message it reads."""
    program = folder / "sendmail"
    program.write_text(
        f"#!{sys.executable}\n"
        "import sys, pathlib\n"
        f"pathlib.Path({str(folder / 'args')!r}).write_text(' '.join(sys.argv[1:]))\n"
        f"pathlib.Path({str(folder / 'message')!r}).write_bytes(sys.stdin.buffer.read())\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program


def test_no_route_configured_is_none() -> None:
    assert admin_route(Settings(admin_email="ops@example.org")) is None


def test_every_configured_route_carries_the_alert(tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]]) -> None:
    url, bodies = webhook
    recorder = Recorder()
    with smtp_server(recorder) as port:
        route = admin_route(
            Settings(
                admin_email="ops@example.org",
                admin_smtp_url=f"smtp://127.0.0.1:{port}?timeout=5",
                admin_sendmail=str(fake_sendmail(tmp_path)),
                admin_webhook=url,
            )
        )
        assert route is not None
        assert route.tell(ALERT) == ["smtp", "sendmail", "webhook"]
    (received,) = recorder.received
    assert received.rcpt_tos == ["ops@example.org"] and str(received.message["Subject"]) == ALERT.subject
    assert "refuses us" in received.message.get_content()
    assert (tmp_path / "args").read_text() == "-t -oi"
    piped = message_from_bytes((tmp_path / "message").read_bytes())
    assert piped["To"] == "ops@example.org" and piped["Subject"] == ALERT.subject
    assert bodies == [{"subject": ALERT.subject, "text": f"{ALERT.subject}\n\n{ALERT.text}", "kind": "pause"}]


def test_a_route_that_fails_is_logged_and_the_others_still_carry_it(
    tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]], caplog: pytest.LogCaptureFixture
) -> None:
    url, bodies = webhook
    route = admin_route(
        Settings(
            admin_email="ops@example.org",
            admin_smtp_url=f"smtp://127.0.0.1:{free_port()}?timeout=2",  # nothing listens there
            admin_sendmail=str(tmp_path / "no-such-sendmail"),
            admin_webhook=url,
        )
    )
    assert route is not None
    with caplog.at_level(logging.ERROR, logger="planwatch.admin"):
        assert route.tell(ALERT) == ["webhook"]
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(said) == 2 and said[0].startswith("could not warn the administrator by smtp")
    assert said[1].startswith("could not warn the administrator by sendmail")
    assert len(bodies) == 1


def test_the_mail_routes_need_the_administrators_address(caplog: pytest.LogCaptureFixture) -> None:
    route = admin_route(Settings(admin_sendmail="/usr/sbin/sendmail"))
    assert route is not None
    with caplog.at_level(logging.ERROR, logger="planwatch.admin"):
        assert route.tell(ALERT) == []
    assert "PLANWATCH_ADMIN_EMAIL is not set" in caplog.text
