"""A real Prometheus and Alertmanager on loopback, configured from the project's own files
with only what a test must change: the targets, the receivers' addresses and secrets (as
files, like the Compose secrets), and intervals of a second so rules fire at once."""

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from shopbot.http.serve import free_port
from tests.monitoring.tools import (
    ALERT_RULES,
    ALERTMANAGER_CONFIG,
    ALERTMANAGER_DIR,
    PROMETHEUS_CONFIG,
    RULES_DIR,
    binary,
    load_yaml,
)

SECRETS_PREFIX = "/run/secrets/"
READY_SECONDS = 30


def _dump(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(value, sort_keys=False), encoding="utf-8")
    return path


def derive_rules(directory: Path) -> Path:
    """rules/ with every alert's `for` removed (fires on its first true evaluation);
    expressions, labels and annotations as they are. Returns the rules directory."""
    rules = load_yaml(ALERT_RULES)
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("for", None)
    _dump(directory / "rules" / "alerts.yml", rules)
    shutil.copy(RULES_DIR / "recording.yml", directory / "rules" / "recording.yml")
    return directory / "rules"


def derive_prometheus_config(
    directory: Path, targets: dict[str, tuple[str, str]], alertmanager: str
) -> Path:
    """prometheus.yml with 1 s intervals, `targets` (job -> (host:port, metrics path)) as
    its only scrape jobs and `alertmanager` (host:port) to notify."""
    config = load_yaml(PROMETHEUS_CONFIG)
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [alertmanager]
    config["scrape_configs"] = [
        {"job_name": job, "metrics_path": path, "static_configs": [{"targets": [address]}]}
        for job, (address, path) in targets.items()
    ]
    derive_rules(directory)
    return _dump(directory / "prometheus.yml", config)


def _retime(route: dict[str, Any]) -> None:
    for key in ("group_wait", "group_interval"):
        if key in route or "routes" in route:
            route[key] = "1s"
    for child in route.get("routes", []):
        _retime(child)


def _secret_files(value: Any, secrets: Path, used: set[str]) -> Any:
    """A copy of `value` where every `*_file` pointing into /run/secrets/ points into
    `secrets` instead; the secrets' names are added to `used`."""
    if isinstance(value, list):
        return [_secret_files(item, secrets, used) for item in value]
    if not isinstance(value, dict):
        return value
    copy = {}
    for key, item in value.items():
        if key.endswith("_file") and isinstance(item, str) and item.startswith(SECRETS_PREFIX):
            name = item.removeprefix(SECRETS_PREFIX)
            used.add(name)
            copy[key] = str(secrets / name)
        else:
            copy[key] = _secret_files(item, secrets, used)
    return copy


def derive_alertmanager_config(
    directory: Path,
    *,
    secrets: dict[str, str],
    smtp_port: int,
    smtp_ca_file: Path,
    pagerduty_url: str,
) -> Path:
    """alertmanager.yml with the secrets written as files in `directory`/secrets (name ->
    content; every secret the file names must be given), the SMTP relay on loopback
    (STARTTLS still required, trusting `smtp_ca_file`), PagerDuty's Events API at
    `pagerduty_url`, and 1 s group waits and intervals."""
    used: set[str] = set()
    config = _secret_files(load_yaml(ALERTMANAGER_CONFIG), directory / "secrets", used)
    assert used == set(secrets), f"the configuration reads secrets {sorted(used)}"
    (directory / "secrets").mkdir(parents=True, exist_ok=True)
    for name, content in secrets.items():
        (directory / "secrets" / name).write_text(content, encoding="utf-8")
    config["global"]["smtp_smarthost"] = f"127.0.0.1:{smtp_port}"
    config["templates"] = [str(ALERTMANAGER_DIR / "templates" / "*.tmpl")]
    _retime(config["route"])
    for receiver in config["receivers"]:
        for pagerduty in receiver.get("pagerduty_configs", []):
            pagerduty["url"] = pagerduty_url
        for mail in receiver.get("email_configs", []):
            mail["tls_config"] = {"ca_file": str(smtp_ca_file)}
    return _dump(directory / "alertmanager.yml", config)


async def _wait_ready(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                output = await asyncio.to_thread(log.read_text)
                raise RuntimeError(f"{url} exited {process.returncode}:\n{output}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"{url}/-/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    output = await asyncio.to_thread(log.read_text)
    raise RuntimeError(f"{url} not ready in {READY_SECONDS} s:\n{output}")


@asynccontextmanager
async def running(name: str, argv: list[str], url: str, log: Path) -> AsyncIterator[str]:
    """Runs `argv` until the block exits; yields `url` once /-/ready answers 200."""
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            binary(name), *argv, stdout=output, stderr=asyncio.subprocess.STDOUT
        )
    try:
        await _wait_ready(url, process, log)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()


@asynccontextmanager
async def alertmanager(config: Path, directory: Path) -> AsyncIterator[str]:
    port = free_port()
    argv = [
        f"--config.file={config}",
        f"--storage.path={directory / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # no gossip: one instance
    ]
    url = f"http://127.0.0.1:{port}"
    async with running("prometheus-alertmanager", argv, url, directory / "alertmanager.log"):
        yield url


@asynccontextmanager
async def prometheus(config: Path, directory: Path) -> AsyncIterator[str]:
    port = free_port()
    argv = [
        f"--config.file={config}",
        f"--storage.tsdb.path={directory / 'prometheus-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    url = f"http://127.0.0.1:{port}"
    async with running("prometheus", argv, url, directory / "prometheus.log"):
        yield url


async def eventually(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.2)
