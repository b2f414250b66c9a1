"""The referral rule: someone else, already registered, only at first registration."""

import pytest

from shopbot.domain.users.referrals import referrer_to_record

ALICE, REFERRER = 1001, 2002


def test_a_registered_referrer_is_recorded_at_first_registration() -> None:
    recorded = referrer_to_record(
        ALICE, REFERRER, first_registration=True, referrer_registered=True
    )
    assert recorded == REFERRER


@pytest.mark.parametrize(
    ("referrer_id", "first_registration", "referrer_registered"),
    [
        (None, True, True),  # no deep link
        (ALICE, True, True),  # yourself
        (REFERRER, False, True),  # already registered: the first referrer stays
        (REFERRER, True, False),  # nobody the shop knows
        (2**63, True, True),  # beyond BIGINT: names no one
        (0, True, True),  # not an id
    ],
)
def test_a_link_breaking_a_rule_records_no_referrer(
    referrer_id: int | None, first_registration: bool, referrer_registered: bool
) -> None:
    recorded = referrer_to_record(
        ALICE,
        referrer_id,
        first_registration=first_registration,
        referrer_registered=referrer_registered,
    )
    assert recorded is None
