"""Email messages and the transports that send them.

Nothing here touches the database: the outbox builds an `EmailMessageData`,
turns it into a MIME message with `build_message`, hands it to a transport and
records the outcome. A `TransportError` says whether a later attempt may
succeed (`temporary`) or the server refused this message for good.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid
from typing import Literal, Protocol

logger = logging.getLogger(__name__)

Security = Literal["none", "starttls", "ssl"]

# Anything that could end a header line, plus other control characters.
_UNSAFE_HEADER_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 field-name: printable ASCII but ":"
_MSGID_BODY = re.compile(r"[^\s<>@]+@[^\s<>@]+")
# Set by build_message itself; extra headers may not replace them.
_RESERVED_HEADERS = frozenset(
    {
        *("from", "to", "cc", "bcc", "subject", "date", "message-id", "auto-submitted"),
        *("mime-version", "content-type", "content-transfer-encoding"),
        *("list-unsubscribe", "list-unsubscribe-post"),
    }
)


class _MailPolicy(EmailPolicy):
    """The default policy, except that List-Unsubscribe is folded at 998.

    At 78 columns a long URL is rewritten into RFC 2047 encoded-words, which
    mail clients do not decode in this header, and the link stops working.
    """

    def _for(self, name: str) -> EmailPolicy:
        return self.clone(max_line_length=998) if name.lower() == "list-unsubscribe" else self

    def fold(self, name: str, value: str) -> str:
        return EmailPolicy.fold(self._for(name), name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        return EmailPolicy.fold_binary(self._for(name), name, value)


_POLICY = _MailPolicy()
_MAX_URL_LENGTH = 900  # keeps "List-Unsubscribe: <url>" within RFC 5322's 998


class HeaderInjectionError(ValueError):
    """A header value contains a line break or another control character."""


@dataclass(frozen=True, slots=True)
class EmailMessageData:
    """One email to one recipient, before it becomes MIME.

    `list_unsubscribe` is an http(s) URL that unsubscribes with a single POST
    (RFC 8058); pass None only for mail a user cannot opt out of. `message_id`
    lets a retried delivery keep its Message-ID ("delivery-42@host").
    """

    to: str
    subject: str
    text: str
    html: str
    list_unsubscribe: str | None
    headers: Mapping[str, str] = field(default_factory=dict)
    message_id: str | None = None


def build_message(
    data: EmailMessageData, *, sender: str, now: datetime | None = None
) -> EmailMessage:
    """Build a multipart/alternative message (plain text, then HTML) from `data`."""
    msg = EmailMessage(policy=_POLICY)
    sender_domain = _set_address(msg, "From", sender)
    _set_address(msg, "To", data.to)
    _check_header_value("Subject", data.subject)
    msg["Subject"] = data.subject
    when = now or datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    msg["Date"] = format_datetime(when.astimezone(UTC).replace(microsecond=0))
    msg["Message-ID"] = _message_id(data.message_id, sender_domain)
    # RFC 3834: ask vacation responders and the like not to answer.
    msg["Auto-Submitted"] = "auto-generated"
    if data.list_unsubscribe is not None:
        msg["List-Unsubscribe"] = f"<{_check_url('List-Unsubscribe', data.list_unsubscribe)}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for name, value in data.headers.items():
        if not _HEADER_NAME.fullmatch(name):
            raise HeaderInjectionError(f"invalid header name {name!r}")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name} is set by build_message and cannot be overridden")
        _check_header_value(name, value)
        msg[name] = value
    msg.set_content(data.text)
    msg.add_alternative(data.html, subtype="html")
    return msg


def _check_header_value(name: str, value: str) -> None:
    if _UNSAFE_HEADER_CHARS.search(value):
        raise HeaderInjectionError(f"{name} contains a line break or control character")


def _set_address(msg: EmailMessage, name: str, value: str) -> str:
    """Set a single-address header and return the address's domain."""
    _check_header_value(name, value)
    msg[name] = value
    addresses = msg[name].addresses
    if len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
        raise ValueError(f"{name} must be exactly one email address, got {value!r}")
    return addresses[0].domain


def _check_url(name: str, url: str) -> str:
    _check_header_value(name, url)
    if (
        not url.startswith(("https://", "http://"))
        or not url.isascii()
        or re.search(r"[\s<>]", url)
        or len(url) > _MAX_URL_LENGTH
    ):
        raise ValueError(
            f"{name} must be an ASCII http(s) URL without spaces or <>, "
            f"at most {_MAX_URL_LENGTH} characters"
        )
    return url


def _message_id(message_id: str | None, domain: str) -> str:
    if message_id is None:
        return make_msgid(domain=domain)
    _check_header_value("Message-ID", message_id)
    body = message_id.removeprefix("<").removesuffix(">")
    if not _MSGID_BODY.fullmatch(body):
        raise ValueError(f"Message-ID must look like 'left@right', got {message_id!r}")
    return f"<{body}>"


def backoff_delay(
    attempts: int, *, base_seconds: float = 60, cap_seconds: float = 6 * 3600
) -> timedelta:
    """Return how long to wait after the `attempts`-th failed attempt.

    The delay doubles each time: base * 2 ** (attempts - 1), capped. With the
    defaults the waits are 1, 2, 4, 8, 16, 32, 64, 128 and 256 minutes, then
    6 hours for every later attempt, so ten attempts span about 14.5 hours.
    The schedule is deterministic; give up after a limit of your choosing.
    """
    if attempts < 1:
        raise ValueError("attempts counts failed attempts and starts at 1")
    exponent = min(attempts - 1, 64)  # 2**64 minutes is past any sane cap
    return timedelta(seconds=min(base_seconds * 2**exponent, cap_seconds))


class TransportError(Exception):
    """Sending failed; `temporary` tells whether retrying the same message may work.

    Temporary: anything before the MAIL command (connection refused or lost,
    timeouts, TLS failures, login refused, STARTTLS not offered: fixable by
    an operator or by waiting), 4xx replies and lost connections later on.
    Permanent: a 5xx reply to this sender, recipient or message.
    """

    def __init__(self, message: str, *, temporary: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.code = code


class Transport(Protocol):
    """Something that delivers a finished message or raises `TransportError`."""

    def send(self, message: EmailMessage) -> None: ...


class SMTPTransport:
    """Send each message over a fresh SMTP connection."""

    DEFAULT_PORTS: Mapping[str, int] = {"none": 25, "starttls": 587, "ssl": 465}

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        security: Security = "starttls",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Configure the connection; `ssl_context` defaults to full certificate checks."""
        if security not in self.DEFAULT_PORTS:
            raise ValueError(f"security must be one of none, starttls, ssl; got {security!r}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.host = host
        self.port = port or self.DEFAULT_PORTS[security]
        self.username = username or None
        self._password = password or ""
        self.security = security
        self.timeout = timeout
        # Tests pass a context that trusts their own certificate; production
        # keeps the default, which verifies the chain and the host name.
        self._ssl_context = ssl_context or ssl.create_default_context()
        if self.username and security == "none":
            logger.warning("SMTP login to %s:%s will happen without TLS", host, self.port)

    def __repr__(self) -> str:
        return (
            f"SMTPTransport(host={self.host!r}, port={self.port}, "
            f"security={self.security!r}, username={self.username!r})"
        )

    def send(self, message: EmailMessage) -> None:
        """Send `message` to the recipients in its To/Cc/Bcc headers."""
        try:
            smtp = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            # Refused or timed-out connections, TLS failures, a refused login:
            # nothing about this message, so a later attempt may succeed.
            raise TransportError(
                f"cannot connect to SMTP server {self.host}:{self.port}: {_describe(exc)}",
                temporary=True,
                code=getattr(exc, "smtp_code", None),
            ) from exc
        try:
            refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise TransportError(
                f"all recipients refused: {_describe_refusals(exc.recipients)}",
                temporary=any(code < 500 for code in codes),
                code=codes[0] if codes else None,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise TransportError(
                f"SMTP server replied {_describe(exc)}",
                temporary=not 500 <= exc.smtp_code < 600,
                code=exc.smtp_code,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            # An internationalized address the server cannot take (no SMTPUTF8).
            raise TransportError(str(exc), temporary=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(
                f"connection to {self.host}:{self.port} failed while sending: {_describe(exc)}",
                temporary=True,
            ) from exc
        finally:
            _quit(smtp)
        if refused:
            logger.warning(
                "SMTP server refused some recipients of %s: %s",
                message["Message-ID"],
                _describe_refusals(refused),
            )
        logger.debug("Sent %s via %s:%s", message["Message-ID"], self.host, self.port)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._ssl_context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=self._ssl_context)
            if self.username:
                smtp.login(self.username, self._password)
        except BaseException:
            smtp.close()
            raise
        return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    """Say QUIT but never let a failing goodbye turn a sent message into an error."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return str(exc) or type(exc).__name__


def _describe_refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in refused.items())


class ConsoleTransport:
    """Log messages instead of sending them: the embedded default without SMTP.

    The text part is logged as is, links with tokens included, so that a
    developer can follow them; do not use it where logs reach other people.
    """

    def __init__(self, *, level: int = logging.INFO) -> None:
        self.level = level

    def send(self, message: EmailMessage) -> None:
        """Log the headers and the plain-text part of `message`."""
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else "(no text part)"
        logger.log(
            self.level,
            "Email (console transport, no SMTP configured)\nFrom: %s\nTo: %s\n"
            "Subject: %s\nMessage-ID: %s\n\n%s",
            message["From"],
            message["To"],
            message["Subject"],
            message["Message-ID"],
            text,
        )
