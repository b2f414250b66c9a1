"""`shopbot redis cluster ...` runs in the cluster-creator and monitor containers and in
health checks: it must start without the bot's framework (checked in a fresh interpreter)."""

import json
import subprocess
import sys

PROBE = """
import json, sys
from shopbot.cli import cli
for command in ("create", "check", "monitor"):
    cli.main(["redis", "cluster", command, "--help"], standalone_mode=False)
import shopbot.ops.redis_cluster.monitor, shopbot.ops.redis_cluster.create
heavy = ("aiogram", "fastapi", "uvicorn")
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in heavy)))
"""


def test_the_redis_cluster_commands_do_not_import_the_bot_or_web_stacks() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert "Form a cluster of NODES" in result.stdout
    assert "--interval" in result.stdout
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == []
