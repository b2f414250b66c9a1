"""Telegram as an outbound channel: messages the shop sends on its own initiative
(payment notifications from the webhook service, the purchase after a top-up)."""
