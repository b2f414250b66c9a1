"""Keeping the cyclic garbage collector off what lives as long as the process."""

import gc


def freeze_startup_objects() -> None:
    """Collect once, then move every object still alive to the collector's permanent
    generation (`gc.freeze`, Python 3.7+: "Garbage Collector interface"), where no later
    collection looks at it. Call it once, when the process has finished starting.

    What start-up leaves alive (the modules, SQLAlchemy's tables and mappers, aiogram's
    routers, pydantic's models and validators) lives until the process exits,
    yet each full collection traversed all of it again: in the bot's dispatcher that was
    0.34 ms of CPU per update, against 0.04 ms for a bare aiogram bot, and 0.08 ms after
    freezing (bench/dispatch.py, docs/performance.md). Reference counting still frees
    frozen objects that become garbage; only a cycle among them would stay until exit,
    which for start-up objects is their lifetime anyway."""
    gc.collect()
    gc.freeze()
