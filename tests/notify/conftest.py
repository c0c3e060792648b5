"""Fixtures for email tests: a real SMTP server on loopback, TLS material."""

from __future__ import annotations

import email
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.tls import TLSFiles, make_tls_files

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP server accepted it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage
    tls: bool
    login: str | None


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if self.server.rcpt_reply:
            return self.server.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.server.data_reply:
            return self.server.data_reply
        data = envelope.original_content or b""
        login = session.auth_data.login.decode() if session.authenticated else None
        self.server.messages.append(
            ReceivedMail(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                data=data,
                # Parsed with \n line ends, so text parts compare equal to what was built.
                message=email.message_from_bytes(  # type: ignore[arg-type]
                    data.replace(b"\r\n", b"\n"), policy=default_policy
                ),
                tls=server.transport.get_extra_info("ssl_object") is not None,
                login=login,
            )
        )
        return "250 Message accepted for delivery"


class SMTPServer:
    """An aiosmtpd server on 127.0.0.1 that keeps what it receives.

    `messages` collects accepted mail. Set `rcpt_reply` or `data_reply` to a
    reply line ("451 4.3.0 Try later") to refuse at that step. `stop()` takes
    the server down and `start()` brings it back on the same port. With
    `tls` it offers STARTTLS (or speaks TLS from the first byte when
    `implicit_tls`); with `users` it accepts AUTH LOGIN/PLAIN after STARTTLS.
    """

    def __init__(
        self,
        *,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        users: dict[str, str] | None = None,
    ) -> None:
        self.host = HOST
        self.port = _free_port()
        self.messages: list[ReceivedMail] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self._tls = tls
        self._implicit_tls = implicit_tls
        self._users = users
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen on `port` (an aiosmtpd controller cannot restart, so make a new one)."""
        assert self._controller is None, "already running"
        options: dict[str, object] = {}
        if self._tls and self._implicit_tls:
            options["ssl_context"] = self._tls
        elif self._tls:
            options["tls_context"] = self._tls
        if self._users is not None:
            options["authenticator"] = self._authenticate
        controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            server_hostname="localhost",  # skip aiosmtpd's getfqdn() lookup
            ready_timeout=10,
            **options,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Close the listening socket and every open connection."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        assert self._users is not None
        ok = (
            isinstance(auth_data, LoginPassword)
            and self._users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        # handled=False: let aiosmtpd send the 535 reply for a failure.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def _free_port() -> int:
    """Pick a free loopback port (Controller needs a fixed one to restart on)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_smtp_server() -> Iterator[Callable[..., SMTPServer]]:
    """Start SMTP servers with `SMTPServer` options; all stop at teardown."""
    servers: list[SMTPServer] = []

    def make(**options: object) -> SMTPServer:
        server = SMTPServer(**options)  # type: ignore[arg-type]
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(make_smtp_server: Callable[..., SMTPServer]) -> SMTPServer:
    """A running plain-text SMTP server on 127.0.0.1; see `SMTPServer`."""
    return make_smtp_server()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """Generate a throwaway certificate (EC keys: fast to make)."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


# Data and app context for the notification services --------------------------


@pytest.fixture
def app_ctx(app):
    """Services render templates and read BASE_URL: give them an app context."""
    with app.app_context():
        yield app


@pytest.fixture
def smtp_app(app, smtp_server):
    """The app sending through the loopback SMTP server, three attempts at most."""
    app.config.update(
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        SMTP_SECURITY="none",
        SMTP_TIMEOUT=5.0,
        MAIL_FROM="Seasons <noreply@seasons.example.com>",
        MAIL_MAX_ATTEMPTS=3,
    )
    return app
