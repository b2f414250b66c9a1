"""The admin's stats: the dashboard's figures as a caption under a chart of revenue and
orders per UTC day over the last 30 days (`bot.stats_chart`).

The screen is a photo, so it cannot replace the pressed (text) message in place: the
chart comes as a new message and the pressed one is deleted, leaving one stats screen.
"""

import asyncio
import contextlib
from datetime import UTC, datetime

from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from shopbot.bot.callbacks import AdminCB, AdminSection
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.rendering import money
from shopbot.bot.routers.admin_common import menu_button
from shopbot.bot.stats_chart import ChartLabels, chart_series, render_png
from shopbot.bot.texts import Raw, Texts
from shopbot.domain.stats import Dashboard, PeriodFigures, chart_days, dashboard
from shopbot.domain.uow import ReadOnlyUnitOfWork


def _period(t: Texts, label: str, figures: PeriodFigures, currency: str) -> str:
    return t(
        "admin.stats.period",
        label=t(label),
        new_users=figures.new_users,
        orders=figures.orders,
        revenue=money(figures.revenue),
        currency=currency,
    )


def stats_text(t: Texts, board: Dashboard, currency: str) -> str:
    """The figures as HTML, short enough for a photo's caption (1024 characters): a few
    numbers in a fixed template."""
    periods = "\n".join(
        _period(t, label, figures, currency)
        for label, figures in (
            ("admin.stats.today", board.today),
            ("admin.stats.week", board.week),
            ("admin.stats.month", board.month),
        )
    )
    return t(
        "admin.stats.text",
        users=board.users_total,
        periods=Raw(periods),
        pending=board.pending.count,
        pending_amount=money(board.pending.amount),
        currency=currency,
    )


async def _show_photo(
    query: CallbackQuery, png: bytes, caption: str, markup: InlineKeyboardMarkup
) -> None:
    if query.bot is None:
        return
    photo = BufferedInputFile(png, filename="stats.png")
    # The shop's chats are private: the chat is the user.
    await query.bot.send_photo(query.from_user.id, photo, caption=caption, reply_markup=markup)
    if isinstance(query.message, Message):
        # Older than 48 hours, Telegram refuses; the old screen then stays, which is harmless.
        with contextlib.suppress(TelegramAPIError):
            await query.message.delete()


async def stats(
    query: CallbackQuery,
    state: FSMContext,
    t: Texts,
    ctx: BotContext,
    reads: ReadOnlyUnitOfWork,
) -> None:
    await state.clear()
    await query.answer()  # stops the button's spinner while the chart renders
    now = datetime.now(UTC)
    board = await dashboard(reads.stats, now)
    first, days = chart_days(now)
    series = chart_series(await reads.stats.daily(first, days))
    labels = ChartLabels(
        title=t("admin.stats.chart.title", days=days),
        revenue=t("admin.stats.chart.revenue", currency=ctx.currency),
        orders=t("admin.stats.chart.orders"),
    )
    # Rendering is CPU work of a few hundred milliseconds: off the event loop.
    png = await asyncio.to_thread(render_png, series, labels)
    markup = rows([button(t("admin.refresh"), AdminCB(to=AdminSection.STATS))], menu_button(t))
    await _show_photo(query, png, stats_text(t, board, ctx.currency), markup)
