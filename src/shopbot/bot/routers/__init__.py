"""Routers per feature. Each module's `build()` returns a fresh Router, so several
dispatchers (tests, several bots) can live in one process. Order matters: the fallback
for unknown input comes last."""

from aiogram import Router

from shopbot.bot.routers import catalog, fallback, start


def ROUTERS() -> list[Router]:
    return [start.build(), catalog.build(), fallback.build()]
