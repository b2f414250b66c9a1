"""`shopbot demo` as a newcomer runs it: the real command in a subprocess, in an empty
directory, with no shopbot setting in the environment. It must deliver the demo catalog's
stock item, find the ledger sound, exit 0 within a minute, work twice in a row, leave
nothing running or listening, and stop promptly (exit 130) on Ctrl-C."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from shopbot.config import Settings
from shopbot.demo.stack import read_catalog

COMMAND = [sys.executable, "-c", "from shopbot.cli import main; main()", "demo"]
DEADLINE = 60.0
URL = re.compile(r"http://127\.0\.0\.1:(\d+)")
TEMP_DIR = re.compile(r"SQLite database in (\S+);")


def clean_env() -> dict[str, str]:
    """The environment without any shopbot setting (nothing from the developer's shell)."""
    setting_names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in setting_names}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start(cwd: Path, *args: str) -> subprocess.Popen[str]:
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


def assert_nothing_left(output: str) -> None:
    ports = ports_in(output)
    assert len(ports) == 4, output  # Telegram, Heleket, webhook service, bot
    assert not [port for port in ports if listening(port)], output
    assert children_of(os.getpid()) == []
    temp = TEMP_DIR.search(output)
    assert temp is not None, output
    assert not Path(temp.group(1)).exists()


def run_demo(cwd: Path) -> tuple[int, str, float]:
    started = time.monotonic()
    process = start(cwd)
    try:
        output, _ = process.communicate(timeout=DEADLINE + 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, output, time.monotonic() - started


def test_the_demo_delivers_the_item_and_finds_the_ledger_sound(tmp_path: Path) -> None:
    _, stock = read_catalog()
    items = stock["game-key"]
    for run in (1, 2):  # twice in a row: nothing of the first run gets in the way
        cwd = tmp_path / f"run{run}"
        cwd.mkdir()
        code, output, seconds = run_demo(cwd)
        assert code == 0, output
        assert seconds < DEADLINE, output
        delivered = re.search(r"delivered stock item: (\S+)", output)
        assert delivered is not None, output
        assert delivered.group(1) in items
        assert "◂ 🛒 The payment arrived, so your purchase went through" in output
        assert delivered.group(1) in output.split("🛒 The payment arrived")[1]
        for step in (
            '👤 Alice   ▸ taps "🛍 Catalog"',
            "Not enough balance",
            "💳 Heleket · invoice",
            "/pay/",
            "🔔 webhook · signed webhook (paid)",
            "→ 200 OK",
            "Your balance was topped up by 9.99 USD",
            "ledger is sound",
        ):
            assert step in output, (step, output)
        assert "<b>" not in output  # HTML tags are stripped for the terminal
        assert "Traceback" not in output
        assert_nothing_left(output)
        assert list(cwd.iterdir()) == []  # nothing written where it was run


def test_ctrl_c_stops_everything_promptly(tmp_path: Path) -> None:
    process = start(tmp_path, "--pause", "30")
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + DEADLINE
        for line in process.stdout:
            lines.append(line)
            if "all servers are up" in line or time.monotonic() > deadline:
                break
        output = "".join(lines)
        assert "all servers are up" in output, output
        ports = ports_in(output)
        assert ports
        assert all(listening(port) for port in ports)

        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=15)
        stopped = time.monotonic() - interrupted
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(lines) + rest
    assert process.returncode == 130, output
    assert stopped < 10, (stopped, output)
    assert "interrupted" in output
    assert "Traceback" not in output
    assert_nothing_left(output)
