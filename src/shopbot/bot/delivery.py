"""Handing the goods to the buyer, whatever their length.

A delivery (order number, title, the item or content) goes in one message when Telegram
accepts it: at most 4096 UTF-16 code units of text after entity parsing (Bot API
sendMessage). A longer one (a 4000-unit stock item with its frame, long unlimited
content) is sent as a UTF-8 `.txt` document holding exactly the goods, with the order
line as its caption: a secret split over several messages is easy to copy wrongly, a
file is copied whole. Messages holding goods carry `record_menu` buttons, so navigating
from them never edits them away.
"""

import contextlib
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from shopbot.bot.failures import describe, retrying
from shopbot.bot.rendering import delivery
from shopbot.bot.screens import show, show_after_money
from shopbot.bot.telegram_text import CAPTION_LIMIT, fits
from shopbot.bot.texts import Texts
from shopbot.domain.catalog.models import Product
from shopbot.domain.orders.models import Order
from shopbot.observability.metrics import DELIVERIES

log = logging.getLogger(__name__)


def delivery_text(t: Texts, order: Order, product: Product, *, heading: str = "") -> str:
    """The delivery as one HTML message, `heading` (HTML) above it when given."""
    text = delivery(t, order, product)
    return f"{heading}\n\n{text}" if heading else text


def delivery_file(order: Order) -> BufferedInputFile:
    """The goods alone, UTF-8, as `order-<id>.txt`."""
    return BufferedInputFile((order.delivery or "").encode("utf-8"), f"order-{order.id}.txt")


def file_caption(t: Texts, order: Order, product: Product, *, heading: str = "") -> str:
    """The caption of the file: `heading` (dropped if the 1024-unit caption limit would be
    passed; titles are at most 128 units, so the rest always fits) and the order line."""
    caption = t("delivery.file", order_id=order.id, title=product.title.get(t.language))
    with_heading = f"{heading}\n\n{caption}" if heading else caption
    return with_heading if fits(with_heading, CAPTION_LIMIT) else caption


def delivery_kind(t: Texts, order: Order, product: Product, *, heading: str = "") -> str:
    """The `kind` label of `shopbot_deliveries_total`: "text" when the delivery fits in a
    message, else "file" (a document)."""
    return "text" if fits(delivery_text(t, order, product, heading=heading)) else "file"


async def send_delivery(
    bot: Bot,
    chat_id: int,
    t: Texts,
    order: Order,
    product: Product,
    markup: InlineKeyboardMarkup,
    *,
    heading: str = "",
) -> Message:
    """Send the delivery to `chat_id` as a new message (a document when too long).
    Raises aiogram's TelegramAPIError when Telegram refuses (blocked bot, ...)."""
    text = delivery_text(t, order, product, heading=heading)
    if fits(text):
        return await bot.send_message(chat_id, text, reply_markup=markup)
    return await bot.send_document(
        chat_id,
        delivery_file(order),
        caption=file_caption(t, order, product, heading=heading),
        reply_markup=markup,
    )


async def show_delivery(
    query: CallbackQuery,
    t: Texts,
    order: Order,
    product: Product,
    markup: InlineKeyboardMarkup,
    *,
    heading: str = "",
) -> None:
    """The delivery in answer to a button (Buy, an order in My orders): in place of the
    pressed message when it fits; else that message says "in the file below" and the
    file follows as a new message."""
    text = delivery_text(t, order, product, heading=heading)
    if fits(text):
        await show(query, text, markup)
        return
    pointer = t("delivery.below", order_id=order.id, title=product.title.get(t.language))
    await show(query, pointer, None)
    if query.bot is not None:  # the shop's chats are private: the chat is the user
        chat_id = query.from_user.id
        await send_delivery(query.bot, chat_id, t, order, product, markup, heading=heading)


async def hand_over(
    query: CallbackQuery,
    t: Texts,
    order: Order,
    product: Product,
    markup: InlineKeyboardMarkup,
    *,
    heading: str = "",
) -> bool:
    """The delivery of an order just paid for, in answer to the pressed button: never
    raises, because the money has moved and the order is committed. When it fits, it is
    shown like any result after money moved (`screens.show_after_money`: the pressed
    message edited, else a new message, both retried on 429/5xx); a longer one turns the
    pressed message into "in the file below" and the file follows, retried the same way.
    Returns False when nothing reached the chat; the order is in My orders then, and the
    failure is logged."""
    text = delivery_text(t, order, product, heading=heading)
    if fits(text):
        shown = await show_after_money(query, text, markup, subject=f"delivery of order {order.id}")
        DELIVERIES.labels("text", "ok" if shown else "failed").inc()
        return shown
    with contextlib.suppress(TelegramAPIError):  # only stops the button's spinner
        await query.answer()
    if isinstance(query.message, Message):
        pointer = t("delivery.below", order_id=order.id, title=product.title.get(t.language))
        with contextlib.suppress(TelegramAPIError):  # cosmetic: the file follows anyway
            await query.message.edit_text(pointer, reply_markup=None)
    if query.bot is None:
        DELIVERIES.labels("file", "failed").inc()
        return False
    bot, chat_id = query.bot, query.from_user.id  # the shop's chats are private
    try:
        await retrying(
            lambda: send_delivery(bot, chat_id, t, order, product, markup, heading=heading)
        )
    except TelegramAPIError as exc:
        log.error(
            "order %s was not delivered to the chat (in My orders): %s", order.id, describe(exc)
        )
        DELIVERIES.labels("file", "failed").inc()
        return False
    DELIVERIES.labels("file", "ok").inc()
    return True
