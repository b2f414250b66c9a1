"""`refundStarPayment` as the domain's StarsRefunder: Telegram's answers mapped to a
definite refusal, "already refunded", or an unclear outcome."""

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from shopbot.domain.payments.stars import (
    StarsAlreadyRefunded,
    StarsRefundRefused,
    StarsRefundUncertain,
)


class TelegramStarsRefunder:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def refund(self, *, user_id: int, charge_id: str) -> None:
        try:
            done = await self.bot.refund_star_payment(user_id, charge_id)
        except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as unclear:
            raise StarsRefundUncertain(unclear.message) from None
        except TelegramAPIError as refusal:  # 400/403/404: Telegram did not refund
            if "ALREADY_REFUNDED" in refusal.message.upper():
                raise StarsAlreadyRefunded(refusal.message) from None
            raise StarsRefundRefused(refusal.message) from None
        if not done:
            raise StarsRefundRefused("Telegram answered false")
