"""Balance: what the shop owes the user and the last transactions of their account."""

from datetime import datetime

from aiogram import F, Router
from aiogram.types import CallbackQuery

from shopbot.bot.callbacks import MenuCB, MenuTarget
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.rendering import money
from shopbot.bot.screens import show
from shopbot.bot.texts import Texts
from shopbot.domain.ledger import user_account
from shopbot.domain.ledger.ports import HistoryLine
from shopbot.domain.users import User

HISTORY_LINES = 10


def history_line(t: Texts, line: HistoryLine, currency: str) -> str:
    kind = t(f"kind.{line.kind}") if t.has(f"kind.{line.kind}") else line.kind
    try:
        date = datetime.fromisoformat(line.created_at).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        date = line.created_at
    return t(
        "balance.history_line",
        sign="+" if line.amount > 0 else "-",
        amount=money(abs(line.amount)),
        currency=currency,
        kind=kind,
        date=date,
    )


async def balance(
    query: CallbackQuery, callback_data: MenuCB, user: User, t: Texts, ctx: BotContext
) -> None:
    """The balance and the latest lines of its account from the primary (money is never
    read from a replica), one statement in autocommit: the lines are the ones that made
    the balance shown, which a replica trailing the primary could not promise."""
    async with ctx.uows.autocommit() as primary:
        statement = await primary.ledger.statement(user_account(user.id), HISTORY_LINES)
    balance, history = statement.balance, statement.lines
    parts = [t("balance.text", balance=money(balance), currency=ctx.currency), ""]
    if history:
        parts.append(t("balance.history_title"))
        parts.extend(history_line(t, line, ctx.currency) for line in history)
    else:
        parts.append(t("balance.history_empty"))
    markup = rows(
        [button(t("menu.topup"), MenuCB(to=MenuTarget.TOPUP))],
        [button(t("common.menu"), MenuCB(to=MenuTarget.HOME))],
    )
    await show(query, "\n".join(parts), markup, keep=callback_data.keep)


def build() -> Router:
    router = Router(name="balance")
    router.callback_query.register(balance, MenuCB.filter(F.to == MenuTarget.BALANCE))
    return router
