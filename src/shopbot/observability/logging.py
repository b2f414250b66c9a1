"""Logging for every shopbot process: one structlog pipeline for everything.

`configure_logging` routes the standard library's loggers (shopbot's own modules use
`logging.getLogger(__name__)` with %-style arguments), uvicorn's, aiogram's and aiohttp's
through structlog's `ProcessorFormatter`, so each line has the same fields: `timestamp`
(UTC, ISO 8601), `level`, `logger`, `event`, plus whatever `structlog.contextvars` holds
for the work in progress (`update_id`, `request_id`, `error_id`). `LOG_FORMAT=console`
renders readable lines, `json` one JSON object per line; both go to stderr.
Every configured secret is masked as `***`, tracebacks included (see redaction.py).
"""

import logging
import sys
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Literal, TextIO

import structlog
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from shopbot.observability.redaction import RedactedRenderer, Redactor

if TYPE_CHECKING:
    from shopbot.config import Settings

LogFormat = Literal["console", "json"]
DEFAULT_LEVEL = "INFO"
DEFAULT_FORMAT: LogFormat = "console"

# Every secret this process was configured with, kept for its lifetime: a later call
# (the demo re-configuring its level) must not forget what an earlier one masked.
REDACTOR = Redactor()


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is at the time (pytest swaps it per test)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def secrets_of(settings: "Settings") -> list[str]:
    """The values to mask: every `SecretStr` setting, and the passwords in DATABASE_URL,
    DATABASE_REPLICA_URLS and REDIS_URL (placeholders and unset ones included: masking
    them costs nothing)."""
    values = [
        value.get_secret_value()
        for value in (getattr(settings, name) for name in type(settings).model_fields)
        if isinstance(value, SecretStr)
    ]
    for url in (settings.database_url, *settings.database_replica_urls, settings.redis_url):
        password = _password(url)
        if password:
            values.append(password)
    return values


def _password(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return make_url(url).password
    except ArgumentError:
        return None


def _shared_processors() -> list[structlog.typing.Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def _renderer(log_format: LogFormat) -> structlog.typing.Processor:
    if log_format == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(
        colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
    )


def configure_logging(
    settings: "Settings | None" = None,
    *,
    level: str | None = None,
    log_format: LogFormat | None = None,
    secrets: Iterable[str] = (),
) -> None:
    """Configure logging for this process; call it first thing. Safe to call again (the
    last call's level and format win; secrets accumulate).

    `settings` gives LOG_LEVEL, LOG_FORMAT and the secrets to mask; `level` ("DEBUG",
    "INFO", "WARNING", "ERROR") and `log_format` ("console" or "json") override them;
    without settings the defaults are INFO and console.
    """
    if settings is not None:
        REDACTOR.update(secrets_of(settings))
    REDACTOR.update(secrets)
    chosen_level = level or (settings.log_level if settings else DEFAULT_LEVEL)
    chosen_format: LogFormat = log_format or (settings.log_format if settings else DEFAULT_FORMAT)
    shared = _shared_processors()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            REDACTOR,
            RedactedRenderer(_renderer(chosen_format), REDACTOR),
        ],
    )
    handler = StderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(chosen_level)
    # Libraries that install their own handlers (uvicorn when given a log config) would
    # print twice or past the redaction: their records go to the root handler only.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiogram", "aiohttp"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
        library.setLevel(logging.NOTSET)
    if logging.getLevelName(chosen_level) != logging.DEBUG:
        # Every start-up check opens a migration context, which says so at INFO.
        logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    sys.excepthook = _log_uncaught


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    """Uncaught exceptions go through the pipeline too (timestamped, secrets masked)."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    logging.getLogger("shopbot").critical("uncaught exception", exc_info=(kind, error, traceback))
