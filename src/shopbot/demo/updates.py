"""Waiting until the bot has handled everything the Telegram emulator queued: the demo,
the browser sandbox's stack and the end-to-end tests drive the bot this way."""

from typing import Any

from aiogram import Bot, Dispatcher

from shopbot.sandbox.telegram import Emulator

IDLE_TIMEOUT = 15.0


class UpdateTracker:
    """Records the update ids the dispatcher has finished handling (successfully or not).
    In polling mode the emulator alone can only guess from a quiet period, which a busy
    event loop outlasts; the dispatcher knows."""

    def __init__(self, emulator: Emulator, dispatcher: Dispatcher) -> None:
        self.emulator = emulator
        self.finished: set[int] = set()
        feed_update = dispatcher.feed_update

        async def counted(bot: Bot, update: Any, **kwargs: Any) -> Any:
            try:
                return await feed_update(bot, update, **kwargs)
            finally:
                self.finished.add(update.update_id)

        dispatcher.feed_update = counted  # type: ignore[method-assign]

    async def idle(self, seconds: float = IDLE_TIMEOUT) -> None:
        """Every update queued so far was handled and the emulator saw the bot go quiet."""
        queued = set(range(1, self.emulator.bot().next_update_id))
        await self.emulator.wait_for(lambda: queued <= self.finished, seconds)
        await self.emulator.wait_idle(seconds)
