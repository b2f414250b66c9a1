"""register_user applies the referral rule; the repository only stores what it is given."""

import asyncio
from datetime import UTC, datetime

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


async def test_registration_returns_the_row_new_known_renamed_and_returning(
    any_uow: UnitOfWorkFactory,
) -> None:
    """The one-statement registration (repositories/users.py `REGISTER`): a new user is
    inserted; a known one is read back unchanged; a new username is stored; a user a
    broadcast found unreachable is reachable again once they write."""

    async def as_seen(username: str | None) -> tuple[str | None, datetime, datetime]:
        async with any_uow() as uow:
            user = await uow.users.register(ALICE, username=username, language="ru")
            await uow.commit()
            return user.username, user.created_at, user.updated_at

    new = await as_seen("alice")
    again = await as_seen("alice")
    renamed = await as_seen("alice_2")
    async with any_uow() as uow:
        await uow.users.mark_unreachable([ALICE], datetime.now(UTC))
        await uow.commit()
        assert await uow.users.unreachable_since(ALICE) is not None
    await as_seen("alice_2")
    async with any_uow() as uow:
        back = await uow.users.unreachable_since(ALICE)
        stored = await uow.users.get(ALICE)

    assert new[0] == "alice"
    assert new[1].tzinfo is not None
    assert again == new  # nothing written for a known, unchanged user
    assert renamed[:2] == ("alice_2", new[1])
    assert renamed[2] > new[2]
    assert back is None
    assert stored is not None
    assert (stored.username, stored.language) == ("alice_2", "ru")


async def test_concurrent_first_registrations_agree(pg_uow: UnitOfWorkFactory) -> None:
    """Two updates of one new user registered at once (two bot instances): one inserts,
    the other waits on the key, inserts nothing and still gets the row (its statement
    began before the row existed, so the repository reads it again)."""
    first = await pg_uow().__aenter__()
    try:
        inserted = await first.users.register(BORIS, username="b", language="en")
        second = asyncio.create_task(register(pg_uow, BORIS, None))
        await asyncio.sleep(0.3)  # the second now waits for the first's key
        assert not second.done()
        await first.commit()
    finally:
        await first.__aexit__(None, None, None)

    assert await second is None
    async with pg_uow() as uow:
        stored = await uow.users.get(BORIS)
    assert stored is not None
    assert stored.created_at == inserted.created_at
