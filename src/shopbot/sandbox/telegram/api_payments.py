"""Bot API payment methods: sendInvoice (Telegram Stars rules for "XTR"),
answerPreCheckoutQuery, refundStarPayment and getStarTransactions."""

import json
import re
import time
from typing import TYPE_CHECKING, Any

from shopbot.sandbox.telegram.api_messages import send
from shopbot.sandbox.telegram.markup import inline_only, parse_reply_markup
from shopbot.sandbox.telegram.methods import Params, method, target_chat
from shopbot.sandbox.telegram.state import BotState, bad_request

if TYPE_CHECKING:
    from shopbot.sandbox.telegram.emulator import Emulator

QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
MAX_AMOUNT = 9999_9999_9999


def labeled_prices(raw: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise bad_request("can't parse prices JSON object") from exc
    if not isinstance(value, list):
        raise bad_request("expected an Array of labeled prices")
    prices = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("can't parse labeled price: LabeledPrice must be an Object")
        label, amount = item.get("label"), item.get("amount")
        if not isinstance(label, str):
            raise bad_request('can\'t parse labeled price: Field "label" must be of type String')
        if not label:
            raise bad_request("can't parse labeled price: LabeledPrice label must be non-empty")
        if isinstance(amount, str) and re.fullmatch(r"-?\d+", amount):
            amount = int(amount)
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise bad_request('can\'t parse labeled price: Field "amount" must be a valid Number')
        prices.append({"label": label, "amount": amount})
    if not prices:
        raise bad_request("there must be at least one price")
    return prices


@method("sendInvoice")
async def send_invoice(emu: "Emulator", bot: BotState, params: Params) -> Any:
    title = params.required("title")
    description = params.required("description")
    payload = params.required("payload")
    provider_token = params.value("provider_token")
    currency = params.required("currency")
    prices = labeled_prices(params.required("prices"))
    markup = inline_only(parse_reply_markup(params.value("reply_markup")))
    chat = target_chat(emu, bot, params)
    if markup:
        first: dict[str, Any] = next(
            (button for row in markup["inline_keyboard"] for button in row), {}
        )
        if "pay" not in first:  # a custom keyboard must start with the Pay button
            raise bad_request("REPLY_MARKUP_BUY_EMPTY")
    if len(title) > 32:
        raise bad_request("TITLE_INVALID")
    if len(description) > 255:
        raise bad_request("DESCRIPTION_INVALID")
    if len(payload.encode("utf-8")) > 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    if any(abs(price["amount"]) > MAX_AMOUNT for price in prices):
        raise bad_request("too big amount of currency specified")
    total = sum(price["amount"] for price in prices)
    if total <= 0:
        raise bad_request("total price must be positive")
    if currency == "XTR":
        if provider_token or len(prices) != 1:  # Stars: no provider, exactly one price
            raise bad_request("STARS_INVOICE_INVALID")
    elif not re.fullmatch(r"[A-Z]{3}", currency):
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    elif not provider_token:
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    invoice = {
        "title": title,
        "description": description,
        "start_parameter": params.value("start_parameter"),
        "currency": currency,
        "total_amount": total,
    }
    extra = {"payload": payload, "prices": prices, "provider_token": provider_token}
    return send(emu, bot, chat, params, markup, invoice=invoice, extra=extra)


@method("answerPreCheckoutQuery")
async def answer_pre_checkout_query(emu: "Emulator", bot: BotState, params: Params) -> Any:
    ok = params.flag("ok")
    error = None if ok else params.required("error_message")
    query = bot.pre_checkouts.get(params.value("pre_checkout_query_id").strip())
    if query is None or query.answer.done():
        raise bad_request(QUERY_INVALID)
    query.answer.set_result((ok, error))
    emu.changed.fire()
    return True


@method("refundStarPayment")
async def refund_star_payment(emu: "Emulator", bot: BotState, params: Params) -> Any:
    user_id = params.integer("user_id")
    if user_id <= 0:
        raise bad_request("invalid user_id specified")
    charge_id = params.required("telegram_payment_charge_id")
    if user_id not in emu.users:
        raise bad_request("user not found")
    payment = bot.payments.get(charge_id)
    if payment is None or payment.user_id != user_id or payment.currency != "XTR":
        raise bad_request("CHARGE_NOT_FOUND")
    if payment.refunded:
        raise bad_request("CHARGE_ALREADY_REFUNDED")
    payment.refunded, payment.refund_date = True, int(time.time())
    user = emu.users[user_id]
    partner = {
        "type": "user",
        "transaction_type": "invoice_payment",
        "user": user.to_api(),
        "invoice_payload": payment.payload,
    }
    bot.transactions.append(
        {"id": charge_id, "amount": payment.total_amount, "date": payment.refund_date}
        | {"receiver": partner}
    )
    refunded = {
        "currency": payment.currency,
        "total_amount": payment.total_amount,
        "invoice_payload": payment.payload,
        "telegram_payment_charge_id": charge_id,
        "provider_payment_charge_id": payment.provider_charge_id,
    }
    chat = bot.chats[payment.chat_id]
    message = emu.add_message(bot, chat, "user", refunded_payment=refunded)
    emu.enqueue(bot, "message", emu.message_json(bot, message))
    return True


@method("getStarTransactions")
async def get_star_transactions(emu: "Emulator", bot: BotState, params: Params) -> Any:
    offset = params.integer("offset", 0, 0)
    limit = params.integer("limit", 100, 1, 100)
    return {"transactions": bot.transactions[offset : offset + limit]}
