"""Fixtures for email tests: a real SMTP server on loopback, TLS material."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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


@dataclass(frozen=True)
class TLSFiles:
    """A self-signed certificate for localhost/127.0.0.1 and its key."""

    cert_pem: bytes
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only this certificate."""
        return ssl.create_default_context(cadata=self.cert_pem.decode())


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """Generate a throwaway certificate (EC keys: fast to make)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TLSFiles(cert_pem, folder / "cert.pem", folder / "key.pem")


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
