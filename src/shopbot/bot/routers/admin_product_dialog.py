"""The guided dialog that creates or edits a product, one field per step.

New products: sku → kind → titles ru/en → descriptions ru/en → price → content (unlimited
only) → category → review → save. Editing skips sku and kind (a kind never changes)
and offers "keep" at every step. Each answer is checked with the catalog's own rules as
it arrives; saving validates the whole product again with `parse_catalog` and writes it
with `import_catalog`, exactly like `shopbot catalog import`.
"""

from dataclasses import asdict, dataclass, replace
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from shopbot.bot.amounts import amount_refusal
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.refusals import Refused, refusal_text
from shopbot.bot.rendering import money
from shopbot.bot.routers.admin_common import (
    TEXT_INPUT,
    AdminDialogCB,
    ProductDialog,
    cancel_row,
    show,
)
from shopbot.bot.routers.admin_product_card import render_card
from shopbot.bot.telegram_text import clip
from shopbot.bot.texts import Texts
from shopbot.domain.catalog.limits import (
    MAX_CONTENT,
    MAX_DESCRIPTION,
    MAX_TITLE,
    telegram_length,
)
from shopbot.domain.catalog.models import Product, ProductKind
from shopbot.domain.catalog.spec import (
    SKU_PATTERN,
    CatalogSpec,
    CategorySpec,
    parse_catalog,
)
from shopbot.domain.catalog.use_cases import import_catalog
from shopbot.domain.errors import DomainError, InvalidAmount
from shopbot.domain.money import parse_positive_amount
from shopbot.domain.uow import UnitOfWork

FIELDS = (
    "sku",
    "kind",
    "title_ru",
    "title_en",
    "description_ru",
    "description_en",
    "price",
    "content",
    "category",
)
CHOSEN_BY_BUTTON = frozenset({"kind", "category"})
SKIPPABLE = frozenset({"description_ru", "description_en"})


@dataclass
class ProductDraft:
    mode: str
    """new | edit"""
    product_id: int | None = None
    sku: str = ""
    kind: str = ""
    title_ru: str = ""
    title_en: str = ""
    description_ru: str = ""
    description_en: str = ""
    price: str = ""
    content: str | None = None
    category: str = ""
    """A category slug; empty: no category."""
    active: bool = True

    def steps(self) -> list[str]:
        skipped = {"sku", "kind"} if self.mode == "edit" else set()
        if self.kind != ProductKind.UNLIMITED.value:
            skipped.add("content")
        return [field for field in FIELDS if field not in skipped]

    def value(self, field: str) -> str:
        return str(getattr(self, field) or "")


async def draft_of(uow: UnitOfWork, product: Product) -> ProductDraft:
    category = ""
    if product.category_id is not None:
        for c in await uow.catalog.list_categories():
            if c.id == product.category_id:
                category = c.slug
    return ProductDraft(
        mode="edit",
        product_id=product.id,
        sku=product.sku,
        kind=product.kind.value,
        title_ru=product.title.ru,
        title_en=product.title.en,
        description_ru=product.description.ru,
        description_en=product.description.en,
        price=money(product.price),
        content=product.content,
        category=category,
        active=product.is_active,
    )


async def save_draft(uow: UnitOfWork, draft: ProductDraft) -> Product:
    """Validate the whole product as a catalog file would be, then import it."""
    raw: dict[str, Any] = {
        "sku": draft.sku,
        "kind": draft.kind,
        "title": {"ru": draft.title_ru, "en": draft.title_en},
        "description": {"ru": draft.description_ru, "en": draft.description_en},
        "price": draft.price,
        "active": draft.active,
    }
    if draft.kind == ProductKind.UNLIMITED.value:
        raw["content"] = draft.content
    spec = parse_catalog({"products": [raw]}).products[0]
    categories: tuple[CategorySpec, ...] = ()
    if draft.category:
        found = [c for c in await uow.catalog.list_categories() if c.slug == draft.category]
        if not found:
            raise Refused("refusal.category_gone", category=draft.category)
        # The category as it is, so importing the product leaves it unchanged.
        category = found[0]
        categories = (CategorySpec(category.slug, category.title, category.position),)
        spec = replace(spec, category_slug=category.slug)
    existing = await uow.catalog.get_product(draft.sku)
    if draft.mode == "new" and existing is not None:
        raise Refused("refusal.sku_taken", sku=draft.sku)
    if draft.mode == "edit" and (existing is None or existing.id != draft.product_id):
        raise Refused("refusal.product_gone", sku=draft.sku)
    await import_catalog(uow, CatalogSpec(categories=categories, products=(spec,)))
    saved = await uow.catalog.get_product(draft.sku)
    if saved is None:
        raise Refused("refusal.product_gone", sku=draft.sku)
    return saved


PREVIEW = 1200
"""UTF-16 code units of each long field on the review screen: two titles, three such
previews and the frame stay under Telegram's 4096."""


def check(field: str, text: str) -> str:
    """The answer for `field`, cleaned; raises Refused (its text says what is wrong)
    or InvalidAmount (a price). Lengths are UTF-16 code units, as Telegram counts them
    (limits and reasons: catalog.limits)."""
    value = text.strip()
    if field == "sku":
        if not SKU_PATTERN.match(value):
            raise Refused("refusal.sku")
    elif field in ("title_ru", "title_en"):
        if not value:
            raise Refused("refusal.title_missing")
        if telegram_length(value) > MAX_TITLE:
            raise Refused("refusal.title_long", limit=MAX_TITLE)
    elif field in SKIPPABLE:
        if telegram_length(value) > MAX_DESCRIPTION:
            raise Refused("refusal.description_long", limit=MAX_DESCRIPTION)
    elif field == "price":
        value = str(parse_positive_amount(value))
    elif field == "content":
        if not value:
            raise Refused("refusal.content_missing")
        if telegram_length(value) > MAX_CONTENT:
            raise Refused("refusal.content_long", limit=MAX_CONTENT)
    return value


def _next_step(draft: ProductDraft, after: str | None) -> str | None:
    steps = draft.steps()
    if after is None:
        return steps[0]
    following = steps[steps.index(after) + 1 :] if after in steps else []
    return following[0] if following else None


async def _keyboard(
    t: Texts, uow: UnitOfWork, draft: ProductDraft, field: str
) -> InlineKeyboardMarkup:
    choices: list[list[InlineKeyboardButton]] = []
    if field == "kind":
        choices = [
            [button(t(f"admin.kind.{kind.value}"), AdminDialogCB(action="kind", value=kind))]
            for kind in ProductKind
        ]
    elif field == "category":
        categories = await uow.catalog.list_categories()
        choices = [
            # The id, not the slug: a slug may be 64 characters, callback data only 64 bytes.
            [button(c.title.get(t.language), AdminDialogCB(action="category", value=str(c.id)))]
            for c in categories
        ]
        choices.append([button(t("admin.product.no_category"), AdminDialogCB(action="category"))])
    extra: list[InlineKeyboardButton] = []
    if field in SKIPPABLE:
        extra.append(button(t("admin.product.skip"), AdminDialogCB(action="skip")))
    if draft.mode == "edit" and field not in ("kind",):
        extra.append(button(t("admin.product.keep"), AdminDialogCB(action="keep")))
    return rows(*choices, extra, cancel_row(t))


def _review(t: Texts, ctx: BotContext, draft: ProductDraft) -> str:
    return t(
        "admin.product.review",
        sku=draft.sku,
        kind=draft.kind,
        title_ru=draft.title_ru,
        title_en=draft.title_en,
        description_ru=clip(draft.description_ru, PREVIEW) or "-",
        description_en=clip(draft.description_en, PREVIEW) or "-",
        price=draft.price,
        currency=ctx.currency,
        content=clip(draft.content or "", PREVIEW) or "-",
        category=draft.category or "-",
    )


async def ask_next(
    event: CallbackQuery | Message,
    state: FSMContext,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
    draft: ProductDraft,
    after: str | None,
) -> None:
    """Store the draft and ask for the field after `after` (the first one if None), or
    show the review with Save once every field is answered. Reads the categories for
    their buttons in `uow`."""
    field = _next_step(draft, after)
    await state.set_data({"draft": asdict(draft)})
    if field is None:
        await state.set_state(ProductDialog.review)
        text = _review(t, ctx, draft)
        markup = rows(
            [button(t("admin.product.save"), AdminDialogCB(action="save"))], cancel_row(t)
        )
    else:
        await state.set_state(getattr(ProductDialog, field))
        header = t(
            "admin.product.new" if draft.mode == "new" else "admin.product.editing", sku=draft.sku
        )
        text = header + "\n\n" + t(f"admin.ask.{field}", sku=draft.sku)
        current = draft.value(field)
        if draft.mode == "edit" and current:
            text += "\n\n" + t("admin.product.current", value=clip(current, MAX_DESCRIPTION))
        markup = await _keyboard(t, uow, draft, field)
    if isinstance(event, CallbackQuery):
        await show(event, text, markup)
    else:
        await event.answer(text, reply_markup=markup)


async def _draft(state: FSMContext) -> ProductDraft | None:
    data = await state.get_data()
    stored = data.get("draft")
    return ProductDraft(**stored) if isinstance(stored, dict) else None


def _field(raw_state: str | None) -> str:
    return (raw_state or "").rsplit(":", 1)[-1]


async def text_answer(
    message: Message,
    state: FSMContext,
    raw_state: str | None,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    field = _field(raw_state)
    draft = await _draft(state)
    if draft is None:
        await state.clear()
        await message.answer(t("admin.expired"))
        return
    if field in CHOSEN_BY_BUTTON or field == "review":
        await message.answer(t("admin.use_buttons"))
        return
    try:
        value = check(field, message.text or "")
        if field == "sku" and await uow.catalog.get_product(value) is not None:
            raise Refused("refusal.sku_taken", sku=value)
    except InvalidAmount as refusal:  # the price
        await message.answer(
            amount_refusal(t, refusal, message.text or ""), reply_markup=rows(cancel_row(t))
        )
        return
    except DomainError as refusal:
        await message.answer(
            t("admin.invalid", reason=refusal_text(t, refusal)), reply_markup=rows(cancel_row(t))
        )
        return
    setattr(draft, field, value)
    await ask_next(message, state, t, ctx, uow, draft, after=field)


async def _category_slug(uow: UnitOfWork, value: str) -> str | None:
    """The slug of the category chosen by id; "" for none; None if it is gone."""
    if not value:
        return ""
    found = [c.slug for c in await uow.catalog.list_categories() if str(c.id) == value]
    return found[0] if found else None


async def button_answer(
    query: CallbackQuery,
    callback_data: AdminDialogCB,
    state: FSMContext,
    raw_state: str | None,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    field = _field(raw_state)
    draft = await _draft(state)
    if draft is None:
        await state.clear()
        await show(query, t("admin.expired"), None)
        return
    action, value = callback_data.action, callback_data.value
    if action == "kind" and field == "kind" and value in {k.value for k in ProductKind}:
        draft.kind = value
    elif action == "category" and field == "category":
        slug = await _category_slug(uow, value)
        if slug is None:
            await query.answer(t("admin.expired"))
            return
        draft.category = slug
    elif action == "skip" and field in SKIPPABLE:
        setattr(draft, field, "")
    elif not (action == "keep" and draft.mode == "edit"):
        await query.answer(t("admin.use_buttons"))
        return
    await ask_next(query, state, t, ctx, uow, draft, after=field)


async def save(
    query: CallbackQuery, state: FSMContext, t: Texts, ctx: BotContext, uow: UnitOfWork
) -> None:
    """Save the reviewed draft, committed before the card reports it."""
    draft = await _draft(state)
    if draft is None:
        await state.clear()
        await show(query, t("admin.expired"), None)
        return
    try:
        product = await save_draft(uow, draft)
        await uow.commit()
    except DomainError as refusal:
        await uow.rollback()
        markup = rows(
            [button(t("admin.product.save"), AdminDialogCB(action="save"))], cancel_row(t)
        )
        await show(query, t("admin.invalid", reason=refusal_text(t, refusal)), markup)
        return
    await state.clear()
    text, markup = await render_card(t, ctx, uow, product.id)
    await show(query, t("admin.product.saved", sku=product.sku) + "\n\n" + text, markup)


def register_dialog(router: Router) -> None:
    router.message.register(text_answer, StateFilter(ProductDialog), TEXT_INPUT)
    router.callback_query.register(
        save, StateFilter(ProductDialog.review), AdminDialogCB.filter(F.action == "save")
    )
    router.callback_query.register(
        button_answer,
        StateFilter(ProductDialog),
        AdminDialogCB.filter(F.action.in_({"kind", "category", "keep", "skip"})),
    )
