"""Settings from the environment and `.env` (pydantic-settings).

Every variable is listed with a comment in `.env.example`. Secrets are `SecretStr`, so
they never appear in reprs or logs. A process calls `require_secrets` for what it needs
and refuses to start without it, or with a placeholder such as `changeme`.
Secrets may also be given as NAME_FILE (config_files.py).
"""

from decimal import Decimal
from typing import Annotated, Literal, Self, get_args

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from shopbot import config_rules as rules
from shopbot.config_files import SecretFilesSource
from shopbot.domain.payments.stars import MAX_STARS_PER_INVOICE

PLACEHOLDERS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "change_me",
        "replace-me",
        "replaceme",
        "secret",
        "xxx",
        "todo",
        "your-token-here",
        "placeholder",
        "none",
        "null",
    }
)


# Whole-number settings and their ranges (inclusive), checked on ASCII digits by
# config_rules.parse_whole. Sources: Telegram's ~30 messages/s bulk limit (TELEGRAM.md);
# Heleket's invoice lifetime 300..43200 s (SPEC.md); TCP ports; the age a reconcile run
# considers, bounded like `payments reconcile --older-than` (10^9 s, ~31 years); the
# ledger check at least daily, like reconciliation; Redis retries within a Telegram webhook
# delivery's patience (it redelivers what is not answered in time). Rate limits: 0 turns
# one off; the bounds only keep a typo (an extra digit or two) from reading as "no limit
# at all".
WHOLE_RANGES = {
    "broadcast_per_second": (1, 30),
    "rate_limit_messages_per_minute": (0, 10000),
    "rate_limit_operations_per_minute": (0, 10000),
    "rate_limit_payments_per_minute": (0, 10000),
    "rate_limit_burst": (0, 10000),
    "rate_limit_global_per_second": (0, 100000),
    "heleket_invoice_lifetime": (300, 43200),
    "ledger_check_interval_seconds": (0, 86400),
    "reconcile_after_seconds": (0, 10**9),
    "redis_retry_seconds": (0, 120),
    "webhook_port": (1, 65535),
}
MAX_RECONCILE_INTERVAL = 86400
"""Reconciliation runs at least daily: a longer pause leaves lost webhooks unnoticed."""
MAX_REPLICA_LAG = 3600
"""An hour: a replica further behind serves screens too stale to show."""
"""Reconciliation runs at least daily: a longer pause leaves lost webhooks unnoticed."""

CommaList = Annotated[list[str], NoDecode]
CommaIntList = Annotated[list[int], NoDecode]


class Settings(BaseSettings):
    """Every setting; each is checked when read (see config_rules.FORMATS for the forms).

    An empty value means "unset" for the optional settings (None, or an empty list),
    as `.env.example` documents; for the others it is refused, naming the default.
    Raises pydantic.ValidationError; `config_rules.describe_errors` words it.
    """

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """NAME_FILE (config_files.py) beside the environment and .env, which it consults
        to refuse NAME set twice."""
        files = SecretFilesSource(
            settings_cls,
            FILE_SETTINGS,
            (env_settings, dotenv_settings),
            SettingsProblem,
            placeholder=is_placeholder,
        )
        return init_settings, files, env_settings, dotenv_settings, file_secret_settings

    environment: Literal["development", "staging", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"
    """Unset: console in development, json in staging and production (log shippers)."""

    # Storage and coordination
    # URLs may carry passwords: kept out of reprs; log them through `safe_url`.
    database_url: str = Field(default="sqlite+aiosqlite:///./shopbot.db", repr=False)
    database_replica_urls: CommaList = Field(default_factory=list, repr=False)
    """Streaming replicas for the read-only screens (persistence/replicas.py); empty: none."""
    database_replica_max_lag_seconds: float = 5
    """A replica further behind than this (replay lag, seconds) is skipped for reads."""
    redis_url: str | None = Field(default=None, repr=False)
    redis_cluster_nodes: CommaList = Field(default_factory=list)
    redis_retry_seconds: int = 10
    """How long a Redis command is retried through a failover or restart before the
    update fails (bot/redis_failover.py); 0: not retried beyond redis-py's own retries.
    A cluster failover takes cluster-node-timeout (5 s in deploy/compose) plus an
    election."""

    # The shop
    shop_currency: str = "USD"
    admin_ids: CommaIntList = Field(default_factory=list)
    topup_min: Decimal = Decimal("1.00")
    topup_max: Decimal = Decimal("10000.00")
    stars_per_unit: Decimal = Decimal("50")
    """Telegram Stars charged per one unit of the shop currency."""
    support_chat_id: int | None = None
    """Chat that receives customers' support messages; default: the first admin."""
    broadcast_per_second: int = 25

    # Rate limits (bot/rate_limits, docs/bot.md#rate-limits); 0 turns one off.
    rate_limit_messages_per_minute: int = 30
    """Messages a user may send per minute (a token bucket refilled at this pace)."""
    rate_limit_operations_per_minute: int = 20
    """Button presses (callback queries) a user may make per minute."""
    rate_limit_payments_per_minute: int = 5
    """Top-up invoices (Heleket or Stars) a user may start per minute."""
    rate_limit_burst: int = 5
    """Extra requests above each per-user limit a user may make at once (bucket capacity
    = limit + burst)."""
    rate_limit_global_per_second: int = 25
    """Updates from all users per second, for the bot's outgoing budget: Telegram allows
    about 30 messages per second (Bot API FAQ, "My bot is hitting limits")."""

    # Telegram
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    bot_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_secret: SecretStr | None = None
    public_base_url: str | None = None
    """Where Telegram and Heleket reach us from outside, e.g. https://shop.example.com."""

    heleket_webhook_url: str | None = None
    """Where Heleket posts callbacks; default PUBLIC_BASE_URL/webhook/heleket."""
    heleket_return_url: str | None = None
    """The payment page's way back to the shop (before and after paying), e.g. a t.me link."""

    @property
    def heleket_callback_url(self) -> str:
        if self.heleket_webhook_url:
            return self.heleket_webhook_url
        require_secrets(self, "public_base_url")
        return f"{str(self.public_base_url).rstrip('/')}/webhook/heleket"

    # Heleket
    heleket_merchant_id: str | None = None
    heleket_api_key: SecretStr | None = None
    heleket_payout_key: SecretStr | None = None
    heleket_api_url: str = "https://api.heleket.com"
    heleket_allowed_ips: CommaList = Field(default_factory=lambda: ["31.133.220.8"])
    trusted_proxies: CommaList = Field(default_factory=list)
    heleket_invoice_lifetime: int = 3600
    reconcile_interval_seconds: float = 60
    reconcile_after_seconds: int = 300
    ledger_check_interval_seconds: int = 300

    # Metrics (docs/metrics.md): false leaves out the per-request, per-update, per-call
    # and per-statement timing (for measuring its cost); /metrics still answers.
    metrics_enabled: bool = True

    # Webhook service
    webhook_host: str = "0.0.0.0"  # noqa: S104 - the service runs in a container behind nginx
    webhook_port: int = 8001

    @field_validator("*", mode="before")
    @classmethod
    def _empty(cls, value: object, info: ValidationInfo) -> object:
        """Blank means unset where unset means something; elsewhere it is refused."""
        if not (isinstance(value, str) and not value.strip()):
            return value
        assert info.field_name is not None
        field = cls.model_fields[info.field_name]
        if type(None) in get_args(field.annotation):
            return None
        if info.field_name in EMPTY_LISTS:
            return []
        default = field.get_default(call_default_factory=True)
        shown = ",".join(map(str, default)) if isinstance(default, list) else default
        raise ValueError(f"is empty; set it, or remove the line for the default {shown}")

    @field_validator("environment", "log_format", "bot_mode", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator(
        "redis_cluster_nodes",
        "heleket_allowed_ips",
        "trusted_proxies",
        "database_replica_urls",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return rules.split_list(value)

    @field_validator("heleket_allowed_ips", "trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return rules.check_networks(value)

    @field_validator("redis_cluster_nodes")
    @classmethod
    def _cluster_nodes(cls, value: list[str]) -> list[str]:
        return rules.check_cluster_nodes(value)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _comma_ints(cls, value: object) -> object:
        return rules.parse_ids(value)

    @field_validator("support_chat_id", mode="before")
    @classmethod
    def _chat_id(cls, value: object) -> object:
        return rules.parse_chat_id(value)

    @field_validator(*WHOLE_RANGES, mode="before")
    @classmethod
    def _whole(cls, value: object, info: ValidationInfo) -> object:
        low, high = WHOLE_RANGES[str(info.field_name)]
        return rules.parse_whole(value, low, high)

    @field_validator("reconcile_interval_seconds", mode="before")
    @classmethod
    def _interval(cls, value: object) -> object:
        number = rules.parse_decimal(value, MAX_RECONCILE_INTERVAL)
        return float(number) if isinstance(number, Decimal) else number

    @field_validator("shop_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.strip().upper()
        if not (3 <= len(code) <= 10 and code.isalnum()):
            raise ValueError("must be a currency code such as USD")
        return code

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return rules.normalise_database_url(value)

    @field_validator("database_replica_urls")
    @classmethod
    def _replica_urls(cls, value: list[str]) -> list[str]:
        return rules.normalise_replica_urls(value)

    @field_validator("database_replica_max_lag_seconds", mode="before")
    @classmethod
    def _replica_lag(cls, value: object) -> object:
        number = rules.parse_decimal(value, MAX_REPLICA_LAG)
        return float(number) if isinstance(number, Decimal) else number

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        return None if value is None else rules.check_redis_url(value)

    @field_validator("telegram_api_url", "heleket_api_url", "public_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else rules.check_http_url(value)

    @field_validator("heleket_webhook_url")
    @classmethod
    def _callback_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return rules.check_http_url(value, max_length=rules.CALLBACK_URL_MAX)

    @field_validator("heleket_return_url", mode="before")
    @classmethod
    def _return_url(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = str(value).strip()
        # Heleket's own limits for url_return / url_success; it refuses the invoice otherwise.
        if not (6 <= len(text) <= 255 and text.startswith(("https://", "http://"))):
            raise ValueError("must be an http(s) URL of 6 to 255 characters")
        return text

    @field_validator("topup_min", "topup_max", mode="before")
    @classmethod
    def _amount(cls, value: object) -> object:
        return rules.parse_amount_setting(value)

    @field_validator("stars_per_unit", mode="before")
    @classmethod
    def _stars_rate(cls, value: object) -> object:
        return rules.parse_decimal(value, MAX_STARS_PER_INVOICE)

    @field_validator("stars_per_unit")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be a positive number")
        return value

    @field_validator("heleket_merchant_id", "webhook_host")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return None if value is None else value.strip()

    @field_validator(
        "telegram_token",
        "telegram_webhook_secret",
        "heleket_api_key",
        "heleket_payout_key",
    )
    @classmethod
    def _secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """Stripped (a pasted newline breaks signatures); a placeholder passes here and is
        refused by `require_secrets` in the processes that need it."""
        if value is None:
            return None
        text = value.get_secret_value().strip()
        if is_placeholder(text):
            return SecretStr(text)
        form = {"telegram_token": rules.TOKEN, "telegram_webhook_secret": rules.WEBHOOK_SECRET}
        pattern = form.get(str(info.field_name))
        if pattern is not None and not pattern.fullmatch(text):
            raise ValueError("has the wrong form")
        return SecretStr(text)

    @model_validator(mode="after")
    def _across(self) -> Self:
        if "log_format" not in self.model_fields_set and self.environment != "development":
            self.log_format = "json"
        if self.topup_min > self.topup_max:
            raise ValueError(
                f"TOPUP_MIN ({self.topup_min}) is larger than TOPUP_MAX ({self.topup_max}); "
                "make TOPUP_MIN at most TOPUP_MAX"
            )
        if self.database_replica_urls and not self.database_url.startswith("postgresql"):
            raise ValueError(
                "DATABASE_REPLICA_URLS is set but DATABASE_URL is not PostgreSQL; replicas "
                "are PostgreSQL streaming standbys of DATABASE_URL: empty DATABASE_REPLICA_URLS"
            )
        if self.redis_url and self.redis_cluster_nodes:
            raise ValueError("REDIS_URL and REDIS_CLUSTER_NODES are both set; set only one of them")
        if not self.heleket_webhook_url and self.public_base_url:
            callback = f"{self.public_base_url.rstrip('/')}/webhook/heleket"
            if len(callback) > rules.CALLBACK_URL_MAX:
                raise ValueError(
                    f"PUBLIC_BASE_URL/webhook/heleket is longer than {rules.CALLBACK_URL_MAX} "
                    "characters (Heleket's url_callback limit); shorten PUBLIC_BASE_URL or "
                    "set HELEKET_WEBHOOK_URL"
                )
        return self


# Settings that may hold a secret, so NAME_FILE may give them (config_files.py).
FILE_SETTINGS = (
    *(
        name
        for name, field in Settings.model_fields.items()
        if SecretStr in (field.annotation, *get_args(field.annotation))
    ),
    "database_url",
    "database_replica_urls",
    "redis_url",
)

# Lists whose empty value means "none" (documented in .env.example).
EMPTY_LISTS = frozenset(
    {"redis_cluster_nodes", "admin_ids", "trusted_proxies", "database_replica_urls"}
)


class SettingsProblem(Exception):
    """The settings do not let a process start; `str()` names the variable and the fix."""


class MissingSecret(SettingsProblem):
    def __init__(self, variable: str, *, why: str | None = None) -> None:
        message = f"{variable} is not set or is a placeholder; set it in the environment or in .env"
        super().__init__(f"{message} ({why})" if why else message)
        self.variable = variable


def is_placeholder(value: str) -> bool:
    return value.strip().lower() in PLACEHOLDERS


def is_set(value: object) -> bool:
    """Whether a setting's value (a SecretStr or plain) is given and not a placeholder."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    return text is not None and not is_placeholder(str(text))


def require_secrets(settings: Settings, *fields: str) -> None:
    """Raise MissingSecret naming the first variable among `fields` that is unset or a
    placeholder. Fields are attribute names; the message names the environment variable."""
    for field in fields:
        if not is_set(getattr(settings, field)):
            raise MissingSecret(field.upper())
