"""Creating, editing and (de)activating a product through the catalog's use cases."""

import pytest

from shopbot.domain.catalog.drafts import DraftRefusal, DraftRefused, ProductDraft
from shopbot.domain.catalog.use_cases import draft_of, ensure_sku_free, save_product, toggle_active
from shopbot.persistence.uow import UnitOfWorkFactory


def new_draft(sku: str = "vpn-30d") -> ProductDraft:
    return ProductDraft(
        mode="new",
        sku=sku,
        kind="unlimited",
        title_ru="ВПН",
        title_en="VPN",
        price="9.99",
        content="the key",
    )


async def test_save_toggle_and_edit(any_uow: UnitOfWorkFactory) -> None:
    async with any_uow() as uow:
        created = await save_product(uow, new_draft())
        await uow.commit()
    assert (created.sku, created.is_active, str(created.price)) == ("vpn-30d", True, "9.99")

    async with any_uow() as uow:
        with pytest.raises(DraftRefused) as taken:
            await ensure_sku_free(uow, "vpn-30d")
        assert taken.value.reason is DraftRefusal.SKU_TAKEN
        with pytest.raises(DraftRefused) as again:
            await save_product(uow, new_draft())
        assert again.value.reason is DraftRefusal.SKU_TAKEN

    async with any_uow() as uow:
        off = await toggle_active(uow, created)
        await uow.commit()
    assert not off.is_active

    async with any_uow() as uow:
        draft = await draft_of(uow, off)
        draft.title_en = "VPN 30 days"
        edited = await save_product(uow, draft)
        await uow.commit()
    assert (edited.title.en, edited.is_active, edited.id) == ("VPN 30 days", False, created.id)


async def test_a_missing_category_is_refused(any_uow: UnitOfWorkFactory) -> None:
    draft = new_draft()
    draft.category = "gone"
    async with any_uow() as uow:
        with pytest.raises(DraftRefused) as refused:
            await save_product(uow, draft)
    assert refused.value.reason is DraftRefusal.CATEGORY_GONE
