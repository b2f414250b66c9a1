"""The logging pipeline: fields, formats, bound ids, and secrets masked everywhere."""

import asyncio
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from aiogram.types import Update
from pydantic import SecretStr

from shopbot.bot.middlewares.log_context import UpdateLogContext
from shopbot.config import Settings
from shopbot.observability.logging import configure_logging, secrets_of
from shopbot.observability.redaction import MASK, Redactor
from shopbot.observability.startup import startup_fields
from shopbot.webhook.request_id import request_id

TOKEN = "7312345678:AAHunitSecretToken_value-42"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes the process; each test gets it back as it was."""
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook = hook
    structlog.configure(**config)


def json_lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines()]


def fetch_me() -> None:
    raise RuntimeError(f"Cannot reach https://api.telegram.org/bot{TOKEN}/getMe")


def test_a_token_in_an_exception_and_its_traceback_is_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(level="INFO", log_format="console", secrets=[TOKEN])
    log = logging.getLogger("shopbot.test")
    try:
        try:
            fetch_me()
        except RuntimeError as exc:
            raise ConnectionError(f"while calling {TOKEN}") from exc
    except ConnectionError:
        log.exception("call failed with %s", TOKEN)

    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err  # the traceback is there, masked
    assert "RuntimeError: Cannot reach https://api.telegram.org/bot***/getMe" in err
    assert TOKEN not in err
    assert TOKEN.split(":")[1] not in err


def test_json_lines_carry_the_fields_and_the_bound_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(level="INFO", log_format="json", secrets=[TOKEN])
    with structlog.contextvars.bound_contextvars(update_id=17, error_id="ab12cd34"):
        logging.getLogger("shopbot.test").warning("update %s failed", 17)
        try:
            fetch_me()
        except RuntimeError:
            logging.getLogger("shopbot.test").exception("failed")
    structlog.get_logger("shopbot.native").info("plain", token=TOKEN)

    first, failed, native = json_lines(capsys.readouterr().err)
    assert first["event"] == "update 17 failed"
    assert (first["level"], first["logger"]) == ("warning", "shopbot.test")
    assert (first["update_id"], first["error_id"]) == (17, "ab12cd34")
    assert first["timestamp"].endswith("Z")
    assert "bot***/getMe" in failed["exception"]
    assert native["token"] == MASK
    assert "update_id" not in native


def test_info_lines_appear_and_the_level_is_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="WARNING", log_format="console")
    logging.getLogger("shopbot.test").info("hidden")
    configure_logging(level="INFO", log_format="console")  # called twice: no duplicate lines
    logging.getLogger("shopbot.test").info("shown")
    logging.getLogger("uvicorn.error").info("uvicorn too")

    lines = capsys.readouterr().err.splitlines()
    assert [line for line in lines if "hidden" in line] == []
    assert len([line for line in lines if "shown" in line]) == 1
    assert any("uvicorn too" in line and "[uvicorn.error]" in line for line in lines)


def test_the_redactor_masks_the_forms_a_secret_takes() -> None:
    redactor = Redactor(['pa:ss/wo"rd', "abc"])

    assert redactor.text("postgresql://u:pa%3Ass%2Fwo%22rd@db/x") == "postgresql://u:***@db/x"
    assert redactor.text('{"p": "pa:ss/wo\\"rd"}') == '{"p": "***"}'
    assert redactor.text("abc stays: too short to mask") == "abc stays: too short to mask"


def test_every_secret_setting_and_url_password_is_masked() -> None:
    settings = Settings(
        _env_file=None,
        telegram_token=SecretStr(TOKEN),
        heleket_api_key=SecretStr("hk-api-unit-1"),
        heleket_payout_key=SecretStr("hk-payout-unit-2"),
        telegram_webhook_secret=SecretStr("whsec-unit-3"),
        database_url="postgresql+asyncpg://shop:db-pw-unit@db:5432/shop",
        # pragma: allowlist nextline secret
        database_replica_urls="postgresql+asyncpg://shop:replica-pw-unit@db-replica-1/shop",
        redis_url="redis://:redis-pw-unit@cache:6379/0",
    )

    assert set(secrets_of(settings)) == {
        TOKEN,
        "hk-api-unit-1",
        "hk-payout-unit-2",
        "whsec-unit-3",
        "db-pw-unit",
        "replica-pw-unit",
        "redis-pw-unit",
    }
    shown = json.dumps(startup_fields(settings, "webhook"))
    assert all(secret not in shown for secret in secrets_of(settings))
    fields = startup_fields(settings, "webhook")
    assert fields["database"] == "postgresql+asyncpg://shop:***@db:5432/shop"
    assert fields["redis"] == "single redis://:***@cache:6379/0"
    assert fields["database_replicas"] == "none"  # the webhook service reads the primary
    bot = startup_fields(settings, "bot")
    assert bot["database_replicas"] == "postgresql+asyncpg://shop:***@db-replica-1/shop"
    assert "replica-pw-unit" not in json.dumps(bot)
    assert fields["listening"] == "0.0.0.0:8001"


def test_each_update_is_logged_with_its_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", log_format="json")

    async def handler(event: Any, data: dict[str, Any]) -> None:
        logging.getLogger("shopbot.test").info("handling")

    asyncio.run(UpdateLogContext()(handler, Update(update_id=99), {}))
    logging.getLogger("shopbot.test").info("after")

    during, after = json_lines(capsys.readouterr().err)
    assert during["update_id"] == 99
    assert "update_id" not in after


@pytest.mark.parametrize(
    ("given", "kept"),
    [("req-1.a:b_C", True), ("x" * 128, True), ("x" * 129, False), ("a b", False), ("", False)],
)
def test_a_request_id_is_kept_only_when_sane(given: str, kept: bool) -> None:
    made = request_id(given)

    assert (made == given) is kept
    assert len(made) <= 128
