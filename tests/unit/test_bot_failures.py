"""Which Telegram failures are retried, and what the log says about them."""

import pytest
from aiogram.exceptions import (
    RestartingTelegram,
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
from aiogram.methods import SendMessage

from shopbot.bot.failures import describe, is_permanent, operator_fix

SEND = SendMessage(chat_id=900, text="hi")


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (TelegramBadRequest(SEND, "Bad Request: chat not found"), True),
        (TelegramForbiddenError(SEND, "Forbidden: bot was blocked by the user"), True),
        (TelegramNotFound(SEND, "Not Found"), True),
        (TelegramUnauthorizedError(SEND, "Unauthorized"), True),
        (TelegramConflictError(SEND, "Conflict"), True),
        (TelegramMigrateToChat(SEND, "Bad Request: group chat was upgraded", -1001), True),
        (TelegramEntityTooLarge(SEND, "Request Entity Too Large"), True),
        (TelegramRetryAfter(SEND, "Too Many Requests: retry after 3", 3), False),
        (TelegramServerError(SEND, "Bad Gateway"), False),
        (RestartingTelegram(SEND, "Restarting"), False),
        (TelegramNetworkError(SEND, "timeout"), False),
        (RuntimeError("database is down"), False),
    ],
)
def test_only_refusals_that_repeat_are_permanent(error: Exception, permanent: bool) -> None:
    assert is_permanent(error) is permanent


def test_the_log_names_the_request_the_chat_and_the_fix() -> None:
    not_found = TelegramBadRequest(SEND, "Bad Request: chat not found")
    assert describe(not_found) == "SendMessage to chat 900: Bad Request: chat not found"
    assert "press Start" in operator_fix(not_found, "SUPPORT_CHAT_ID")
    blocked = TelegramForbiddenError(SEND, "Forbidden: bot was blocked by the user")
    assert "SUPPORT_CHAT_ID" in operator_fix(blocked, "SUPPORT_CHAT_ID")
    moved = TelegramMigrateToChat(SEND, "Bad Request: group chat was upgraded", -100123)
    assert operator_fix(moved, "SUPPORT_CHAT_ID").endswith("set SUPPORT_CHAT_ID=-100123")
    other: TelegramAPIError = TelegramBadRequest(SEND, "Bad Request: wrong parameter")
    assert operator_fix(other, "X") == "check that X names a chat the bot can write to"


async def test_retrying_retries_transient_failures_and_stops_at_permanent_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shopbot.bot import failures

    monkeypatch.setattr(failures, "BACKOFF", (0.0, 0.0, 0.0))  # the waits, not the rule
    calls: list[int] = []

    def flaky(errors: list[Exception]):
        async def call() -> str:
            calls.append(1)
            if errors:
                raise errors.pop(0)
            return "sent"

        return call

    assert await failures.retrying(flaky([TelegramServerError(SEND, "Bad Gateway")] * 3)) == "sent"
    assert len(calls) == 4
    calls.clear()
    with pytest.raises(TelegramServerError):  # ATTEMPTS tries, then the last error
        await failures.retrying(flaky([TelegramServerError(SEND, "Bad Gateway")] * 9))
    assert len(calls) == failures.ATTEMPTS
    calls.clear()
    with pytest.raises(TelegramForbiddenError):  # a refusal repeats: not retried
        await failures.retrying(flaky([TelegramForbiddenError(SEND, "Forbidden: blocked")]))
    assert len(calls) == 1
    calls.clear()
    too_long = TelegramRetryAfter(SEND, "Too Many Requests: retry after 999", 999)
    with pytest.raises(TelegramRetryAfter):  # longer than MAX_RETRY_AFTER: given up
        await failures.retrying(flaky([too_long]))
    assert len(calls) == 1
