"""Formats of the settings and the checks behind them, with the fix each message names.

`Settings` (config.py) calls these from its validators; `describe_errors` turns a
pydantic ValidationError into one line per variable, naming the environment variable
(never the Python field), what is wrong and the expected form. Values of URLs and
secrets are never quoted back: they may carry passwords.
"""

import re
from decimal import Decimal
from ipaddress import ip_network
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from shopbot.domain.errors import InvalidAmount
from shopbot.domain.ids import MAX_ID, parse_id
from shopbot.domain.money import parse_positive_amount

# The expected form of each setting, appended to every message about it.
FORMATS = {
    "ENVIRONMENT": "one of development, staging, production",
    "LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
    "LOG_FORMAT": "console or json",
    "DATABASE_URL": "postgresql+asyncpg://USER:PASSWORD@HOST:5432/DATABASE or "
    "sqlite+aiosqlite:///./shopbot.db",
    "DATABASE_REPLICA_URLS": "comma-separated postgresql+asyncpg://USER:PASSWORD@HOST:5432/"
    "DATABASE URLs of streaming replicas of DATABASE_URL; empty: no replicas",
    "DATABASE_REPLICA_MAX_LAG_SECONDS": "seconds from 0 to 3600, e.g. 5 or 0.5 (a replica "
    "further behind is skipped for reads)",
    "REDIS_URL": "redis://HOST:6379/0 (rediss:// for TLS, unix:///path/redis.sock); "
    "empty: no Redis",
    "REDIS_CLUSTER_NODES": "comma-separated HOST:PORT seeds, e.g. redis-1:7379,redis-2:7380; "
    "empty: no cluster",
    "SHOP_CURRENCY": "a currency code such as USD",
    "ADMIN_IDS": "comma-separated numeric Telegram user ids (ASCII digits, 1 to "
    "9223372036854775807), e.g. 123456789,987654321; @usernames are not ids — ask "
    "@userinfobot for yours",
    "TOPUP_MIN": "a positive amount in SHOP_CURRENCY with at most two decimals, e.g. 1.00",
    "TOPUP_MAX": "a positive amount in SHOP_CURRENCY with at most two decimals, e.g. 10000.00",
    "STARS_PER_UNIT": "a number of Telegram Stars per unit of SHOP_CURRENCY above 0 and at "
    "most 10000 (one Stars invoice), with at most 4 decimals, e.g. 50",
    "SUPPORT_CHAT_ID": "a numeric Telegram chat id in ASCII digits, not 0, within a signed "
    "64-bit integer (groups are negative, e.g. -1001234567890); empty: the first of ADMIN_IDS",
    "BROADCAST_PER_SECOND": "a whole number from 1 to 30 (Telegram's bulk limit is ~30/s)",
    "RATE_LIMIT_MESSAGES_PER_MINUTE": "a whole number from 0 to 10000 (0 turns the limit off)",
    "RATE_LIMIT_OPERATIONS_PER_MINUTE": "a whole number from 0 to 10000 (0 turns the limit off)",
    "RATE_LIMIT_PAYMENTS_PER_MINUTE": "a whole number from 0 to 10000 (0 turns the limit off)",
    "RATE_LIMIT_BURST": "a whole number from 0 to 10000 (requests above a per-user limit at once)",
    "RATE_LIMIT_GLOBAL_PER_SECOND": "a whole number from 0 to 100000 (0 turns the limit off; "
    "Telegram allows ~30 messages/s)",
    "TELEGRAM_TOKEN": "the token from @BotFather, e.g. 123456789:AAH...",
    "TELEGRAM_API_URL": "an http(s) URL such as https://api.telegram.org",
    "BOT_MODE": "polling or webhook",
    "TELEGRAM_WEBHOOK_SECRET": "1 to 256 characters of A-Z, a-z, 0-9, _ and - (Bot API "
    "setWebhook secret_token)",
    "PUBLIC_BASE_URL": "the public https origin, e.g. https://shop.example.com",
    "HELEKET_WEBHOOK_URL": "an http(s) URL of at most 150 characters (Heleket's payout "
    "url_callback limit); empty: PUBLIC_BASE_URL/webhook/heleket",
    "HELEKET_RETURN_URL": "an http(s) URL of 6 to 255 characters (Heleket url_return); "
    "empty: no button",
    "HELEKET_MERCHANT_ID": "the merchant uuid from the Heleket dashboard",
    "HELEKET_API_KEY": "the payment API key from the Heleket dashboard",
    "HELEKET_PAYOUT_KEY": "the payout API key from the Heleket dashboard",
    "HELEKET_API_URL": "an http(s) URL such as https://api.heleket.com",
    "HELEKET_ALLOWED_IPS": "comma-separated IP addresses or CIDRs, e.g. 31.133.220.8",
    "TRUSTED_PROXIES": "comma-separated IP addresses or CIDRs, e.g. 172.17.0.1,10.0.0.0/8; "
    "empty: forwarded headers are ignored",
    "HELEKET_INVOICE_LIFETIME": "seconds from 300 to 43200 (Heleket's invoice lifetime range)",
    "RECONCILE_INTERVAL_SECONDS": "seconds from 0 to 86400, e.g. 60 or 0.5 (0 turns "
    "reconciliation off)",
    "RECONCILE_AFTER_SECONDS": "whole seconds from 0 to 1000000000",
    "LEDGER_CHECK_INTERVAL_SECONDS": "whole seconds from 0 to 86400 (0 turns the check off)",
    "REDIS_RETRY_SECONDS": "whole seconds from 0 to 120 (0: no retry through a failover)",
    "METRICS_ENABLED": "true or false (false: no timing of requests, updates, Bot API "
    "calls, SQL and Redis)",
    "WEBHOOK_HOST": "an address to listen on, e.g. 0.0.0.0 or 127.0.0.1",
    "WEBHOOK_PORT": "a port from 1 to 65535, e.g. 8001",
}

# Bot API token: "<bot id>:<secret>" as issued by @BotFather.
TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,100}", re.ASCII)
# Bot API setWebhook secret_token: 1-256 characters, A-Z a-z 0-9 _ - (TELEGRAM.md).
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Heleket: url_callback of a payout is 6-150 characters, of an invoice 6-255 (SPEC.md).
CALLBACK_URL_MAX = 150


def describe_errors(exc: ValidationError) -> list[str]:
    """One line per invalid setting: "invalid setting VAR: problem; expected FORM"."""
    lines = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:  # a rule across settings names its variables itself
            lines.append(f"invalid settings: {message}")
            continue
        variable = str(error["loc"][0]).upper()
        expected = FORMATS.get(variable)
        hint = f"; expected {expected}" if expected and expected not in message else ""
        lines.append(f"invalid setting {variable}: {message}{hint}")
    return lines


def split_list(value: object) -> object:
    """A comma-separated string as a list of its non-empty, stripped parts; a blank string
    is left to Settings' empty-value rule."""
    if isinstance(value, str) and value.strip():
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def parse_ids(value: object) -> object:
    """Comma-separated Telegram user ids as ints, each read by `domain.ids.parse_id` (ASCII
    digits, 1 ≤ id ≤ 2**63 - 1: the BIGINT they are stored in); ValueError naming the bad
    part. int() alone would take Arabic-Indic digits (١٢٣ as 123) and any size."""
    parts = split_list(value)
    if not isinstance(parts, list):
        return parts
    ids = []
    for part in parts:
        text = str(part).strip()
        number = parse_id(text)
        if number is None:
            raise ValueError(f"{_shown(text)} is not a numeric Telegram user id")
        ids.append(number)
    return ids


# Whole numbers and decimals as an operator writes them in .env: ASCII digits only.
# pydantic and int() also read "1_000", "+5", "8001.0", " 5 " and, for int(), other
# scripts' digits; none of these is what anyone writes for a port or a count.
_WHOLE = re.compile(r"-?[0-9]{1,40}", re.ASCII)
_DECIMAL = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,4})?", re.ASCII)
MIN_INT64 = -(2**63)
_PORT = re.compile(r"[0-9]{1,5}", re.ASCII)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _unset(value: object) -> bool:
    """None or blank: left to Settings' empty-value rule."""
    return value is None or (isinstance(value, str) and not value.strip())


def parse_whole(value: object, low: int, high: int) -> object:
    """A whole-number setting: an int, or ASCII digits with an optional "-"; returns the
    int. ValueError unless low ≤ n ≤ high (each caller's bounds name their source)."""
    if _unset(value):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError(f"{_shown(str(value))} is not a whole number in ASCII digits")
    if not low <= number <= high:
        raise ValueError(f"{number} is outside {low}..{high}")
    return number


def parse_chat_id(value: object) -> object:
    """A Telegram chat id: a signed 64-bit integer (Bot API: chat ids fit in one; groups
    and channels are negative, -100…), never 0; ValueError otherwise."""
    number = parse_whole(value, MIN_INT64, MAX_ID)
    if number == 0:
        raise ValueError("0 is not a chat id")
    return number


def parse_decimal(value: object, high: int) -> object:
    """A decimal setting: ASCII digits with an optional "." and at most 4 decimals (no
    sign, exponent or "_"); returns a Decimal. ValueError unless 0 ≤ n ≤ high."""
    if _unset(value):
        return value
    if isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
        number = Decimal(str(value))
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        raise ValueError(f"{_shown(str(value))} is not a number in ASCII digits")
    if not number.is_finite() or not 0 <= number <= high:
        raise ValueError(f"{number} is outside 0..{high}")
    return number


def parse_amount_setting(value: object) -> object:
    """A money setting (TOPUP_MIN/TOPUP_MAX) read by the one typed-amount parser
    (`domain.money.parse_positive_amount`): positive, at most two decimals, within
    NUMERIC(18, 2); ValueError with its message."""
    if _unset(value):
        return value
    try:
        return parse_positive_amount(value)
    except InvalidAmount as refused:
        raise ValueError(str(refused)) from None


def check_networks(entries: list[str]) -> list[str]:
    for entry in entries:
        try:
            ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or CIDR") from None
    return entries


def check_cluster_nodes(entries: list[str]) -> list[str]:
    for entry in entries:
        host, _, port = entry.rpartition(":")
        if not host or not _PORT.fullmatch(port) or not 1 <= int(port) <= 65535:
            raise ValueError(f"{entry!r} is not HOST:PORT")
    return entries


def check_http_url(value: str, *, max_length: int | None = None) -> str:
    """An http(s) URL with a host; ValueError without quoting it (it may hold credentials)."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if max_length is not None and len(text) > max_length:
        raise ValueError(f"is longer than {max_length} characters")
    return text


def check_redis_url(value: str) -> str:
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme == "unix" and parts.path:
        return text
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError("is not a redis:// URL")
    return text


def normalise_database_url(value: str) -> str:
    """The URL with the async driver SQLAlchemy needs: `postgres://` and `postgresql://`
    become `postgresql+asyncpg://`, `sqlite:///` becomes `sqlite+aiosqlite:///`.

    Raises ValueError (without quoting the URL: it holds the password) for anything else.
    """
    try:
        url = make_url(value.strip())
    except (ArgumentError, ValueError):
        raise ValueError("is not a database URL") from None
    # Read from the name itself: asking SQLAlchemy would load (or fail to find) the dialect.
    backend, _, driver = url.drivername.lower().partition("+")
    if backend in ("postgres", "postgresql"):
        if driver not in ("", "asyncpg", "psycopg2"):
            raise ValueError(f"uses the driver {driver!r}; use postgresql+asyncpg://")
        if not url.database:
            raise ValueError("names no database (…/DATABASE at the end)")
        url = url.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite":
        if driver not in ("", "aiosqlite", "pysqlite"):
            raise ValueError(f"uses the driver {driver!r}; use sqlite+aiosqlite:///")
        if url.database in (None, "", ":memory:"):
            # Every connection would get its own empty in-memory database.
            raise ValueError("names no SQLite file (sqlite+aiosqlite:///./shopbot.db)")
        url = url.set(drivername="sqlite+aiosqlite")
    else:
        raise ValueError(f"is a {backend!r} URL; shopbot supports PostgreSQL and SQLite")
    return url.render_as_string(hide_password=False)


def normalise_replica_urls(urls: list[str]) -> list[str]:
    """Each URL as `normalise_database_url` makes it, PostgreSQL only (a replica is a
    streaming standby: SQLite has none). ValueError naming the URL's 1-based position,
    never the URL (it holds a password)."""
    normalised = []
    for position, url in enumerate(urls, start=1):
        try:
            value = normalise_database_url(url)
        except ValueError as refused:
            raise ValueError(f"URL {position} {refused}") from None
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError(f"URL {position} is not PostgreSQL; replicas are PostgreSQL only")
        normalised.append(value)
    return normalised
