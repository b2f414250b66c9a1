"""Callback actions are enums whose values are the strings already packed into buttons
in chats: today's data still parses to the member and reaches its handler, and a value
that is no member reaches only the fallback, as an unknown action always did."""

from enum import StrEnum

import pytest
from aiogram.filters.callback_data import CallbackData

from shopbot.bot.callbacks import (
    AdminCB,
    AdminProductAction,
    AdminProductCB,
    AdminSection,
    AdminUserAction,
    AdminUserCB,
    BroadcastAction,
    DialogAction,
    MenuCB,
    MenuTarget,
    PaymentMethod,
    RefundCB,
    RefundKind,
    SupportAction,
    TopupMethodCB,
)
from shopbot.bot.money_confirm import MoneyCB
from shopbot.bot.routers.admin_common import AdminDialogCB, BroadcastCB
from shopbot.bot.routers.support import SupportCB
from tests.unit.test_bot_callbacks import _routed_to

# (class, field, enum, packed data with {} for the value): data as buttons carry it today.
FIELDS: list[tuple[type[CallbackData], str, type[StrEnum], str]] = [
    (MenuCB, "to", MenuTarget, "m:{}:0"),
    (TopupMethodCB, "method", PaymentMethod, "tpm:{}:500:0"),
    (AdminCB, "to", AdminSection, "adm:{}"),
    (AdminProductCB, "action", AdminProductAction, "admp:7:{}"),
    (AdminUserCB, "action", AdminUserAction, "admu:7:{}"),
    (RefundCB, "kind", RefundKind, "rf:{}:7"),
    (MoneyCB, "action", RefundKind, "mny:{}:7:n0nce:1"),
    (AdminDialogCB, "action", DialogAction, "admd:{}:"),
    (BroadcastCB, "action", BroadcastAction, "admb:{}:n0nce"),
    (SupportCB, "action", SupportAction, "sup:{}"),
]
TODAYS_VALUES = {
    MenuTarget: {"catalog", "balance", "topup", "orders", "support", "language", "home"},
    PaymentMethod: {"heleket", "stars"},
    AdminSection: {"stats", "products", "users", "payments", "fulfil", "broadcast", "home"},
    AdminProductAction: {"show", "toggle", "edit", "stock"},
    AdminUserAction: {"show", "adjust", "orders", "stars"},
    RefundKind: {"order", "stars", "heleket"},
    DialogAction: {
        "cancel",
        "keep",
        "skip",
        "kind",
        "category",
        "save",
        "new_product",
        "credit",
        "debit",
        "adjust_ok",
    },
    BroadcastAction: {"send", "cancel", "skip"},
    SupportAction: {"cancel"},
}
CASES = [
    (cls, field, member, template.format(member.value))
    for cls, field, enum, template in FIELDS
    for member in enum
]


@pytest.mark.parametrize("enum", list(TODAYS_VALUES))
def test_enum_values_are_todays_strings(enum: type[StrEnum]) -> None:
    assert {member.value for member in enum} == TODAYS_VALUES[enum]


@pytest.mark.parametrize(("cls", "field", "member", "data"), CASES)
async def test_todays_data_parses_to_the_member_and_is_routed(
    cls: type[CallbackData], field: str, member: StrEnum, data: str
) -> None:
    parsed = cls.unpack(data)

    assert getattr(parsed, field) is member
    assert parsed.pack() == data
    routers = await _routed_to(data)
    assert routers, f"{data!r} reaches no handler"
    assert "fallback" not in routers


@pytest.mark.parametrize(("cls", "field", "enum", "template"), FIELDS)
async def test_an_unknown_value_reaches_only_the_fallback(
    cls: type[CallbackData], field: str, enum: type[StrEnum], template: str
) -> None:
    data = template.format("nowhere")

    with pytest.raises(ValueError, match=field):
        cls.unpack(data)
    assert await _routed_to(data) == []
