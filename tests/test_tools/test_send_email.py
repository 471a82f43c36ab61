"""``tools/send_email.py`` against a real SMTP server (aiosmtpd) on 127.0.0.1: STARTTLS with a
certificate made for the test, login required, and crashes around the send."""

from __future__ import annotations

import datetime
import ipaddress
import re
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

import agentkit
from agentkit import Agent
from agentkit.exceptions import ConfigurationError
from agentkit.sessions import MemorySession
from agentkit.testing import ScriptedModel, reply, tool_call
from tests.mcp_fixture_server import free_port
from tools.send_email import EmailError, SMTPSettings, make_send_email


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, so the client can check the server's name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class Inbox:
    """The aiosmtpd handler: keeps every message it accepts."""

    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@dataclass
class SMTP:
    inbox: Inbox
    settings: SMTPSettings


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SMTP]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"agent", b"s3cret")
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticate,
    )
    controller.start()
    try:
        settings = SMTPSettings(
            host="127.0.0.1",
            port=port,
            sender="agent@example.com",
            username="agent",
            password="s3cret",
            ssl_context=ssl.create_default_context(cafile=str(cert)),
            timeout=10,
        )
        yield SMTP(inbox, settings)
    finally:
        controller.stop()


def send_tool(smtp: SMTP, ledger: Any = None, **options: Any) -> Any:
    options.setdefault("requires_approval", False)
    return make_send_email(smtp.settings, ledger=ledger or MemorySession("sent-email"), **options)


async def test_an_agent_sends_over_starttls_with_login(smtp: SMTP) -> None:
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("send_email", {"to": "ada", "body": "Friday.", "subject": None})]),
            reply(
                tool_calls=[
                    tool_call(
                        "send_email", {"to": "ada@example.com", "body": "Friday.", "subject": "Release"}
                    )
                ]
            ),
            reply("Sent."),
        ]
    )
    with model.install():
        result = await Agent(tools=[send_tool(smtp)]).run("Tell Ada the release is on Friday.")
    bad, good = (m["content"] for m in result.messages if m["role"] == "tool")
    assert bad == "'ada' is not an e-mail address; ask the user for the full address."
    assert '"status":"sent","to":["ada@example.com"]' in good
    [message] = smtp.inbox.messages
    assert (message["From"], message["To"], message["Subject"]) == (
        "agent@example.com",
        "ada@example.com",
        "Release",
    )
    assert message.get_payload().strip() == "Friday."


@pytest.mark.parametrize(
    ("to", "problem"),
    [
        ("Ada <ada@example.com>", "is not an e-mail address"),
        ("ada@example.com\r\nBcc: eve@evil.test", "is not an e-mail address"),
        ("ada@example", "is not an e-mail address"),
        ("eve@evil.test", "outside the allowed domains (example.com)"),
        (" , ", "No recipient"),
        (",".join(f"u{i}@example.com" for i in range(11)), "At most 10 recipients"),
    ],
)
async def test_addresses_are_validated_before_sending(smtp: SMTP, to: str, problem: str) -> None:
    tool = send_tool(smtp, allowed_domains=["example.com"])
    with pytest.raises(agentkit.ToolRetry, match=re.escape(problem)):
        await tool(_context(), to=to, body="hi")
    assert smtp.inbox.messages == []


async def test_the_server_refusing_is_a_clear_error(smtp: SMTP) -> None:
    import dataclasses

    wrong = dataclasses.replace(smtp.settings, password="guess")
    with pytest.raises(EmailError, match="refused the login"):
        await make_send_email(wrong, ledger=MemorySession("l"), requires_approval=False)(
            _context(), to="ada@example.com", body="x"
        )
    untrusted = dataclasses.replace(smtp.settings, ssl_context=None)
    with pytest.raises(EmailError, match="CERTIFICATE_VERIFY_FAILED"):
        await make_send_email(untrusted, ledger=MemorySession("l"), requires_approval=False)(
            _context(), to="ada@example.com", body="x"
        )
    closed = dataclasses.replace(smtp.settings, port=free_port())
    with pytest.raises(EmailError, match="cannot reach the SMTP server"):
        await make_send_email(closed, ledger=MemorySession("l"), requires_approval=False)(
            _context(), to="ada@example.com", body="x"
        )
    assert smtp.inbox.messages == []


class Crash(BaseException):
    """Stands for the process dying at one exact point."""


@dataclass
class CrashingSession:
    """A session that dies once, when ``when(items)`` is true for an append."""

    inner: MemorySession
    when: Any
    crashed: bool = False

    @property
    def session_id(self) -> str:
        return self.inner.session_id

    async def load(self) -> list[dict[str, Any]]:
        return await self.inner.load()

    async def append(self, items: Sequence[dict[str, Any]]) -> None:
        if not self.crashed and self.when(items):
            self.crashed = True
            raise Crash
        await self.inner.append(items)

    async def clear(self) -> None:
        await self.inner.clear()

    async def list_sessions(self) -> list[str]:
        return await self.inner.list_sessions()

    def lock(self) -> Any:
        return self.inner.lock()


def _is_tool_result(items: Sequence[dict[str, Any]]) -> bool:
    return any(item.get("role") == "tool" for item in items)


def _is_sent_record(items: Sequence[dict[str, Any]]) -> bool:
    return any(item.get("status") == "sent" for item in items)


async def _run_twice(smtp: SMTP, thread: Any, ledger: Any) -> list[str]:
    """Run until the crash, then resume the thread; return the send_email results the model read."""
    tool = send_tool(smtp, ledger=ledger)
    call = tool_call("send_email", {"to": "ada@example.com", "body": "Friday.", "subject": "Release"})
    with ScriptedModel([reply(tool_calls=[call])]).install(), pytest.raises(Crash):
        await Agent(tools=[tool]).run("Tell Ada.", session=thread)
    model = ScriptedModel([reply("Done.")])
    with model.install():
        result = await Agent(tools=[tool]).run(session=thread)
    assert result.output == "Done."
    return [m["content"] for m in result.messages if m["role"] == "tool"]


async def test_a_resumed_run_does_not_send_twice_after_the_send_was_recorded(smtp: SMTP) -> None:
    thread = CrashingSession(MemorySession("chat"), _is_tool_result)  # dies before journaling the result
    [content] = await _run_twice(smtp, thread, MemorySession("sent-email"))
    assert len(smtp.inbox.messages) == 1
    assert '"status":"sent"' in content and smtp.inbox.messages[0]["Message-ID"] in content


async def test_a_send_cut_off_midway_is_never_repeated(smtp: SMTP) -> None:
    ledger = CrashingSession(MemorySession("sent-email"), _is_sent_record)  # dies right after handing it over
    [content] = await _run_twice(smtp, MemorySession("chat"), ledger)
    assert len(smtp.inbox.messages) == 1
    assert '"status":"unknown"' in content and "it may have been sent, so it is not sent again" in content


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("SMTP_FROM", "bot@example.com")
    monkeypatch.setenv("SMTP_USERNAME", "bot")
    monkeypatch.setenv("SMTP_PASSWORD", "pw")
    monkeypatch.setenv("SMTP_PORT", "2525")
    settings = SMTPSettings.from_env()
    assert (settings.host, settings.port, settings.username, settings.password, settings.tls) == (
        "mail.example.com", 2525, "bot", "pw", "starttls",
    )  # fmt: skip
    monkeypatch.setenv("SMTP_TLS", "plaintext")
    with pytest.raises(ConfigurationError, match="SMTP_TLS must be starttls, ssl or none"):
        SMTPSettings.from_env()
    monkeypatch.delenv("SMTP_HOST")
    with pytest.raises(ConfigurationError, match="send_email needs SMTP_HOST in the environment"):
        SMTPSettings.from_env()
    with pytest.raises(ConfigurationError, match="sender 'nobody' is not a valid e-mail address"):
        make_send_email(SMTPSettings(host="h", sender="nobody"), ledger=MemorySession("l"))


async def test_approval_is_required_by_default(smtp: SMTP) -> None:
    tool = make_send_email(smtp.settings, ledger=MemorySession("sent-email"))
    thread = MemorySession("chat")
    call = tool_call("send_email", {"to": "ada@example.com", "body": "Friday.", "subject": "Release"})
    with ScriptedModel([reply(tool_calls=[call])]).install():
        paused = await Agent(tools=[tool]).run("Tell Ada.", session=thread)
    assert paused.output is None and smtp.inbox.messages == []
    [pending] = paused.pending_tool_calls
    assert (pending.name, pending.kind) == ("send_email", "approval")
    with ScriptedModel([reply("Sent.")]).install():
        done = await Agent(tools=[tool]).run(session=thread, decisions=[pending.approve()])
    assert done.output == "Sent." and len(smtp.inbox.messages) == 1


def _context() -> agentkit.RunContext[None]:
    return agentkit.RunContext(deps=None, run_id="direct", usage=agentkit.Usage())
