"""Builds the bot and its dispatcher; nothing is created at import time."""

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage

from shopbot.bot.context import BotContext
from shopbot.bot.coordination import RedisCoordination
from shopbot.bot.middlewares.context import ShopContextMiddleware
from shopbot.bot.middlewares.dedupe import UpdateDedupeMiddleware
from shopbot.bot.middlewares.errors import ErrorMiddleware
from shopbot.bot.routers import ROUTERS
from shopbot.config import Settings, require_secrets


def create_bot(settings: Settings) -> Bot:
    require_secrets(settings, "telegram_token")
    assert settings.telegram_token is not None
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.telegram_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def create_storage(ctx: BotContext) -> BaseStorage:
    if isinstance(ctx.coordination, RedisCoordination):
        return RedisStorage(ctx.coordination.client)  # type: ignore[arg-type]
    return MemoryStorage()


def create_dispatcher(ctx: BotContext) -> Dispatcher:
    dispatcher = Dispatcher(storage=create_storage(ctx))
    dispatcher.update.outer_middleware(UpdateDedupeMiddleware(ctx.coordination))
    dispatcher.update.outer_middleware(ShopContextMiddleware(ctx))
    for observer in (dispatcher.message, dispatcher.callback_query, dispatcher.pre_checkout_query):
        observer.middleware(ErrorMiddleware())
    for router in ROUTERS():
        dispatcher.include_router(router)
    return dispatcher
