"""Building the payment notifier (the domain's `PaymentNotifier` on Telegram) for
processes that credit payments outside the bot: the webhook service and
`shopbot payments reconcile`. It shares the process's database."""

from contextlib import AsyncExitStack

from shopbot.bot.coordination import MemoryCoordination
from shopbot.bot.payment_notices import TelegramPaymentNotifier
from shopbot.composition.policies import telegram_configured
from shopbot.composition.resources import bot_context, open_bot
from shopbot.config import Settings
from shopbot.persistence.uow import UnitOfWorkFactory


def open_telegram_notifier(
    stack: AsyncExitStack, settings: Settings, uows: UnitOfWorkFactory
) -> TelegramPaymentNotifier | None:
    """The notifier on TELEGRAM_TOKEN, or None when the token is not set (nobody is told;
    purchases waiting for a top-up stay undone, the money on the balance). Its Bot's
    HTTP session is closed by the stack; nothing connects until the first notice."""
    if not telegram_configured(settings):
        return None
    bot = open_bot(stack, settings)
    # Only this process's notices use it: per-process coordination is enough.
    ctx = bot_context(settings, uows, MemoryCoordination(), gateway=None)
    return TelegramPaymentNotifier(bot, ctx)
