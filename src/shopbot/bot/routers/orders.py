"""My orders: the user's orders, newest first, paginated; each one shows its delivery
again exactly as at purchase, so a stock key can always be found later."""

import html

from aiogram import F, Router
from aiogram.types import CallbackQuery

from shopbot.bot.callbacks import Extensible, MenuCB, MenuTarget, OrderCB, Page
from shopbot.bot.context import BotContext
from shopbot.bot.delivery import show_delivery
from shopbot.bot.keyboards import button, record_menu, rows
from shopbot.bot.rendering import money
from shopbot.bot.screens import show
from shopbot.bot.texts import Texts
from shopbot.domain.orders.models import OrderStatus
from shopbot.domain.uow import ReadOnlyUnitOfWork
from shopbot.domain.users import User

PAGE_SIZE = 5
MAX_PAGE = 9999


class OrdersPageCB(Extensible, prefix="ords"):
    """A page of My orders (0-based)."""

    page: Page = 0
    keep: bool = False
    """Pressed under an order's delivery: the page opens below it (see MenuCB.keep)."""


async def _page(
    query: CallbackQuery,
    page: int,
    user: User,
    t: Texts,
    ctx: BotContext,
    reads: ReadOnlyUnitOfWork,
    *,
    keep: bool,
) -> None:
    """`keep`: pressed under a delivery, so the page opens in a new message."""
    page = min(max(page, 0), MAX_PAGE)
    # One more than the page needs tells whether a next page exists.
    found = await reads.orders.list_for_user(user.id, (page + 1) * PAGE_SIZE + 1)
    if found and len(found) <= page * PAGE_SIZE:  # a stale page: show the last one
        page = (len(found) - 1) // PAGE_SIZE
    shown = found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    products = {
        order.product_id: await reads.catalog.get_product_by_id(order.product_id) for order in shown
    }
    home = [button(t("common.menu"), MenuCB(to=MenuTarget.HOME))]
    if not shown:
        markup = rows([button(t("menu.catalog"), MenuCB(to=MenuTarget.CATALOG))], home)
        await show(query, t("orders.empty"), markup, keep=keep)
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
    markup = rows(*buttons, navigation, home)
    await show(query, t("orders.title", page=page + 1), markup, keep=keep)


async def first_page(
    query: CallbackQuery,
    callback_data: MenuCB,
    user: User,
    t: Texts,
    ctx: BotContext,
    reads: ReadOnlyUnitOfWork,
) -> None:
    await _page(query, 0, user, t, ctx, reads, keep=callback_data.keep)


async def other_page(
    query: CallbackQuery,
    callback_data: OrdersPageCB,
    user: User,
    t: Texts,
    ctx: BotContext,
    reads: ReadOnlyUnitOfWork,
) -> None:
    await _page(query, callback_data.page, user, t, ctx, reads, keep=callback_data.keep)


async def details(
    query: CallbackQuery, callback_data: OrderCB, user: User, t: Texts, reads: ReadOnlyUnitOfWork
) -> None:
    order = await reads.orders.get(callback_data.order_id)
    mine = order is not None and order.user_id == user.id
    product = await reads.catalog.get_product_by_id(order.product_id) if order and mine else None
    if order is None or not mine or product is None:
        # Someone else's order is answered exactly like a missing one.
        await show(query, t("orders.unknown"), rows([button(t("common.back"), OrdersPageCB())]))
        return
    # The detail shows the goods again: a record, so its buttons open screens below it.
    markup = record_menu(t, [button(t("common.back"), OrdersPageCB(keep=True))])
    heading = t("orders.refunded_note") if order.status is OrderStatus.REFUNDED else ""
    await show_delivery(query, t, order, product, markup, heading=heading)


def build() -> Router:
    router = Router(name="orders")
    router.callback_query.register(first_page, MenuCB.filter(F.to == MenuTarget.ORDERS))
    router.callback_query.register(other_page, OrdersPageCB.filter())
    router.callback_query.register(details, OrderCB.filter())
    return router
