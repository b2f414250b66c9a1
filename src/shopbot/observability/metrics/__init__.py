"""The application's Prometheus metrics (prometheus-client), defined once per process.

Every name and label here is the contract the alert rules (deploy/prometheus) and the
dashboards are written against; docs/metrics.md lists them with units and where each is
counted. Label values come from closed sets (update types, handler names, route
templates, Telegram method names, outcomes): never a user id, a raw path or an amount.

Several worker processes: with PROMETHEUS_MULTIPROC_DIR set before prometheus_client is
first imported, every process writes its values to files in that directory and
`shopbot.observability.metrics.exposition.render` aggregates them (prometheus-client's
multiprocess mode); gauges say how they aggregate (`multiprocess_mode`).
"""

import os

from prometheus_client import Counter, Gauge, Histogram

from shopbot import __version__

# Seconds. Database and Redis calls are sub-millisecond to tens of milliseconds on a
# healthy host; the client's default buckets (5 ms .. 10 s) would put them all in one.
FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Seconds. An update may wait for Telegram and the database several times; the latency
# SLO (deploy/prometheus) is read at 0.5 s and 1 s.
SLOW_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

BUILD_INFO = Gauge(
    "shopbot_build_info",
    "1, labelled with the running build: version, git revision, deployment colour.",
    ["version", "revision", "colour"],
    multiprocess_mode="max",
)

UPDATES = Counter(
    "shopbot_updates_total",
    "Telegram updates handled, by update type, handler and outcome (ok|error|dropped).",
    ["update_type", "handler", "outcome"],
)
UPDATE_DURATION = Histogram(
    "shopbot_update_duration_seconds",
    "Time from an update's arrival at the dispatcher to the end of its handling.",
    ["update_type", "handler"],
    buckets=SLOW_BUCKETS,
)

TELEGRAM_REQUESTS = Counter(
    "shopbot_telegram_api_requests_total",
    "Bot API calls by method and result (ok|retry_after|client_error|server_error|network_error).",
    ["method", "result"],
)
TELEGRAM_DURATION = Histogram(
    "shopbot_telegram_api_duration_seconds",
    "Bot API call latency by method, whatever the result.",
    ["method"],
    buckets=SLOW_BUCKETS,
)

PAYMENTS = Counter(
    "shopbot_payments_total",
    "Payments by provider (heleket|stars) and status (created|paid|failed|expired|refunded).",
    ["provider", "status"],
)
PAYMENTS_PENDING = Gauge(
    "shopbot_payments_pending",
    "Open invoices by provider, as counted by the last periodic check.",
    ["provider"],
    multiprocess_mode="mostrecent",
)
HELEKET_WEBHOOKS = Counter(
    "shopbot_heleket_webhooks_total",
    "Heleket webhook requests by outcome (accepted|duplicate|bad_signature|bad_ip|"
    "mismatch|quarantined|error).",
    ["outcome"],
)
CREDITED = Counter(
    "shopbot_credited_total",
    "Money credited to customers' balances, in currency units, by provider and currency.",
    ["provider", "currency"],
)

ORDERS = Counter(
    "shopbot_orders_total", "Orders by status (completed|refused|refunded).", ["status"]
)
DELIVERIES = Counter(
    "shopbot_deliveries_total",
    "Deliveries of purchased goods by kind (text|file) and outcome (ok|failed).",
    ["kind", "outcome"],
)
BROADCAST_MESSAGES = Counter(
    "shopbot_broadcast_messages_total",
    "Broadcast messages by outcome (sent|failed|blocked).",
    ["outcome"],
)

RATE_LIMITED = Counter(
    "shopbot_rate_limited_total",
    "Requests refused by a rate limit, by category (message|operation|payment|global).",
    ["category"],
)

CIRCUIT_BREAKER_STATE = Gauge(
    "shopbot_circuit_breaker_state",
    "A circuit breaker's state: 0 closed, 1 half-open, 2 open.",
    ["breaker"],
    multiprocess_mode="max",
)
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}

DB_QUERY_DURATION = Histogram(
    "shopbot_db_query_duration_seconds",
    "SQL statement latency by operation (select|insert|update|delete|other).",
    ["operation"],
    buckets=FAST_BUCKETS,
)
DB_READS = Counter(
    "shopbot_db_reads_total",
    "Read-only units of work (catalog, order history, admin stats) by the "
    "server that served them: primary, or replica-N (N: position in DATABASE_REPLICA_URLS).",
    ["target"],
)
DB_REPLICA_LAG = Gauge(
    "shopbot_db_replica_lag_seconds",
    "A replica's replay lag as last measured by this process (NaN: not a streaming standby).",
    ["replica"],
    multiprocess_mode="mostrecent",
)
REDIS_COMMAND_DURATION = Histogram(
    "shopbot_redis_command_duration_seconds",
    "Redis command latency by command name.",
    ["command"],
    buckets=FAST_BUCKETS,
)
REDIS_FAILOVER_RETRIES = Counter(
    "shopbot_redis_failover_retries_total",
    "Redis commands that failed transiently (failover, restart), by outcome: recovered "
    "(retried with backoff until they succeeded) or gave_up (REDIS_RETRY_SECONDS passed).",
    ["outcome"],
)

LEDGER_CHECK_OK = Gauge(
    "shopbot_ledger_check_ok",
    "1 when the last periodic ledger check found the ledger sound, else 0.",
    multiprocess_mode="mostrecent",
)
LEDGER_CHECK_TIMESTAMP = Gauge(
    "shopbot_ledger_check_timestamp_seconds",
    "Unix time of the last finished periodic ledger check.",
    multiprocess_mode="mostrecent",
)

HTTP_REQUESTS = Counter(
    "shopbot_http_requests_total",
    "HTTP requests served, by route template, method and status code.",
    ["handler", "method", "code"],
)
HTTP_DURATION = Histogram(
    "shopbot_http_request_duration_seconds",
    "HTTP request latency by route template and method.",
    ["handler", "method"],
    buckets=SLOW_BUCKETS,
)

UNMATCHED = "unmatched"
"""The handler label of a request no route matched: its raw path is never a label."""


def set_build_info(revision: str | None = None, colour: str | None = None) -> None:
    """Publish `shopbot_build_info` = 1 for this build. `revision`: GIT_REVISION (set at
    image build), else "unknown"; `colour`: DEPLOYMENT_COLOUR (blue/green), else "none"."""
    BUILD_INFO.labels(
        version=__version__,
        revision=revision or os.environ.get("GIT_REVISION") or "unknown",
        colour=colour or os.environ.get("DEPLOYMENT_COLOUR") or "none",
    ).set(1)


def set_breaker_state(breaker: str, state: str) -> None:
    """`state` is the breaker's own name for it: "closed", "half_open" or "open"."""
    CIRCUIT_BREAKER_STATE.labels(breaker=breaker).set(BREAKER_STATES[state])


def count_read(target: str) -> None:
    """`target`: "primary" or "replica-N" (persistence/replicas.py), a closed set."""
    DB_READS.labels(target=target).inc()


def set_replica_lag(replica: str, seconds: float | None) -> None:
    """`seconds` None (the server is not a streaming standby) is published as NaN."""
    DB_REPLICA_LAG.labels(replica=replica).set(float("nan") if seconds is None else seconds)
