"""Timing the commands a Redis client sends (single server or cluster), by command."""

import time
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from shopbot.observability.metrics import REDIS_COMMAND_DURATION

MAX_COMMAND_LENGTH = 24
"""Longer than any Redis command name ("CLUSTER COUNT-FAILURE-REPORTS" is two words)."""


def command_name(args: tuple[Any, ...]) -> str:
    """The command's name in upper case ("SET", "EVALSHA"), from its first argument;
    "OTHER" for anything not shaped like a command name, so no key or value can become
    a label value."""
    first = args[0] if args else b""
    name = first.decode("ascii", "replace") if isinstance(first, bytes) else str(first)
    name = name.split(" ", 1)[0].upper()
    if not name.isascii() or not name.replace("_", "").isalpha() or len(name) > MAX_COMMAND_LENGTH:
        return "OTHER"
    return name


def instrument_redis(client: "Redis | RedisCluster") -> None:
    """Observe `shopbot_redis_command_duration_seconds{command}` around each command
    `client` executes, failed ones included. redis-py has no command hook, so the
    client's own `execute_command` is wrapped (on this instance only); every command
    method, aiogram's RedisStorage and Lua scripts (EVALSHA) go through it. Commands in
    a pipeline are sent by the pipeline, not timed here; so are a cluster client's
    multi-key commands (DEL, EXISTS, MGET, MSET, TOUCH, UNLINK), which redis-py splits
    into a pipeline per slot."""
    execute = client.execute_command

    async def timed(*args: Any, **options: Any) -> Any:
        started = time.perf_counter()
        try:
            return await execute(*args, **options)
        finally:
            REDIS_COMMAND_DURATION.labels(command_name(args)).observe(time.perf_counter() - started)

    client.execute_command = timed  # type: ignore[method-assign]
