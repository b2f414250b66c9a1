"""The shop's rules, free of frameworks: no aiogram, FastAPI or SQLAlchemy imports here.

The domain reaches storage and the outside world only through the ports (Protocols) it
declares; `shopbot.persistence` and `shopbot.adapters` implement them.
"""
