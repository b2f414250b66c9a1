"""`--idempotency-key`: one key, one adjustment."""

from decimal import Decimal

import pytest

from shopbot.domain.ledger import user_account
from tests.integration.cli.harness import Shop

pytestmark = pytest.mark.postgres


async def test_a_reused_key_with_another_amount_is_refused(shop: Shop) -> None:
    await shop.add_user(1001)
    adjust = ("balance", "adjust", "1001")

    first = await shop.run(*adjust, "10.5", "--reason", "goodwill", "--idempotency-key", "k1")
    other = await shop.run(*adjust, "7", "--reason", "goodwill", "--idempotency-key", "k1")
    debit = await shop.run(
        *adjust, "10.5", "--debit", "--reason", "goodwill", "--idempotency-key", "k1"
    )
    same = await shop.run(*adjust, "10.50", "--reason", "goodwill", "--idempotency-key", "k1")

    assert first.code == 0, first.output
    posting = first.stdout.split("posting #")[1].split()[0]
    for refused in (other, debit):
        assert refused.code == 1, refused.output
        assert refused.stdout == ""
        assert refused.stderr.strip() == (
            f"error: idempotency key 'adjust:k1' was already used for adjustment #{posting} "
            "(adjustments -10.50, user:1001 +10.50)"
        )
    assert same.code == 0, same.output
    assert same.stdout.startswith("added 10.50 USD; balance of 1001 is 10.50 USD")
    assert f"posting #{posting} (already applied earlier" in same.stdout
    assert await shop.balance(user_account(1001)) == Decimal("10.50")
    assert await shop.transactions() == 1


async def test_a_reused_key_for_another_user_is_refused(shop: Shop) -> None:
    await shop.add_user(1001)
    await shop.add_user(1002)

    first = await shop.run(
        "balance", "adjust", "1001", "5", "--reason", "x", "--idempotency-key", "k"
    )
    second = await shop.run(
        "balance", "adjust", "1002", "5", "--reason", "x", "--idempotency-key", "k"
    )

    assert first.code == 0, first.output
    assert second.code == 1
    assert "already used for adjustment" in second.stderr
    assert await shop.balance(user_account(1002)) == Decimal("0.00")
    assert await shop.transactions() == 1
