"""Admins' refunds of payments (Heleket top-ups to a wallet, Telegram Stars), in the
admin area: `admin.build()` includes this router under its gate (`AdminOnly`), so for
anyone else these handlers do not exist, whichever chat the button was pressed in."""

from aiogram import Router

from shopbot.bot.routers import admin_refund_heleket, admin_refund_stars


def build() -> Router:
    router = Router(name="admin-refunds")
    router.include_routers(admin_refund_heleket.build(), admin_refund_stars.build())
    return router
