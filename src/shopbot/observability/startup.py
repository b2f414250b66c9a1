"""The start-up line: what a process is and what it talks to, with no secret in it."""

from typing import Literal

import structlog

from shopbot import __version__
from shopbot.config import Settings
from shopbot.persistence.engine import safe_url

Role = Literal["bot", "webhook"]


def redis_target(settings: Settings) -> str:
    """ "single <url, password masked>", "cluster host:port,..." or "none" (in memory)."""
    if settings.redis_url:
        return f"single {safe_url(settings.redis_url)}"
    if settings.redis_cluster_nodes:
        return "cluster " + ",".join(settings.redis_cluster_nodes)
    return "none"


def replica_targets(settings: Settings, role: Role) -> str:
    """The bot's read replicas (DATABASE_REPLICA_URLS, passwords masked) or "none"; the
    webhook service reads only the primary."""
    if role != "bot" or not settings.database_replica_urls:
        return "none"
    return ",".join(safe_url(url) for url in settings.database_replica_urls)


def listening(settings: Settings, role: Role, host: str | None, port: int | None) -> str:
    """ "host:port" the process serves on (the bot in polling mode serves its health
    endpoints there). The webhook service defaults to WEBHOOK_HOST:WEBHOOK_PORT."""
    if role == "webhook":
        return f"{host or settings.webhook_host}:{port or settings.webhook_port}"
    return f"{host}:{port}"


def startup_fields(
    settings: Settings, role: Role, *, host: str | None = None, port: int | None = None
) -> dict[str, object]:
    """The start-up line's fields: version, role, environment, bot_mode, database,
    database_replicas (the bot's read replicas, comma-separated, or "none") and redis
    (passwords masked), telegram_api, heleket_api, listening."""
    return {
        "version": __version__,
        "role": role,
        "environment": settings.environment,
        "bot_mode": settings.bot_mode,
        "database": safe_url(settings.database_url),
        "database_replicas": replica_targets(settings, role),
        "redis": redis_target(settings),
        "telegram_api": settings.telegram_api_url,
        "heleket_api": settings.heleket_api_url,
        "listening": listening(settings, role, host, port),
    }


def log_startup(
    settings: Settings, role: Role, *, host: str | None = None, port: int | None = None
) -> None:
    """Log the INFO line "starting" with `startup_fields` (host/port: the command's
    --host/--port options)."""
    fields = startup_fields(settings, role, host=host, port=port)
    structlog.get_logger("shopbot.startup").info("starting", **fields)
