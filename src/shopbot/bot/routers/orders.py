from aiogram import Router


def build() -> Router:
    return Router(name="orders")
