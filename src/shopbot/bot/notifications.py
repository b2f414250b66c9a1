"""Messages the shop sends on its own initiative (not as a reply)."""

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from shopbot.bot.callbacks import FulfilCB
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.rendering import money, who
from shopbot.bot.texts import Texts
from shopbot.domain.catalog.models import Product
from shopbot.domain.orders.models import Order
from shopbot.domain.users import User

log = logging.getLogger(__name__)


async def announce_manual_order(
    bot: Bot, ctx: BotContext, order: Order, product: Product, buyer: User
) -> None:
    """Every admin gets the order with a button to mark it fulfilled."""
    for admin_id in sorted(ctx.admin_ids):
        t = Texts("en")
        async with ctx.uows() as uow:
            admin = await uow.users.get(admin_id)
        if admin is not None:
            t = Texts(admin.language)
        text = t(
            "admin.manual_order",
            order_id=order.id,
            title=product.title.get(t.language),
            price=money(order.price),
            currency=ctx.currency,
            buyer=who(t, buyer.id, buyer),
        )
        markup = rows([button(t("admin.mark_fulfilled"), FulfilCB(order_id=order.id))])
        try:
            await bot.send_message(admin_id, text, reply_markup=markup)
        except TelegramAPIError:  # one unreachable admin must not hide the order from others
            log.exception("could not tell admin %s about order %s", admin_id, order.id)
