"""Operational tools run as `shopbot` commands (the Redis cluster creator and monitor):
they work on infrastructure, not on the shop, and import nothing of the bot."""
