"""`shopbot topup create` starts without loading the bot's framework (aiogram takes
seconds to import on a slow machine); checked in a fresh interpreter."""

import json
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
