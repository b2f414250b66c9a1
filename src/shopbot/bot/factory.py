"""Builds the bot and its dispatcher; nothing is created at import time."""

from typing import cast

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType

from shopbot.bot.context import BotContext
from shopbot.bot.coordination import RedisCoordination
from shopbot.bot.middlewares.context import ShopContextMiddleware
from shopbot.bot.middlewares.dedupe import UpdateDedupeMiddleware
from shopbot.bot.middlewares.errors import ErrorMiddleware
from shopbot.bot.middlewares.log_context import UpdateLogContext
from shopbot.bot.middlewares.metrics import HandlerMetrics, TelegramApiMetrics, UpdateMetrics
from shopbot.bot.middlewares.private_chats import PrivateChatsOnly
from shopbot.bot.middlewares.rate_limit import RateLimitMiddleware
from shopbot.bot.middlewares.reads import ReadOnlyUnitOfWorkMiddleware
from shopbot.bot.middlewares.state import DeferredStateRead, ReadState
from shopbot.bot.middlewares.unit_of_work import UnitOfWorkMiddleware
from shopbot.bot.response_models import KeepResponseModels
from shopbot.bot.routers import ROUTERS
from shopbot.config import Settings, require_secrets


class StaleCallbackAnswers(BaseRequestMiddleware):
    """A callback query can be answered once, within seconds; a redelivered update finds
    it answered or expired. That must not fail the update (Telegram would redeliver it
    again and again), so answerCallbackQuery's "query is too old" counts as done."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            if isinstance(method, AnswerCallbackQuery) and "query is too old" in error.message:
                # The chain passes results, whatever aiogram's annotation says.
                return cast(Response[TelegramType], True)
            raise


def create_bot(settings: Settings) -> Bot:
    require_secrets(settings, "telegram_token")
    assert settings.telegram_token is not None
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(KeepResponseModels())
    session.middleware(StaleCallbackAnswers())
    if settings.metrics_enabled:
        # Registered last, so innermost: it sees each call's own result, before
        # StaleCallbackAnswers turns an expired callback answer into a success.
        session.middleware(TelegramApiMetrics())
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
    """The dispatcher with its middlewares and routers. Raises ValueError when `ctx` has
    no read-only units of work (`ctx.reads`): the browsing handlers need them."""
    if ctx.reads is None:
        raise ValueError("the bot's context needs `reads` (composition.resources.open_reads)")
    # aiogram's FSM middleware reads the state first thing for every update; this one
    # leaves that to the claim's script (one server) or to ReadState below.
    dispatcher = Dispatcher(storage=create_storage(ctx), disable_fsm=True)
    dispatcher.update.outer_middleware(DeferredStateRead.like(dispatcher.fsm))
    metrics = ctx.settings.metrics_enabled
    if metrics:  # first: its clock covers the whole update, dropped ones too
        dispatcher.update.outer_middleware(UpdateMetrics())
    dispatcher.update.outer_middleware(UpdateLogContext())  # every line has update_id
    # It takes the user's rate-limit token with the claim where one script can.
    dedupe = UpdateDedupeMiddleware(ctx.coordination, limiter=ctx.rate_limiter)
    dispatcher.update.outer_middleware(dedupe)
    # Inside dedupe: a redelivered update takes no second token, and a limited one is
    # "done" (2xx, not redelivered). Before the chat check and the unit of work: a
    # flood, from a group too, costs no database work.
    webhook = ctx.settings.bot_mode == "webhook"  # Telegram redelivers a deferred update
    dispatcher.update.outer_middleware(RateLimitMiddleware(ctx.rate_limiter, defer_global=webhook))
    # Before the context: group traffic registers nobody and reaches no router.
    dispatcher.update.outer_middleware(PrivateChatsOnly(ctx))
    # One unit of work for the whole update, registration included; the error middleware
    # rolls it back before it answers a failure.
    dispatcher.update.outer_middleware(UnitOfWorkMiddleware(ctx.uows))
    dispatcher.update.outer_middleware(ShopContextMiddleware(ctx))
    # Last: the filters and handlers inside all see `raw_state`.
    dispatcher.update.outer_middleware(ReadState())
    for observer in (dispatcher.message, dispatcher.callback_query, dispatcher.pre_checkout_query):
        observer.middleware(ErrorMiddleware())
    # After ErrorMiddleware (inside it): it sees a handler's failure before it is answered.
    for name, observer in dispatcher.observers.items():
        if metrics and name not in {"update", "error"}:
            observer.middleware(HandlerMetrics())
    # Inside ErrorMiddleware: failing to open it is answered like a handler's failure.
    for observer in (dispatcher.message, dispatcher.callback_query):
        observer.middleware(ReadOnlyUnitOfWorkMiddleware(ctx.reads))
    for router in ROUTERS():
        dispatcher.include_router(router)
    return dispatcher
