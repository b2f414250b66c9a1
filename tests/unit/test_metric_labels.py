"""Label values derived from outside input stay within closed sets."""

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage

from shopbot.bot.middlewares.metrics import api_result
from shopbot.observability.metrics.redis_commands import command_name
from shopbot.observability.metrics.sql import operation

METHOD = SendMessage(chat_id=1, text="x")


@pytest.mark.parametrize(
    ("error", "result"),
    [
        (None, "ok"),
        (TelegramRetryAfter(METHOD, "Too Many Requests: retry after 3", 3), "retry_after"),
        (TelegramServerError(METHOD, "Bad Gateway"), "server_error"),
        (TelegramNetworkError(METHOD, "timeout"), "network_error"),
        (TimeoutError(), "network_error"),
        (TelegramBadRequest(METHOD, "chat not found"), "client_error"),
        (TelegramForbiddenError(METHOD, "bot was blocked by the user"), "client_error"),
    ],
)
def test_bot_api_results(error: BaseException | None, result: str) -> None:
    assert api_result(error) == result


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("SET", "shopbot:update:1:2", "1"), "SET"),
        ((b"evalsha", "abc", 1), "EVALSHA"),
        (("CLUSTER INFO",), "CLUSTER"),
        (("user:4242",), "OTHER"),
        (("x" * 40,), "OTHER"),
        (("ЗАПРОС",), "OTHER"),
        ((), "OTHER"),
    ],
)
def test_redis_command_names(args: tuple[object, ...], name: str) -> None:
    assert command_name(args) == name


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("SELECT 1", "select"),
        ("  insert INTO users VALUES (1)", "insert"),
        ("UPDATE accounts SET balance = 0", "update"),
        ("DELETE FROM t", "delete"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "other"),
        ("BEGIN", "other"),
        ("SELECTED", "other"),
        ("select\n  id FROM users", "select"),
        ("", "other"),
    ],
)
def test_sql_operations(statement: str, kind: str) -> None:
    assert operation(statement) == kind
