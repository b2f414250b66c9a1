"""Updates put off on purpose: answered non-2xx so that Telegram delivers them again later
(Bot API, setWebhook: "In case of an unsuccessful request, we will give up after a
reasonable amount of attempts"; any status other than 2XY is unsuccessful).

Nothing failed when an update is deferred, so it is not counted as an error
(`shopbot_updates_total{outcome="deferred"}`), aiogram's traceback for it is not logged,
and the webhook answers with a status that says why (bot/runtime.py)."""

import logging


class UpdateDeferred(Exception):
    """Raised through the dispatcher to answer the update non-2xx, for redelivery."""


class QuietDeferrals(logging.Filter):
    """Drops aiogram's "Cause exception while process update" record (with its traceback,
    at ERROR) when the exception is an `UpdateDeferred`: bot/runtime.py logs the deferral
    itself, at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], UpdateDeferred))


AIOGRAM_EVENTS = "aiogram.event"
"""The logger aiogram's dispatcher reports update failures on (aiogram/loggers.py)."""


def quiet_deferrals() -> None:
    """Install `QuietDeferrals` on aiogram's event logger (once per process)."""
    events = logging.getLogger(AIOGRAM_EVENTS)
    if not any(isinstance(existing, QuietDeferrals) for existing in events.filters):
        events.addFilter(QuietDeferrals())
