"""The admin area (`/admin`, for ADMIN_IDS only): the menu, and the sections in
admin_stats, admin_products, admin_users, admin_payments, admin_orders and admin_broadcast.

The one router `build()` returns is gated by `AdminOnly`: for everyone else none of
these handlers exists and the update goes on to the customer routers and the help.
"""

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from shopbot.bot.callbacks import AdminCB, AdminSection, DialogAction
from shopbot.bot.routers import (
    admin_broadcast,
    admin_money,
    admin_orders,
    admin_payments,
    admin_products,
    admin_refunds,
    admin_stats,
    admin_users,
)
from shopbot.bot.routers.admin_common import (
    AdminDialogCB,
    AdminOnly,
    AdminStates,
    ProductDialog,
    admin_menu,
    show,
)
from shopbot.bot.texts import Texts


async def open_menu(message: Message, state: FSMContext, t: Texts) -> None:
    await state.clear()
    await message.answer(t("admin.title"), reply_markup=admin_menu(t))


async def cancel_command(message: Message, state: FSMContext, t: Texts) -> None:
    await state.clear()
    await message.answer(t("admin.cancelled"), reply_markup=admin_menu(t))


async def home(query: CallbackQuery, state: FSMContext, t: Texts) -> None:
    await state.clear()
    await show(query, t("admin.title"), admin_menu(t))


async def cancel(query: CallbackQuery, state: FSMContext, t: Texts) -> None:
    await state.clear()
    await show(query, t("admin.cancelled"), admin_menu(t))


async def abandon_dialog(message: Message, state: FSMContext) -> bool:
    """A command during an admin dialog ends the dialog. A filter that never matches,
    so the command itself still reaches its own handler (/start, /help, ...)."""
    await state.clear()
    return False


async def _never_called(message: Message) -> None:  # pragma: no cover - see abandon_dialog
    raise AssertionError("abandon_dialog never matches")


def build() -> Router:
    router = Router(name="admin")
    router.message.filter(AdminOnly())
    router.callback_query.filter(AdminOnly())
    router.message.register(open_menu, Command("admin"))
    router.message.register(
        cancel_command, Command("cancel"), StateFilter(AdminStates, ProductDialog)
    )
    router.message.register(
        _never_called,
        StateFilter(AdminStates, ProductDialog),
        F.text.startswith("/"),
        abandon_dialog,
    )
    router.callback_query.register(home, AdminCB.filter(F.to == AdminSection.HOME))
    router.callback_query.register(cancel, AdminDialogCB.filter(F.action == DialogAction.CANCEL))
    router.callback_query.register(admin_stats.stats, AdminCB.filter(F.to == AdminSection.STATS))
    router.include_routers(
        admin_products.build(),
        admin_users.build(),
        admin_payments.build(),
        admin_orders.build(),
        admin_broadcast.build(),
        admin_money.build(),
        admin_refunds.build(),
    )
    return router
