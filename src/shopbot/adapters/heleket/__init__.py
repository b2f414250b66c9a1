"""Heleket crypto payment gateway: PHP-compatible signatures, the API client, schemas."""
