"""Who may refer whom.

A referral is recorded once, when a person first writes to the bot through someone's
`/start ref_<id>` link, and never changed afterwards. The referrer must be someone else
who is already registered; since a referrer always registered before the person they
referred, referrals can never form a cycle. A link that breaks a rule is ignored: the
person is still registered, without a referrer.
"""

from shopbot.domain.ids import is_id


def referrer_to_record(
    user_id: int,
    referrer_id: int | None,
    *,
    first_registration: bool,
    referrer_registered: bool,
) -> int | None:
    """The referrer to store for `user_id` (Telegram ids), or None to store none:
    `referrer_id` when this is the user's first registration, it names someone else, it
    can be a stored id (BIGINT), and that someone is registered."""
    if referrer_id is None or not first_registration or referrer_id == user_id:
        return None
    if not is_id(referrer_id) or not referrer_registered:
        return None
    return referrer_id
