"""The side panel: what the shop's database and the Heleket emulator say right now about
one identity and about the ledger as a whole. Read-only; every figure comes from the same
repositories the bot uses, so the panel cannot disagree with the bot."""

from typing import Any

from shopbot.demo.browser.identities import IDENTITIES
from shopbot.demo.stack import DemoStack
from shopbot.domain.ledger import user_account
from shopbot.domain.ledger.accounts import SystemAccount

HISTORY_LINES = 10
LIST_LIMIT = 10


async def panel(stack: DemoStack, user_id: int) -> dict[str, Any]:
    account = user_account(user_id)
    gateway_invoices = await heleket_invoices(stack)
    async with stack.uows() as uow:
        statement = await uow.ledger.statement(account, HISTORY_LINES)
        balance, history = statement.balance, statement.lines
        orders = await uow.orders.list_for_user(user_id, LIST_LIMIT)
        stars = await uow.stars.list_for_user(user_id, LIST_LIMIT)
        shop = {code.value: await uow.ledger.balance(code.value) for code in SystemAccount}
        customers = {
            who.name: await uow.ledger.balance(user_account(who.id))
            for who in IDENTITIES
            if who.role == "customer"
        }
        report = await uow.ledger.verify()
        own = [
            gateway["invoice"]
            for gateway in gateway_invoices
            if (topup := await uow.topups.get_by_order_id(gateway["invoice"]["order_id"]))
            and topup.user_id == user_id
        ]
    invoices = [
        {
            "uuid": i["uuid"],
            "order_id": i["order_id"],
            "amount": i["amount"],
            "currency": i["currency"],
            "status": i.get("payment_status") or i.get("status"),
            "url": i["url"],
        }
        for i in reversed(own)
    ]
    return {
        "currency": stack.settings.shop_currency,
        "balance": str(balance),
        "history": [
            {"kind": h.kind, "amount": str(h.amount), "memo": h.memo, "at": h.created_at}
            for h in history
        ],
        "orders": [
            {
                "id": o.id,
                "sku": o.sku,
                "price": str(o.price),
                "status": str(o.status),
                "delivery": o.delivery,
            }
            for o in orders
        ],
        "stars": [
            {
                "id": s.id,
                "stars": s.stars,
                "amount": str(s.amount),
                "refunded": s.refunded_at is not None,
            }
            for s in stars
        ],
        "invoices": invoices,
        "shop_accounts": {code: str(value) for code, value in shop.items()},
        "customers": {name: str(value) for name, value in customers.items()},
        "ledger": {
            "sound": report.sound,
            "accounts": report.accounts,
            "transactions": report.transactions,
            "entries": report.entries,
            "total": str(report.total),
        },
    }


async def heleket_invoices(stack: DemoStack) -> list[dict[str, Any]]:
    response = await stack.heleket.get("/sandbox/invoices")
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    return found
