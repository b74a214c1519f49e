"""SMTP delivery against a real aiosmtpd server on 127.0.0.1 (never a mock of smtplib).

The outbox is filled by the real planner from the small test plan; the clock is a parameter.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import trustme
from icalendar import Calendar
from sqlalchemy import Engine, event, select, update

from engine.actions.workflow import enqueue_extension_granted
from engine.channels import DeliveryError, MemoryChannel, NullChannel
from engine.channels.pipeline import SENT
from engine.channels.smtp import SmtpChannel, SmtpConfig, parse_smtp_url
from engine.drive.delivery import read_pause
from engine.drive.dispatch import DispatchStats, _Batch, _Tally, dispatch
from engine.drive.planning import plan_due
from engine.drive.simulate import start_cursors
from engine.errors import InputError
from engine.importing import import_paths
from engine.mail.checks import sample_message, sample_row
from engine.mail.messages import message_id
from engine.mail.render import MailIdentity, Renderer
from engine.outbox import claim_due, enqueue
from engine.rules.loader import RuleSet, load_rules
from engine.settings import Settings
from engine.store import make_engine, upgrade
from engine.store.models import Action, Outbox, Owner
from engine.store.tables import ACTION_CHANGE

from ..conftest import ROOT
from ..smtpserver import Authenticator, Recorder, free_port, smtp_server, tls_server_context

DATA = Path(__file__).parent.parent / "data"
T0 = datetime(2000, 1, 3, 12, tzinfo=UTC)
SETTLED = datetime(2000, 3, 16, 12, 0, tzinfo=UTC)
REMINDERS_DUE = datetime(
    2000, 3, 17, 20, 0, tzinfo=UTC
)  # the three 14-day reminders (and nothing else) are due by then
IDENTITY = MailIdentity(
    sender="planwatch <planwatch@example.org>",
    base_url="https://plans.example.org",
    secret_key="test-key",
    admin_email="admin@example.org",
)
OUT = Outbox.__table__  # type: ignore[attr-defined]


class World:
    """The small plan in a fresh database, with a renderer that knows the administrator."""

    def __init__(self, engine: Engine, rules: RuleSet) -> None:
        self.engine, self.rules = engine, rules
        self.renderer = Renderer([ROOT / "templates"], IDENTITY)
        self.planned_to: datetime | None = None

    def plan(self, at: datetime) -> None:
        """Plan up to ``at`` as a running service does, hour by hour from the last time planned: each message is
        then planned on time (planned hours late, it would wait for the recipient's next working morning)."""
        step = self.planned_to + timedelta(hours=1) if self.planned_to is not None else at
        while step < at:
            plan_due(self.engine, self.rules, step)
            step += timedelta(hours=1)
        plan_due(self.engine, self.rules, at)
        self.planned_to = max(at, self.planned_to or at)

    def rows(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(OUT).order_by(OUT.c.due_at, OUT.c.key)).mappings())

    def row(self, who: str, step: str = "remind:due:14d") -> Any:
        return next(r for r in self.rows() if r["recipient_id"] == who and r["step"] == step)

    def dispatch(self, channel: Any, at: datetime) -> Any:
        return dispatch(self.engine, channel, self.renderer, at)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(
        database_url=database_url, rules_dir=DATA / "rules", templates_dir=ROOT / "templates", maildir=tmp_path / "mail"
    )
    import_paths(engine, [DATA / "small-owners.yaml", DATA / "small-plan.yaml"], settings, T0)
    start_cursors(engine, T0)
    made = World(engine, load_rules(DATA / "rules"))
    made.plan(SETTLED)
    made.dispatch(NullChannel(), SETTLED)  # what fell due before the tests' day is out of the way
    yield made
    engine.dispose()


def plain(port: int, **kwargs: Any) -> SmtpChannel:
    return SmtpChannel(SmtpConfig("127.0.0.1", port, security="none", timeout=5), **kwargs)


def test_a_batch_goes_over_one_connection_and_parses_back(world: World) -> None:
    world.plan(REMINDERS_DUE)
    recorder = Recorder()
    with smtp_server(recorder) as port:
        channel = plain(port)
        stats = world.dispatch(channel, REMINDERS_DUE)
    assert (stats.sent, stats.failed, stats.retried) == (3, 0, 0)
    assert recorder.connections == 1 and channel.connections == 1
    assert sorted(r.rcpt_tos[0] for r in recorder.received) == [
        "boon@example.org",
        "luz@example.org",
        "zora@example.org",
    ]
    assert {r.mail_from for r in recorder.received} == {"planwatch@example.org"}  # bounces come back to the sender
    zora = next(r.message for r in recorder.received if r.rcpt_tos == ["zora@example.org"])
    assert str(zora["Subject"]) == "[I.1.1] Zurich deadline"
    assert zora["Message-ID"] == world.row("zora")["message_id"]
    for name in (
        "In-Reply-To",
        "References",
        "Thread-Topic",
        "Thread-Index",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
    ):
        assert zora[name], name
    assert zora.get_body(("plain",)).get_content().splitlines()[0] == "Due in 14 days (31 March 2000)"  # type: ignore[union-attr]
    calendar = Calendar.from_ical(next(zora.iter_attachments()).get_content())
    assert str(calendar.walk("VEVENT")[0]["UID"]) == "small-i.1.1-due-2000-03-31@planwatch"


def test_starttls_and_authentication(world: World) -> None:
    world.plan(REMINDERS_DUE)
    ca, recorder = trustme.CA(), Recorder()
    server = {
        "tls_context": tls_server_context(ca),
        "require_starttls": True,
        "auth_required": True,
        "authenticator": Authenticator("planwatch", "s3cret"),
    }
    with smtp_server(recorder, **server) as port:
        client = trustme_client(ca)
        config = parse_smtp_url(f"smtp://planwatch:s3cret@127.0.0.1:{port}?starttls=true&timeout=5")
        stats = world.dispatch(SmtpChannel(config, ssl_context=client), REMINDERS_DUE)
    assert stats.sent == 3
    assert all(r.tls and r.login == "planwatch" for r in recorder.received)


def trustme_client(ca: trustme.CA) -> Any:
    import ssl

    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_refused_authentication_pauses_the_queue_marks_nothing_and_tells_the_admin(world: World) -> None:
    world.plan(REMINDERS_DUE)
    ca, recorder = trustme.CA(), Recorder()
    server = {
        "tls_context": tls_server_context(ca),
        "require_starttls": True,
        "auth_required": True,
        "authenticator": Authenticator("planwatch", "s3cret"),
    }
    with smtp_server(recorder, **server) as port:
        wrong = SmtpChannel(
            parse_smtp_url(f"smtp://planwatch:wrong@127.0.0.1:{port}?timeout=5"), ssl_context=trustme_client(ca)
        )
        stats = world.dispatch(wrong, REMINDERS_DUE)
        assert stats.paused.startswith("535") and stats.sent == stats.failed == stats.retried == 0
        assert all((r["status"], r["attempts"]) == ("pending", 0) for r in world.rows() if r["type"] == "reminder")
        with world.engine.connect() as conn:
            pause = read_pause(conn)
        assert pause is not None and pause.kind == "config"
        tries = recorder.connections
        again = world.dispatch(wrong, REMINDERS_DUE + timedelta(minutes=1))
        assert again.paused and recorder.connections == tries  # paused: the server is left alone
        right = SmtpChannel(
            parse_smtp_url(f"smtp://planwatch:s3cret@127.0.0.1:{port}?timeout=5"), ssl_context=trustme_client(ca)
        )
        fixed = world.dispatch(right, REMINDERS_DUE + timedelta(minutes=16))
        assert fixed.sent == 3 and not fixed.paused
        with world.engine.connect() as conn:
            assert read_pause(conn) is None
        report = next(r for r in world.rows() if r["type"] == "report")
        assert report["recipient"] == "admin@example.org" and report["due_at"] == datetime(2000, 3, 18, 9, tzinfo=UTC)
        world.dispatch(right, datetime(2000, 3, 18, 9, tzinfo=UTC))
    told = next(r.message for r in recorder.received if r.rcpt_tos == ["admin@example.org"])
    assert str(told["Subject"]) == "planwatch delivery report"
    assert "535" in told.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_an_untrusted_certificate_pauses_the_queue(world: World) -> None:
    world.plan(REMINDERS_DUE)
    ca = trustme.CA()
    with smtp_server(Recorder(), tls_context=tls_server_context(ca), require_starttls=True) as port:
        stats = world.dispatch(
            SmtpChannel(parse_smtp_url(f"smtp://127.0.0.1:{port}?starttls=true&timeout=5")), REMINDERS_DUE
        )
    assert stats.paused.startswith("TLS:") and "certificate" in stats.paused.lower()
    assert {r["status"] for r in world.rows() if r["type"] == "reminder"} == {"pending"}


def test_451_then_250_is_retried_later_and_delivered_once(world: World) -> None:
    world.plan(REMINDERS_DUE)
    recorder = Recorder(defer_first=True)
    with smtp_server(recorder) as port:
        first = world.dispatch(plain(port), REMINDERS_DUE)
        assert (first.sent, first.retried) == (0, 3)
        row = world.row("zora")
        assert row["last_error"] == "451 4.3.0 Mailbox busy, try again later" and row["attempts"] == 1
        wait = row["next_attempt_at"] - REMINDERS_DUE
        assert timedelta(seconds=48) <= wait <= timedelta(seconds=72)  # about a minute, with jitter
        assert world.dispatch(plain(port), REMINDERS_DUE + timedelta(seconds=30)).sent == 0
        later = world.dispatch(plain(port), REMINDERS_DUE + timedelta(minutes=2))
    assert later.sent == 3
    assert len(recorder.received) == 3 and len(set(recorder.message_ids())) == 3
    assert all(t == 2 for t in recorder.tries.values())
    assert world.row("zora")["attempts"] == 2 and world.row("zora")["last_error"] == ""


def test_retries_back_off_and_give_up_after_three_days(world: World) -> None:
    world.plan(REMINDERS_DUE)
    recorder = Recorder(always="451 4.7.1 Greylisted")
    now, waits = REMINDERS_DUE, []
    with smtp_server(recorder) as port:
        for _ in range(200):
            world.dispatch(plain(port), now)
            row = world.row("zora")
            if row["status"] != "pending":
                break
            waits.append(row["next_attempt_at"] - now)
            now = row["next_attempt_at"]
    assert row["status"] == "failed" and row["last_error"].startswith("451 4.7.1")
    assert now - REMINDERS_DUE <= timedelta(days=3)
    assert waits[1] > waits[0] * 1.5 and max(waits) <= timedelta(hours=1, minutes=12)  # doubling, capped near an hour
    assert 60 < len(waits) < 90


def test_550_fails_that_message_alone_keeps_the_reply_and_reaches_the_admin(world: World, cli) -> None:  # type: ignore[no-untyped-def]
    world.plan(REMINDERS_DUE)
    recorder = Recorder(refuse={"zora@example.org": "550 5.1.1 <zora@example.org>: Recipient address rejected"})
    with smtp_server(recorder) as port:
        channel = plain(port)
        stats = world.dispatch(channel, REMINDERS_DUE)
        assert (stats.sent, stats.failed) == (2, 1) and channel.connections == 1
        zora = world.row("zora")
        assert (
            zora["status"] == "failed"
            and zora["last_error"] == "550 5.1.1 <zora@example.org>: Recipient address rejected"
        )
        failed = [json.loads(line) for line in cli("outbox", "--failed", "--json", db=cli.url).out.splitlines()]
        assert [(r["recipient"], r["last_error"][:3]) for r in failed] == [("zora@example.org", "550")]
        world.dispatch(channel, datetime(2000, 3, 18, 9, tzinfo=UTC))  # the administrator's next report
    report = next(r.message for r in recorder.received if r.rcpt_tos == ["admin@example.org"])
    text = report.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "[I.1.1] reminder to zora@example.org: 550 5.1.1 <zora@example.org>: Recipient address rejected" in text


def test_a_dropped_connection_loses_nothing_and_repeats_only_the_message_in_flight(world: World) -> None:
    world.plan(REMINDERS_DUE)
    recorder = Recorder(drop_at=2)
    with smtp_server(recorder) as port:
        first = world.dispatch(plain(port), REMINDERS_DUE)
        assert (first.sent, first.retried) == (1, 1)
        statuses = sorted((r["status"], r["attempts"]) for r in world.rows() if r["type"] == "reminder")
        assert statuses == [("pending", 0), ("pending", 1), ("sent", 1)]  # one in flight, one not tried yet
        second = world.dispatch(plain(port), REMINDERS_DUE + timedelta(minutes=5))
    assert second.sent == 2
    ids = recorder.message_ids()
    assert len(ids) == 4 and len(set(ids)) == 3  # the message in flight arrived twice, with the same Message-ID
    assert {r["status"] for r in world.rows() if r["type"] == "reminder"} == {"sent"}


class Crash(BaseException):
    """The process dies: not an error planwatch could handle."""


class CrashAfterSend(SmtpChannel):
    """The server accepts the first message, then the process dies before the outbox commits."""

    def __init__(self, config: SmtpConfig) -> None:
        super().__init__(config)
        self.crashed = False

    def finish(self) -> None:
        super().finish()
        if not self.crashed:
            self.crashed = True
            raise Crash


def test_a_restart_between_send_and_commit_resends_with_the_same_message_id(world: World) -> None:
    world.plan(REMINDERS_DUE)
    recorder = Recorder()
    with smtp_server(recorder) as port:
        with pytest.raises(Crash):
            world.dispatch(CrashAfterSend(SmtpConfig("127.0.0.1", port, security="none")), REMINDERS_DUE)
        assert {(r["status"], r["attempts"]) for r in world.rows() if r["type"] == "reminder"} == {("pending", 0)}
        # The dead process still holds its rows' leases: another process sends nothing yet...
        restarted = make_engine(world.engine.url.render_as_string(hide_password=False))
        try:
            assert dispatch(restarted, plain(port), world.renderer, REMINDERS_DUE + timedelta(minutes=1)).sent == 0
            after = dispatch(restarted, plain(port), world.renderer, REMINDERS_DUE + timedelta(minutes=6))
        finally:  # ...and everything once they expire
            restarted.dispose()
    assert after.sent == 3
    ids = recorder.message_ids()
    assert len(ids) == 4 and len(set(ids)) == 3 and ids[0] == ids[1]  # sent at least once, appears once
    assert {r["attempts"] for r in world.rows() if r["type"] == "reminder"} == {1}


def test_a_reminder_no_longer_true_is_not_sent_but_planned_again(world: World) -> None:
    world.plan(datetime(2000, 3, 29, 12, tzinfo=UTC))  # the 2-day reminders of 31 March
    later = datetime(2000, 4, 1, 10, tzinfo=UTC)  # the service was down: the date has passed
    recorder = Recorder()
    with smtp_server(recorder) as port:
        stats = world.dispatch(plain(port), later)
    row = world.row("zora", "remind:due:2d")
    # What did go out is the ladder of I.1.4's check-ins, which the owner was sent on the settling day.
    assert (
        stats.suppressed >= 3
        and [str(r.message["Subject"]) for r in recorder.received] == ["[I.1.4] Escalation: Ongoing work"] * 2
    )
    assert all(r.rcpt_tos == ["mid@example.org"] for r in recorder.received)
    assert row["status"] == "suppressed" and row["reason"].startswith("no longer true")
    with world.engine.connect() as conn:
        fire = conn.execute(select(Action.__table__.c.next_fire_at).where(Action.__table__.c.ref == "I.1.1")).scalar()  # type: ignore[attr-defined]
    assert fire is not None and fire.replace(tzinfo=UTC) == later


def test_names_and_titles_with_cr_lf_or_markup_arrive_harmless(world: World) -> None:
    with world.engine.begin() as conn:
        conn.execute(
            update(Owner.__table__)
            .where(Owner.__table__.c.id == "zora")  # type: ignore[attr-defined]
            .values(name="Zoë Zürcher\r\nBcc: evil@example.org")
        )
        conn.execute(
            update(Action.__table__)
            .where(Action.__table__.c.ref == "I.1.1")  # type: ignore[attr-defined]
            .values(title="<script>alert(1)</script>\r\nBcc: evil@example.org")
        )
    world.plan(REMINDERS_DUE)
    recorder = Recorder()
    with smtp_server(recorder) as port:
        world.dispatch(plain(port), REMINDERS_DUE)
    got = next(r for r in recorder.received if r.rcpt_tos == ["zora@example.org"])
    head = got.data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"\nBcc:" not in head
    msg = got.message
    assert msg["Bcc"] is None and all(r.rcpt_tos != ["evil@example.org"] for r in recorder.received)
    assert msg["To"].addresses[0].display_name == "Zoë Zürcher Bcc: evil@example.org"
    assert str(msg["Subject"]) == "[I.1.1] <script>alert(1)</script> Bcc: evil@example.org"
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_rate_limit_spaces_the_messages() -> None:
    renderer = Renderer([ROOT / "templates"], IDENTITY)
    messages = [sample_message(renderer, sample_row("reminder", "reminder") | {"key": f"k{i}"}) for i in range(6)]
    recorder = Recorder()
    with smtp_server(recorder) as port:
        channel = plain(port, rate_per_minute=600)  # one every 0.1 s
        started = time.perf_counter()
        for message in messages:
            channel.deliver(message)
        elapsed = time.perf_counter() - started
        channel.close()
    assert len(recorder.received) == 6
    assert elapsed >= 0.5


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://u:p%40ss@mail.example.org:587?starttls=true",
            SmtpConfig("mail.example.org", 587, "u", "p@ss", "starttls"),
        ),
        ("smtps://u:p@mail.example.org", SmtpConfig("mail.example.org", 465, "u", "p", "ssl")),
        ("smtp://127.0.0.1:2525", SmtpConfig("127.0.0.1", 2525, security="none")),
        ("smtp://relay?timeout=5&starttls=false", SmtpConfig("relay", 25, security="none", timeout=5.0)),
    ],
    ids=["starttls", "smtps", "plain-port", "plain-default"],
)
def test_smtp_urls(url: str, expected: SmtpConfig) -> None:
    assert parse_smtp_url(url) == expected


def test_a_bad_smtp_url_says_what_was_expected_without_the_password() -> None:
    with pytest.raises(InputError) as caught:
        parse_smtp_url("http://user:hunter2@host")
    assert "expected smtp://user:pass@host:587?starttls=true" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_send_test_and_dispatch_commands(world: World, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    with smtp_server(recorder) as port:
        monkeypatch.setenv("PLANWATCH_SMTP_URL", f"smtp://127.0.0.1:{port}?timeout=5")
        sent = cli("send-test", "--to", "me@example.org")
        assert sent.code == 0, sent.err
        assert "over SMTP" in sent.out and recorder.received[0].rcpt_tos == ["me@example.org"]
        assert str(recorder.received[0].message["Subject"]).startswith("[I.1a.1]")
        world.plan(datetime(2000, 4, 20, 12, tzinfo=UTC))  # overdue and escalations are still true today
        result = cli("dispatch", db=cli.url)
        assert result.code == 0, result.err
        assert result.out.startswith("Sent ") and len(recorder.received) > 1
    monkeypatch.setenv("PLANWATCH_SMTP_URL", f"smtp://127.0.0.1:{free_port()}?timeout=2")  # nobody listens
    down = cli("send-test", "--to", "me@example.org")
    assert down.code == 1 and "the test message was not sent" in down.err and "connection" in down.err
    monkeypatch.setenv("PLANWATCH_SMTP_URL", "mailto:me@example.org")
    assert cli("send-test", "--to", "me@example.org").code == 2


def test_a_server_without_8bitmime_gets_seven_bit_messages(world: World) -> None:
    world.plan(REMINDERS_DUE)
    eight, seven = Recorder(), Recorder(without_8bit=True)
    with smtp_server(eight) as port:
        world.dispatch(plain(port), REMINDERS_DUE)
    with world.engine.begin() as conn:  # the same rows once more, to a server without 8BITMIME
        conn.execute(update(OUT).where(OUT.c.type == "reminder").values(status="pending", sent_at=None))
    with smtp_server(seven) as port:
        world.dispatch(plain(port), REMINDERS_DUE)
    assert not eight.received[0].data.isascii() and all(r.data.isascii() for r in seven.received)
    assert b"Content-Transfer-Encoding: quoted-printable" in seven.received[0].data
    for a, b in zip(eight.received, seven.received, strict=True):
        assert a.message.get_body(("plain",)).get_content() == b.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_an_extension_granted_reaches_the_owner_with_the_new_date(world: World) -> None:
    with world.engine.begin() as conn:
        action = conn.execute(select(Action.__table__).where(Action.__table__.c.ref == "I.1.1")).mappings().one()  # type: ignore[attr-defined]
        owner = conn.execute(select(Owner.__table__).where(Owner.__table__.c.id == "zora")).mappings().one()  # type: ignore[attr-defined]
        at = datetime(2000, 3, 20, 10, tzinfo=UTC)
        assert enqueue_extension_granted(
            conn, action, owner, date(2000, 3, 31), date(2000, 6, 30), by="mid", reason="budget", now=at
        )
        assert not enqueue_extension_granted(
            conn, action, owner, date(2000, 3, 31), date(2000, 6, 30), by="mid", reason="budget", now=at
        )
    channel = MemoryChannel()
    world.dispatch(channel, datetime(2000, 3, 20, 10, tzinfo=UTC))
    [message] = [m for m in channel.messages if "extension" in str(m["X-Planwatch-Key"])]
    parsed = parse_bytes(message)
    assert str(parsed["Subject"]) == "[I.1.1] Zurich deadline"  # the same thread as the reminders
    assert (
        parsed.get_body(("plain",)).get_content().splitlines()[0] == "Extended to 30 June 2000 (was due 31 March 2000)"
    )  # type: ignore[union-attr]
    event = Calendar.from_ical(next(parsed.iter_attachments()).get_content()).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == date(2000, 6, 30)
    assert str(event["UID"]) == "small-i.1.1-due-2000-03-31@planwatch"  # the feed's event, moved


def parse_bytes(message: Message) -> Any:
    from email import message_from_bytes
    from email import policy as email_policy

    from engine.mail.messages import as_bytes

    return message_from_bytes(as_bytes(message), policy=email_policy.default)


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_the_envelope_with_and_without_pipelining_delivers_and_refuses_alike(pipelining: bool) -> None:
    """RFC 2920: with a server that offers PIPELINING, MAIL, RCPT and DATA go in one write; every
    reply is still read, a refused recipient is left out, a message nobody takes fails on its own,
    and the connection goes on serving the next message."""
    renderer = Renderer([ROOT / "templates"], IDENTITY)

    def addressed(key: str, *to: str) -> Message:
        message = sample_message(renderer, sample_row("reminder", "reminder") | {"key": key})
        del message["To"]
        message["To"] = ", ".join(to)
        return message

    recorder = Recorder(
        refuse={"gone@example.org": "550 5.1.1 <gone@example.org>: Recipient address rejected"}, pipelining=pipelining
    )
    with smtp_server(recorder) as port:
        channel = plain(port)
        channel.deliver(addressed("k1", "ana@example.org", "gone@example.org"))
        smtp = channel._smtp
        assert smtp is not None and smtp.has_extn("pipelining") is pipelining
        with pytest.raises(DeliveryError) as refused:
            channel.deliver(addressed("k2", "gone@example.org"))
        channel.deliver(addressed("k3", "bo@example.org"))
        channel.close()
    assert refused.value.permanent and refused.value.reply.startswith("550 5.1.1")
    assert [r.rcpt_tos for r in recorder.received] == [["ana@example.org"], ["bo@example.org"]]
    assert recorder.connections == 1 and recorder.data_commands == 2


@pytest.mark.durable_commits  # the database's own setting is the server's: on
@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_on_postgresql_sent_marks_do_not_wait_for_the_disk_and_the_pool_gets_its_setting_back(world: World) -> None:
    """Nodes sharing one server must not queue behind one WAL flush a message: the connection that
    marks rows sent commits asynchronously, and hands the connection back to the pool as configured."""
    world.plan(REMINDERS_DUE)
    seen: list[tuple[str, str]] = []

    def setting_at_marks(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith(("WITH marked_sent", "UPDATE outbox SET status")):
            got = cursor.connection.execute("SHOW synchronous_commit").fetchone()
            seen.append(("many" if statement.startswith("WITH") else "one", got[0]))

    event.listen(world.engine, "before_cursor_execute", setting_at_marks)
    try:
        with smtp_server(Recorder()) as port:
            stats = world.dispatch(plain(port), REMINDERS_DUE)
    finally:
        event.remove(world.engine, "before_cursor_execute", setting_at_marks)
    assert stats.sent == 3
    assert len(seen) >= 1 and {value for _, value in seen} == {
        "off"
    }  # with the next row's check, or at the batch's end
    sent = [r for r in world.rows() if r["status"] == "sent" and r["sent_at"] == REMINDERS_DUE]
    assert len(sent) == 3 and all(
        r["attempts"] == 1 and r["message_id"] == message_id(r["key"], "example.org") for r in sent
    )
    pooled = [world.engine.connect() for _ in range(world.engine.pool.checkedin() + 1)]  # type: ignore[attr-defined]
    try:
        assert {c.exec_driver_sql("SHOW synchronous_commit").scalar() for c in pooled} == {"on"}
    finally:
        for conn in pooled:
            conn.close()


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_on_postgresql_the_messages_sent_since_the_last_check_are_marked_with_the_next_check(world: World) -> None:
    """One statement marks every message that came back sent and asks which of the next rows are still ours."""
    world.plan(REMINDERS_DUE)
    statements: list[str] = []
    with world.engine.connect() as conn:
        rows = claim_due(conn, REMINDERS_DUE, 10)
        assert len(rows) == 3
        batch = _Batch(conn, world.renderer, REMINDERS_DUE, DispatchStats(), None, _Tally())

        def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        event.listen(world.engine, "before_cursor_execute", seen)
        try:
            assert batch.still_ours([rows[2]], [(rows[0], SENT), (rows[1], SENT)]) == {rows[2]["id"]}
        finally:
            event.remove(world.engine, "before_cursor_execute", seen)
        assert batch.stats.sent == 2
        batch.close()
    assert len([s for s in statements if "outbox" in s]) == 1
    by_id = {r["id"]: r for r in world.rows()}
    for row in rows[:2]:
        marked = by_id[row["id"]]
        assert (marked["status"], marked["attempts"], marked["sent_at"], marked["next_attempt_at"]) == (
            "sent",
            1,
            REMINDERS_DUE,
            None,
        )
        assert marked["message_id"] == message_id(row["key"], "example.org")
    assert by_id[rows[2]["id"]]["status"] == "pending"
    with world.engine.begin() as conn:  # another node took the third row after the lease ran out
        conn.execute(
            update(OUT).where(OUT.c.id == rows[2]["id"]).values(next_attempt_at=REMINDERS_DUE + timedelta(hours=1))
        )
    with world.engine.connect() as conn:
        batch = _Batch(conn, world.renderer, REMINDERS_DUE, DispatchStats(), None, _Tally())
        assert batch.still_ours(rows) == set()  # the first two are sent, the third is another node's
        batch.close()


@dataclass
class Refusing(Recorder):
    """A server that refuses at the stage it is told to: MAIL FROM (``sender``), every RCPT TO
    (``every_rcpt``) or DATA for some recipients (``data_refuse``, address -> reply)."""

    sender: str | None = None
    every_rcpt: str | None = None
    data_refuse: dict[str, str] = field(default_factory=dict)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.sender:
            return self.sender
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if self.every_rcpt:
            return self.every_rcpt
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        refused = next((self.data_refuse[r] for r in envelope.rcpt_tos if r in self.data_refuse), None)
        if refused is None:
            return await super().handle_DATA(server, session, envelope)
        msgid = str(message_from_bytes(bytes(envelope.original_content or envelope.content))["Message-ID"])
        self.tries[msgid] = self.tries.get(msgid, 0) + 1
        return refused

    def fix(self) -> None:
        """The administrator fixed the server's configuration: it accepts everything."""
        self.sender = self.every_rcpt = self.always = None
        self.data_refuse.clear()


REFUSE_EVERYTHING = {
    "relay denied at RCPT": {"every_rcpt": "554 5.7.1 <unknown>: Relay access denied"},
    "sender refused at MAIL": {"sender": "550 Sender address rejected: not owned by user"},
    "553 at RCPT": {"every_rcpt": "553 Sorry, that domain isn't in my list of allowed rcpthosts"},
    "the same 550 for every message": {"always": "550 Message rejected"},
}


@pytest.mark.parametrize("refusal", REFUSE_EVERYTHING.values(), ids=REFUSE_EVERYTHING.keys())
def test_a_server_refusing_everything_pauses_the_queue_and_after_the_fix_everything_goes_once(
    world: World, refusal: dict[str, str]
) -> None:
    world.plan(REMINDERS_DUE)
    recorder = Refusing(**refusal)
    with smtp_server(recorder) as port:
        stats = world.dispatch(plain(port), REMINDERS_DUE)
        assert stats.paused and (stats.sent, stats.failed, stats.retried) == (0, 0, 0)
        for minutes in (5, 16, 40):  # retried after each pause, refused again: still nothing fails
            world.dispatch(plain(port), REMINDERS_DUE + timedelta(minutes=minutes))
        reminders = [r for r in world.rows() if r["type"] == "reminder"]
        assert [(r["status"], r["attempts"]) for r in reminders] == [("pending", 0)] * 3
        with world.engine.connect() as conn:
            pause = read_pause(conn)
        assert pause is not None and pause.kind == "config"
        assert not recorder.received
        recorder.fix()
        fixed = world.dispatch(plain(port), REMINDERS_DUE + timedelta(hours=1))
    assert fixed.sent == 3 and not fixed.paused
    assert sorted(r.rcpt_tos[0] for r in recorder.received) == [
        "boon@example.org",
        "luz@example.org",
        "zora@example.org",
    ]
    assert len(set(recorder.message_ids())) == 3
    with world.engine.connect() as conn:
        assert read_pause(conn) is None


def test_ten_recipients_refused_alike_pause_the_pass_before_the_rest_is_tried(world: World) -> None:
    world.plan(REMINDERS_DUE)
    model = {k: v for k, v in world.row("zora").items() if k != "id"}
    with world.engine.connect() as conn:
        extra = [model | {"key": f"extra|{i}", "recipient": f"person{i}@example.org"} for i in range(20)]
        assert enqueue(conn, extra) == 20
        conn.commit()
    recorder = Refusing(always="550 Message rejected")
    with smtp_server(recorder) as port:
        stats = world.dispatch(plain(port), REMINDERS_DUE)
    assert stats.paused.startswith("550 Message rejected (the same refusal for 10 recipients in a row")
    assert stats.failed == 0 and {r["status"] for r in world.rows() if r["status"] != "sent"} <= {"pending"}
    assert recorder.data_commands <= 10 + 5  # the pass stops: at most the pipeline's depth more were tried


def test_a_refusal_about_the_recipient_fails_that_message_alone_even_when_repeated(world: World) -> None:
    world.plan(REMINDERS_DUE)
    recorder = Refusing(every_rcpt="550 5.1.1 User unknown")  # the same words, but about each mailbox
    with smtp_server(recorder) as port:
        stats = world.dispatch(plain(port), REMINDERS_DUE)
    assert (stats.failed, stats.paused) == (3, "")
    assert {r["last_error"] for r in world.rows() if r["type"] == "reminder"} == {"550 5.1.1 User unknown"}


def test_the_same_refusal_for_two_but_a_message_accepted_fails_the_two(world: World) -> None:
    world.plan(REMINDERS_DUE)
    recorder = Refusing(data_refuse={a: "550 Mailbox unavailable" for a in ("luz@example.org", "zora@example.org")})
    with smtp_server(recorder) as port:
        stats = world.dispatch(plain(port), REMINDERS_DUE)
    assert (stats.sent, stats.failed, stats.paused) == (1, 2, "")
    assert world.row("zora")["status"] == world.row("luz")["status"] == "failed"


def test_failed_messages_go_back_in_the_queue_with_their_message_id_and_history(world: World, cli) -> None:  # type: ignore[no-untyped-def]
    world.plan(REMINDERS_DUE)
    recorder = Refusing(data_refuse={"zora@example.org": "554 5.6.0 Message content rejected"})
    with smtp_server(recorder) as port:
        assert world.dispatch(plain(port), REMINDERS_DUE).failed == 1
        first_id = next(iter(recorder.tries.keys() - set(recorder.message_ids())))
        assert world.row("zora")["status"] == "failed"
        assert "No failed message" in cli("outbox", "retry", "--since", "2000-03-18", db=cli.url).out
        assert cli("outbox", "retry", "--action", "I.9.9", db=cli.url).code == 2
        put_back = cli("outbox", "retry", "--failed", "--since", "2000-03-17", "--by", "ops", db=cli.url)
        assert put_back.code == 0 and "Put 1 failed message(s) back" in put_back.out
        zora = world.row("zora")
        assert zora["status"] == "pending" and zora["last_error"] == "554 5.6.0 Message content rejected"
        history = zora["payload"]["history"]
        assert [h["event"] for h in history] == ["failed", "requeued"] and history[1]["by"] == "ops"
        recorder.fix()
        again = world.dispatch(plain(port), REMINDERS_DUE + timedelta(minutes=5))
    assert again.sent == 1
    assert recorder.message_ids().count(first_id) == 1 and world.row("zora")["message_id"] == first_id


def test_a_burst_of_failures_is_an_alert_for_the_administrator_at_most_once_an_hour(world: World) -> None:
    world.plan(REMINDERS_DUE)
    model = {k: v for k, v in world.row("zora").items() if k != "id"}
    with world.engine.connect() as conn:
        enqueue(conn, [model | {"key": f"extra|{i}", "recipient": f"person{i}@example.org"} for i in range(12)])
        conn.commit()
    recorder = Refusing(every_rcpt="550 5.1.1 User unknown")
    with smtp_server(recorder) as port:
        stats = world.dispatch(plain(port), REMINDERS_DUE)
        assert stats.failed == 15 and not stats.paused
        (alert,) = stats.alerts
        assert (alert.kind, alert.subject) == ("failures", "planwatch: 15 messages failed at once")
        assert "- reminder about I.1.1 to zora@example.org: 550 5.1.1 User unknown" in alert.text
        with world.engine.connect() as conn:
            enqueue(conn, [model | {"key": f"more|{i}", "recipient": f"other{i}@example.org"} for i in range(6)])
            conn.commit()
        again = world.dispatch(plain(port), REMINDERS_DUE + timedelta(minutes=30))
    assert again.failed == 6 and again.alerts == []  # told half an hour ago: the report has the rest


def test_the_action_history_hears_what_became_of_an_escalation_message(world: World, cli) -> None:  # type: ignore[no-untyped-def]
    late = datetime(2000, 4, 20, 12, tzinfo=UTC)  # three weeks after the due dates: supervisors are told
    world.plan(datetime(2000, 3, 20, 12, tzinfo=UTC))
    world.dispatch(NullChannel(), datetime(2000, 3, 20, 12, tzinfo=UTC))
    world.plan(late)
    recorder = Refusing(refuse={"mid@example.org": "550 5.1.1 <mid@example.org>: Recipient address rejected"})
    with smtp_server(recorder) as port:
        world.dispatch(plain(port), late)
        failed = [r for r in world.rows() if r["status"] == "failed"]
        assert failed and {r["recipient"] for r in failed} == {"mid@example.org"}
        assert all(r["step"].startswith("escalate") for r in failed)
        assert cli("outbox", "retry", "--action", "I.1.1", "--by", "ops", db=cli.url).code == 0
        recorder.refuse.clear()
        world.dispatch(plain(port), late + timedelta(minutes=5))
    with world.engine.connect() as conn:
        action = conn.execute(select(Action.__table__.c.id).where(Action.__table__.c.ref == "I.1.1")).scalar()  # type: ignore[attr-defined]
        notes = conn.execute(
            select(ACTION_CHANGE.c.who, ACTION_CHANGE.c.new, ACTION_CHANGE.c.note)
            .where(ACTION_CHANGE.c.action_id == action, ACTION_CHANGE.c.field == "escalation message")
            .order_by(ACTION_CHANGE.c.id)
        ).all()
    assert [(who, new) for who, new, _ in notes] == [("planwatch", "failed"), ("ops", "put back in the queue")]
    assert "to mid@example.org: 550 5.1.1" in notes[0][2]
    assert any(r.rcpt_tos == ["mid@example.org"] and "I.1.1" in str(r.message["Subject"]) for r in recorder.received)
