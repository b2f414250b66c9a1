"""Settings from the environment and `.env` (pydantic-settings).

Every variable is listed with a comment in `.env.example`. Secrets are `SecretStr`, so
they never appear in reprs or logs. A process calls `require_secrets` for what it needs
and refuses to start without it, or with a placeholder such as `changeme`.
"""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CommaList = Annotated[list[str], NoDecode]
CommaIntList = Annotated[list[int], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    environment: Literal["development", "staging", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"

    # Storage and coordination
    # URLs may carry passwords: kept out of reprs; log them through `safe_url`.
    database_url: str = Field(default="sqlite+aiosqlite:///./shopbot.db", repr=False)
    redis_url: str | None = Field(default=None, repr=False)
    redis_cluster_nodes: CommaList = Field(default_factory=list)

    # The shop
    shop_currency: str = "USD"
    admin_ids: CommaIntList = Field(default_factory=list)
    topup_min: Decimal = Decimal("1.00")
    topup_max: Decimal = Decimal("10000.00")
    stars_per_unit: Decimal = Decimal("50")
    """Telegram Stars charged per one unit of the shop currency."""
    support_chat_id: int | None = None
    """Chat that receives customers' support messages; default: the first admin."""
    broadcast_per_second: int = Field(default=25, ge=1, le=30)

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
    heleket_invoice_lifetime: int = Field(default=3600, ge=300, le=43200)
    reconcile_interval_seconds: float = Field(default=60, ge=0)
    reconcile_after_seconds: int = Field(default=300, ge=0)

    # Webhook service
    webhook_host: str = "0.0.0.0"  # noqa: S104 - the service runs in a container behind nginx
    webhook_port: int = 8001

    # Deployment
    cloudflare_tunnel_token: SecretStr | None = None
    production_domain: str | None = None
    enable_https_redirect: bool = False

    @field_validator("redis_cluster_nodes", "heleket_allowed_ips", "trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return _split(value)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _comma_ints(cls, value: object) -> object:
        return _split(value)

    @field_validator("shop_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.strip().upper()
        if not (3 <= len(code) <= 10 and code.isalnum()):
            raise ValueError("must be a currency code such as USD")
        return code

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

    @field_validator("topup_min", "topup_max", "stars_per_unit")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value <= 0:
            raise ValueError("must be a positive number")
        return value


class MissingSecret(Exception):
    def __init__(self, variable: str) -> None:
        super().__init__(
            f"{variable} is not set or is a placeholder; set it in the environment or in .env"
        )
        self.variable = variable


def is_placeholder(value: str) -> bool:
    return value.strip().lower() in PLACEHOLDERS


def require_secrets(settings: Settings, *fields: str) -> None:
    """Raise MissingSecret naming the first variable among `fields` that is unset or a
    placeholder. Fields are attribute names; the message names the environment variable."""
    for field in fields:
        value = getattr(settings, field)
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text is None or is_placeholder(str(text)):
            raise MissingSecret(field.upper())
