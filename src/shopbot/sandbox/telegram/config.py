"""Configuration of the Telegram Bot API emulator."""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator needs; all fields but `bots` have test-friendly defaults.

    bots: token -> (bot user id, username, first name). Requests with any other token get
        401 Unauthorized.
    per_chat_rate / global_rate: flood control, in messages per second per chat and per bot
        (sliding one-second window over sendMessage/sendDocument/sendPhoto/sendInvoice);
        None (the default) disables it. Beyond the limit a send answers 429 with
        `parameters.retry_after` and creates no message. Changeable at run time
        (`emulator.set_flood(...)`, `POST /sandbox/flood`).
    webhook_attempts / webhook_base_delay / webhook_max_delay: webhook delivery retries; a
        failed attempt n is retried after min(base * 2**(n-1), max) seconds; after
        `webhook_attempts` failures the update is dropped (and the drop recorded).
    webhook_timeout: seconds to wait for the bot's webhook answer.
    pre_checkout_timeout: seconds a paying user waits for answerPreCheckoutQuery (10 s on
        Telegram).
    quiet_period: polling-mode `wait_idle` also waits until the bot made no API call for
        this many seconds (the bot handles fetched updates out of the emulator's sight).
    max_upload_size / max_download_size: 50 MB uploads, 20 MB getFile, as on Telegram.
    long_poll_max_timeout: getUpdates `timeout` is clamped to this (50 s on Telegram).
    """

    bots: Mapping[str, tuple[int, str, str]]
    per_chat_rate: int | None = None
    global_rate: int | None = None
    webhook_attempts: int = 8
    webhook_base_delay: float = 0.2
    webhook_max_delay: float = 10.0
    webhook_timeout: float = 60.0
    pre_checkout_timeout: float = 10.0
    quiet_period: float = 0.2
    max_upload_size: int = 50 * 1024 * 1024
    max_download_size: int = 20 * 1024 * 1024
    long_poll_max_timeout: int = 50
