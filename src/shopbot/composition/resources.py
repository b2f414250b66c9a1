"""Opening one process's resources onto its exit stack; each is closed by the stack,
in reverse order of opening."""

import functools
from contextlib import AsyncExitStack
from dataclasses import dataclass

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shopbot.adapters.heleket.client import HeleketClient
from shopbot.bot.context import BotContext
from shopbot.bot.coordination import (
    Coordination,
    MemoryCoordination,
    RedisCoordination,
    redis_client,
)
from shopbot.bot.factory import create_bot
from shopbot.bot.rate_limits.buckets import MemoryTokenBuckets, TokenBuckets
from shopbot.bot.rate_limits.limiter import RateLimiter, buckets_from
from shopbot.bot.rate_limits.redis_buckets import RedisTokenBuckets
from shopbot.composition.policies import crypto_topup_policy, stars_policy
from shopbot.config import MissingSecret, Settings
from shopbot.domain.payments.gateway import PaymentGateway
from shopbot.observability.metrics import count_read, set_breaker_state, set_replica_lag
from shopbot.observability.metrics.redis_commands import instrument_redis
from shopbot.observability.metrics.sql import instrument_engine
from shopbot.persistence.engine import (
    create_engine,
    create_read_only_engine,
    create_session_factory,
)
from shopbot.persistence.replicas import ReadRouter, ReplicaPolicy
from shopbot.persistence.uow import ReadOnlyUnitOfWorkFactory, UnitOfWorkFactory


@dataclass(frozen=True)
class HeleketRetry:
    """How a built Heleket client retries a failed call: `attempts` tries in all,
    waiting `backoff_base` seconds, then twice that, ... (tests and the demo go fast)."""

    attempts: int = 3
    backoff_base: float = 0.5


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    uows: UnitOfWorkFactory


def open_database(stack: AsyncExitStack, settings: Settings, *, pool_size: int = 10) -> Database:
    """The engine on DATABASE_URL (nothing connects yet; with METRICS_ENABLED each
    statement is timed for `shopbot_db_query_duration_seconds`); disposed by the stack."""
    engine = _managed(stack, settings, create_engine(settings.database_url, pool_size=pool_size))
    return Database(engine, UnitOfWorkFactory(create_session_factory(engine)))


def _managed(stack: AsyncExitStack, settings: Settings, engine: AsyncEngine) -> AsyncEngine:
    """`engine`, its statements timed with METRICS_ENABLED, disposed by the stack."""
    if settings.metrics_enabled:
        instrument_engine(engine)
    stack.push_async_callback(engine.dispose)
    return engine


def open_reads(
    stack: AsyncExitStack,
    settings: Settings,
    database: Database,
    *,
    pool_size: int = 10,
    primary_pool_size: int = 5,
) -> ReadOnlyUnitOfWorkFactory:
    """Read-only units of work on DATABASE_REPLICA_URLS (in turn, skipping a replica that
    fails or lags beyond DATABASE_REPLICA_MAX_LAG_SECONDS), else on the primary
    (DATABASE_URL); with no replicas, always the primary. On PostgreSQL each is a
    read-only engine of its own (`create_read_only_engine`: `pool_size` connections per
    replica, `primary_pool_size` on the primary, beside the writers' pool), disposed by
    the stack; SQLite's reads share `database`'s engine (no read-only mode, no replicas);
    with METRICS_ENABLED their statements are timed like the writers'. The served target
    and each measured lag are always published (`shopbot_db_reads_total`,
    `shopbot_db_replica_lag_seconds`)."""

    def sessions(url: str, size: int) -> async_sessionmaker[AsyncSession]:
        engine = create_read_only_engine(url, pool_size=size)
        return create_session_factory(_managed(stack, settings, engine))

    replicas = [sessions(url, pool_size) for url in settings.database_replica_urls]
    if database.engine.dialect.name == "postgresql":
        primary = sessions(settings.database_url, primary_pool_size)
    else:
        primary = create_session_factory(database.engine)
    router = ReadRouter(
        primary,
        replicas,
        ReplicaPolicy(max_lag=settings.database_replica_max_lag_seconds),
        on_read=count_read,
        on_lag=set_replica_lag,
    )
    return ReadOnlyUnitOfWorkFactory(router)


def open_coordination(stack: AsyncExitStack, settings: Settings) -> Coordination:
    """Redis (REDIS_URL or REDIS_CLUSTER_NODES) when configured, else in-memory (one
    instance only); closed by the stack. Each Redis command rides out a failover for up to
    REDIS_RETRY_SECONDS (bot/redis_failover.py). With METRICS_ENABLED each Redis command
    is timed for `shopbot_redis_command_duration_seconds`, retries included (the time the
    caller waited)."""
    client = redis_client(
        settings.redis_url,
        settings.redis_cluster_nodes,
        retry_seconds=settings.redis_retry_seconds,
    )
    if client is not None and settings.metrics_enabled:
        instrument_redis(client)
    coordination = RedisCoordination(client) if client is not None else MemoryCoordination()
    stack.push_async_callback(coordination.close)
    return coordination


def open_bot(stack: AsyncExitStack, settings: Settings) -> Bot:
    """A Bot on TELEGRAM_TOKEN / TELEGRAM_API_URL (MissingSecret without the token); its
    HTTP session is closed by the stack."""
    bot = create_bot(settings)
    stack.push_async_callback(bot.session.close)
    return bot


def open_heleket(
    stack: AsyncExitStack, settings: Settings, retry: HeleketRetry | None = None
) -> HeleketClient:
    """A Heleket client on HELEKET_API_URL (MissingSecret without the merchant id and
    key); closed by the stack. Its circuit breaker's state is published as
    `shopbot_circuit_breaker_state{breaker="heleket"}`."""
    retry = retry or HeleketRetry()
    client = HeleketClient.from_settings(
        settings, retry_attempts=retry.attempts, backoff_base=retry.backoff_base
    )
    stack.push_async_callback(client.aclose)
    breaker = client.breaker
    breaker.on_change = functools.partial(set_breaker_state, "heleket")
    set_breaker_state("heleket", breaker.state)
    return client


def open_optional_heleket(
    stack: AsyncExitStack, settings: Settings, retry: HeleketRetry | None = None
) -> HeleketClient | None:
    """As `open_heleket`, but None when the Heleket keys are not set (crypto top-ups
    are off; the start-up checks warned)."""
    try:
        return open_heleket(stack, settings, retry)
    except MissingSecret:
        return None


def rate_limiter(settings: Settings, coordination: Coordination) -> RateLimiter:
    """The RATE_LIMIT_* limits on the coordination store: Redis (shared by every
    instance) or, without Redis, this process's memory."""
    store: TokenBuckets = (
        RedisTokenBuckets(coordination.client)
        if isinstance(coordination, RedisCoordination)
        else MemoryTokenBuckets()
    )
    return RateLimiter(store, buckets_from(settings), frozenset(settings.admin_ids))


def bot_context(
    settings: Settings,
    uows: UnitOfWorkFactory,
    coordination: Coordination,
    gateway: PaymentGateway | None,
    reads: ReadOnlyUnitOfWorkFactory | None = None,
) -> BotContext:
    """The handlers' context, with the policies built once here. `reads`: the read-only
    units of work (`open_reads`); None where no handler runs (the payment notifier)."""
    return BotContext(
        settings=settings,
        uows=uows,
        reads=reads,
        coordination=coordination,
        stars_policy=stars_policy(settings),
        rate_limiter=rate_limiter(settings, coordination),
        gateway=gateway,
        topup_policy=crypto_topup_policy(settings, gateway),
        admin_ids=frozenset(settings.admin_ids),
    )
