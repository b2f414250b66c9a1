"""The `shopbot` command: users, balance."""

from decimal import Decimal

import pytest
from sqlalchemy import select, text

from shopbot.domain.ledger import SystemAccount, user_account
from shopbot.persistence.models import LedgerTransactionRow
from tests.integration.cli.harness import (
    Shop,
)

pytestmark = pytest.mark.postgres

# --- users ------------------------------------------------------------------------------


async def test_users_show_unknown_user(shop: Shop) -> None:
    result = await shop.run("users", "show", "424242")

    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "error: user 424242 not found"


async def test_users_show_new_user_without_postings(shop: Shop) -> None:
    await shop.add_user(1001, "alice")

    result = await shop.run("users", "show", "1001")

    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "user      1001  @alice  language=en"
    assert lines[1] == "status    active"
    assert "balance   0.00 USD" in lines
    assert "ledger:   (empty)" in lines
    assert "orders:   (none)" in lines


async def test_users_show_balance_and_history(shop: Shop) -> None:
    await shop.add_user(1002, "bob")
    credit = await shop.run("balance", "adjust", "1002", "12.50", "--reason", "welcome bonus")
    debit = await shop.run("balance", "adjust", "1002", "2", "--debit", "--reason", "correction")
    assert credit.code == 0, credit.output
    assert debit.code == 0, debit.output

    result = await shop.run("users", "show", "1002")

    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "user      1002  @bob  language=en"
    assert "balance   10.50 USD" in lines
    ledger_at = lines.index("ledger:")
    history = lines[ledger_at + 1 : ledger_at + 3]
    # Newest first.
    assert "adjustment" in history[0]
    assert "-2.00 USD  correction" in history[0]
    assert "+12.50 USD  welcome bonus" in history[1]
    assert lines[ledger_at + 3] == "orders:   (none)"


async def test_users_show_respects_shop_currency(shop: Shop) -> None:
    await shop.add_user(1003)

    result = await shop.run("users", "show", "1003", SHOP_CURRENCY="eur")

    assert result.code == 0, result.output
    assert "user      1003  @-  language=en" in result.stdout
    assert "balance   0.00 EUR" in result.stdout.splitlines()


# --- balance ----------------------------------------------------------------------------


async def test_balance_credit_and_debit(shop: Shop) -> None:
    await shop.add_user(7)

    credit = await shop.run("balance", "adjust", "7", "10", "--reason", "goodwill")

    assert credit.code == 0, credit.output
    assert credit.stdout.startswith("added 10.00 USD; balance of 7 is 10.00 USD; posting #")
    assert await shop.balance(user_account(7)) == Decimal("10.00")
    assert await shop.balance(SystemAccount.ADJUSTMENTS) == Decimal("-10.00")

    debit = await shop.run("balance", "adjust", "7", "3,50", "--debit", "--reason", "oops")

    assert debit.code == 0, debit.output
    assert debit.stdout.startswith("took 3.50 USD; balance of 7 is 6.50 USD; posting #")
    assert await shop.balance(user_account(7)) == Decimal("6.50")
    assert await shop.balance(SystemAccount.ADJUSTMENTS) == Decimal("-6.50")
    assert await shop.transactions() == 2
    async with shop.uow() as uow:
        rows = (
            await uow.session.execute(
                select(
                    LedgerTransactionRow.kind, LedgerTransactionRow.memo, LedgerTransactionRow.actor
                ).order_by(LedgerTransactionRow.id)
            )
        ).all()
    assert [(kind, memo) for kind, memo, _ in rows] == [
        ("adjustment", "goodwill"),
        ("adjustment", "oops"),
    ]
    assert all(actor.startswith("cli:") for _, _, actor in rows)


async def test_debit_beyond_balance_changes_nothing(shop: Shop) -> None:
    await shop.add_user(8)
    assert (await shop.run("balance", "adjust", "8", "5", "--reason", "start")).code == 0

    result = await shop.run("balance", "adjust", "8", "5.01", "--debit", "--reason", "too much")

    assert result.code == 1
    assert result.stderr.strip() == "error: insufficient funds on account user:8"
    assert await shop.balance(user_account(8)) == Decimal("5.00")
    assert await shop.balance(SystemAccount.ADJUSTMENTS) == Decimal("-5.00")
    assert await shop.transactions() == 1


async def test_debit_of_a_user_without_account_changes_nothing(shop: Shop) -> None:
    await shop.add_user(9)

    result = await shop.run("balance", "adjust", "9", "1", "--debit", "--reason", "x")

    assert result.code == 1
    assert result.stderr.strip() == "error: insufficient funds on account user:9"
    assert await shop.transactions() == 0
    async with shop.uow() as uow:
        accounts = await uow.session.scalar(text("SELECT count(*) FROM accounts"))
    assert accounts == 0


@pytest.mark.parametrize("amount", ["-5", "0", "-0.01"])
async def test_non_positive_amount_points_to_debit(shop: Shop, amount: str) -> None:
    await shop.add_user(10)

    result = await shop.run("balance", "adjust", "10", amount, "--reason", "x")

    assert result.code == 1
    assert "AMOUNT must be positive" in result.stderr
    assert "--debit" in result.stderr
    assert await shop.transactions() == 0


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "error: 'abc' is not an amount: write 1500, 1 500, 1,500.00, 1.500,00 or 7.50"),
        ("1.0001", "error: '1.0001' has more than two decimal places"),
        ("1,500", "error: '1,500' is ambiguous: write 1500, 1 500, 1,500.00, 1.500,00 or 7.50"),
        ("NaN", "error: 'NaN' is not an amount: write 1500, 1 500, 1,500.00, 1.500,00 or 7.50"),
        ("99999999999999999", "error: '99999999999999999' is too large"),
        (
            "1e999999999",
            "error: '1e999999999' is not an amount: write 1500, 1 500, 1,500.00, 1.500,00 or 7.50",
        ),
        (
            "12345678901234567890123456789.001",
            "error: '12345678901234567890123456789.001' is too large",
        ),
    ],
)
async def test_invalid_amounts_are_refused(shop: Shop, amount: str, message: str) -> None:
    await shop.add_user(11)

    result = await shop.run("balance", "adjust", "11", amount, "--reason", "x")

    assert result.code == 1
    assert result.stderr.strip() == message
    assert await shop.transactions() == 0


async def test_reason_is_required(shop: Shop) -> None:
    await shop.add_user(12)

    result = await shop.run("balance", "adjust", "12", "5")

    assert result.code == 2
    assert "Missing option '--reason'" in result.stderr
    assert await shop.transactions() == 0


async def test_blank_reason_is_refused(shop: Shop) -> None:
    await shop.add_user(12)

    result = await shop.run("balance", "adjust", "12", "5", "--reason", "   ")

    assert result.code == 1
    assert result.stderr.strip() == "error: a reason is required"
    assert await shop.transactions() == 0


async def test_adjust_unknown_user(shop: Shop) -> None:
    result = await shop.run("balance", "adjust", "999", "5", "--reason", "x")

    assert result.code == 1
    assert result.stderr.strip() == "error: user 999 not found"
    assert await shop.transactions() == 0


async def test_same_idempotency_key_applies_once(shop: Shop) -> None:
    await shop.add_user(13)
    args = ("balance", "adjust", "13", "4.20", "--reason", "refund ticket 77")

    first = await shop.run(*args, "--idempotency-key", "ticket-77")
    second = await shop.run(*args, "--idempotency-key", "ticket-77")

    assert first.code == 0, first.output
    assert second.code == 0, second.output
    assert "nothing changed" not in first.stdout
    assert "balance of 13 is 4.20 USD" in second.stdout
    assert "already applied earlier under this key; nothing changed" in second.stdout
    first_posting = first.stdout.split("posting #")[1].split()[0]
    second_posting = second.stdout.split("posting #")[1].split()[0]
    assert first_posting == second_posting
    assert await shop.balance(user_account(13)) == Decimal("4.20")
    assert await shop.transactions() == 1

    third = await shop.run(*args, "--idempotency-key", "ticket-78")

    assert third.code == 0, third.output
    assert await shop.balance(user_account(13)) == Decimal("8.40")
    assert await shop.transactions() == 2


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("7,5", "7.50"), ("1 500", "1500.00"), ("1,500.00", "1500.00"), ("1.500,50", "1500.50")],
)
async def test_amounts_as_people_type_them(shop: Shop, amount: str, expected: str) -> None:
    await shop.add_user(12)

    result = await shop.run("balance", "adjust", "12", amount, "--reason", "x")

    assert result.code == 0, result.output
    assert result.stdout.startswith(f"added {expected} USD;")
    assert await shop.balance(user_account(12)) == Decimal(expected)
