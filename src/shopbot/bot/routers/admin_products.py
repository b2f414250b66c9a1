"""Admin products: the list, a product's card, toggling it on sale, uploading stock as a
.txt file, and the guided create / edit dialog.

Saving goes through the same validation (`parse_catalog`) and use case
(`import_catalog`) as `shopbot catalog import`, so the rules are the CLI's.
"""

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter, or_f
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from shopbot.bot.albums import AlbumOf, route_album
from shopbot.bot.callbacks import (
    AdminCB,
    AdminProductAction,
    AdminProductCB,
    AdminSection,
    DialogAction,
)
from shopbot.bot.context import BotContext
from shopbot.bot.file_refusals import file_refusal_text
from shopbot.bot.keyboards import button, rows
from shopbot.bot.refusals import refusal_text
from shopbot.bot.rendering import money
from shopbot.bot.routers.admin_common import (
    TEXT_INPUT,
    AdminDialogCB,
    AdminProductsPageCB,
    AdminStates,
    cancel_row,
    menu_button,
    show,
)
from shopbot.bot.routers.admin_product_card import render_card
from shopbot.bot.routers.admin_product_dialog import (
    ProductDraft,
    ask_next,
    draft_of,
    register_dialog,
)
from shopbot.bot.texts import Texts
from shopbot.domain.catalog.models import ProductKind
from shopbot.domain.catalog.use_cases import add_stock, toggle_active
from shopbot.domain.errors import DomainError
from shopbot.domain.file_problems import FileRefused
from shopbot.domain.operator_files import MAX_OPERATOR_FILE, decode_operator_file
from shopbot.domain.uow import UnitOfWork

PAGE_SIZE = 8
MAX_STOCK_FILE = MAX_OPERATOR_FILE


async def products_page(
    query: CallbackQuery,
    state: FSMContext,
    t: Texts,
    ctx: BotContext,
    callback_data: AdminProductsPageCB | AdminCB,
    uow: UnitOfWork,
) -> None:
    await state.clear()
    found = await uow.catalog.list_products(active_only=False)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    wanted = callback_data.page if isinstance(callback_data, AdminProductsPageCB) else 0
    page = min(max(wanted, 0), pages - 1)
    shown = found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    buttons = [
        [
            button(
                f"{'✅' if p.is_active else '⛔'} {p.sku} · {money(p.price)} {ctx.currency}",
                AdminProductCB(product_id=p.id, action=AdminProductAction.SHOW),
            )
        ]
        for p in shown
    ]
    navigation = []
    if page > 0:
        navigation.append(button(t("common.prev"), AdminProductsPageCB(page=page - 1)))
    if page < pages - 1:
        navigation.append(button(t("common.next"), AdminProductsPageCB(page=page + 1)))
    text = (
        t("admin.products.list", count=len(found), page=page + 1, pages=pages)
        if found
        else t("admin.products.empty")
    )
    markup = rows(
        *buttons,
        navigation,
        [button(t("admin.products.new"), AdminDialogCB(action=DialogAction.NEW_PRODUCT))],
        menu_button(t),
    )
    await show(query, text, markup)


async def product_card(
    query: CallbackQuery,
    callback_data: AdminProductCB,
    state: FSMContext,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    await state.clear()
    await show(query, *await render_card(t, ctx, uow, callback_data.product_id))


async def toggle(
    query: CallbackQuery, callback_data: AdminProductCB, t: Texts, ctx: BotContext, uow: UnitOfWork
) -> None:
    """Put the product on sale or take it off; committed before the card shows it."""
    product = await uow.catalog.get_product_by_id(callback_data.product_id)
    if product is not None:
        await toggle_active(uow, product)
        await uow.commit()
    await show(query, *await render_card(t, ctx, uow, callback_data.product_id))


async def edit(
    query: CallbackQuery,
    callback_data: AdminProductCB,
    state: FSMContext,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    product = await uow.catalog.get_product_by_id(callback_data.product_id)
    if product is None:
        await show(query, *await render_card(t, ctx, uow, callback_data.product_id))
        return
    await ask_next(query, state, t, ctx, uow, await draft_of(uow, product), after=None)


async def new_product(
    query: CallbackQuery, state: FSMContext, t: Texts, ctx: BotContext, uow: UnitOfWork
) -> None:
    await ask_next(query, state, t, ctx, uow, ProductDraft(mode="new"), after=None)


async def ask_stock(
    query: CallbackQuery,
    callback_data: AdminProductCB,
    state: FSMContext,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    product = await uow.catalog.get_product_by_id(callback_data.product_id)
    if product is None or product.kind is not ProductKind.STOCK:
        await show(query, *await render_card(t, ctx, uow, callback_data.product_id))
        return
    await state.set_state(AdminStates.upload_stock)
    await state.set_data({"product_id": product.id, "sku": product.sku})
    await show(query, t("admin.stock.ask", sku=product.sku), rows(cancel_row(t)))


async def receive_stock(
    message: Message,
    bot: Bot,
    state: FSMContext,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
    album: dict[str, Any] | None = None,
) -> None:
    """A .txt file of stock items, one per line. Every document of an album is taken
    (each answered with its own count or refusal): the first remembers the product for
    the album's later items, which arrive after the state is cleared. The items are
    committed before the count is reported."""
    data: dict[str, Any] = album or await state.get_data()
    await route_album(ctx, message, "stock", data)
    document = message.document
    assert document is not None  # the filter
    again = rows(cancel_row(t))
    if not (document.file_name or "").lower().endswith(".txt"):
        await message.answer(t("admin.stock.not_txt"), reply_markup=again)
        return
    if document.file_size is not None and document.file_size > MAX_STOCK_FILE:
        await message.answer(
            t("admin.stock.too_big", limit=MAX_STOCK_FILE // (1024 * 1024)), reply_markup=again
        )
        return
    downloaded = await bot.download(document)
    assert downloaded is not None  # no destination given: aiogram returns a BytesIO
    try:
        text = decode_operator_file(downloaded.read(), document.file_name or "the file")
        upload = await add_stock(uow, data["sku"], text)
        await uow.commit()
    except FileRefused as refusal:  # problems name line numbers, never the items
        await uow.rollback()
        await message.answer(
            file_refusal_text(t, refusal, "admin.stock.refused"), reply_markup=again
        )
        return
    except DomainError as refusal:  # the product is gone: translated, never str(refusal)
        await uow.rollback()
        await message.answer(
            t("admin.stock.refused", reason=refusal_text(t, refusal)), reply_markup=again
        )
        return
    await state.clear()
    await message.answer(
        t("admin.stock.added", added=upload.added, sku=data["sku"], available=upload.available),
        reply_markup=rows(
            [
                button(
                    t("admin.product.back"),
                    AdminProductCB(product_id=data["product_id"], action=AdminProductAction.SHOW),
                )
            ],
            menu_button(t),
        ),
    )


async def stock_needs_a_file(message: Message, t: Texts) -> None:
    await message.answer(t("admin.stock.not_txt"), reply_markup=rows(cancel_row(t)))


def build() -> Router:
    router = Router(name="admin-products")
    router.callback_query.register(products_page, AdminCB.filter(F.to == AdminSection.PRODUCTS))
    router.callback_query.register(products_page, AdminProductsPageCB.filter())
    router.callback_query.register(
        product_card, AdminProductCB.filter(F.action == AdminProductAction.SHOW)
    )
    router.callback_query.register(
        toggle, AdminProductCB.filter(F.action == AdminProductAction.TOGGLE)
    )
    router.callback_query.register(edit, AdminProductCB.filter(F.action == AdminProductAction.EDIT))
    router.callback_query.register(
        ask_stock, AdminProductCB.filter(F.action == AdminProductAction.STOCK)
    )
    router.callback_query.register(
        new_product, AdminDialogCB.filter(F.action == DialogAction.NEW_PRODUCT)
    )
    uploading = or_f(StateFilter(AdminStates.upload_stock), AlbumOf("stock"))
    router.message.register(receive_stock, uploading, F.document)
    router.message.register(stock_needs_a_file, StateFilter(AdminStates.upload_stock), TEXT_INPUT)
    register_dialog(router)
    return router
