"""The composition root: the one place where each process is built from `Settings`.

- `bot.bot_process`: the Telegram bot (polling or webhook mode);
- `webhook.webhook_service`: the Heleket webhook service (FastAPI);
- `notices.telegram_notifier`: the payment notifier, for processes that credit payments
  outside the bot (the webhook service, `shopbot payments reconcile`);
- `policies`: the domain policies read from the settings, built once per process.

Each builder is an async context manager owning its resources in one
`contextlib.AsyncExitStack`, closed in reverse order of opening. The CLI, the demo and
the end-to-end tests call the same builders, with explicit overrides (a given gateway,
the Heleket client's retry pace) instead of wiring parts by hand.

This package's `__init__` imports nothing: `policies` must stay cheap to import for
commands that never load aiogram.
"""
