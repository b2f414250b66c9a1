"""The rules an admin's answers meet while creating or editing a product."""

import pytest

from shopbot.domain.catalog.drafts import (
    DraftRefusal,
    DraftRefused,
    ProductDraft,
    check_field,
)
from shopbot.domain.catalog.limits import MAX_CONTENT, MAX_TITLE
from shopbot.domain.errors import InvalidAmount


def test_a_new_product_asks_every_field_and_content_only_when_unlimited() -> None:
    draft = ProductDraft(mode="new", kind="stock")
    assert draft.steps()[:2] == ["sku", "kind"]
    assert "content" not in draft.steps()
    assert "content" in ProductDraft(mode="new", kind="unlimited").steps()


def test_an_edit_keeps_sku_and_kind() -> None:
    steps = ProductDraft(mode="edit", kind="unlimited").steps()
    assert "sku" not in steps
    assert "kind" not in steps


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("sku", " vpn-30d ", "vpn-30d"),
        ("title_en", " VPN ", "VPN"),
        ("description_ru", "", ""),
        ("price", "7,5", "7.50"),
        ("content", "key", "key"),
    ],
)
def test_a_valid_answer_is_cleaned(field: str, text: str, expected: str) -> None:
    assert check_field(field, text) == expected


@pytest.mark.parametrize(
    ("field", "text", "reason"),
    [
        ("sku", "-bad sku", DraftRefusal.SKU),
        ("title_ru", "  ", DraftRefusal.TITLE_MISSING),
        ("title_en", "x" * (MAX_TITLE + 1), DraftRefusal.TITLE_LONG),
        ("content", "", DraftRefusal.CONTENT_MISSING),
        ("content", "x" * (MAX_CONTENT + 1), DraftRefusal.CONTENT_LONG),
    ],
)
def test_a_broken_rule_names_its_reason(field: str, text: str, reason: DraftRefusal) -> None:
    with pytest.raises(DraftRefused) as refused:
        check_field(field, text)
    assert refused.value.reason is reason


def test_a_price_is_an_exact_positive_amount() -> None:
    with pytest.raises(InvalidAmount):
        check_field("price", "0")
