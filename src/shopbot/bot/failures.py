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

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramUnauthorizedError,
)

PERMANENT = (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramUnauthorizedError,
    TelegramConflictError,
    TelegramMigrateToChat,
    TelegramEntityTooLarge,  # a subclass of TelegramNetworkError, but no retry shrinks a file
)


def is_permanent(error: BaseException) -> bool:
    """True for a Telegram refusal that repeats on every retry (see the module doc)."""
    return isinstance(error, PERMANENT)


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
