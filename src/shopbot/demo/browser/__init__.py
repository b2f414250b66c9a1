"""`shopbot demo --serve`: the demo's whole stack kept running, with a browser sandbox in
front of it. A person chats with the bot as a customer or as the admin, pays Heleket
invoices on the Heleket emulator's payment page or Stars invoices with a button, and
watches balances and the ledger change. Same emulators as the tests; no network."""

import asyncio
import errno
import socket
import tempfile
from pathlib import Path

from shopbot.demo import quiet_logs
from shopbot.demo.browser.app import create_app
from shopbot.demo.browser.identities import ADMIN_IDS, IDENTITIES
from shopbot.demo.stack import CATALOG, demo_stack
from shopbot.http.serve_aiohttp import serve_aiohttp

__all__ = ["DEFAULT_PORT", "PortInUse", "check_port", "serve_sandbox"]

DEFAULT_PORT = 8080
HOST = "127.0.0.1"
"""Loopback only: the sandbox has no login, so it must never be reachable from outside."""


class PortInUse(Exception):
    pass


def check_port(port: int) -> None:
    """Fails early and clearly, before anything starts, if the port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"{HOST}:{port} is in use; choose another with --port") from None
            raise


async def serve_sandbox(
    port: int = DEFAULT_PORT, catalog: Path = CATALOG, *, verbose: bool = False
) -> None:
    """Runs until cancelled (Ctrl-C); everything started is stopped before it returns."""
    quiet_logs(verbose)
    with tempfile.TemporaryDirectory(prefix="shopbot-sandbox-") as directory:
        page = f"http://{HOST}:{port}/"
        async with demo_stack(Path(directory), catalog, ADMIN_IDS, return_url=page) as stack:
            for who in IDENTITIES:
                stack.emulator.create_user(who.id, who.name, language_code=who.language)
            async with serve_aiohttp(create_app(stack), host=HOST, port=port) as url:
                print(f"• catalog: {catalog}")
                for name, server in stack.urls.items():
                    print(f"• {name:<27} {server}")
                print(f"• SQLite database in {directory}; in-memory coordination; no network")
                print(f"\nBrowser sandbox: {url}  (Ctrl-C stops everything)", flush=True)
                await asyncio.Event().wait()
