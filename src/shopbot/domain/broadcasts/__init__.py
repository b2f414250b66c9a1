"""Broadcasts: a message to every reachable user, as a durable job (docs/bot.md,
"Broadcasts")."""
