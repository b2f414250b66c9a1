"""A bot instance's broadcast worker alone, in a process of its own, so a test can kill
it with SIGKILL in the middle of a batch:

    python -m tests.integration.broadcast_child PG_URL API_BASE RATE BATCH
"""

import asyncio
import sys

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from shopbot.bot.broadcast_worker import BROADCAST_LEASE, BroadcastWorker
from shopbot.jobs.periodic import run_periodically
from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.integration.broadcast_env import TOKEN


async def main(pg_url: str, api: str, rate: int, batch: int) -> None:
    engine = create_engine(pg_url)
    uows = UnitOfWorkFactory(create_session_factory(engine))
    session = AiohttpSession(api=TelegramAPIServer.from_base(api))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    worker = BroadcastWorker(bot, uows, rate=rate, batch_size=batch)
    await run_periodically(engine, BROADCAST_LEASE, 0.1, worker.drain, log_result=False)


if __name__ == "__main__":
    url, base, rate, batch = sys.argv[1:5]
    asyncio.run(main(url, base, int(rate), int(batch)))
