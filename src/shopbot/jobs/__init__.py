"""Periodic jobs that run once across all instances (PostgreSQL advisory locks)."""
