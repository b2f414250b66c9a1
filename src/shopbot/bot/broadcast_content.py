"""A broadcast's message as Telegram gets it, and the admin's progress message.

Shared by the admin's test send (`routers/admin_broadcast.py`) and the worker
(`broadcast_worker.py`), so the test send is exactly what every recipient gets."""

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from shopbot.bot.callbacks import BroadcastStopCB
from shopbot.bot.keyboards import button, rows
from shopbot.bot.texts import Raw, Texts
from shopbot.domain.broadcasts.models import BroadcastContent, BroadcastStatus, ContentKind
from shopbot.domain.broadcasts.progress import Progress, eta_text


def content_keyboard(content: BroadcastContent) -> InlineKeyboardMarkup | None:
    """One URL button per row; None without buttons."""
    if not content.buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=b.label, url=b.url)] for b in content.buttons]
    )


async def send_content(bot: Bot, chat_id: int, content: BroadcastContent) -> None:
    """sendMessage, sendPhoto or sendDocument (by `file_id`, so nothing is uploaded
    again) with the HTML text or caption and the URL buttons. Raises aiogram's
    TelegramAPIError subclasses as Telegram answers (429 TelegramRetryAfter, 403
    TelegramForbiddenError, ...)."""
    markup = content_keyboard(content)
    if content.kind is ContentKind.TEXT:
        await bot.send_message(chat_id, content.html, reply_markup=markup)
        return
    assert content.file_id is not None  # the table's CHECK: media has a file_id
    caption = content.html or None
    if content.kind is ContentKind.PHOTO:
        await bot.send_photo(chat_id, content.file_id, caption=caption, reply_markup=markup)
    else:
        await bot.send_document(chat_id, content.file_id, caption=caption, reply_markup=markup)


def progress_text(
    t: Texts, broadcast_id: int, status: BroadcastStatus, progress: Progress, per_second: int
) -> str:
    """The admin's progress message: status, a bar with the percentage, the counts and,
    while it runs, the time left at `per_second` messages a second."""
    unknown = (
        t("admin.broadcast.progress.unknown", count=progress.unknown) if progress.unknown else ""
    )
    eta = (
        t("admin.broadcast.progress.eta", eta=eta_text(progress.eta_seconds(per_second)))
        if status is BroadcastStatus.RUNNING
        else ""
    )
    return t(
        "admin.broadcast.progress",
        id=broadcast_id,
        status=t(f"admin.broadcast.status.{status.value}"),
        bar=progress.bar(),
        percent=progress.percent,
        sent=progress.sent,
        blocked=progress.blocked,
        failed=progress.failed,
        left=progress.left,
        unknown=Raw(unknown),
        eta=Raw(eta),
    )


def progress_keyboard(
    t: Texts, broadcast_id: int, status: BroadcastStatus
) -> InlineKeyboardMarkup | None:
    """The Cancel button while it runs; nothing once it has stopped."""
    if status is not BroadcastStatus.RUNNING:
        return None
    return rows([button(t("admin.broadcast.stop"), BroadcastStopCB(broadcast_id=broadcast_id))])
