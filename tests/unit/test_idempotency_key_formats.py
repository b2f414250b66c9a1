"""Every idempotency key's spelling, pinned: rows already in databases hold these strings,
and a replay finds its earlier effect by them, so a changed spelling would apply it twice."""

from collections.abc import Callable

import pytest

from shopbot.domain import idempotency_keys as keys


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: keys.heleket_credit("9f1c-uuid"), "heleket:9f1c-uuid:credit"),
        (lambda: keys.heleket_refund_hold("9f1c-uuid"), "heleket:9f1c-uuid:refund-hold"),
        (lambda: keys.heleket_refund_paid("9f1c-uuid"), "heleket:9f1c-uuid:refund"),
        (lambda: keys.heleket_refund_release("9f1c-uuid"), "heleket:9f1c-uuid:refund-release"),
        (lambda: keys.stars_credit("charge-7"), "stars:charge-7"),
        (lambda: keys.stars_refund_hold("charge-7"), "stars:charge-7:refund"),
        (lambda: keys.stars_refund_release("charge-7"), "stars:charge-7:refund-release"),
        (lambda: keys.order_debit(42), "order:42:debit"),
        (lambda: keys.order_refund(42), "order:42:refund"),
        (lambda: keys.cli_adjustment("fix-2024-01"), "adjust:fix-2024-01"),
        (lambda: keys.admin_adjustment("n0nce"), "adjust:tg-n0nce"),
        (lambda: keys.purchase_request(1001, "n0nce"), "tg:1001:n0nce"),
        (lambda: keys.purchase_after_topup("shop-1001-3"), "after-topup:shop-1001-3"),
        (lambda: keys.topup_request(1001, 55, 1500, 0), "tg:1001:55:1500:0"),
        (lambda: keys.topup_request(1001, "query-id", 250, 9), "tg:1001:query-id:250:9"),
        (lambda: keys.next_request("tg:1001:55:1500:0", 2), "tg:1001:55:1500:0:2"),
        (lambda: keys.cli_topup_request("0b5e"), "cli:0b5e"),
    ],
)
def test_key_spelling_is_todays(build: Callable[[], str], expected: str) -> None:
    assert build() == expected
