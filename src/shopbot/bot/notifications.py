"""Messages the shop sends on its own initiative (not as a reply)."""

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from shopbot.bot.callbacks import FulfilCB
from shopbot.bot.context import BotContext
from shopbot.bot.failures import describe, retrying
from shopbot.bot.keyboards import button, rows
from shopbot.bot.rendering import money, who
from shopbot.bot.texts import Texts
from shopbot.domain.catalog.models import Product, ProductKind
from shopbot.domain.orders.models import Order, OrderStatus
from shopbot.domain.users import User

log = logging.getLogger(__name__)


async def announce_manual_order(
    bot: Bot, ctx: BotContext, order: Order, product: Product, buyer: User
) -> bool:
    """Tell every admin about a paid manual order, with a button to mark it fulfilled,
    exactly once per order: across redelivered updates, retries and bot instances the
    first caller claims `orders.announced_at` (a conditional UPDATE) and only it sends.
    Call it whenever a manual order may be new (it is a no-op for other orders) and
    BEFORE showing the buyer anything, so a failure there cannot lose it.

    Each admin's message is retried on 429/5xx/network errors (`failures.retrying`); an
    admin still unreachable is logged and skipped, so one admin cannot hide the order
    from the others. An order no admin got stays on the admin screen "Orders to fulfil".
    Takes the factory `ctx.uows`, not the update's unit of work: it is called after the
    purchase was committed, by a handler and by the webhook service (no update there),
    and it commits the claim before the network calls to Telegram.
    Returns True when this call claimed the announcement."""
    if (
        product.kind is not ProductKind.MANUAL
        or order.status is not OrderStatus.AWAITING_FULFILMENT
    ):
        return False
    async with ctx.uows() as uow:
        claimed = await uow.orders.claim_announcement(order.id)
        await uow.commit()
    if not claimed:
        return False
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
            await retrying(lambda: bot.send_message(admin_id, text, reply_markup=markup))  # noqa: B023 - awaited in this iteration
        except TelegramAPIError as exc:
            log.error(
                "admin %s was not told about order %s (it stays in Orders to fulfil): %s",
                admin_id,
                order.id,
                describe(exc),
            )
    return True
