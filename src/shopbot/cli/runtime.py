import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from shopbot.config import Settings
from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.readiness import check_database

P = ParamSpec("P")
T = TypeVar("T")


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[UnitOfWorkFactory]:
    """The shop's database for one command; NotReady (one line) when it cannot be reached
    or its migrations are not at head, before the command does anything."""
    await check_database(settings.database_url)
    engine = create_engine(settings.database_url, pool_size=2)
    try:
        yield UnitOfWorkFactory(create_session_factory(engine))
    finally:
        await engine.dispose()


def run_async(func: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """Let a click command be an `async def`."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return asyncio.run(func(*args, **kwargs))  # type: ignore[arg-type]

    return wrapper


def load_settings() -> Settings:
    return Settings()
