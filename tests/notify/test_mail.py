"""Email building and sending, through a real SMTP server on loopback."""

from __future__ import annotations

import email
import io
import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.generator import BytesGenerator
from email.policy import default as default_policy
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio.notify.mail import (
    ConsoleTransport,
    EmailMessageData,
    HeaderInjectionError,
    SMTPTransport,
    TransportError,
    backoff_delay,
    build_message,
)

if TYPE_CHECKING:
    from tests.notify.conftest import SMTPServer, TLSFiles

    MakeServer = Callable[..., SMTPServer]

SENDER = "Seasons <noreply@seasons.example.com>"
UNSUBSCRIBE = "https://seasons.example.com/unsubscribe/tok3n?kind=reminder"


def make_data(**changes: object) -> EmailMessageData:
    values: dict[str, object] = {
        "to": "Ada Lovelace <ada@example.com>",
        "subject": "Milestone “Baseline” is due tomorrow",
        "text": "Your milestone Baseline is due on 3 Feb 2027, 17:00 CET.\n",
        "html": "<p>Your milestone <b>Baseline</b> is due on 3 Feb 2027, 17:00 CET.</p>\n",
        "list_unsubscribe": UNSUBSCRIBE,
        "headers": {"X-Seasons-Kind": "reminder_1d"},
        "message_id": "delivery-42@seasons.example.com",
    }
    values.update(changes)
    return EmailMessageData(**values)  # type: ignore[arg-type]


def plain_transport(server: SMTPServer, **options: object) -> SMTPTransport:
    return SMTPTransport(server.host, server.port, security="none", timeout=5, **options)  # type: ignore[arg-type]


# Building ------------------------------------------------------------------


def test_build_message_has_text_and_html_alternatives_and_list_headers() -> None:
    """A message is multipart/alternative, text first, with one-click unsubscribe."""
    now = datetime(2027, 2, 2, 16, 0, 30, 999, tzinfo=UTC)
    msg = build_message(make_data(), sender=SENDER, now=now)

    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert "Baseline is due" in parts[0].get_content()
    assert "<b>Baseline</b>" in parts[1].get_content()
    assert msg["From"] == SENDER
    assert msg["To"] == "Ada Lovelace <ada@example.com>"
    assert msg["Subject"] == "Milestone “Baseline” is due tomorrow"
    assert msg["Date"] == "Tue, 02 Feb 2027 16:00:30 +0000"
    assert msg["Message-ID"] == "<delivery-42@seasons.example.com>"
    assert msg["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Seasons-Kind"] == "reminder_1d"


def test_build_message_generates_message_id_on_sender_domain() -> None:
    """Without a message id, one is made on the sender's domain."""
    msg = build_message(make_data(message_id=None, list_unsubscribe=None), sender=SENDER)
    assert msg["Message-ID"].endswith("@seasons.example.com>")
    assert msg["List-Unsubscribe"] is None
    assert msg["List-Unsubscribe-Post"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Hello\r\nBcc: victim@example.com"),
        ("subject", "Hello\nBcc: victim@example.com"),
        ("subject", "Hello\rBcc: victim@example.com"),
        ("subject", "Hello\x00"),
        ("subject", "Hello\u2028Bcc: victim@example.com"),
        ("to", "ada@example.com\r\nBcc: victim@example.com"),
        ("to", "Ada\n <ada@example.com>"),
        ("list_unsubscribe", "https://x.example/u\r\nBcc: victim@example.com"),
        ("message_id", "id@x\r\nBcc: victim@example.com"),
        ("headers", {"X-Seasons-Kind": "a\r\nBcc: victim@example.com"}),
        ("headers", {"X-Evil\r\nBcc": "victim@example.com"}),
        ("headers", {"X-Evil: Bcc": "victim@example.com"}),
    ],
)
def test_header_injection_is_refused(field: str, value: object) -> None:
    """CR, LF and other control characters in any header are refused."""
    with pytest.raises(HeaderInjectionError):
        build_message(make_data(**{field: value}), sender=SENDER)


def test_header_injection_in_sender_is_refused() -> None:
    """A sender address with a line break is refused too."""
    with pytest.raises(HeaderInjectionError):
        build_message(make_data(), sender="noreply@x.example\nBcc: victim@example.com")


@settings(max_examples=100, deadline=None)
@given(subject=st.text(max_size=200))
def test_any_subject_is_refused_or_stays_one_header(subject: str) -> None:
    """Whatever the subject, it is refused or arrives as the one Subject header."""
    try:
        msg = build_message(make_data(subject=subject), sender=SENDER)
    except HeaderInjectionError:
        return
    buffer = io.BytesIO()
    BytesGenerator(buffer).flatten(msg, linesep="\r\n")  # as smtplib does
    head = buffer.getvalue().split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0] for line in head.split(b"\r\n") if line[:1] not in b" \t"]
    assert names == [
        *(b"From", b"To", b"Subject", b"Date", b"Message-ID", b"Auto-Submitted"),
        *(b"List-Unsubscribe", b"List-Unsubscribe-Post", b"X-Seasons-Kind"),
        *(b"MIME-Version", b"Content-Type"),
    ]
    parsed = email.message_from_bytes(buffer.getvalue(), policy=default_policy)
    # Folding may change runs of whitespace, nothing else.
    assert parsed["Subject"].split() == subject.split()


@pytest.mark.parametrize(
    "to", ["ada@example.com, bob@example.com", "nobody", "", "undisclosed-recipients:;"]
)
def test_to_must_be_exactly_one_address(to: str) -> None:
    """One message goes to one recipient."""
    with pytest.raises(ValueError, match="exactly one email address"):
        build_message(make_data(to=to), sender=SENDER)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("list_unsubscribe", "mailto:unsubscribe@example.com"),
        ("list_unsubscribe", "https://x.example/a b"),
        ("list_unsubscribe", "https://x.example/" + "a" * 900),
        ("message_id", "no-at-sign"),
        ("headers", {"Subject": "override"}),
        ("headers", {"list-unsubscribe": "<https://evil.example>"}),
    ],
)
def test_invalid_values_are_refused(field: str, value: object) -> None:
    """Bad URLs, message ids and overrides of built-in headers are refused."""
    with pytest.raises(ValueError):
        build_message(make_data(**{field: value}), sender=SENDER)


def test_naive_now_is_refused() -> None:
    """The Date header needs an aware time."""
    with pytest.raises(ValueError, match="aware"):
        build_message(make_data(), sender=SENDER, now=datetime(2027, 1, 1))


# Sending over SMTP ---------------------------------------------------------


def test_smtp_server_receives_both_parts_headers_and_recipient(smtp_server: SMTPServer) -> None:
    """What the SMTP server receives is the message we built, to the one recipient."""
    long_url = "https://seasons.example.com/unsubscribe/" + "t" * 300
    data = make_data(subject="Fällig: “Baseline” " + "é" * 80, list_unsubscribe=long_url)
    plain_transport(smtp_server).send(build_message(data, sender=SENDER))

    [mail] = smtp_server.messages
    assert mail.mail_from == "noreply@seasons.example.com"
    assert mail.rcpt_tos == ["ada@example.com"]
    received = mail.message
    assert received["Subject"] == data.subject
    assert received["To"] == "Ada Lovelace <ada@example.com>"
    assert received["Message-ID"] == "<delivery-42@seasons.example.com>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The URL must arrive verbatim on the wire, not as RFC 2047 encoded-words.
    assert f"List-Unsubscribe: <{long_url}>".encode() in mail.data
    assert received.get_body(("plain",)).get_content() == data.text
    assert received.get_body(("html",)).get_content() == data.html
    assert all(len(line) <= 998 for line in mail.data.splitlines())
    assert mail.tls is False
    assert mail.login is None


@pytest.mark.parametrize(
    ("step", "reply", "temporary"),
    [
        ("data", "451 4.3.0 Try again later", True),
        ("data", "554 5.6.0 Message rejected", False),
        ("rcpt", "450 4.2.1 Mailbox busy", True),
        ("rcpt", "550 5.1.1 No such user", False),
    ],
)
def test_smtp_replies_map_to_temporary_or_permanent(
    smtp_server: SMTPServer, step: str, reply: str, temporary: bool
) -> None:
    """4xx replies are temporary failures, 5xx replies permanent ones."""
    setattr(smtp_server, f"{step}_reply", reply)
    with pytest.raises(TransportError) as info:
        plain_transport(smtp_server).send(build_message(make_data(), sender=SENDER))
    assert info.value.temporary is temporary
    assert info.value.code == int(reply[:3])
    assert reply[4:] in str(info.value)
    assert smtp_server.messages == []


def test_server_down_is_temporary_and_sending_resumes_when_it_is_back(
    smtp_server: SMTPServer,
) -> None:
    """An SMTP outage is a temporary error; the same message goes out once it is back."""
    transport = plain_transport(smtp_server)
    message = build_message(make_data(), sender=SENDER)
    smtp_server.stop()

    with pytest.raises(TransportError) as info:
        transport.send(message)
    assert info.value.temporary is True
    assert info.value.code is None
    assert f"{smtp_server.host}:{smtp_server.port}" in str(info.value)

    smtp_server.start()
    transport.send(message)
    [mail] = smtp_server.messages
    assert mail.message["Message-ID"] == "<delivery-42@seasons.example.com>"


def test_server_that_never_answers_times_out_as_temporary() -> None:
    """A server that accepts the connection but stays silent costs one timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        transport = SMTPTransport("127.0.0.1", port, security="none", timeout=0.2)
        with pytest.raises(TransportError) as info:
            transport.send(build_message(make_data(), sender=SENDER))
    assert info.value.temporary is True


def test_starttls_and_login(make_smtp_server: MakeServer, tls_files: TLSFiles) -> None:
    """STARTTLS upgrades the connection, then the transport logs in."""
    server = make_smtp_server(tls=tls_files.server_context(), users={"mailer": "s3cret"})
    transport = SMTPTransport(
        server.host,
        server.port,
        username="mailer",
        password="s3cret",
        security="starttls",
        timeout=5,
        ssl_context=tls_files.client_context(),
    )
    transport.send(build_message(make_data(), sender=SENDER))
    [mail] = server.messages
    assert mail.tls is True
    assert mail.login == "mailer"


def test_refused_login_is_temporary(make_smtp_server: MakeServer, tls_files: TLSFiles) -> None:
    """A wrong password is the operator's to fix, so the mail stays queued."""
    server = make_smtp_server(tls=tls_files.server_context(), users={"mailer": "s3cret"})
    transport = SMTPTransport(
        server.host,
        server.port,
        username="mailer",
        password="wrong",
        security="starttls",
        timeout=5,
        ssl_context=tls_files.client_context(),
    )
    with pytest.raises(TransportError) as info:
        transport.send(build_message(make_data(), sender=SENDER))
    assert info.value.temporary is True
    assert info.value.code == 535
    assert "wrong" not in str(info.value)
    assert server.messages == []


def test_starttls_verifies_the_certificate_by_default(
    make_smtp_server: MakeServer, tls_files: TLSFiles
) -> None:
    """Without an explicit context, a self-signed certificate is not trusted."""
    server = make_smtp_server(tls=tls_files.server_context())
    transport = SMTPTransport(server.host, server.port, security="starttls", timeout=5)
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED") as info:
        transport.send(build_message(make_data(), sender=SENDER))
    assert info.value.temporary is True
    assert server.messages == []


def test_starttls_required_but_not_offered_is_temporary(smtp_server: SMTPServer) -> None:
    """A server without STARTTLS is not silently used in clear text."""
    transport = SMTPTransport(smtp_server.host, smtp_server.port, security="starttls", timeout=5)
    with pytest.raises(TransportError, match="STARTTLS") as info:
        transport.send(build_message(make_data(), sender=SENDER))
    assert info.value.temporary is True
    assert smtp_server.messages == []


def test_implicit_tls(make_smtp_server: MakeServer, tls_files: TLSFiles) -> None:
    """security="ssl" speaks TLS from the first byte."""
    server = make_smtp_server(tls=tls_files.server_context(), implicit_tls=True)
    transport = SMTPTransport(
        server.host,
        server.port,
        security="ssl",
        timeout=5,
        ssl_context=tls_files.client_context(),
    )
    transport.send(build_message(make_data(), sender=SENDER))
    [mail] = server.messages
    assert mail.tls is True
    assert mail.message["Subject"] == make_data().subject


def test_smtp_transport_settings() -> None:
    """Ports default by security mode, bad modes are refused, repr hides the password."""
    assert SMTPTransport("mail.example").port == 587
    assert SMTPTransport("mail.example", security="ssl").port == 465
    assert SMTPTransport("mail.example", security="none").port == 25
    assert SMTPTransport("mail.example", 2525).port == 2525
    with pytest.raises(ValueError, match="security"):
        SMTPTransport("mail.example", security="tls")  # type: ignore[arg-type]
    transport = SMTPTransport("mail.example", username="mailer", password="hunter2")
    assert "hunter2" not in repr(transport)
    assert "mailer" in repr(transport)


# Console transport, registry, backoff ---------------------------------------


def test_console_transport_logs_the_text_part(caplog: pytest.LogCaptureFixture) -> None:
    """Without SMTP, a message is written to the log instead of sent."""
    caplog.set_level(logging.INFO, logger="portfolio.notify.mail")
    ConsoleTransport().send(build_message(make_data(), sender=SENDER))

    [record] = caplog.records
    assert record.name == "portfolio.notify.mail"
    logged = record.getMessage()
    assert "To: Ada Lovelace <ada@example.com>" in logged
    assert "Subject: Milestone “Baseline” is due tomorrow" in logged
    assert "Your milestone Baseline is due" in logged
    assert "<b>" not in logged


def test_backoff_delay_doubles_up_to_the_cap() -> None:
    """Retries wait 1, 2, 4 … minutes, never more than six hours."""
    minutes = [backoff_delay(n) / timedelta(minutes=1) for n in range(1, 12)]
    assert minutes == [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360]
    assert backoff_delay(10_000) == timedelta(hours=6)
    assert backoff_delay(3, base_seconds=10, cap_seconds=30) == timedelta(seconds=30)
    with pytest.raises(ValueError):
        backoff_delay(0)
