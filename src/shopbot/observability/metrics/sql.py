"""Timing every SQL statement an engine runs, by operation."""

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.observability.metrics import DB_QUERY_DURATION

OPERATIONS = frozenset({"select", "insert", "update", "delete"})
_STARTED = "_shopbot_metrics_started"


def operation(statement: str) -> str:
    """select|insert|update|delete from the statement's first word, else "other" (BEGIN,
    a CTE, advisory locks' SELECT counts as select): a closed set, never SQL text."""
    head = statement.lstrip()[:7].split(None, 1)  # 7: the longest word and one space
    word = head[0].lower() if head else ""
    return word if word in OPERATIONS else "other"


def instrument_engine(engine: AsyncEngine) -> None:
    """Observe `shopbot_db_query_duration_seconds` for each statement `engine` executes
    (SQLAlchemy's cursor events, around the driver call only). Failed statements are
    observed too (handle_error), so an outage's timeouts show in the latency."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(conn: Connection, cursor: Any, statement: str, *args: Any, **kwargs: Any) -> None:
        conn.info[_STARTED] = time.perf_counter()

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _after(conn: Connection, cursor: Any, statement: str, *args: Any, **kwargs: Any) -> None:
        _observe(conn, statement)

    @event.listens_for(sync_engine, "handle_error")
    def _error(context: Any) -> None:
        conn: Connection | None = context.connection
        if conn is not None and context.statement is not None:
            _observe(conn, context.statement)

    del _before, _after, _error


def _observe(conn: Connection, statement: str) -> None:
    started = conn.info.pop(_STARTED, None)
    if started is not None:
        DB_QUERY_DURATION.labels(operation(statement)).observe(time.perf_counter() - started)
