"""register_user applies the referral rule; the repository only stores what it is given."""

from shopbot.domain.users.use_cases import register_user
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_user

REFERRER, ALICE, BORIS = 10, 11, 12


async def register(uows: UnitOfWorkFactory, user_id: int, referrer_id: int | None) -> int | None:
    async with uows() as uow:
        user = await register_user(
            uow, user_id, username=None, language="en", referrer_id=referrer_id
        )
        await uow.commit()
        return user.referrer_id


async def test_referrer_is_recorded_once_and_only_if_registered(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, REFERRER)

    assert await register(any_uow, ALICE, REFERRER) == REFERRER
    # A later link changes nothing: the first referrer stays.
    assert await register(any_uow, ALICE, BORIS) == REFERRER
    assert await register(any_uow, BORIS, 999) is None  # nobody the shop knows
    assert await register(any_uow, REFERRER, REFERRER) is None  # yourself


async def test_a_known_user_without_referrer_gets_none_later(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, REFERRER)
    assert await register(any_uow, ALICE, None) is None

    assert await register(any_uow, ALICE, REFERRER) is None
