"""shopbot: a Telegram shop for digital goods with exact, provable money handling."""

__version__ = "0.1.0"
