import functools

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from shopbot.bot.callbacks import LanguageCB, MenuCB, MenuTarget
from shopbot.bot.texts import LANGUAGES, Texts


def button(text: str, callback: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=callback.pack())  # type: ignore[attr-defined]


def rows(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def main_menu(t: Texts) -> InlineKeyboardMarkup:
    """The main menu in `t`'s language: the same for everyone, so built once per language
    (it answers every /start and Menu press; nothing mutates a markup once built)."""
    return _main_menu(t.language)


@functools.lru_cache(maxsize=8)
def _main_menu(language: str) -> InlineKeyboardMarkup:
    t = Texts(language)
    return rows(
        [button(t("menu.catalog"), MenuCB(to=MenuTarget.CATALOG))],
        [
            button(t("menu.balance"), MenuCB(to=MenuTarget.BALANCE)),
            button(t("menu.topup"), MenuCB(to=MenuTarget.TOPUP)),
        ],
        [
            button(t("menu.orders"), MenuCB(to=MenuTarget.ORDERS)),
            button(t("menu.support"), MenuCB(to=MenuTarget.SUPPORT)),
        ],
        [button(t("menu.language"), MenuCB(to=MenuTarget.LANGUAGE))],
    )


def back_to_menu(t: Texts) -> InlineKeyboardMarkup:
    return rows([button(t("common.menu"), MenuCB(to=MenuTarget.HOME))])


def record_menu(t: Texts, *extra: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """The keyboard under a message that records something (goods delivered, a receipt,
    a refund): its buttons open the next screen in a new message, so the record stays."""
    return rows(*extra, [button(t("common.menu"), MenuCB(to=MenuTarget.HOME, keep=True))])


LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


def languages() -> InlineKeyboardMarkup:
    return rows([button(LANGUAGE_NAMES[code], LanguageCB(code=code)) for code in LANGUAGES])
