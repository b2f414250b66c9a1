"""Routers per feature. Each module's `build()` returns a fresh Router, so several
dispatchers (tests, several bots) can live in one process. Order matters: admin first
(its filters are narrow), the fallback for unknown input last."""

from aiogram import Router

from shopbot.bot.routers import (
    admin,
    balance,
    catalog,
    fallback,
    orders,
    stars,
    start,
    support,
    topup,
)


def ROUTERS() -> list[Router]:
    return [
        admin.build(),
        start.build(),
        catalog.build(),
        balance.build(),
        orders.build(),
        topup.build(),
        stars.build(),
        support.build(),
        fallback.build(),
    ]
