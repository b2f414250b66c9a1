"""Admin users: look a customer up by id or @username, see balance, ledger lines, orders
and Stars payments, and adjust the balance through a dialog (add or take, amount,
reason, confirm) that posts an audited `adjust_balance` as `tg-admin:<id>`."""

import secrets
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from shopbot.bot.amounts import amount_refusal
from shopbot.bot.callbacks import AdminCB, AdminSection, AdminUserAction, AdminUserCB, DialogAction
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.refusals import refusal_text
from shopbot.bot.rendering import money
from shopbot.bot.routers.admin_common import (
    TEXT_INPUT,
    AdminDialogCB,
    AdminOrderCB,
    AdminStarsCB,
    AdminStates,
    admin_actor,
    cancel_row,
    customer,
    menu_button,
    parse_id,
    show,
    when,
)
from shopbot.bot.texts import Raw, Texts
from shopbot.domain import idempotency_keys
from shopbot.domain.errors import DomainError, InsufficientFunds, InvalidAmount
from shopbot.domain.ledger import user_account
from shopbot.domain.ledger.use_cases import adjust_balance
from shopbot.domain.money import parse_positive_amount
from shopbot.domain.uow import UnitOfWork
from shopbot.domain.users import User

RECENT = 5
MAX_REASON = 500


async def users_section(query: CallbackQuery, state: FSMContext, t: Texts) -> None:
    await state.clear()
    await state.set_state(AdminStates.user_lookup)
    await show(query, t("admin.users.ask"), rows(cancel_row(t)))


async def find_user(uow: UnitOfWork, query: str) -> User | None:
    """The customer an admin typed: an id ("1001", "#1001") or a @username; None if none."""
    user_id = parse_id(query)
    if user_id is not None:
        return await uow.users.get(user_id)
    return await uow.users.find_by_username(query)


async def lookup(
    message: Message, state: FSMContext, t: Texts, ctx: BotContext, uow: UnitOfWork
) -> None:
    user = await find_user(uow, message.text or "")
    if user is None:
        await message.answer(
            t("admin.users.not_found", query=(message.text or "").strip()),
            reply_markup=rows(cancel_row(t)),
        )
        return
    await state.clear()
    text, markup = await render_user(t, ctx, uow, user.id)
    await message.answer(text, reply_markup=markup)


def _kind(t: Texts, kind: str) -> str:
    return t(f"kind.{kind}") if t.has(f"kind.{kind}") else kind


async def render_user(
    t: Texts, ctx: BotContext, uow: UnitOfWork, user_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    """The customer's card (balance, recent ledger lines and orders) read in `uow`."""
    user = await uow.users.get(user_id)
    if user is None:
        return t("admin.users.gone", user_id=user_id), rows(menu_button(t))
    statement = await uow.ledger.statement(user_account(user_id), RECENT)
    balance, history = statement.balance, statement.lines
    orders = await uow.orders.list_for_user(user_id, RECENT)
    unreachable = await uow.users.unreachable_since(user_id)
    if user.is_blocked:
        status = t("admin.users.blocked")
    elif unreachable is not None:
        status = t("admin.users.unreachable", since=when(unreachable))
    else:
        status = t("admin.users.active")
    lines = [
        t(
            "admin.users.ledger_line",
            date=when(line.created_at),
            kind=_kind(t, line.kind),
            amount=f"{line.amount:+.2f}",
            currency=ctx.currency,
            memo=line.memo,
        )
        for line in history
    ]
    order_lines = [
        t(
            "admin.users.order_line",
            order_id=order.id,
            date=when(order.created_at),
            sku=order.sku,
            price=money(order.price),
            currency=ctx.currency,
            status=t(f"admin.status.{order.status.value}"),
        )
        for order in orders
    ]
    text = t(
        "admin.users.card",
        user_id=user.id,
        username=f"@{user.username}" if user.username else "-",
        language=user.language,
        status=status,
        joined=when(user.created_at),
        balance=money(balance),
        currency=ctx.currency,
        ledger=Raw("\n".join(lines) or t("admin.users.none")),
        orders=Raw("\n".join(order_lines) or t("admin.users.none")),
    )
    markup = rows(
        [
            button(
                t("admin.users.adjust"), AdminUserCB(user_id=user.id, action=AdminUserAction.ADJUST)
            )
        ],
        [
            button(
                t("admin.users.orders"), AdminUserCB(user_id=user.id, action=AdminUserAction.ORDERS)
            ),
            button(
                t("admin.users.stars"), AdminUserCB(user_id=user.id, action=AdminUserAction.STARS)
            ),
        ],
        [button(t("admin.users.another"), AdminCB(to=AdminSection.USERS))],
        menu_button(t),
    )
    return text, markup


async def user_card(
    query: CallbackQuery,
    callback_data: AdminUserCB,
    state: FSMContext,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    await state.clear()
    await show(query, *await render_user(t, ctx, uow, callback_data.user_id))


def _back_to_user(t: Texts, user_id: int) -> list[Any]:
    return [
        button(t("admin.users.back"), AdminUserCB(user_id=user_id, action=AdminUserAction.SHOW))
    ]


async def _user_list(
    query: CallbackQuery,
    t: Texts,
    uow: UnitOfWork,
    user_id: int,
    items: list[tuple[str, CallbackData]],
    title: str,
    empty: str,
) -> None:
    """One button per item, then the way back to the user's card."""
    text = t(title, who=await customer(t, uow, user_id)) if items else t(empty)
    buttons = [[button(label, data)] for label, data in items]
    await show(query, text, rows(*buttons, _back_to_user(t, user_id)))


async def user_orders(
    query: CallbackQuery, callback_data: AdminUserCB, t: Texts, uow: UnitOfWork
) -> None:
    orders = await uow.orders.list_for_user(callback_data.user_id, 20)
    items: list[tuple[str, CallbackData]] = [
        (
            f"#{o.id} · {o.sku} · {money(o.price)} · {t(f'admin.status.{o.status.value}')}",
            AdminOrderCB(order_id=o.id),
        )
        for o in orders
    ]
    await _user_list(
        query,
        t,
        uow,
        callback_data.user_id,
        items,
        "admin.users.orders_title",
        "admin.users.no_orders",
    )


async def user_stars(
    query: CallbackQuery, callback_data: AdminUserCB, t: Texts, uow: UnitOfWork
) -> None:
    payments = await uow.stars.list_for_user(callback_data.user_id, 20)
    items: list[tuple[str, CallbackData]] = [
        (
            f"{when(p.created_at)} · {p.stars} XTR · {money(p.amount)} · {p.refund_state}",
            AdminStarsCB(payment_id=p.id),
        )
        for p in payments
    ]
    await _user_list(
        query,
        t,
        uow,
        callback_data.user_id,
        items,
        "admin.users.stars_title",
        "admin.users.no_stars",
    )


async def adjust_start(
    query: CallbackQuery, callback_data: AdminUserCB, state: FSMContext, t: Texts, uow: UnitOfWork
) -> None:
    await state.clear()
    user_id = callback_data.user_id
    markup = rows(
        [
            button(
                t("admin.adjust.credit"),
                AdminDialogCB(action=DialogAction.CREDIT, value=str(user_id)),
            ),
            button(
                t("admin.adjust.debit"),
                AdminDialogCB(action=DialogAction.DEBIT, value=str(user_id)),
            ),
        ],
        _back_to_user(t, user_id),
    )
    await show(query, t("admin.adjust.direction", who=await customer(t, uow, user_id)), markup)


async def adjust_direction(
    query: CallbackQuery, callback_data: AdminDialogCB, state: FSMContext, t: Texts
) -> None:
    user_id = parse_id(callback_data.value)
    if user_id is None:  # forged or garbled callback data
        await query.answer(t("admin.expired"))
        return
    debit = callback_data.action == DialogAction.DEBIT
    await state.set_state(AdminStates.adjust_amount)
    await state.set_data({"user_id": user_id, "debit": debit})
    await show(
        query,
        t("admin.adjust.ask_debit" if debit else "admin.adjust.ask_credit"),
        rows(cancel_row(t)),
    )


async def adjust_amount(message: Message, state: FSMContext, t: Texts) -> None:
    try:
        amount = parse_positive_amount(message.text or "")
    except InvalidAmount as refusal:
        await message.answer(
            amount_refusal(t, refusal, message.text or ""), reply_markup=rows(cancel_row(t))
        )
        return
    except DomainError as refusal:
        await message.answer(
            t("admin.invalid", reason=refusal_text(t, refusal)), reply_markup=rows(cancel_row(t))
        )
        return
    await state.update_data(amount=str(amount))
    await state.set_state(AdminStates.adjust_reason)
    await message.answer(t("admin.adjust.ask_reason"), reply_markup=rows(cancel_row(t)))


async def adjust_reason(
    message: Message, state: FSMContext, t: Texts, ctx: BotContext, uow: UnitOfWork
) -> None:
    reason = (message.text or "").strip()
    if not reason or len(reason) > MAX_REASON:
        await message.answer(
            t("admin.adjust.bad_reason", limit=MAX_REASON), reply_markup=rows(cancel_row(t))
        )
        return
    nonce = secrets.token_hex(6)
    data = await state.update_data(reason=reason, nonce=nonce)
    key = "admin.adjust.confirm_debit" if data["debit"] else "admin.adjust.confirm_credit"
    await message.answer(
        t(
            key,
            amount=data["amount"],
            currency=ctx.currency,
            who=await customer(t, uow, int(data["user_id"])),
            reason=reason,
        ),
        reply_markup=rows(
            [
                button(
                    t("admin.adjust.confirm"),
                    AdminDialogCB(action=DialogAction.ADJUST_OK, value=nonce),
                )
            ],
            cancel_row(t),
        ),
    )


async def adjust_confirm(
    query: CallbackQuery,
    callback_data: AdminDialogCB,
    state: FSMContext,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    """Post the confirmed adjustment in the update's unit of work, committed before the
    admin is told. Exactly once: the nonce is the posting's idempotency key, so a double
    tap or a redelivery after a failure posts nothing more."""
    data: dict[str, Any] = await state.get_data()
    if data.get("nonce") != callback_data.value or "reason" not in data:
        await query.answer(t("admin.expired"))  # e.g. the second tap of a double tap
        return
    user_id = int(data["user_id"])
    back = rows(_back_to_user(t, user_id), menu_button(t))
    try:
        result = await adjust_balance(
            uow,
            user_id=user_id,
            amount=parse_positive_amount(data["amount"]),
            debit=bool(data["debit"]),
            reason=data["reason"],
            actor=admin_actor(query.from_user.id),
            # The nonce belongs to this confirmation: a double tap posts once.
            idempotency_key=idempotency_keys.admin_adjustment(callback_data.value),
        )
        await uow.commit()
    except InsufficientFunds:
        await uow.rollback()  # nothing of the refused posting may reach the update's commit
        balance = await uow.ledger.balance(user_account(user_id))
        await state.clear()
        await show(
            query,
            t(
                "admin.adjust.insufficient",
                amount=data["amount"],
                balance=money(balance),
                currency=ctx.currency,
            ),
            back,
        )
        return
    except DomainError as refusal:
        await uow.rollback()
        await state.clear()
        await show(query, t("admin.invalid", reason=refusal_text(t, refusal)), back)
        return
    balance = await uow.ledger.balance(user_account(user_id))
    await state.clear()
    await show(
        query,
        t(
            "admin.adjust.done",
            who=await customer(t, uow, user_id),
            balance=money(balance),
            currency=ctx.currency,
            posting=result.transaction_id,
        ),
        back,
    )


def build() -> Router:
    router = Router(name="admin-users")
    router.callback_query.register(users_section, AdminCB.filter(F.to == AdminSection.USERS))
    router.message.register(lookup, StateFilter(AdminStates.user_lookup), TEXT_INPUT)
    router.callback_query.register(user_card, AdminUserCB.filter(F.action == AdminUserAction.SHOW))
    router.callback_query.register(
        user_orders, AdminUserCB.filter(F.action == AdminUserAction.ORDERS)
    )
    router.callback_query.register(
        user_stars, AdminUserCB.filter(F.action == AdminUserAction.STARS)
    )
    router.callback_query.register(
        adjust_start, AdminUserCB.filter(F.action == AdminUserAction.ADJUST)
    )
    router.callback_query.register(
        adjust_direction,
        AdminDialogCB.filter(F.action.in_({DialogAction.CREDIT, DialogAction.DEBIT})),
    )
    router.message.register(adjust_amount, StateFilter(AdminStates.adjust_amount), TEXT_INPUT)
    router.message.register(adjust_reason, StateFilter(AdminStates.adjust_reason), TEXT_INPUT)
    router.callback_query.register(
        adjust_confirm, AdminDialogCB.filter(F.action == DialogAction.ADJUST_OK)
    )
    return router
