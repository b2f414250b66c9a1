"""Catalog: categories → products (paginated) → product card → Buy → confirm."""

import html
import secrets
from decimal import Decimal

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup

from shopbot.bot.callbacks import BuyCB, CategoryCB, MenuCB, MenuTarget, ProductCB, TopupCB
from shopbot.bot.context import BotContext
from shopbot.bot.delivery import hand_over
from shopbot.bot.keyboards import button, record_menu, rows
from shopbot.bot.notifications import announce_manual_order
from shopbot.bot.rendering import money
from shopbot.bot.screens import show
from shopbot.bot.texts import Raw, Texts
from shopbot.domain import idempotency_keys
from shopbot.domain.catalog.models import Product, ProductKind
from shopbot.domain.errors import InsufficientFunds, OutOfStock, ProductUnavailable
from shopbot.domain.ledger import user_account
from shopbot.domain.money import to_minor_units
from shopbot.domain.orders.use_cases import purchase
from shopbot.domain.uow import ReadOnlyUnitOfWork, UnitOfWork
from shopbot.domain.users import User
from shopbot.observability.metrics import ORDERS

PAGE_SIZE = 6


async def categories(
    query: CallbackQuery, callback_data: MenuCB, t: Texts, reads: ReadOnlyUnitOfWork
) -> None:
    listed = await reads.catalog.list_categories()
    loose = await reads.catalog.products_in(None)
    buttons = [[button(c.title.get(t.language), CategoryCB(category_id=c.id))] for c in listed]
    if loose:
        buttons.append([button(t("catalog.other"), CategoryCB(category_id=0))])
    text = t("catalog.categories") if buttons else t("catalog.empty")
    markup = rows(*buttons, [button(t("common.menu"), MenuCB(to=MenuTarget.HOME))])
    await show(query, text, markup, keep=callback_data.keep)


async def products(
    query: CallbackQuery,
    callback_data: CategoryCB,
    t: Texts,
    ctx: BotContext,
    reads: ReadOnlyUnitOfWork,
) -> None:
    category_id = callback_data.category_id or None
    found = await reads.catalog.products_in(category_id)
    names = {c.id: c.title.get(t.language) for c in await reads.catalog.list_categories()}
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(max(callback_data.page, 0), pages - 1)
    shown = found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    buttons = [
        [
            button(
                f"{p.title.get(t.language)} · {money(p.price)} {ctx.currency}",
                ProductCB(product_id=p.id, category_id=callback_data.category_id, page=page),
            )
        ]
        for p in shown
    ]
    navigation = []
    if page > 0:
        navigation.append(
            button(
                t("common.prev"), CategoryCB(category_id=callback_data.category_id, page=page - 1)
            )
        )
    if page < pages - 1:
        navigation.append(
            button(
                t("common.next"), CategoryCB(category_id=callback_data.category_id, page=page + 1)
            )
        )
    category = names.get(category_id or 0, t("catalog.other"))
    text = (
        t("catalog.products", category=category, page=page + 1, pages=pages)
        if found
        else t("catalog.no_products")
    )
    await show(
        query,
        text,
        rows(*buttons, navigation, [button(t("common.back"), MenuCB(to=MenuTarget.CATALOG))]),
    )


async def _availability(t: Texts, reads: ReadOnlyUnitOfWork, product: Product) -> tuple[str, bool]:
    if product.kind is ProductKind.STOCK:
        left = await reads.stock.available(product.id)
        return (
            (t("product.in_stock", count=left), True)
            if left
            else (t("product.out_of_stock"), False)
        )
    if product.kind is ProductKind.MANUAL:
        return t("product.made_to_order"), True
    return t("product.always_available"), True


async def card(
    query: CallbackQuery,
    callback_data: ProductCB,
    t: Texts,
    ctx: BotContext,
    reads: ReadOnlyUnitOfWork,
) -> None:
    """The product card, from a replica when one is healthy: what it shows (price, stock
    left) is advisory; Buy re-reads both on the primary before any money moves."""
    product = await reads.catalog.get_product_by_id(callback_data.product_id)
    back = button(
        t("common.back"), CategoryCB(category_id=callback_data.category_id, page=callback_data.page)
    )
    if product is None or not product.is_active:
        await show(query, t("product.unavailable"), rows([back]))
        return
    availability, can_buy = await _availability(t, reads, product)
    description = product.description.get(t.language)
    text = t(
        "product.card",
        title=product.title.get(t.language),
        # On its own line when there is one; no empty line when there is none.
        description=Raw("\n" + html.escape(description, quote=False)) if description else "",
        price=money(product.price),
        currency=ctx.currency,
        availability=availability,
    )
    buy = [
        button(
            t("product.buy", price=money(product.price), currency=ctx.currency),
            BuyCB(product_id=product.id),
        )
    ]
    await show(query, text, rows(buy if can_buy else [], [back]))


async def confirm(
    query: CallbackQuery,
    callback_data: BuyCB,
    user: User,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    # The balance decides what the buyer is offered: the primary's (`uow`), as is the price.
    product = await uow.catalog.get_product_by_id(callback_data.product_id)
    balance = await uow.ledger.balance(user_account(user.id))
    if product is None or not product.is_active:
        ORDERS.labels("refused").inc()
        await show(
            query,
            t("product.unavailable"),
            rows([button(t("common.menu"), MenuCB(to=MenuTarget.HOME))]),
        )
        return
    if balance < product.price:
        ORDERS.labels("refused").inc()
        await show(query, *_insufficient(t, ctx, product, balance))
        return
    nonce = secrets.token_hex(6)  # the purchase's request key: a double tap buys once
    text = t(
        "buy.confirm",
        title=product.title.get(t.language),
        price=money(product.price),
        currency=ctx.currency,
        balance=money(balance),
    )
    markup = rows(
        [button(t("buy.confirm_button"), BuyCB(product_id=product.id, nonce=nonce))],
        [button(t("common.cancel"), ProductCB(product_id=product.id))],
    )
    await show(query, text, markup)


def _insufficient(
    t: Texts, ctx: BotContext, product: Product, balance: Decimal
) -> tuple[str, InlineKeyboardMarkup]:
    missing = product.price - balance
    text = t(
        "buy.insufficient",
        price=money(product.price),
        balance=money(balance),
        missing=money(missing),
        currency=ctx.currency,
    )
    markup = rows(
        [
            button(
                t("buy.topup_missing", missing=money(missing), currency=ctx.currency),
                TopupCB(amount_cents=to_minor_units(missing), product_id=product.id),
            )
        ],
        [button(t("common.back"), ProductCB(product_id=product.id))],
    )
    return text, markup


async def buy(
    query: CallbackQuery,
    callback_data: BuyCB,
    user: User,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    """Buy in the update's unit of work and commit before anything is shown: the buyer
    is told only what is paid for, and the purchase's row locks end before Telegram is
    called. A refusal rolls back the same way before it is answered."""
    home = rows([button(t("common.menu"), MenuCB(to=MenuTarget.HOME))])
    product = await uow.catalog.get_product_by_id(callback_data.product_id)
    if product is None:
        await show(query, t("product.unavailable"), home)
        return
    try:
        result = await purchase(
            uow,
            user_id=user.id,
            sku=product.sku,
            request_key=idempotency_keys.purchase_request(user.id, callback_data.nonce),
        )
        await uow.commit()
    except InsufficientFunds:
        ORDERS.labels("refused").inc()
        await uow.rollback()
        balance = await uow.ledger.balance(user_account(user.id))
        await show(query, *_insufficient(t, ctx, product, balance))
        return
    except OutOfStock:
        ORDERS.labels("refused").inc()
        await uow.rollback()
        await show(query, t("buy.out_of_stock"), home)
        return
    except ProductUnavailable:
        ORDERS.labels("refused").inc()
        await uow.rollback()
        await show(query, t("product.unavailable"), home)
        return
    if result.created:  # not a double tap's replay
        ORDERS.labels("completed").inc()
    # Paid and committed: first the admins (a manual order), then the buyer; neither
    # raises, so no failure can tell the buyer a completed purchase failed.
    if query.bot is not None:
        await announce_manual_order(query.bot, ctx, result.order, product, user)
    heading = "" if result.created else t("buy.already", order_id=result.order.id)
    await hand_over(query, t, result.order, product, record_menu(t), heading=heading)


def build() -> Router:
    router = Router(name="catalog")
    router.callback_query.register(categories, MenuCB.filter(F.to == MenuTarget.CATALOG))
    router.callback_query.register(products, CategoryCB.filter())
    router.callback_query.register(card, ProductCB.filter())
    router.callback_query.register(confirm, BuyCB.filter(F.nonce == ""))
    router.callback_query.register(buy, BuyCB.filter(F.nonce != ""))
    return router
