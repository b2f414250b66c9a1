"""A product as the admin sees it: every field, stock left, and its actions."""

from aiogram.types import InlineKeyboardMarkup

from shopbot.bot.callbacks import AdminCB, AdminProductAction, AdminProductCB, AdminSection
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.rendering import money
from shopbot.bot.telegram_text import clip
from shopbot.bot.texts import Raw, Texts
from shopbot.domain.catalog.models import Product, ProductKind
from shopbot.domain.uow import UnitOfWork

PREVIEW_DESCRIPTION = 2000
PREVIEW_CONTENT = 1000
"""UTF-16 code units of the description and content shown on the admin's card: with two
128-unit titles and the frame they stay under Telegram's 4096 (catalog.limits allows
3000 and 20000, which the buyer gets whole)."""


async def card_text(uow: UnitOfWork, t: Texts, ctx: BotContext, product: Product) -> str:
    if product.kind is ProductKind.STOCK:
        stock = t("admin.product.stock_left", count=await uow.stock.available(product.id))
    elif product.kind is ProductKind.UNLIMITED:
        stock = t("admin.product.content", content=clip(product.content or "", PREVIEW_CONTENT))
    else:
        stock = t("admin.product.manual")
    category = "-"
    if product.category_id is not None:
        for c in await uow.catalog.list_categories():
            if c.id == product.category_id:
                category = c.slug
    return t(
        "admin.product.card",
        sku=product.sku,
        kind=product.kind.value,
        state=t("admin.product.active" if product.is_active else "admin.product.inactive"),
        title_ru=product.title.ru,
        title_en=product.title.en,
        price=money(product.price),
        currency=ctx.currency,
        category=category,
        description=clip(product.description.get(t.language), PREVIEW_DESCRIPTION) or "-",
        stock=Raw(stock),
    )


def card_markup(t: Texts, product: Product) -> InlineKeyboardMarkup:
    toggle = "admin.product.deactivate" if product.is_active else "admin.product.activate"
    stock = (
        [
            button(
                t("admin.product.upload"),
                AdminProductCB(product_id=product.id, action=AdminProductAction.STOCK),
            )
        ]
        if product.kind is ProductKind.STOCK
        else []
    )
    return rows(
        [
            button(
                t(toggle), AdminProductCB(product_id=product.id, action=AdminProductAction.TOGGLE)
            ),
            button(
                t("admin.product.edit"),
                AdminProductCB(product_id=product.id, action=AdminProductAction.EDIT),
            ),
        ],
        stock,
        [button(t("admin.products.back"), AdminCB(to=AdminSection.PRODUCTS))],
    )


async def render_card(
    t: Texts, ctx: BotContext, uow: UnitOfWork, product_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    """The product's card and actions read in `uow` ("not found" and the way back to the
    list if it is gone)."""
    product = await uow.catalog.get_product_by_id(product_id)
    if product is None:
        return t("admin.product.not_found"), rows(
            [button(t("admin.products.back"), AdminCB(to=AdminSection.PRODUCTS))]
        )
    return await card_text(uow, t, ctx, product), card_markup(t, product)
