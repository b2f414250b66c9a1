"""`shopbot topup create` starts without loading the bot's framework (aiogram takes
seconds to import on a slow machine), and `shopbot healthcheck` without loading settings
or any framework; checked in a fresh interpreter."""

import json
import socket
import subprocess
import sys

PROBE = """
import json, sys
from shopbot.cli import cli
cli.main(["topup", "create", "--help"], standalone_mode=False)
import shopbot.cli.payments
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] == "aiogram")))
"""


def test_topup_create_and_the_payments_commands_do_not_import_aiogram() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert "Create a Heleket invoice" in result.stdout
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == []


HEALTHCHECK_PROBE = """
import json, sys
from shopbot.cli import main
sys.argv = ["shopbot", "healthcheck", sys.argv[1]]
try:
    main()
except SystemExit as exit:
    loaded = sorted({name.split(".")[0] for name in sys.modules})
    print(json.dumps({"code": exit.code, "loaded": loaded}))
"""
# What `shopbot healthcheck` must not pay for every few seconds inside a container.
HEAVY = {"aiogram", "sqlalchemy", "alembic", "pydantic", "pydantic_settings", "redis", "structlog"}


def test_healthcheck_loads_neither_settings_nor_the_frameworks() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/health/ready"
    result = subprocess.run(
        [sys.executable, "-c", HEALTHCHECK_PROBE, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["code"] == 1
    assert result.stderr.strip() == f"{url}: no answer (connection refused)"
    assert HEAVY & set(outcome["loaded"]) == set()
    assert "shopbot" in outcome["loaded"]
