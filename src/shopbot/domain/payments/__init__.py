"""Top-ups through payment providers (Heleket crypto invoices, Telegram Stars)."""
