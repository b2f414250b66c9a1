"""Ledger transactions: balanced entries, one key, and one global lock order."""

from decimal import Decimal
from itertools import permutations
from typing import Any

import pytest

from shopbot.domain.errors import InvalidAmount, UnbalancedTransaction
from shopbot.domain.ledger import Entry, LedgerTransaction, SystemAccount, TransactionKind, transfer
from shopbot.domain.ledger.transactions import MAX_KEY_LENGTH


def transaction(*entries: tuple[str, str], key: str = "key-1") -> LedgerTransaction:
    return LedgerTransaction(
        idempotency_key=key,
        kind=TransactionKind.ADJUSTMENT,
        entries=tuple(Entry(account, Decimal(amount)) for account, amount in entries),
    )


def test_balanced_movement_is_accepted() -> None:
    made = transaction(("provider:heleket", "-10.00"), ("user:1", "10.00"))

    assert made.idempotency_key == "key-1"
    assert made.kind is TransactionKind.ADJUSTMENT
    assert made.entries == (
        Entry("provider:heleket", Decimal("-10.00")),
        Entry("user:1", Decimal("10.00")),
    )
    assert made.memo == ""
    assert made.actor == "system"


def test_three_way_balanced_movement_is_accepted() -> None:
    made = transaction(("user:1", "-10"), ("revenue", "7.50"), ("refunds", "2.50"))

    assert sum(entry.amount for entry in made.entries) == 0


@pytest.mark.parametrize(
    "entries",
    [
        (("user:1", "-10.00"), ("revenue", "9.99")),
        (("user:1", "10.00"), ("revenue", "10.00")),
        (("user:1", "-0.01"), ("revenue", "0.02")),
        (("user:1", "-5"), ("revenue", "3"), ("refunds", "1")),
    ],
)
def test_unbalanced_entries_are_refused(entries: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(UnbalancedTransaction, match="sum to zero"):
        transaction(*entries)


def test_single_entry_is_refused() -> None:
    with pytest.raises(UnbalancedTransaction, match="at least two entries"):
        transaction(("user:1", "0.00"))
    with pytest.raises(UnbalancedTransaction, match="at least two entries"):
        transaction(("user:1", "5.00"))


def test_no_entries_are_refused() -> None:
    with pytest.raises(UnbalancedTransaction, match="at least two entries"):
        transaction()


@pytest.mark.parametrize(
    "entries",
    [
        (("user:1", "0"), ("revenue", "0")),
        (("user:1", "0.00"), ("revenue", "-0.00")),
        (("user:1", "-5"), ("revenue", "5"), ("refunds", "0")),
    ],
)
def test_zero_amounts_are_refused(entries: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(UnbalancedTransaction, match="non-zero"):
        transaction(*entries)


def test_duplicate_accounts_are_refused() -> None:
    with pytest.raises(UnbalancedTransaction, match="only once"):
        transaction(("user:1", "-5"), ("user:1", "5"))
    with pytest.raises(UnbalancedTransaction, match="only once"):
        transaction(("user:1", "-5"), ("revenue", "2"), ("revenue", "3"))


def test_empty_key_is_refused() -> None:
    with pytest.raises(UnbalancedTransaction, match="idempotency key"):
        transaction(("user:1", "-5"), ("revenue", "5"), key="")


def test_key_length_limit() -> None:
    longest = "k" * MAX_KEY_LENGTH
    assert transaction(("user:1", "-5"), ("revenue", "5"), key=longest).idempotency_key == longest
    with pytest.raises(UnbalancedTransaction, match="idempotency key"):
        transaction(("user:1", "-5"), ("revenue", "5"), key=longest + "k")


def test_sub_cent_entry_amounts_are_refused() -> None:
    with pytest.raises(InvalidAmount, match="more than two decimal places"):
        transaction(("user:1", "-0.005"), ("revenue", "0.005"))


def test_transfer_builds_balanced_entries() -> None:
    made = transfer(
        "topup:42",
        TransactionKind.TOPUP,
        source=SystemAccount.HELEKET,
        destination="user:7",
        amount=Decimal("12.5"),
        memo="invoice 42",
        actor="webhook",
    )

    assert made.idempotency_key == "topup:42"
    assert made.kind is TransactionKind.TOPUP
    assert made.entries == (
        Entry("provider:heleket", Decimal("-12.50")),
        Entry("user:7", Decimal("12.50")),
    )
    assert [str(entry.amount) for entry in made.entries] == ["-12.50", "12.50"]
    assert sum(entry.amount for entry in made.entries) == 0
    assert made.memo == "invoice 42"
    assert made.actor == "webhook"


@pytest.mark.parametrize("amount", [Decimal(0), Decimal("-1.00"), Decimal("0.001")])
def test_transfer_refuses_non_positive_or_inexact_amounts(amount: Decimal) -> None:
    with pytest.raises(InvalidAmount):
        transfer(
            "k", TransactionKind.PURCHASE, source="user:1", destination="revenue", amount=amount
        )


def test_transfer_refuses_float() -> None:
    amount: Any = 1.5  # what the signature forbids must be refused at run time too
    with pytest.raises(InvalidAmount, match="float"):
        transfer(
            "k", TransactionKind.PURCHASE, source="user:1", destination="revenue", amount=amount
        )


def test_transfer_to_the_same_account_is_refused() -> None:
    with pytest.raises(UnbalancedTransaction, match="only once"):
        transfer(
            "k",
            TransactionKind.ADJUSTMENT,
            source="user:1",
            destination="user:1",
            amount=Decimal(1),
        )


def test_lock_order_puts_users_first_then_system_accounts_sorted() -> None:
    made = transaction(
        ("revenue", "1"),
        ("user:2", "5"),
        ("provider:heleket", "-5"),
        ("user:10", "5"),
        ("adjustments", "-6"),
    )

    ordered = made.in_lock_order()

    assert [entry.account for entry in ordered] == [
        "user:10",
        "user:2",
        "adjustments",
        "provider:heleket",
        "revenue",
    ]
    # Same entries, only reordered; the transaction itself is unchanged.
    assert sorted(ordered, key=lambda e: e.account) == sorted(made.entries, key=lambda e: e.account)
    assert made.entries[0].account == "revenue"


def test_lock_order_is_the_same_whatever_the_entry_order() -> None:
    entries = [
        ("refunds", "-3"),
        ("user:5", "1"),
        ("provider:stars", "-1"),
        ("user:3", "2"),
        ("revenue", "1"),
    ]
    orders = {
        tuple(entry.account for entry in transaction(*perm).in_lock_order())
        for perm in permutations(entries)
    }

    assert orders == {("user:3", "user:5", "provider:stars", "refunds", "revenue")}


def test_lock_order_of_a_purchase() -> None:
    made = transfer(
        "buy:1", TransactionKind.PURCHASE, source="user:9", destination="revenue", amount=Decimal(3)
    )
    reverse = transfer(
        "refund:1",
        TransactionKind.REFUND,
        source="refunds",
        destination="user:9",
        amount=Decimal(3),
    )

    assert [entry.account for entry in made.in_lock_order()] == ["user:9", "revenue"]
    assert [entry.account for entry in reverse.in_lock_order()] == ["user:9", "refunds"]
