"""``send_email(to, body, subject)`` over real SMTP: validated, at most once, approved by default.

    from agentkit.sessions import SQLiteSession
    from tools.send_email import SMTPSettings, make_send_email

    send_email = make_send_email(
        SMTPSettings.from_env(),                          # SMTP_HOST, SMTP_PORT, SMTP_USERNAME, ...
        ledger=SQLiteSession("sent-email", path="agent.db"),
        allowed_domains=["example.com"],
    )

- **Transport**: STARTTLS on port 587 by default (``tls="ssl"`` for port 465), login with
  ``SMTP_USERNAME``/``SMTP_PASSWORD`` from the environment; never a password in code.
- **Validation**: every address is checked (one ``local@domain.tld`` each, no display-name
  tricks, no line breaks, optionally only ``allowed_domains``) before anything is sent; a bad
  one reaches the model as a ``ToolRetry`` it can fix.
- **At most once**: each call's idempotency key (``RunContext.idempotency_key``, the same when a
  resumed run re-runs the call) is written to the ``ledger`` session *before* the message is
  handed to the server. A re-run that finds the key never sends again: it returns the first
  result, or, when the first attempt was cut off after the key was written, says that the
  message may have been sent. The ledger is any agentkit session (its own thread id in the
  store your runs use).
- **Approval**: ``requires_approval=True`` by default: a run pauses before each e-mail with the
  call in ``RunResult.pending_tool_calls`` until a person approves it
  (``agent.run(session=..., decisions=[call.approve()])``) or denies it.
"""

from __future__ import annotations

import asyncio
import os
import re
import smtplib
import ssl
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Literal

from agentkit import RunContext, Tool, ToolRetry, tool
from agentkit.exceptions import ConfigurationError
from agentkit.sessions import Session

__all__ = ["EmailError", "SMTPSettings", "make_send_email"]

_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
"""One address, ``local@domain.tld``: the dot-atom of RFC 5322 section 3.4.1, ASCII only."""
MAX_RECIPIENTS = 10


class EmailError(RuntimeError):
    """The SMTP server refused the message or the login, or cannot be reached."""

    def __init__(self, message: str, *, not_sent: bool) -> None:
        super().__init__(message)
        self.not_sent = not_sent
        """The message certainly did not leave (refused before ``DATA``); a re-run may send it."""


@dataclass(frozen=True)
class SMTPSettings:
    """Where and how to send."""

    host: str
    """The SMTP server."""
    sender: str
    """The ``From`` address."""
    port: int = 587
    """587 for STARTTLS, 465 for implicit TLS."""
    username: str | None = None
    """Login name; ``None`` sends without logging in."""
    password: str | None = None
    """Login password (from the environment, never from code)."""
    tls: Literal["starttls", "ssl", "none"] = "starttls"
    """``"starttls"`` upgrades the connection (required), ``"ssl"`` is TLS from the start,
    ``"none"`` is for a local relay only."""
    timeout: float = 30.0
    """Seconds for the connection and each SMTP command."""
    ssl_context: ssl.SSLContext | None = None
    """Certificates to trust; ``None`` uses the system's and checks the server's name."""

    @classmethod
    def from_env(cls, prefix: str = "SMTP_", **overrides: Any) -> SMTPSettings:
        """Read the settings from ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USERNAME``, ``SMTP_PASSWORD``,
        ``SMTP_FROM`` and ``SMTP_TLS`` (``starttls``, ``ssl`` or ``none``).

        ``overrides`` replace what the environment says (e.g. ``ssl_context=...``).

        Raises:
            ConfigurationError: ``SMTP_HOST`` or ``SMTP_FROM`` is missing, or a value is invalid.
        """
        env = {
            key[len(prefix) :].lower(): value for key, value in os.environ.items() if key.startswith(prefix)
        }
        missing = [f"{prefix}{name.upper()}" for name in ("host", "from") if not env.get(name)]
        if missing and not {"host", "sender"} <= overrides.keys():
            raise ConfigurationError(f"send_email needs {' and '.join(missing)} in the environment")
        values: dict[str, Any] = {"host": env.get("host"), "sender": env.get("from")}
        if env.get("port"):
            if not env["port"].isdigit():
                raise ConfigurationError(f"{prefix}PORT must be a number, got {env['port']!r}")
            values["port"] = int(env["port"])
        if env.get("tls"):
            if env["tls"] not in ("starttls", "ssl", "none"):
                raise ConfigurationError(f"{prefix}TLS must be starttls, ssl or none, got {env['tls']!r}")
            values["tls"] = env["tls"]
        values["username"] = env.get("username") or None
        values["password"] = env.get("password") or None
        return cls(**{**values, **overrides})


def make_send_email(
    settings: SMTPSettings,
    *,
    ledger: Session,
    allowed_domains: Sequence[str] | None = None,
    requires_approval: bool | Callable[[dict[str, Any], RunContext[Any]], bool] = True,
) -> Tool[..., Coroutine[Any, Any, dict[str, Any]]]:
    """Build the ``send_email`` tool.

    Args:
        settings: The SMTP server and login.
        ledger: The session whose thread records each call's idempotency key before sending.
        allowed_domains: Only these recipient domains (e.g. ``["example.com"]``); ``None`` for any.
        requires_approval: Pause the run for a person's approval before each e-mail (or a
            function of the arguments and the run's context deciding it); ``False`` sends at once.

    Raises:
        ConfigurationError: The sender address is invalid.
    """
    if not _ADDRESS.match(settings.sender):
        raise ConfigurationError(f"the sender {settings.sender!r} is not a valid e-mail address")
    domains = {d.lower() for d in allowed_domains} if allowed_domains is not None else None

    async def send_email(
        ctx: RunContext[Any], to: str, body: str, subject: str = "(no subject)"
    ) -> dict[str, Any]:
        """Send an e-mail.

        Args:
            to: The recipient's address, e.g. ada@example.com (several: separated by commas).
            body: The plain-text body.
            subject: The subject line.
        """
        recipients = _recipients(to, domains)
        if "\n" in subject or "\r" in subject:
            raise ToolRetry("The subject must be one line.")
        key = ctx.idempotency_key
        if key:
            earlier = await _ledger_entry(ledger, key)
            if earlier is not None:
                return earlier
            # Written before the server gets the message: a crash after this never sends twice.
            await ledger.append([{"idempotency_key": key, "status": "sending", "to": recipients}])
        message = _message(settings.sender, recipients, subject, body)
        try:
            await asyncio.to_thread(_deliver, settings, message)
        except EmailError as exc:
            if key and exc.not_sent:
                await ledger.append([{"idempotency_key": key, "status": "failed", "error": str(exc)}])
            raise
        result = {"status": "sent", "to": recipients, "message_id": message["Message-ID"]}
        if key:
            await ledger.append([{"idempotency_key": key, **result}])
        return result

    return tool(name="send_email", idempotent=True, requires_approval=requires_approval)(send_email)


def _recipients(to: str, domains: set[str] | None) -> list[str]:
    recipients = [part.strip() for part in to.split(",") if part.strip()]
    if not recipients:
        raise ToolRetry("No recipient: give at least one e-mail address.")
    if len(recipients) > MAX_RECIPIENTS:
        raise ToolRetry(f"At most {MAX_RECIPIENTS} recipients per e-mail.")
    for address in recipients:
        if not _ADDRESS.match(address):
            raise ToolRetry(f"{address!r} is not an e-mail address; ask the user for the full address.")
        if domains is not None and address.rpartition("@")[2].lower() not in domains:
            allowed = ", ".join(sorted(domains))
            raise ToolRetry(f"{address!r} is outside the allowed domains ({allowed}); it is not sent.")
    return recipients


async def _ledger_entry(ledger: Session, key: str) -> dict[str, Any] | None:
    """What an earlier attempt of this call recorded, as the result to return now."""
    entries = [item for item in await ledger.load() if item.get("idempotency_key") == key]
    if not entries:
        return None
    last = {k: v for k, v in entries[-1].items() if k != "idempotency_key"}
    if last.get("status") == "sent":
        return last
    if last.get("status") == "failed":
        return None  # certainly not sent: this attempt may send it
    return {
        "status": "unknown",
        "to": last.get("to"),
        "note": "an earlier attempt of this call was interrupted while sending; it may have been sent, "
        "so it is not sent again",
    }


def _message(sender: str, recipients: list[str], subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message.set_content(body)
    return message


def _deliver(settings: SMTPSettings, message: EmailMessage) -> None:
    context = settings.ssl_context or ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if settings.tls == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.tls == "starttls":
                smtp.starttls(context=context)  # raises when the server does not offer STARTTLS
            if settings.username is not None:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise EmailError(f"the SMTP server refused the login ({exc.smtp_code})", not_sent=True) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise EmailError(f"the SMTP server does not support it: {exc}", not_sent=True) from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(exc.recipients)
        raise EmailError(f"the SMTP server refused the recipients: {refused}", not_sent=True) from None
    except smtplib.SMTPException as exc:
        raise EmailError(f"the SMTP server refused the message: {exc}", not_sent=False) from None
    except ConnectionRefusedError as exc:
        where = f"{settings.host}:{settings.port}"
        raise EmailError(f"cannot reach the SMTP server {where}: {exc}", not_sent=True) from None
    except (OSError, ssl.SSLError) as exc:
        where = f"{settings.host}:{settings.port}"
        raise EmailError(f"the connection to the SMTP server {where} failed: {exc}", not_sent=False) from None
