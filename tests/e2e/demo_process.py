"""Running `shopbot demo` as a newcomer runs it: the real command in a subprocess, with no
shopbot setting in the environment; and checking that nothing it started is left."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shopbot.config import Settings

COMMAND = [sys.executable, "-c", "from shopbot.cli import main; main()", "demo"]
DEADLINE = 180.0
"""Seconds before a demo or sandbox that has not got there counts as hung: a bound for
hangs, not a speed requirement (CI machines are shared; the demo prints its own time)."""
URL = re.compile(r"http://127\.0\.0\.1:(\d+)")
TEMP_DIR = re.compile(r"SQLite database in (\S+);")
SANDBOX_URL = re.compile(r"Browser sandbox: (http://127\.0\.0\.1:\d+)")


def clean_env() -> dict[str, str]:
    """The environment without any shopbot setting (nothing from the developer's shell)."""
    setting_names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in setting_names}
    env["PYTHONUNBUFFERED"] = "1"
    return env


_children_before: set[int] = set()


def start(cwd: Path, *args: str) -> subprocess.Popen[str]:
    # Servers the test session keeps (the Redis Cluster nodes) are children too.
    _children_before.clear()
    _children_before.update(children_of(os.getpid()))
    return subprocess.Popen(
        [*COMMAND, *args],
        cwd=cwd,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        # SIGINT must reach the demo with its default disposition, as from a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def ports_in(output: str) -> set[int]:
    return {int(port) for port in URL.findall(output)}


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def read_until(process: subprocess.Popen[str], marker: str, seconds: float) -> list[str]:
    """The lines the process printed up to and including the first holding `marker`; stops
    at the deadline or when the process ends (the caller asserts on what came)."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + seconds
    for line in process.stdout:
        lines.append(line)
        if marker in line or time.monotonic() > deadline:
            break
    return lines


def assert_nothing_left(output: str, servers: int = 4) -> None:
    """No server the output names still listens, no child process lives, and the
    temporary directory is gone."""
    ports = ports_in(output)
    assert len(ports) == servers, output
    assert not [port for port in ports if listening(port)], output
    assert set(children_of(os.getpid())) <= _children_before
    temp = TEMP_DIR.search(output)
    assert temp is not None, output
    assert not Path(temp.group(1)).exists()


@dataclass
class Sandbox:
    url: str
    output: str
    """What the command printed up to the sandbox's address."""


@contextmanager
def running_sandbox(cwd: Path, *args: str) -> Iterator[Sandbox]:
    """`shopbot demo --serve` on a free port; on exit Ctrl-C, after which it must have
    exited 0 (its normal end) with nothing left behind."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = start(cwd, "--serve", "--port", str(port), *args)
    rest = ""
    try:
        output = "".join(read_until(process, "Browser sandbox:", DEADLINE))
        found = SANDBOX_URL.search(output)
        assert found is not None, output
        yield Sandbox(found.group(1), output)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output += rest
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    assert_nothing_left(output, servers=5)
