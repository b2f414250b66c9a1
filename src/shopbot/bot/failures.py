"""Which Telegram failures a retry can cure.

Telegram redelivers a webhook update whose answer was not 2xx (up to its own limit), so
re-raising is right only when trying again may succeed. The Bot API's error codes
(https://core.telegram.org/api/errors) split them:

- permanent: 400 Bad Request (e.g. "chat not found"), 401, 403 Forbidden (e.g. "bot was
  blocked by the user"), 404, 409, a group migrated to a supergroup, a file too large.
  The same request fails the same way every time.
- transient: 429 Too Many Requests (wait `retry_after`), 5xx, network errors; and
  anything that is not a Telegram answer (a database or Redis outage, a bug).
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

T = TypeVar("T")

ATTEMPTS = 4
"""Tries of one call in `retrying`: the first and three retries."""
BACKOFF = (0.5, 1.0, 2.0)
"""Seconds before the 1st, 2nd, 3rd retry of a 5xx or network failure."""
MAX_RETRY_AFTER = 30
"""The longest 429 `retry_after` (seconds) `retrying` waits; a longer ask is given up,
as holding an update longer risks Telegram's own webhook timeout."""

PERMANENT = (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramUnauthorizedError,
    TelegramConflictError,
    TelegramMigrateToChat,
    TelegramEntityTooLarge,  # a subclass of TelegramNetworkError, but no retry shrinks a file
)


def not_modified(error: BaseException) -> bool:
    """True for editMessageText's "message is not modified": a double tap (or a
    redelivered update) edits a message to what it shows already, so nothing is wrong."""
    return isinstance(error, TelegramBadRequest) and "message is not modified" in error.message


def is_permanent(error: BaseException) -> bool:
    """True for a Telegram refusal that repeats on every retry (see the module doc)."""
    return isinstance(error, PERMANENT)


def _transient(error: BaseException) -> bool:
    if isinstance(error, TelegramRetryAfter):
        return error.retry_after <= MAX_RETRY_AFTER
    if is_permanent(error):
        return False
    return isinstance(error, TelegramServerError | TelegramNetworkError)


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, TelegramRetryAfter):
        return float(error.retry_after)  # Telegram's own ask (Bot API ResponseParameters)
    return BACKOFF[min(state.attempt_number, len(BACKOFF)) - 1]


async def retrying(call: Callable[[], Awaitable[T]]) -> T:
    """Run `call` (a Bot API request), retrying a transient failure: a 429 after the
    `retry_after` seconds Telegram asks for (at most MAX_RETRY_AFTER), a 5xx or network
    error after BACKOFF; at most ATTEMPTS tries in all. Used where money has moved
    already, so one hiccup must not lose the message. Raises the last TelegramAPIError
    (a permanent refusal at once: it repeats on every retry)."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(_transient),
        wait=_wait,
        stop=stop_after_attempt(ATTEMPTS),
        reraise=True,
    ):
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity re-raises the last failure")


def failed_chat(error: TelegramAPIError) -> int | str | None:
    """The chat_id of the request Telegram refused, if it had one."""
    chat_id = getattr(error.method, "chat_id", None)
    return chat_id if isinstance(chat_id, int | str) else None


def describe(error: TelegramAPIError) -> str:
    """`<method> to chat <id>: <Telegram's description>`, for a log line. Never holds the
    token: aiogram's method objects carry parameters only."""
    name = type(error.method).__name__
    chat_id = failed_chat(error)
    where = f" to chat {chat_id}" if chat_id is not None else ""
    return f"{name}{where}: {error.message}"


def operator_fix(error: TelegramAPIError, setting: str) -> str:
    """What the operator must do so the chat named by `setting` (e.g. "SUPPORT_CHAT_ID")
    becomes reachable, judged from Telegram's refusal."""
    if isinstance(error, TelegramMigrateToChat):
        return f"the group became a supergroup: set {setting}={error.migrate_to_chat_id}"
    if isinstance(error, TelegramForbiddenError):
        return (
            f"the bot may not write to {setting}: its admin must open the bot and press "
            "Start (and not block it), or a group must add the bot back as a member"
        )
    if isinstance(error, TelegramBadRequest | TelegramNotFound) and "chat not found" in (
        error.message.lower()
    ):
        return (
            f"{setting} names a chat the bot does not know: its admin must open the bot "
            "and press Start, or add the bot to the group; check the id"
        )
    return f"check that {setting} names a chat the bot can write to"
