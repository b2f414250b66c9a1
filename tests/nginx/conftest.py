"""Fixtures for the nginx edge tests: recording upstreams and a self-signed certificate."""

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.nginx.edge import DOMAIN
from tests.nginx.upstreams import Upstream, recording


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here starts nginx (or at least runs `sh` and `nginx -t`)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if item.path.resolve().is_relative_to(here):
            item.add_marker(pytest.mark.subprocess)


@pytest.fixture
async def app_a() -> AsyncIterator[Upstream]:
    async with recording("app-a") as upstream:
        yield upstream


@pytest.fixture
async def app_b() -> AsyncIterator[Upstream]:
    async with recording("app-b") as upstream:
        yield upstream


@pytest.fixture
async def webhook() -> AsyncIterator[Upstream]:
    async with recording("webhook") as upstream:
        yield upstream


def make_certificate(directory: Path) -> Path:
    """A self-signed P-256 certificate for DOMAIN and 127.0.0.1, valid one day, written as
    directory/fullchain.pem and directory/privkey.pem (the names nginx expects); returns
    the certificate's path (the test clients' trust anchor)."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "1", "-subj", f"/CN={DOMAIN}",
            "-addext", f"subjectAltName=DNS:{DOMAIN},IP:127.0.0.1",
            "-keyout", str(directory / "privkey.pem"), "-out", str(directory / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return directory / "fullchain.pem"
