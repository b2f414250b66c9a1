"""`shopbot demo` as a newcomer runs it: the real command in a subprocess, in an empty
directory, with no shopbot setting in the environment. It must deliver the demo catalog's
stock item, find the ledger sound, exit 0 (not hang: `DEADLINE`), work twice in a row,
leave nothing running or listening, and stop promptly (exit 130) on Ctrl-C."""

import re
import signal
import time
from pathlib import Path

from shopbot.demo.stack import read_catalog
from tests.e2e.demo_process import (
    DEADLINE,
    assert_nothing_left,
    listening,
    ports_in,
    read_until,
    start,
)


def run_demo(cwd: Path) -> tuple[int, str]:
    process = start(cwd)
    try:
        output, _ = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, output


def test_the_demo_delivers_the_item_and_finds_the_ledger_sound(tmp_path: Path) -> None:
    _, stock = read_catalog()
    items = stock["game-key"]
    for run in (1, 2):  # twice in a row: nothing of the first run gets in the way
        cwd = tmp_path / f"run{run}"
        cwd.mkdir()
        code, output = run_demo(cwd)
        assert code == 0, output
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
        lines = read_until(process, "all servers are up", DEADLINE)
        output = "".join(lines)
        assert "all servers are up" in output, output
        ports = ports_in(output)
        assert ports
        assert all(listening(port) for port in ports)

        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=25)
        stopped = time.monotonic() - interrupted
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(lines) + rest
    assert process.returncode == 130, output
    # Before the 30 s pause would have ended by itself: a bound for "it did not wait",
    # loose enough for a loaded CI machine.
    assert stopped < 25, (stopped, output)
    assert "interrupted" in output
    assert "Traceback" not in output
    assert_nothing_left(output)
