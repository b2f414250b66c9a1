"""Local stand-ins for Alertmanager's receivers: an HTTP server recording what Slack's
incoming webhooks and PagerDuty's Events API v2 would be sent, and a real SMTP server
(aiosmtpd) that requires the login Alertmanager reads from its password file."""

import asyncio
import email
import email.policy
import json
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from shopbot.http.serve import free_port
from shopbot.http.serve_aiohttp import serve_aiohttp


@dataclass
class HttpReceivers:
    """POSTs recorded by path (`/slack/alerts`, `/pagerduty/v2/enqueue`, ...)."""

    base_url: str = ""
    posts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    async def _record(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.posts.setdefault(request.path, []).append(body)
        # PagerDuty answers 202 with a status; Slack answers 200 "ok"
        if request.path.startswith("/pagerduty"):
            return web.json_response(
                {"status": "success", "message": "Event processed"}, status=202
            )
        return web.Response(text="ok")

    def of(self, path: str) -> list[dict[str, Any]]:
        return self.posts.get(path, [])


@asynccontextmanager
async def http_receivers() -> AsyncIterator[HttpReceivers]:
    receivers = HttpReceivers()
    app = web.Application()
    app.router.add_post("/{tail:.*}", receivers._record)
    async with serve_aiohttp(app, shutdown_timeout=1.0) as url:
        receivers.base_url = url
        yield receivers


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: list[str]
    subject: str
    text: str
    login: str


@dataclass
class SmtpServer:
    """Accepts mail only after STARTTLS and AUTH PLAIN with `login`/`password`."""

    login: str
    password: str
    port: int = 0
    certificate: Path = Path()
    mails: list[Mail] = field(default_factory=list)
    refused_logins: int = 0

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.login
            and data.password.decode() == self.password
        )
        if not ok:
            self.refused_logins += 1
        return AuthResult(success=ok, auth_data=data)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        auth = session.auth_data
        self.mails.append(
            Mail(
                sender=str(envelope.mail_from),
                recipients=list(envelope.rcpt_tos),
                subject=str(message["Subject"]),
                text=body.get_content() if body is not None else "",
                login=auth.login.decode() if isinstance(auth, LoginPassword) else "",
            )
        )
        return "250 OK"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed P-256 certificate for 127.0.0.1, valid one day: (certificate, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    certificate, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(certificate),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return certificate, key


@asynccontextmanager
async def smtp_server(login: str, password: str, directory: Path) -> AsyncIterator[SmtpServer]:
    """An SMTP server on a free loopback port that, like a real relay, offers STARTTLS
    (a certificate made here: SmtpServer.certificate is its trust anchor) and takes AUTH
    only after it."""
    certificate, key = make_certificate(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    server = SmtpServer(login, password, port=free_port(), certificate=certificate)
    controller = Controller(
        server,
        hostname="127.0.0.1",
        port=server.port,
        authenticator=server.authenticate,
        auth_required=True,
        tls_context=context,
        require_starttls=True,
        # aiosmtpd's LOGIN prompts "User Name", which Alertmanager's LOGIN client refuses
        # (it expects "Username:"); relays usually offer PLAIN too, which it then uses
        auth_exclude_mechanism=["LOGIN"],
    )
    await asyncio.to_thread(controller.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(controller.stop)


def slack_alert_names(posts: list[dict[str, Any]]) -> list[str]:
    """The alert names in Slack notices (our title template: `[FIRING:n] Name (job)`)."""
    return [post["attachments"][0]["title"].split("] ", 1)[1].split(" ", 1)[0] for post in posts]


def dumps(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True)[:4000]
