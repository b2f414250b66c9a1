"""The webhook service: Heleket payment callbacks, health checks (port 8001)."""
