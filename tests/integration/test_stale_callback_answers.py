"""answerCallbackQuery for a query that is already answered or expired counts as done."""

import pytest
from aiogram.exceptions import TelegramBadRequest

from shopbot.bot.factory import create_bot
from shopbot.config import Settings
from shopbot.http.serve_aiohttp import serve_aiohttp
from shopbot.sandbox.telegram import EMULATOR, EmulatorConfig, create_app

TOKEN = "123456:TEST-stale-answers"


async def test_a_stale_callback_answer_is_not_an_error() -> None:
    app = create_app(EmulatorConfig(bots={TOKEN: (123456, "stale_bot", "Stale")}))
    async with serve_aiohttp(app) as url:
        settings = Settings(_env_file=None, telegram_token=TOKEN, telegram_api_url=url)  # type: ignore[call-arg]
        bot = create_bot(settings)
        try:
            assert await bot.answer_callback_query("no-such-query") is True
            with pytest.raises(TelegramBadRequest):  # other refusals still raise
                await bot.send_message(42, "")
        finally:
            await bot.session.close()
    assert [c.method for c in app[EMULATOR].calls()][:1] == ["answerCallbackQuery"]
