"""One gate for every admin action (issue 10, item 6): a customer pressing any admin
button (forged callback data) or writing in any admin dialog state reaches none of the
admin handlers. Every admin handler is found by walking the admin router, and for each
one callback data that its own filter accepts is made up; the real aiogram bot then gets
it from the Telegram emulator, and the fallback's short help is all the customer sees.
"""

import enum
import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from magic_filter import MagicFilter
from magic_filter.operations import (
    CombinationOperation,
    ComparatorOperation,
    FunctionOperation,
)

from shopbot.bot.routers import ROUTERS, admin
from shopbot.bot.texts import Texts
from shopbot.domain.ledger import user_account
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_user
from tests.e2e.bot_stack import BOT_ID, BotStack, bot_stack, press_forged

ADMIN, ALICE = 900, 1001
EN = Texts("en")
IDS = (1, ALICE)


def _constants(rule: MagicFilter | None) -> list[Any]:
    """The literals a filter compares with (`F.to == "home"`, `F.action.in_({...})`)."""
    found: list[Any] = []
    for operation in rule._operations if rule is not None else ():
        if isinstance(operation, ComparatorOperation):
            found.append(operation.right)
        elif isinstance(operation, FunctionOperation):
            for argument in operation.args:
                if isinstance(argument, set | frozenset | list | tuple):
                    found.extend(argument)
        elif isinstance(operation, CombinationOperation) and isinstance(
            operation.right, MagicFilter
        ):
            found.extend(_constants(operation.right))
    return found


def _candidates(annotation: Any, constants: list[Any]) -> list[Any]:
    if annotation is bool or bool in getattr(annotation, "__args__", ()):
        return [True, False]
    kinds = (annotation, *getattr(annotation, "__args__", ()))
    enums = [k for k in kinds if isinstance(k, type) and issubclass(k, enum.Enum)]
    if enums:  # an action field (a StrEnum): the filter's own members first
        members = list(enums[0])
        return [*(c for c in constants if c in members), *members]
    text = [c for c in constants if isinstance(c, str)]
    if annotation is str:
        return [*text, "x", ""]
    return list(IDS)


def accepted_data(rule_filter: CallbackQueryFilter) -> str:
    """Packed callback data that `rule_filter` (a handler's `XCB.filter(...)`) accepts."""
    cls: type[CallbackData] = rule_filter.callback_data
    constants = _constants(rule_filter.rule)
    fields = cls.model_fields
    choices = [_candidates(field.annotation, constants) for field in fields.values()]
    for values in itertools.product(*choices):
        data = cls(**dict(zip(fields, values, strict=True)))
        if rule_filter.rule is None or rule_filter.rule.resolve(data):
            return data.pack()
    raise AssertionError(f"no {cls.__name__} passes {rule_filter.rule!r}")


def admin_routers(router: Router) -> Iterator[Router]:
    yield router
    for sub in router.sub_routers:
        yield from admin_routers(sub)


def admin_callbacks() -> list[str]:
    found = []
    for router in admin_routers(admin.build()):
        for handler in router.callback_query.handlers:
            for handler_filter in handler.filters or ():
                if isinstance(handler_filter.callback, CallbackQueryFilter):
                    found.append(accepted_data(handler_filter.callback))
    return sorted(set(found))


def admin_states() -> list[State]:
    found: list[State] = []
    for router in admin_routers(admin.build()):
        for handler in router.message.handlers:
            for handler_filter in handler.filters or ():
                callback = handler_filter.callback
                states = callback.states if isinstance(callback, StateFilter) else ()
                if isinstance(callback, State):
                    states = (callback,)
                for state in states:
                    if isinstance(state, State):
                        found.append(state)
                    elif isinstance(state, type) and issubclass(state, StatesGroup):
                        found.extend(state.__all_states__)
    return list(dict.fromkeys(found))


def test_admin_callback_data_is_handled_by_no_customer_router() -> None:
    """The refund buttons (and every other admin button) have no handler outside the
    admin area, so the admin gate is the only way in."""
    admin_prefixes = {data.split(":")[0] for data in admin_callbacks()}
    assert {"rf", "mny", "ful"} <= admin_prefixes
    for router in ROUTERS()[1:]:
        for customer in admin_routers(router):
            for handler in customer.callback_query.handlers:
                for handler_filter in handler.filters or ():
                    if isinstance(handler_filter.callback, CallbackQueryFilter):
                        prefix = handler_filter.callback.callback_data.__prefix__
                        assert prefix not in admin_prefixes, (customer.name, prefix)


async def press_on_last(stack: BotStack, user_id: int, data: str) -> str:
    """A forged press of `data` on the bot's last message to `user_id`."""
    message = stack.emulator.last_bot_message(user_id)
    assert message is not None
    return await press_forged(stack, user_id, message, data)


async def test_a_customer_reaches_no_admin_action(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    callbacks, states = admin_callbacks(), admin_states()
    assert len(callbacks) >= 20  # the walk found the admin area
    assert states
    await add_user(pg_uow, ALICE, balance="5.00")
    async with bot_stack(pg_url, admin_ids=[ADMIN]) as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/admin")
        help_text = alice.last_text()
        assert help_text == EN("unknown.text")
        for data in callbacks:
            answer = await press_on_last(stack, ALICE, data)
            assert answer == EN("unknown.text"), data
            assert alice.last_text() == help_text, data  # no admin screen was shown
        key = StorageKey(bot_id=BOT_ID, chat_id=ALICE, user_id=ALICE)
        for state in states:
            await stack.dispatcher.storage.set_state(key, state)
            await alice.send("12")
            assert alice.last_text() == help_text, state
            await stack.dispatcher.storage.set_state(key, None)
        assert not [m for m in stack.emulator.messages(ADMIN) if m.sender == "bot"]
    async with pg_uow() as uow:
        assert await uow.ledger.balance(user_account(ALICE)) == Decimal("5.00")
