"""A local emulator of the Telegram Bot API on aiohttp: the real wire format and errors,
webhook delivery with retries and long polling, simulated users (messages, buttons,
documents, Star payments, blocking) and a /sandbox control API."""

from shopbot.sandbox.telegram.albums import AlbumItem
from shopbot.sandbox.telegram.app import EMULATOR, create_app
from shopbot.sandbox.telegram.config import EmulatorConfig
from shopbot.sandbox.telegram.emulator import Emulator
from shopbot.sandbox.telegram.state import (
    ApiError,
    Call,
    CallbackQuery,
    Conflict,
    Message,
    PaymentOutcome,
    SandboxError,
    UnknownReference,
    User,
)

__all__ = [
    "EMULATOR",
    "AlbumItem",
    "ApiError",
    "Call",
    "CallbackQuery",
    "Conflict",
    "Emulator",
    "EmulatorConfig",
    "Message",
    "PaymentOutcome",
    "SandboxError",
    "UnknownReference",
    "User",
    "create_app",
]
