"""The hosted payment page (`invoice.url`): plain HTML forms, no scripts, no external assets.

Its buttons POST a urlencoded form to /pay/{uuid} and call the same `Emulator` methods
as the control API, then redirect back (303) to the page.
"""

from html import escape
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shopbot.sandbox.heleket import payloads
from shopbot.sandbox.heleket.emulator import Emulator, UnknownInvoice
from shopbot.sandbox.heleket.state import PAYABLE, BusinessError, Invoice
from shopbot.sandbox.heleket.validation import to_decimal

STYLE = """
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;
color:#1d2330;background:#f6f7fb}
.card{background:#fff;border-radius:12px;padding:1.5rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin-top:0}table{border-collapse:collapse;width:100%}
td{padding:.35rem .25rem;border-bottom:1px solid #eee;vertical-align:top}
td:first-child{color:#667;width:40%}code{font-size:.85em;word-break:break-all}
.status{font-weight:700;padding:.1rem .5rem;border-radius:6px;background:#eef}
.final{background:#e6f6ea}.bad{background:#fde8e8}
form{display:inline-block;margin:.25rem .25rem 0 0}
button{font-size:1rem;padding:.5rem .9rem;border-radius:8px;border:1px solid #99a;
background:#fff;cursor:pointer}button.primary{background:#2f6fed;color:#fff;border:0}
.note{background:#fff7d6;padding:.5rem .75rem;border-radius:8px}
.muted{color:#778;font-size:.85rem}
"""
BAD = {"cancel", "wrong_amount", "fail", "system_fail", "refund_fail", "wrong_amount_waiting"}


def _row(label: str, value: Any) -> str:
    return f"<tr><td>{escape(label)}</td><td>{value}</td></tr>"


def _button(action: str, label: str, primary: bool = False) -> str:
    cls = ' class="primary"' if primary else ""
    return (
        f'<form method="post"><button{cls} name="action" value="{action}">'
        f"{escape(label)}</button></form>"
    )


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f'<body><div class="card">{body}</div>'
        '<p class="muted">Heleket sandbox: a local emulator, no real money moves.</p>'
        "</body></html>"
    )


def render(emulator: Emulator, invoice: Invoice, message: str | None) -> str:
    cur = escape(invoice.payer_currency)
    seconds_left = int((invoice.expired_at - emulator.now()).total_seconds())
    status_class = "bad" if invoice.status in BAD else "final" if invoice.is_final else ""
    expiry = escape(payloads.moscow(invoice.expired_at))
    if invoice.status in PAYABLE:
        expiry += f" <span class='muted'>(in {max(seconds_left, 0)} s)</span>"
    rows = [
        _row("Order", f"<code>{escape(invoice.order_id)}</code>"),
        _row("Amount", f"{payloads.money(invoice.amount)} {escape(invoice.currency)}"),
        _row("To pay", f"<b>{payloads.money(invoice.payer_amount)} {cur}</b>"),
        _row("Network", escape(invoice.network)),
        _row("Address", f"<code>{escape(invoice.address)}</code>"),
        _row("Paid so far", f"{payloads.money(invoice.paid)} {cur}"),
        _row(
            "Status",
            f'<span class="status {status_class}" id="status">{escape(invoice.status)}</span>',
        ),
        _row("Expires", expiry),
    ]
    parts = [f"<h1>Invoice {escape(invoice.uuid)}</h1>"]
    if message:
        parts.append(f'<p class="note">{escape(message)}</p>')
    parts.append(f"<table>{''.join(rows)}</table>")
    if invoice.status in PAYABLE:
        amounts = emulator.suggested(invoice)
        parts.append("<h2>Simulate the payer</h2><div>")
        parts.append(
            _button(
                "exact", f"Pay exactly ({payloads.money(amounts['exact'])} {cur})", primary=True
            )
        )
        parts.append(_button("under", f"Underpay ({payloads.money(amounts['under'])} {cur})"))
        parts.append(_button("over", f"Overpay ({payloads.money(amounts['over'])} {cur})"))
        parts.append(_button("expire", "Let it expire"))
        parts.append(
            '</div><form method="post"><input name="amount" inputmode="decimal" size="12" '
            f'placeholder="0.00" aria-label="amount in {cur}"> {cur} '
            '<button name="action" value="amount">Pay this amount</button></form>'
        )
    links = [(invoice.url_success, "Back to the shop (success)")] if invoice.is_final else []
    links.append((invoice.url_return, "Return to the shop"))
    for url, label in links:
        if url:
            parts.append(f'<p><a href="{escape(url, quote=True)}">{escape(label)}</a></p>')
    parts.append(f'<p><a href="/pay/{quote(invoice.uuid)}">Refresh</a></p>')
    return _document(f"Pay {invoice.order_id}", "".join(parts))


def build_router(emulator: Emulator) -> APIRouter:
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        emulator.expire_due()
        items = sorted(emulator.store.by_uuid.values(), key=lambda i: i.seq, reverse=True)
        rows = "".join(
            _row(
                f"{i.order_id}",
                f'<a href="/pay/{quote(i.uuid)}">{escape(i.uuid)}</a> '
                f"{payloads.money(i.amount)} {escape(i.currency)}: <b>{escape(i.status)}</b>",
            )
            for i in items
        )
        body = "<h1>Heleket sandbox</h1>" + (f"<table>{rows}</table>" if rows else "No invoices.")
        return HTMLResponse(_document("Heleket sandbox", body))

    @router.get("/pay/{uuid}", response_class=HTMLResponse)
    async def page(uuid: str, msg: str | None = None) -> HTMLResponse:
        try:
            invoice = emulator.invoice(uuid)
        except UnknownInvoice:
            return HTMLResponse(_document("Not found", "<h1>Invoice not found</h1>"), 404)
        return HTMLResponse(render(emulator, invoice, msg))

    @router.post("/pay/{uuid}")
    async def act(uuid: str, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        action = form.get("action", "")
        try:
            invoice = emulator.invoice(uuid)
            if action == "expire":
                emulator.expire(uuid)
                message = "The invoice expired."
            elif action in ("exact", "under", "over", "amount"):
                amount = (
                    to_decimal(form.get("amount"))
                    if action == "amount"
                    else emulator.suggested(invoice)[action]
                )
                if amount is None or amount <= 0 or amount > 10**12:
                    message = "Enter a positive amount."
                else:
                    emulator.pay(uuid, amount)
                    message = f"Sent {payloads.money(amount)} {invoice.payer_currency}."
            else:
                message = f"Unknown action {action!r}."
        except UnknownInvoice:
            return HTMLResponse(_document("Not found", "<h1>Invoice not found</h1>"), 404)
        except BusinessError as exc:
            message = str(exc)
        return RedirectResponse(f"/pay/{quote(uuid)}?msg={quote(message)}", status_code=303)

    return router
