"""The static scanners of the deployment (docs/deployment.md#checks): where each tool is,
how it is called offline, and the files it is pointed at. tests/deploy/test_scanners.py
runs them; nothing here decides what passes.

Every tool is a pinned package: hadolint, check-jsonschema, trivy and detect-secrets in
the project's virtualenv (pyproject.toml dev extras), checkov in a virtualenv of its own
(`.venv-checkov`, built here on first use from requirements-checkov.lock: its dependency
tree would clash with the project's). None of them reaches the network: trivy runs with
its embedded checks, no database update and no telemetry; checkov with `--skip-download`;
detect-secrets with `--no-verify` (its Telegram plugin would otherwise call getMe)."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
STANDINS = DEPLOY / "images"
BIN = Path(sys.executable).parent

HADOLINT_CONFIG = ROOT / ".hadolint.yaml"
CHECKOV_CONFIG = ROOT / ".checkov.yaml"
CHECKOV_STANDINS_CONFIG = ROOT / ".checkov.standins.yaml"
CHECKOV_LOCK = ROOT / "requirements-checkov.lock"
CHECKOV_VENV = ROOT / ".venv-checkov"
TRIVY_IGNORE = ROOT / ".trivyignore.yaml"
TRIVY_SECRET_CONFIG = ROOT / "trivy-secret.yaml"
SECRETS_BASELINE = ROOT / ".secrets.baseline"

# Directories of local state that trivy must not walk (it scans the tree, not git's index):
# virtualenvs hold thousands of third-party files, the rest are caches and reports.
LOCAL_STATE = (
    ".git",
    ".venv",
    ".venv-checkov",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "test-results",
    "htmlcov",
)


@dataclass(frozen=True)
class Run:
    """One finished scanner run: exit code, output and wall time in seconds."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def explain(self) -> str:
        shown = " ".join(self.command)
        shown = shown if len(shown) < 600 else f"{shown[:600]} ... ({len(self.command)} arguments)"
        return (
            f"$ {shown}\n-> exit {self.returncode} in {self.seconds:.1f} s\n"
            f"{self.stdout[-6000:]}\n{self.stderr[-3000:]}"
        )


def run(
    command: Sequence[str | Path],
    *,
    cwd: Path = ROOT,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> Run:
    """Runs `command` to the end (raises subprocess.TimeoutExpired past `timeout` s)."""
    argv = [str(part) for part in command]
    started = time.monotonic()
    done = subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return Run(argv, done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def tool(name: str) -> Path:
    """A scanner installed in the project's virtualenv; fails the test (never skips) when
    it is missing, naming the install command."""
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in {BIN}: run `make install` (pyproject dev extras)")
    return path


def dockerfiles() -> list[Path]:
    """Every Dockerfile under deploy/: the project's image and the offline stand-ins."""
    found = sorted(p for p in DEPLOY.rglob("Dockerfile*") if p.is_file())
    assert DEPLOY / "docker" / "Dockerfile" in found
    return found


def compose_files() -> list[Path]:
    """Every Compose file: deploy/compose/*.yaml and the live tests' tests/docker/live/*.yaml."""
    found = sorted((DEPLOY / "compose").glob("*.yaml"))
    found += sorted((ROOT / "tests" / "docker" / "live").glob("*.yaml"))
    assert DEPLOY / "compose" / "compose.yaml" in found
    return found


def trivy_env(cache: Path) -> dict[str, str]:
    """trivy's cache in a test folder, so no run shares or keeps state."""
    return {"TRIVY_CACHE_DIR": str(cache)}


def trivy_offline_flags(*, fs: bool) -> list[str]:
    """What keeps trivy off the network: embedded misconfiguration checks, no version
    check or telemetry and, for `trivy fs`, no vulnerability database or API lookups."""
    flags = ["--quiet", "--disable-telemetry", "--skip-version-check", "--skip-check-update"]
    return [*flags, "--skip-db-update", "--offline-scan"] if fs else flags


def pinned_checkov() -> str:
    """checkov's version from requirements-checkov.lock (the one place it is pinned)."""
    match = re.search(r"^checkov==(\S+)$", CHECKOV_LOCK.read_text(), re.MULTILINE)
    assert match, f"{CHECKOV_LOCK.name} pins no checkov"
    return match.group(1)


def checkov() -> Path:
    """The `checkov` of `.venv-checkov`, built on first use (about a minute; pip with the
    lock file as constraints) under a file lock, so parallel test workers build it once.
    A virtualenv holding another version is rebuilt."""
    version = pinned_checkov()
    binary = CHECKOV_VENV / "bin" / "checkov"
    with (ROOT / ".venv-checkov.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.exists() and run([binary, "--version"], timeout=120).stdout.strip() == version:
            return binary
        shutil.rmtree(CHECKOV_VENV, ignore_errors=True)
        steps: list[list[str | Path]] = [
            [sys.executable, "-m", "venv", CHECKOV_VENV],
            [
                CHECKOV_VENV / "bin" / "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-c",
                CHECKOV_LOCK,
                f"checkov=={version}",
            ],
        ]
        for step in steps:
            done = run(step, timeout=900)
            assert done.returncode == 0, f"building {CHECKOV_VENV.name} failed\n{done.explain()}"
    return binary


def git_files() -> list[str]:
    """The files git would commit: tracked ones and new ones it does not ignore (paths
    relative to the repository root), without those deleted from the work tree."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    assert listed.returncode == 0, listed.explain()
    return sorted({name for name in listed.stdout.split("\0") if name and (ROOT / name).is_file()})
