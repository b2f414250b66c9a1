"""The Telegram bot (aiogram 3): routers per feature, typed callbacks, texts in files."""
