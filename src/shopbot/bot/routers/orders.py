"""My orders: the user's orders, newest first, paginated; each one shows its delivery
again exactly as at purchase, so a stock key can always be found later."""

import html

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from shopbot.bot.callbacks import MenuCB, OrderCB, Page
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.rendering import delivery, money
from shopbot.bot.texts import Texts
from shopbot.domain.orders.models import OrderStatus
from shopbot.domain.users import User

PAGE_SIZE = 5
MAX_PAGE = 9999


class OrdersPageCB(CallbackData, prefix="ords"):
    """A page of My orders (0-based)."""

    page: Page = 0


async def _show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def _page(query: CallbackQuery, page: int, user: User, t: Texts, ctx: BotContext) -> None:
    page = min(max(page, 0), MAX_PAGE)
    async with ctx.uows() as uow:
        # One more than the page needs tells whether a next page exists.
        found = await uow.orders.list_for_user(user.id, (page + 1) * PAGE_SIZE + 1)
        if found and len(found) <= page * PAGE_SIZE:  # a stale page: show the last one
            page = (len(found) - 1) // PAGE_SIZE
        shown = found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        products = {
            order.product_id: await uow.catalog.get_product_by_id(order.product_id)
            for order in shown
        }
    home = [button(t("common.menu"), MenuCB(to="home"))]
    if not shown:
        await _show(
            query, t("orders.empty"), rows([button(t("menu.catalog"), MenuCB(to="catalog"))], home)
        )
        return
    buttons = []
    for order in shown:
        product = products.get(order.product_id)
        label = t(
            "orders.button",
            order_id=order.id,
            title=product.title.get(t.language) if product else order.sku,
            price=money(order.price),
            currency=ctx.currency,
            status=t(f"orders.status.{order.status.value}"),
        )
        # Button labels are plain text, not HTML: undo the escaping of the parameters.
        buttons.append([button(html.unescape(label), OrderCB(order_id=order.id))])
    navigation = []
    if page > 0:
        navigation.append(button(t("common.prev"), OrdersPageCB(page=page - 1)))
    if len(found) > (page + 1) * PAGE_SIZE:
        navigation.append(button(t("common.next"), OrdersPageCB(page=page + 1)))
    await _show(query, t("orders.title", page=page + 1), rows(*buttons, navigation, home))


async def first_page(query: CallbackQuery, user: User, t: Texts, ctx: BotContext) -> None:
    await _page(query, 0, user, t, ctx)


async def other_page(
    query: CallbackQuery, callback_data: OrdersPageCB, user: User, t: Texts, ctx: BotContext
) -> None:
    await _page(query, callback_data.page, user, t, ctx)


async def details(
    query: CallbackQuery, callback_data: OrderCB, user: User, t: Texts, ctx: BotContext
) -> None:
    async with ctx.uows() as uow:
        order = await uow.orders.get(callback_data.order_id)
        mine = order is not None and order.user_id == user.id
        product = await uow.catalog.get_product_by_id(order.product_id) if order and mine else None
    back = rows([button(t("common.back"), OrdersPageCB(page=0))])
    if order is None or not mine or product is None:
        # Someone else's order is answered exactly like a missing one.
        await _show(query, t("orders.unknown"), back)
        return
    text = delivery(t, order, product)
    if order.status is OrderStatus.REFUNDED:
        text += "\n\n" + t("orders.refunded_note")
    await _show(query, text, back)


def build() -> Router:
    router = Router(name="orders")
    router.callback_query.register(first_page, MenuCB.filter(F.to == "orders"))
    router.callback_query.register(other_page, OrdersPageCB.filter())
    router.callback_query.register(details, OrderCB.filter())
    return router
