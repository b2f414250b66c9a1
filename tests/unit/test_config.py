"""Settings from the environment, and the refusal to start without real secrets."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shopbot.config import MissingSecret, Settings, is_placeholder, require_secrets
from shopbot.config_rules import FORMATS, describe_errors

REAL_TOKEN = "7312345678:AAHd9xQ2v-real-looking_token_ZpT4"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the developer's environment or .env may leak into a test."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.chdir(tmp_path)


def settings() -> Settings:
    return Settings(_env_file=None)


def test_defaults() -> None:
    loaded = settings()

    assert loaded.environment == "development"
    assert loaded.database_url == "sqlite+aiosqlite:///./shopbot.db"
    assert loaded.shop_currency == "USD"
    assert loaded.admin_ids == []
    assert loaded.heleket_allowed_ips == ["31.133.220.8"]
    assert loaded.trusted_proxies == []
    assert loaded.topup_min == Decimal("1.00")
    assert loaded.telegram_token is None
    rate_limits = (
        loaded.rate_limit_messages_per_minute,
        loaded.rate_limit_operations_per_minute,
        loaded.rate_limit_payments_per_minute,
        loaded.rate_limit_burst,
        loaded.rate_limit_global_per_second,
    )
    assert rate_limits == (30, 20, 5, 5, 25)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1, 2", [1, 2]), ("1,2", [1, 2]), (" 42 ", [42]), ("", []), ("5,,6,", [5, 6])],
)
def test_admin_ids_are_a_comma_list_of_integers(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[int]
) -> None:
    monkeypatch.setenv("ADMIN_IDS", raw)

    assert settings().admin_ids == expected


def test_admin_ids_must_be_integers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "1, bob")

    with pytest.raises(ValidationError) as caught:
        settings()
    assert caught.value.errors()[0]["loc"][0] == "admin_ids"


def test_comma_lists_of_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELEKET_ALLOWED_IPS", "10.0.0.1, 10.0.0.2")
    monkeypatch.setenv("TRUSTED_PROXIES", "172.17.0.1")

    loaded = settings()

    assert loaded.heleket_allowed_ips == ["10.0.0.1", "10.0.0.2"]
    assert loaded.trusted_proxies == ["172.17.0.1"]


def test_currency_is_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_CURRENCY", " eur ")

    assert settings().shop_currency == "EUR"


@pytest.mark.parametrize("raw", ["!!", "US", "", "U$D", "VERYLONGCODE"])
def test_invalid_currency_is_refused(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("SHOP_CURRENCY", raw)

    with pytest.raises(ValidationError) as caught:
        settings()
    assert [error["loc"] for error in caught.value.errors()] == [("shop_currency",)]


@pytest.mark.parametrize("raw", ["0", "-1", "NaN"])
def test_topup_limits_must_be_positive(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("TOPUP_MIN", raw)

    with pytest.raises(ValidationError):
        settings()


def test_environment_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("shop_currency", "gbp")

    assert settings().shop_currency == "GBP"


@pytest.mark.parametrize("value", [None, "changeme", "CHANGEME", "", "  ChangeMe  ", "xxx"])
def test_require_secrets_refuses_unset_and_placeholders(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is not None:
        monkeypatch.setenv("TELEGRAM_TOKEN", value)

    with pytest.raises(MissingSecret) as caught:
        require_secrets(settings(), "telegram_token")

    assert caught.value.variable == "TELEGRAM_TOKEN"
    assert str(caught.value).startswith("TELEGRAM_TOKEN is not set or is a placeholder")


def test_require_secrets_passes_for_a_real_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", REAL_TOKEN)

    loaded = settings()
    require_secrets(loaded, "telegram_token")

    assert loaded.telegram_token is not None
    assert loaded.telegram_token.get_secret_value() == REAL_TOKEN


def test_require_secrets_names_the_first_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELEKET_MERCHANT_ID", "d1b5c2e4-merchant")
    monkeypatch.setenv("HELEKET_API_KEY", "changeme")

    with pytest.raises(MissingSecret) as caught:
        require_secrets(settings(), "heleket_merchant_id", "heleket_api_key")
    assert caught.value.variable == "HELEKET_API_KEY"

    monkeypatch.delenv("HELEKET_MERCHANT_ID")
    with pytest.raises(MissingSecret) as caught:
        require_secrets(settings(), "heleket_merchant_id", "heleket_api_key")
    assert caught.value.variable == "HELEKET_MERCHANT_ID"


def test_missing_secret_message_does_not_echo_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELEKET_PAYOUT_KEY", "your-token-here")

    with pytest.raises(MissingSecret) as caught:
        require_secrets(settings(), "heleket_payout_key")
    assert caught.value.variable == "HELEKET_PAYOUT_KEY"
    assert "your-token-here" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("changeme", True), (" CHANGE-ME ", True), ("None", True), ("real-value-123", False)],
)
def test_is_placeholder(value: str, expected: bool) -> None:
    assert is_placeholder(value) is expected


def test_secrets_do_not_appear_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "TELEGRAM_TOKEN": REAL_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": "whsec-9c1e07a4b3",
        "HELEKET_API_KEY": "hk-api-5d2f8e6b0a",
        "HELEKET_PAYOUT_KEY": "hk-payout-1a7c3e9d",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)

    loaded = settings()

    for shown in (repr(loaded), str(loaded), loaded.model_dump_json()):
        for value in secrets.values():
            assert value not in shown
    assert loaded.heleket_api_key is not None
    assert loaded.heleket_api_key.get_secret_value() == "hk-api-5d2f8e6b0a"


def test_heleket_return_url_reaches_the_topup_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    from shopbot.composition.policies import topup_policy

    monkeypatch.setenv("HELEKET_RETURN_URL", " https://t.me/my_shop_bot ")
    monkeypatch.setenv("HELEKET_WEBHOOK_URL", "https://shop.example.com/webhook/heleket")
    assert topup_policy(settings()).return_url == "https://t.me/my_shop_bot"
    monkeypatch.setenv("HELEKET_RETURN_URL", "")
    assert topup_policy(settings()).return_url is None


@pytest.mark.parametrize(
    "raw", ["t.me/shop", "ftp://example.com/x", "https:", "https://" + "a" * 250]
)
def test_heleket_return_url_must_be_what_heleket_accepts(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("HELEKET_RETURN_URL", raw)
    with pytest.raises(ValidationError) as caught:
        settings()
    assert [error["loc"] for error in caught.value.errors()] == [("heleket_return_url",)]


def errors(**env: str) -> list[str]:
    """describe_errors' lines for settings built from `env`."""
    values: dict[str, Any] = {name.lower(): value for name, value in env.items()}
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, **values)
    return describe_errors(caught.value)


@pytest.mark.parametrize(
    ("variable", "raw", "problem"),
    [
        ("ADMIN_IDS", "@admin", "'@admin' is not a numeric Telegram user id"),
        ("ADMIN_IDS", "-5", "'-5' is not a numeric Telegram user id"),
        ("SUPPORT_CHAT_ID", "support", "'support' is not a whole number in ASCII digits"),
        ("SUPPORT_CHAT_ID", "0", "0 is not a chat id"),
        ("TOPUP_MAX", "12345.005", "'12345.005' has more than two decimal places"),
        ("TOPUP_MAX", "1.001", "'1.001' is ambiguous"),
        ("TOPUP_MIN", "ten", "'ten' is not an amount"),
        ("STARS_PER_UNIT", "-1", "'-1' is not a number in ASCII digits"),
        ("STARS_PER_UNIT", "0", "must be a positive number"),
        ("BROADCAST_PER_SECOND", "31", "31 is outside 1..30"),
        ("RATE_LIMIT_MESSAGES_PER_MINUTE", "-1", "-1 is outside 0..10000"),
        ("RATE_LIMIT_OPERATIONS_PER_MINUTE", "10001", "10001 is outside 0..10000"),
        ("RATE_LIMIT_PAYMENTS_PER_MINUTE", "5.5", "'5.5' is not a whole number in ASCII"),
        ("RATE_LIMIT_BURST", "five", "'five' is not a whole number in ASCII digits"),
        ("RATE_LIMIT_GLOBAL_PER_SECOND", "100001", "100001 is outside 0..100000"),
        ("WEBHOOK_PORT", "70000", "70000 is outside 1..65535"),
        ("HELEKET_INVOICE_LIFETIME", "60", "60 is outside 300..43200"),
        ("RECONCILE_INTERVAL_SECONDS", "inf", "'inf' is not a number in ASCII digits"),
        # Impossible ids and numbers (issue 9, kinds 5 and 10): int() reads other
        # scripts' digits and any size; pydantic reads "1_000", "+5" and "8001.0".
        (
            "ADMIN_IDS",
            "\u0661\u0662\u0663",
            "'\u0661\u0662\u0663' is not a numeric Telegram user id",
        ),
        ("ADMIN_IDS", "\uff11\uff12", "'\uff11\uff12' is not a numeric Telegram user id"),
        ("ADMIN_IDS", "99999999999999999999", "'99999999999999999999' is not a numeric"),
        ("ADMIN_IDS", "1,9223372036854775808", "'9223372036854775808' is not a numeric"),
        ("ADMIN_IDS", "0", "'0' is not a numeric Telegram user id"),
        ("ADMIN_IDS", "1_000", "'1_000' is not a numeric Telegram user id"),
        (
            "SUPPORT_CHAT_ID",
            "99999999999999999999999",
            "99999999999999999999999 is outside -9223372036854775808..9223372036854775807",
        ),
        (
            "SUPPORT_CHAT_ID",
            "-9223372036854775809",
            "-9223372036854775809 is outside -9223372036854775808..9223372036854775807",
        ),
        (
            "SUPPORT_CHAT_ID",
            "\u0661\u0662\u0663",
            "'\u0661\u0662\u0663' is not a whole number in ASCII",
        ),
        ("SUPPORT_CHAT_ID", "+12", "'+12' is not a whole number in ASCII digits"),
        ("SUPPORT_CHAT_ID", "1_000", "'1_000' is not a whole number in ASCII digits"),
        ("SUPPORT_CHAT_ID", "12.0", "'12.0' is not a whole number in ASCII digits"),
        ("SUPPORT_CHAT_ID", "1" * 50, f"'{'1' * 40}…' is not a whole number in ASCII"),
        (
            "WEBHOOK_PORT",
            "\u0668\u0660\u0660\u0661",
            "'\u0668\u0660\u0660\u0661' is not a whole number in ASCII",
        ),
        ("WEBHOOK_PORT", "8_001", "'8_001' is not a whole number in ASCII digits"),
        ("WEBHOOK_PORT", "8001.0", "'8001.0' is not a whole number in ASCII digits"),
        ("BROADCAST_PER_SECOND", "\uff12\uff15", "'\uff12\uff15' is not a whole number in ASCII"),
        ("HELEKET_INVOICE_LIFETIME", "3_600", "'3_600' is not a whole number in ASCII"),
        (
            "RECONCILE_AFTER_SECONDS",
            "99999999999999999999999",
            "99999999999999999999999 is outside 0..1000000000",
        ),
        ("RECONCILE_AFTER_SECONDS", "-1", "-1 is outside 0..1000000000"),
        ("LEDGER_CHECK_INTERVAL_SECONDS", "86401", "86401 is outside 0..86400"),
        ("REDIS_RETRY_SECONDS", "121", "121 is outside 0..120"),
        ("RECONCILE_INTERVAL_SECONDS", "1e308", "'1e308' is not a number in ASCII digits"),
        ("RECONCILE_INTERVAL_SECONDS", "86401", "86401 is outside 0..86400"),
        ("RECONCILE_INTERVAL_SECONDS", "\u0666\u0660", "'\u0666\u0660' is not a number in ASCII"),
        ("TOPUP_MAX", "1e30", "'1e30' is not an amount"),  # was a decimal.InvalidOperation
        ("TOPUP_MAX", "\u0661\u0660\u0660\u0660", "'\u0661\u0660\u0660\u0660' is not an amount"),
        ("TOPUP_MAX", "99999999999999999", "'99999999999999999' is too large"),
        ("STARS_PER_UNIT", "1e30", "'1e30' is not a number in ASCII digits"),
        ("STARS_PER_UNIT", "\u0665\u0660", "'\u0665\u0660' is not a number in ASCII digits"),
        ("STARS_PER_UNIT", "10001", "10001 is outside 0..10000"),
        (
            "REDIS_CLUSTER_NODES",
            "redis-1:\u0666\u0663\u0667\u0669",
            "'redis-1:\u0666\u0663\u0667\u0669' is not",
        ),
        ("TELEGRAM_TOKEN", "\u0661\u0662\u0663:AAH", "has the wrong form"),
        ("BOT_MODE", "hook", "Input should be 'polling' or 'webhook'"),
        ("TELEGRAM_API_URL", "api.telegram.org", "must be an http:// or https:// URL"),
        ("PUBLIC_BASE_URL", "https://", "must be an http:// or https:// URL with a host"),
        ("HELEKET_WEBHOOK_URL", "https://x.example/" + "a" * 140, "is longer than 150"),
        ("REDIS_URL", "127.0.0.1:6379", "is not a redis:// URL"),
        ("REDIS_CLUSTER_NODES", "redis-1", "'redis-1' is not HOST:PORT"),
        ("HELEKET_ALLOWED_IPS", "heleket.com", "'heleket.com' is not an IP address or CIDR"),
        ("TRUSTED_PROXIES", "10.0.0.0/33", "'10.0.0.0/33' is not an IP address or CIDR"),
        ("HELEKET_ALLOWED_IPS", "", "is empty; set it, or remove the line for the default"),
        ("TOPUP_MIN", " ", "is empty; set it, or remove the line for the default 1.00"),
        ("TELEGRAM_TOKEN", "my bot token", "has the wrong form"),
        ("TELEGRAM_WEBHOOK_SECRET", "has spaces", "has the wrong form"),
        ("DATABASE_URL", "mysql://u:pw@db/shop", "is a 'mysql' URL"),
        ("DATABASE_URL", "postgresql+psycopg://u:pw@db/shop", "uses the driver 'psycopg'"),
        ("DATABASE_URL", "postgresql://u:pw@db", "names no database"),
        ("DATABASE_URL", "sqlite+aiosqlite://", "names no SQLite file"),
        ("DATABASE_URL", "db.example.com:5432", "is not a database URL"),
    ],
)
def test_each_bad_value_names_its_variable_the_problem_and_the_form(
    variable: str, raw: str, problem: str
) -> None:
    [line] = errors(**{variable: raw})

    assert line.startswith(f"invalid setting {variable}: {problem}")
    assert f"; expected {FORMATS[variable]}" in line
    # URLs (they may hold passwords) and secrets are never quoted back.
    assert ":pw@" not in line
    if "TOKEN" in variable or "SECRET" in variable:
        assert raw not in line


@pytest.mark.parametrize(
    ("variable", "raw", "expected"),
    [
        ("ADMIN_IDS", " 1 , 9223372036854775807 ", [1, 9223372036854775807]),
        ("SUPPORT_CHAT_ID", "-1001234567890", -1001234567890),
        ("SUPPORT_CHAT_ID", "-9223372036854775808", -9223372036854775808),
        ("SUPPORT_CHAT_ID", " 12 ", 12),
        ("WEBHOOK_PORT", "65535", 65535),
        ("RECONCILE_INTERVAL_SECONDS", "0.5", 0.5),
        ("RECONCILE_AFTER_SECONDS", "0", 0),
        ("LEDGER_CHECK_INTERVAL_SECONDS", "86400", 86400),
        ("RATE_LIMIT_MESSAGES_PER_MINUTE", "0", 0),
        ("RATE_LIMIT_OPERATIONS_PER_MINUTE", "10000", 10000),
        ("RATE_LIMIT_PAYMENTS_PER_MINUTE", " 7 ", 7),
        ("RATE_LIMIT_BURST", "0", 0),
        ("RATE_LIMIT_GLOBAL_PER_SECOND", "100000", 100000),
        ("TOPUP_MAX", "1 500", Decimal("1500.00")),
        ("STARS_PER_UNIT", "1.5", Decimal("1.5")),
    ],
)
def test_the_edges_of_each_number_setting_are_read(
    variable: str, raw: str, expected: object
) -> None:
    values: dict[str, Any] = {variable.lower(): raw}
    loaded = Settings(_env_file=None, **values)

    assert getattr(loaded, variable.lower()) == expected


def test_every_setting_has_a_documented_form() -> None:
    assert set(FORMATS) == {name.upper() for name in Settings.model_fields}


def test_topup_min_above_topup_max() -> None:
    assert errors(TOPUP_MIN="100", TOPUP_MAX="10") == [
        "invalid settings: TOPUP_MIN (100.00) is larger than TOPUP_MAX (10.00); "
        "make TOPUP_MIN at most TOPUP_MAX"
    ]


def test_redis_url_and_cluster_together() -> None:
    [line] = errors(REDIS_URL="redis://r:6379/0", REDIS_CLUSTER_NODES="r1:7000")
    assert "set only one of them" in line


def test_public_base_url_too_long_for_heleket_callbacks() -> None:
    [line] = errors(PUBLIC_BASE_URL="https://shop.example.com/" + "p" * 120)
    assert "shorten PUBLIC_BASE_URL or set HELEKET_WEBHOOK_URL" in line


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("postgres://u:p%40ss@db:5432/shop", "postgresql+asyncpg://u:p%40ss@db:5432/shop"),
        ("postgresql://u@db/shop", "postgresql+asyncpg://u@db/shop"),
        ("postgresql+psycopg2://u@db/shop", "postgresql+asyncpg://u@db/shop"),
        ("postgresql+asyncpg://u@db/shop", "postgresql+asyncpg://u@db/shop"),
        ("sqlite:///./shop.db", "sqlite+aiosqlite:///./shop.db"),
        (" sqlite+aiosqlite:////var/lib/shop.db ", "sqlite+aiosqlite:////var/lib/shop.db"),
    ],
)
def test_database_urls_people_paste_get_the_async_driver(
    monkeypatch: pytest.MonkeyPatch, raw: str, normalised: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", raw)

    assert settings().database_url == normalised


def test_empty_optional_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SUPPORT_CHAT_ID", "REDIS_URL", "PUBLIC_BASE_URL", "TELEGRAM_TOKEN", "ADMIN_IDS"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("TRUSTED_PROXIES", " ")

    loaded = settings()

    assert loaded.support_chat_id is None
    assert loaded.redis_url is None
    assert loaded.public_base_url is None
    assert loaded.telegram_token is None
    assert loaded.admin_ids == []
    assert loaded.trusted_proxies == []


def test_names_are_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("BOT_MODE", " Webhook ")
    monkeypatch.setenv("TELEGRAM_TOKEN", f" {REAL_TOKEN}\n")

    loaded = settings()

    assert (loaded.log_level, loaded.bot_mode) == ("DEBUG", "webhook")
    assert loaded.telegram_token is not None
    assert loaded.telegram_token.get_secret_value() == REAL_TOKEN


@pytest.mark.parametrize(
    ("environment", "given", "expected"),
    [
        ("development", None, "console"),
        ("staging", None, "json"),
        ("production", None, "json"),
        ("production", "console", "console"),
        ("development", "json", "json"),
    ],
)
def test_log_format_defaults_to_json_outside_development(
    monkeypatch: pytest.MonkeyPatch, environment: str, given: str | None, expected: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT", environment)
    if given is not None:
        monkeypatch.setenv("LOG_FORMAT", given)

    assert settings().log_format == expected
