"""Registering the people who write to the bot."""

from shopbot.domain.uow import UnitOfWork
from shopbot.domain.users.models import User
from shopbot.domain.users.referrals import referrer_to_record


async def register_user(
    uow: UnitOfWork,
    user_id: int,
    *,
    username: str | None,
    language: str,
    referrer_id: int | None = None,
) -> User:
    """Register the sender of an update (caller commits): create the user, or refresh the
    username of a known one. `referrer_id` (from a deep link) is stored when the
    referral rules accept it (`referrals.referrer_to_record`), else dropped."""
    if referrer_id is not None:
        referrer_id = referrer_to_record(
            user_id,
            referrer_id,
            first_registration=await uow.users.get(user_id) is None,
            referrer_registered=await uow.users.get(referrer_id) is not None,
        )
    return await uow.users.register(
        user_id, username=username, language=language, referrer_id=referrer_id
    )
