"""Small helpers shared by the project's HTTP services (webhook service, emulators)."""
