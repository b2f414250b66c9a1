"""Local emulators of Telegram and Heleket for the demo and the tests."""
