"""Every button the bot can show is typed, fits Telegram's 64 bytes and is routed.

Generic on purpose: it finds every `CallbackData` class in `shopbot.bot` (including
those declared in router modules) and every handler of the routers `ROUTERS()` builds,
so a new callback class without a handler, or one that grows too long, fails here.
"""

import importlib
import pkgutil
import types
import typing
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import pytest
from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.filters.logic import _AndFilter, _InvertFilter, _OrFilter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.types import User as TelegramUser

import shopbot.bot
from shopbot.bot import keyboards
from shopbot.bot.callbacks import MenuCB, MenuTarget, TopupCB
from shopbot.bot.routers import ROUTERS
from shopbot.bot.routers.orders import OrdersPageCB
from shopbot.bot.texts import LANGUAGES, Texts

TELEGRAM_LIMIT = 64  # bytes of callback_data


def _import_bot_modules() -> None:
    for module in pkgutil.walk_packages(shopbot.bot.__path__, "shopbot.bot."):
        importlib.import_module(module.name)


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        found.add(sub)
        found |= _subclasses(sub)
    return found


def callback_classes() -> list[type[CallbackData]]:
    """The callback classes buttons are made of (bases such as `Extensible` excluded)."""
    _import_bot_modules()
    return sorted(
        (
            c
            for c in _subclasses(CallbackData)
            if c.__module__.startswith("shopbot.bot") and not c.__subclasses__()
        ),
        key=lambda c: f"{c.__module__}.{c.__qualname__}",
    )


CLASSES = callback_classes()


def _largest(name: str, annotation: Any) -> Any:
    """The longest value a field realistically holds."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return max((_largest(name, a) for a in options), key=lambda v: len(str(v)))
    if origin is typing.Literal:
        return max(typing.get_args(annotation), key=lambda v: len(str(v)))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return max(annotation, key=lambda v: len(str(v.value)))
    if annotation is bool:
        return True
    if annotation is int:
        lowered = name.lower()
        if "user" in lowered or "chat" in lowered:
            return 2**52  # Telegram ids have at most 52 significant bits
        if "page" in lowered:
            return 9_999
        if "cents" in lowered or "amount" in lowered or "stars" in lowered:
            return 10**11 - 1  # a billion in the shop currency, in cents
        return 2**40  # database ids
    if annotation is str:
        return "x" * 16  # longer than any action, section or nonce the bot uses
    if annotation is UUID:
        return UUID(int=2**128 - 1)
    if annotation is Decimal:
        return Decimal("99999999999.99")
    raise AssertionError(f"teach this test the realistic size of {name}: {annotation!r}")


def largest_instance(cls: type[CallbackData]) -> CallbackData:
    values = {name: _largest(name, field.annotation) for name, field in cls.model_fields.items()}
    return cls(**values)


def test_callback_classes_are_found() -> None:
    names = {c.__name__ for c in CLASSES}
    assert {"MenuCB", "CategoryCB", "ProductCB", "BuyCB", "OrderCB"} <= names
    prefixes = [c.__prefix__ for c in CLASSES]  # type: ignore[attr-defined]
    assert len(prefixes) == len(set(prefixes)), "two callback classes share a prefix"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_longest_realistic_value_fits_64_bytes(cls: type[CallbackData]) -> None:
    instance = largest_instance(cls)
    packed = instance.pack()
    assert len(packed.encode()) <= TELEGRAM_LIMIT, packed
    assert cls.unpack(packed) == instance


def _walk(router: Router) -> list[Router]:
    found = [router]
    for sub in router.sub_routers:
        found += _walk(sub)
    return found


def _callback_filters(target: Any) -> list[CallbackQueryFilter]:
    """CallbackData filters in a filter, looking through and_f / or_f (not through ~)."""
    if isinstance(target, FilterObject):
        target = target.callback
    if isinstance(target, CallbackQueryFilter):
        return [target]
    if isinstance(target, _AndFilter | _OrFilter):
        return [f for sub in target.targets for f in _callback_filters(sub)]
    if isinstance(target, _InvertFilter):
        return []
    return []


def _handlers() -> list[tuple[str, HandlerObject, list[CallbackQueryFilter]]]:
    found = []
    for top in ROUTERS():
        for router in _walk(top):
            for handler in router.callback_query.handlers:
                filters = [f for obj in handler.filters or [] for f in _callback_filters(obj)]
                found.append((router.name, handler, filters))
    return found


def test_every_callback_class_has_a_handler() -> None:
    handled = {f.callback_data for _, _, filters in _handlers() for f in filters}
    missing = [f"{c.__module__}.{c.__name__}" for c in CLASSES if c not in handled]
    assert not missing, f"callback classes without a handler: {missing}"


def _query(data: str) -> CallbackQuery:
    user = TelegramUser(id=1, is_bot=False, first_name="A")
    return CallbackQuery(id="1", from_user=user, chat_instance="1", data=data)


async def _routed_to(data: str) -> list[str]:
    """Routers with a handler whose callback filters all accept `data`."""
    routers = []
    query = _query(data)
    for name, _, filters in _handlers():
        if filters and all([await f(query) for f in filters]):
            routers.append(name)
    return routers


def _buttons(markup: InlineKeyboardMarkup) -> list[str]:
    return [b.callback_data for row in markup.inline_keyboard for b in row if b.callback_data]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_menu_button_is_routed(language: str) -> None:
    t = Texts(language)
    for markup in (keyboards.main_menu(t), keyboards.back_to_menu(t), keyboards.languages()):
        for data in _buttons(markup):
            assert len(data.encode()) <= TELEGRAM_LIMIT
            routers = await _routed_to(data)
            assert routers, f"button {data!r} reaches no handler (only the fallback)"
            assert "fallback" not in routers


async def test_unknown_data_reaches_only_the_fallback() -> None:
    assert await _routed_to("nobody:knows:this") == []
    # the fallback takes it: its handler has no callback filter at all
    assert any(name == "fallback" and not filters for name, _, filters in _handlers())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("m:home", MenuCB(to=MenuTarget.HOME)),
        ("top:500:0", TopupCB(amount_cents=500)),
        ("ords:3", OrdersPageCB(page=3)),
    ],
)
def test_buttons_sent_before_a_field_was_added_still_work(old: str, new: CallbackData) -> None:
    """Buttons stay in chats for ever: data packed before `keep` existed still unpacks
    (with the default) and passes the handler's filter."""
    assert type(new).unpack(old) == new
    assert type(new).filter().callback_data.unpack(old) == new


@pytest.mark.parametrize(
    ("cls", "data"),
    [(MenuCB, "m"), (MenuCB, "m:home:1:extra"), (TopupCB, "top"), (MenuCB, "top:500:0")],
)
def test_only_missing_trailing_defaults_are_filled(cls: type[CallbackData], data: str) -> None:
    with pytest.raises((TypeError, ValueError)):
        cls.unpack(data)
