"""Settings from the environment, and the refusal to start without real secrets."""

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from shopbot.config import MissingSecret, Settings, is_placeholder, require_secrets

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
    monkeypatch.setenv("CLOUDFLARE_TUNNEL_TOKEN", "your-token-here")

    with pytest.raises(MissingSecret) as caught:
        require_secrets(settings(), "cloudflare_tunnel_token")
    assert caught.value.variable == "CLOUDFLARE_TUNNEL_TOKEN"
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
        "CLOUDFLARE_TUNNEL_TOKEN": "cf-tunnel-4b8e2a6f",
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
    from shopbot.wiring import topup_policy

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
