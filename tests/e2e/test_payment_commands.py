"""The operator commands against the emulator: `shopbot topup create`,
`shopbot payments reconcile`, `shopbot payments refund`, and `shopbot webhook`'s refusal
to start without its secrets."""

import json
from decimal import Decimal

from shopbot.domain.payments.models import RefundState
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_user
from tests.e2e.heleket_stack import HeleketStack, heleket_stack
from tests.integration.cli.harness import shopbot
from tests.integration.webhook_fixtures import MERCHANT, PAYMENT_KEY, PAYOUT_KEY


def env_for(stack: HeleketStack) -> dict[str, str]:
    return {
        "HELEKET_MERCHANT_ID": MERCHANT,
        "HELEKET_API_KEY": PAYMENT_KEY,
        "HELEKET_PAYOUT_KEY": PAYOUT_KEY,
        "HELEKET_API_URL": stack.settings.heleket_api_url,
        "PUBLIC_BASE_URL": str(stack.settings.public_base_url),
    }


async def test_topup_reconcile_and_refund_commands(
    pg_url: str, pg_uow: UnitOfWorkFactory, tmp_path
) -> None:
    await add_user(pg_uow, 7)
    async with heleket_stack(pg_url) as stack:
        env = env_for(stack)
        created = await shopbot(
            tmp_path, pg_url, "topup", "create", "--user-id", "7", "--amount", "12.30", **env
        )
        assert created.code == 0, created.output
        invoice = json.loads(created.stdout)
        assert set(invoice) >= {"uuid", "order_id", "url", "expires_at"}
        assert invoice["amount"] == "12.30"

        await stack.control(f"/invoices/{invoice['uuid']}/pay", {"deliver": False})
        reconciled = await shopbot(
            tmp_path, pg_url, "payments", "reconcile", "--older-than", "0", **env
        )
        assert reconciled.code == 0, reconciled.output
        assert "checked 1 invoices: applied 1" in reconciled.stdout
        assert await stack.balance(7) == Decimal("12.30")

        for bad in (
            "----------",
            "..........",
            "::::::::::",
            "TAddr",
            "-TQn9Y2khEsLJW1ChVWFMSMeRDow5Kc",
        ):
            refused = await shopbot(
                tmp_path, pg_url, "payments", "refund", invoice["order_id"], "--address", bad, **env
            )
            assert refused.code != 0, (bad, refused.output)
            assert "not a wallet address" in refused.output, refused.output
            assert await stack.balance(7) == Decimal("12.30")  # nothing held, nothing sent
        refunded = await shopbot(
            tmp_path,
            pg_url,
            "payments",
            "refund",
            invoice["order_id"],
            "--address",
            "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
            **env,
        )
        assert refunded.code == 0, refunded.output
        await stack.settle()
        assert (await stack.invoice(invoice["order_id"])).refund_state is RefundState.PAID
        assert await stack.balance(7) == Decimal("0.00")
        for run in (created, reconciled, refunded):
            assert PAYMENT_KEY not in run.output
            assert PAYOUT_KEY not in run.output


async def test_bad_topups_are_refused(pg_url: str, pg_uow: UnitOfWorkFactory, tmp_path) -> None:
    await add_user(pg_uow, 7)
    async with heleket_stack(pg_url) as stack:
        env = env_for(stack)
        too_small = await shopbot(
            tmp_path, pg_url, "topup", "create", "--user-id", "7", "--amount", "0.50", **env
        )
        unknown = await shopbot(
            tmp_path, pg_url, "topup", "create", "--user-id", "99", "--amount", "5", **env
        )
        listed = (await stack.emulator.get("/sandbox/invoices")).json()
    assert too_small.code == 1
    assert "between 1.00 and 10000.00 USD" in too_small.stderr
    assert unknown.code == 1
    assert "user 99 not found" in unknown.stderr
    assert listed == []


async def test_webhook_refuses_to_start_without_its_secrets(tmp_path) -> None:
    missing = await shopbot(
        tmp_path, "sqlite+aiosqlite:///x.db", "webhook", HELEKET_MERCHANT_ID="m"
    )
    placeholder = await shopbot(
        tmp_path,
        "sqlite+aiosqlite:///x.db",
        "webhook",
        HELEKET_MERCHANT_ID="m",
        HELEKET_API_KEY="changeme",
    )
    for run in (missing, placeholder):
        assert run.code == 2
        assert run.stderr.strip().splitlines() == [
            "shopbot: HELEKET_API_KEY is not set or is a placeholder; "
            "set it in the environment or in .env"
        ]
