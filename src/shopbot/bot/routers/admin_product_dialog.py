"""The guided dialog that creates or edits a product, one field per step.

New products: sku → kind → titles ru/en → descriptions ru/en → price → content (unlimited
only) → category → review → save. Editing skips sku and kind (a kind never changes)
and offers "keep" at every step. The dialog only asks and shows: each answer is checked
as it arrives by the domain's rules (`catalog.drafts.check_field`), and Save hands the
draft to `catalog.use_cases.save_product`, which validates and writes it exactly like
`shopbot catalog import`.
"""

from dataclasses import asdict

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from shopbot.bot.amounts import amount_refusal
from shopbot.bot.callbacks import DialogAction
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.refusals import refusal_text
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
from shopbot.domain.catalog.drafts import SKIPPABLE, ProductDraft, check_field
from shopbot.domain.catalog.limits import MAX_DESCRIPTION
from shopbot.domain.catalog.models import ProductKind
from shopbot.domain.catalog.use_cases import draft_of, ensure_sku_free, save_product
from shopbot.domain.errors import DomainError, InvalidAmount
from shopbot.domain.uow import UnitOfWork

__all__ = ["ProductDraft", "ask_next", "draft_of", "register_dialog"]

CHOSEN_BY_BUTTON = frozenset({"kind", "category"})


PREVIEW = 1200
"""UTF-16 code units of each long field on the review screen: two titles, three such
previews and the frame stay under Telegram's 4096."""


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
            [
                button(
                    t(f"admin.kind.{kind.value}"),
                    AdminDialogCB(action=DialogAction.KIND, value=kind),
                )
            ]
            for kind in ProductKind
        ]
    elif field == "category":
        categories = await uow.catalog.list_categories()
        choices = [
            # The id, not the slug: a slug may be 64 characters, callback data only 64 bytes.
            [
                button(
                    c.title.get(t.language),
                    AdminDialogCB(action=DialogAction.CATEGORY, value=str(c.id)),
                )
            ]
            for c in categories
        ]
        choices.append(
            [button(t("admin.product.no_category"), AdminDialogCB(action=DialogAction.CATEGORY))]
        )
    extra: list[InlineKeyboardButton] = []
    if field in SKIPPABLE:
        extra.append(button(t("admin.product.skip"), AdminDialogCB(action=DialogAction.SKIP)))
    if draft.mode == "edit" and field not in ("kind",):
        extra.append(button(t("admin.product.keep"), AdminDialogCB(action=DialogAction.KEEP)))
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
            [button(t("admin.product.save"), AdminDialogCB(action=DialogAction.SAVE))],
            cancel_row(t),
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
        value = check_field(field, message.text or "")
        if field == "sku":
            await ensure_sku_free(uow, value)
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
    if action == DialogAction.KIND and field == "kind" and value in {k.value for k in ProductKind}:
        draft.kind = value
    elif action == DialogAction.CATEGORY and field == "category":
        slug = await _category_slug(uow, value)
        if slug is None:
            await query.answer(t("admin.expired"))
            return
        draft.category = slug
    elif action == DialogAction.SKIP and field in SKIPPABLE:
        setattr(draft, field, "")
    elif not (action == DialogAction.KEEP and draft.mode == "edit"):
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
        product = await save_product(uow, draft)
        await uow.commit()
    except DomainError as refusal:
        await uow.rollback()
        markup = rows(
            [button(t("admin.product.save"), AdminDialogCB(action=DialogAction.SAVE))],
            cancel_row(t),
        )
        await show(query, t("admin.invalid", reason=refusal_text(t, refusal)), markup)
        return
    await state.clear()
    text, markup = await render_card(t, ctx, uow, product.id)
    await show(query, t("admin.product.saved", sku=product.sku) + "\n\n" + text, markup)


def register_dialog(router: Router) -> None:
    router.message.register(text_answer, StateFilter(ProductDialog), TEXT_INPUT)
    router.callback_query.register(
        save, StateFilter(ProductDialog.review), AdminDialogCB.filter(F.action == DialogAction.SAVE)
    )
    router.callback_query.register(
        button_answer,
        StateFilter(ProductDialog),
        AdminDialogCB.filter(
            F.action.in_(
                {DialogAction.KIND, DialogAction.CATEGORY, DialogAction.KEEP, DialogAction.SKIP}
            )
        ),
    )
