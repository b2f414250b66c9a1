"""The bot's metrics: each update's type, handler, outcome and duration, and each Bot API
call's method, result and duration (`shopbot.observability.metrics` names them).

`UpdateMetrics` is the dispatcher's first outer middleware, so its clock covers the whole
update; `HandlerMetrics` is an inner middleware on every event observer (aiogram runs a
root router's inner middlewares for the handlers of every nested router), registered
after `ErrorMiddleware` so it sees a handler's exception before that one answers it.
The two share one `UpdateRecord` through the middleware data.
"""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update

from shopbot.bot.deferrals import UpdateDeferred
from shopbot.domain.errors import DomainError
from shopbot.observability.metrics import (
    TELEGRAM_DURATION,
    TELEGRAM_REQUESTS,
    UPDATE_DURATION,
    UPDATES,
)

RECORD = "metrics_record"
NO_HANDLER = "none"
"""The handler label of an update no handler took (deduplicated, a group, no match)."""

Next = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


@dataclass
class UpdateRecord:
    handler: str = NO_HANDLER
    failed: bool = False


def handler_name(handler: HandlerObject) -> str:
    """`<router module>.<function>` (e.g. `catalog.show_product`): bounded by the code."""
    callback = handler.callback
    module = getattr(callback, "__module__", "") or ""
    name = getattr(callback, "__name__", type(callback).__name__)
    return f"{module.rsplit('.', 1)[-1]}.{name}"


def update_type(update: Update) -> str:
    """aiogram's name for the update's payload ("message", "callback_query", ...)."""
    try:
        return update.event_type
    except Exception:  # aiogram raises for payloads newer than itself
        return "unknown"


class UpdateMetrics(BaseMiddleware):
    """Counts `shopbot_updates_total{update_type, handler, outcome}` and observes
    `shopbot_update_duration_seconds`. outcome: "error" when the update raised or its
    handler failed (a refusal of the shop's rules, DomainError, is no failure),
    "deferred" when it was put off for Telegram's redelivery (bot/deferrals.py: the
    global rate limit, another instance handling it), "dropped" when no handler took
    it, else "ok"."""

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        record = data[RECORD] = UpdateRecord()
        started = time.perf_counter()
        kind = update_type(event) if isinstance(event, Update) else "unknown"
        result: Any = UNHANDLED
        deferred = False
        try:
            result = await handler(event, data)
            return result
        except UpdateDeferred:
            deferred = True
            raise
        except BaseException:
            record.failed = True
            raise
        finally:
            if deferred:
                outcome = "deferred"
            elif record.failed:
                outcome = "error"
            elif record.handler == NO_HANDLER or result is UNHANDLED:
                outcome = "dropped"
            else:
                outcome = "ok"
            UPDATES.labels(kind, record.handler, outcome).inc()
            UPDATE_DURATION.labels(kind, record.handler).observe(time.perf_counter() - started)


class HandlerMetrics(BaseMiddleware):
    """Names the handler that took the update on its `UpdateRecord`, and marks the
    record failed when the handler raises anything but a DomainError."""

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        record: UpdateRecord | None = data.get(RECORD)
        found: HandlerObject | None = data.get("handler")
        if record is not None and found is not None:
            record.handler = handler_name(found)
        try:
            return await handler(event, data)
        except DomainError:
            raise
        except Exception:
            if record is not None:
                record.failed = True
            raise


def api_result(error: BaseException | None) -> str:
    """ok | retry_after (429) | server_error (5xx) | network_error | client_error (any
    other refusal: 400, 403, ...), from aiogram's exception classes."""
    if error is None:
        return "ok"
    if isinstance(error, TelegramRetryAfter):
        return "retry_after"
    if isinstance(error, TelegramServerError):
        return "server_error"
    if isinstance(error, TelegramNetworkError | TimeoutError | OSError):
        return "network_error"
    return "client_error"


class TelegramApiMetrics(BaseRequestMiddleware):
    """Counts `shopbot_telegram_api_requests_total{method, result}` and observes
    `shopbot_telegram_api_duration_seconds{method}` for each Bot API call; method is
    the API's name for it (`sendMessage`), a closed set."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            return await make_request(bot, method)
        except Exception as exc:
            error = exc
            raise
        finally:
            TELEGRAM_REQUESTS.labels(name, api_result(error)).inc()
            TELEGRAM_DURATION.labels(name).observe(time.perf_counter() - started)
