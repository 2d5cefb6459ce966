"""Mail out: alert digests to the operator's SMTP server (BREAKINGON_SMTP_URL).

`parse_smtp_url` reads the setting:

    smtp://[user:password@]host[:port]            plain SMTP (port 25)
    smtp+starttls://[user:password@]host[:port]   STARTTLS required (port 587)
    smtp://...?starttls=1                          the same
    smtps://[user:password@]host[:port]           SMTP over TLS (port 465)

User and password are percent-decoded. TLS verifies the server's certificate against
the system's CAs. `SmtpSender.send(message)` delivers one `EmailMessage` (blocking:
callers run it in a thread) under a timeout, and raises `SmtpError` with a message
fit for a log (never the password), `permanent` when the server refused for good (a
5xx answer) so the caller does not retry. Not under the SSRF policy: the address is the
operator's setting, never a user's.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["SmtpConfig", "SmtpError", "SmtpSender", "parse_smtp_url"]

_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class SmtpError(OSError):
    """Sending failed; `permanent` when the server refused the message for good."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    tls: str  # "none" | "starttls" | "implicit"
    user: str = ""
    password: str = field(default="", repr=False)

    def describe(self) -> str:
        """Where mail goes, for logs (no credentials)."""
        return f"{self.host}:{self.port} ({self.tls})"


def parse_smtp_url(url: str) -> SmtpConfig:
    """The SMTP server of BREAKINGON_SMTP_URL (ValueError naming what is wrong)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"malformed URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _PORTS:
        raise ValueError(f"scheme {scheme or '(none)'!r}: expected smtp, smtp+starttls or smtps")
    if not parts.hostname:
        raise ValueError("no host")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[-1].lower() in ("1", "true", "yes", "on")
    tls = {"smtps": "implicit", "smtp+starttls": "starttls"}.get(scheme, "none")
    if starttls and tls == "none":
        tls = "starttls"
    return SmtpConfig(
        host=parts.hostname,
        port=port or _PORTS[scheme],
        tls=tls,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


class SmtpSender:
    """Sends messages to one SMTP server (one connection per send)."""

    def __init__(
        self,
        config: SmtpConfig,
        *,
        timeout_s: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.timeout_s = timeout_s
        self._ssl = ssl_context or ssl.create_default_context()

    def send(self, message: EmailMessage) -> None:
        """Deliver `message` to its To addresses (SmtpError on failure)."""
        c = self.config
        try:
            if c.tls == "implicit":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=self.timeout_s, context=self._ssl
                )
            else:
                client = smtplib.SMTP(c.host, c.port, timeout=self.timeout_s)
            with client:
                client.ehlo()
                if c.tls == "starttls":
                    client.starttls(context=self._ssl)
                    client.ehlo()
                if c.user:
                    client.login(c.user, c.password)
                refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SmtpError(
                f"{c.describe()}: recipients refused {codes}", all(x >= 500 for x in codes)
            ) from None
        except smtplib.SMTPResponseException as exc:
            raw = exc.smtp_error
            detail = (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)[:200]
            raise SmtpError(
                f"{c.describe()}: {exc.smtp_code} {detail}", exc.smtp_code >= 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SmtpError(f"{c.describe()}: {type(exc).__name__}: {exc}"[:300]) from None
        if refused:
            raise SmtpError(f"{c.describe()}: recipients refused: {sorted(refused)}", True)
