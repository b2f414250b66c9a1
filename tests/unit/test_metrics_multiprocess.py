"""prometheus-client's multiprocess mode, as several webhook workers use it: two real
processes write to one PROMETHEUS_MULTIPROC_DIR, a third renders what a scrape of any
worker answers, and the counters, histograms and gauges aggregate as documented."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.metrics_scrape import parse, value

pytestmark = pytest.mark.subprocess

WRITER = textwrap.dedent(
    """
    import sys
    from shopbot.observability import metrics
    n, ledger_ok = int(sys.argv[1]), int(sys.argv[2])
    metrics.HELEKET_WEBHOOKS.labels("accepted").inc(n)
    metrics.UPDATE_DURATION.labels("message", "start.start").observe(0.2)
    metrics.LEDGER_CHECK_OK.set(ledger_ok)
    metrics.set_breaker_state("heleket", "open" if n == 3 else "closed")
    metrics.set_build_info(revision="abc123", colour="blue")
    """
)
READER = (
    "import sys; from shopbot.observability.metrics.exposition import render; "
    "sys.stdout.write(render().decode())"
)


def run(code: str, directory: Path, *args: str) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_two_writers_one_collector(tmp_path: Path) -> None:
    run(WRITER, tmp_path, "3", "1")
    run(WRITER, tmp_path, "4", "0")  # the later check found the ledger unsound
    assert len(list(tmp_path.glob("*.db"))) >= 2  # one file set per process

    samples = parse(run(READER, tmp_path))

    assert value(samples, "shopbot_heleket_webhooks_total", outcome="accepted") == 7
    duration = {"update_type": "message", "handler": "start.start"}
    assert value(samples, "shopbot_update_duration_seconds_count", **duration) == 2
    assert value(samples, "shopbot_ledger_check_ok") == 0  # mostrecent: the later write
    assert value(samples, "shopbot_circuit_breaker_state", breaker="heleket") == 2  # max
    build = {"version": "0.1.0", "revision": "abc123", "colour": "blue"}
    assert value(samples, "shopbot_build_info", **build) == 1


def test_without_the_directory_each_process_has_its_own_registry(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    code = WRITER + "\n" + READER.replace("import sys; ", "")
    done = subprocess.run(
        [sys.executable, "-c", code, "5", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    samples = parse(done.stdout)
    assert value(samples, "shopbot_heleket_webhooks_total", outcome="accepted") == 5
    assert value(samples, "shopbot_ledger_check_ok") == 1
    assert not list(tmp_path.iterdir())
