"""NAME_FILE gives a secret setting from a file (Docker and Kubernetes secrets)."""

from pathlib import Path

import pytest

from shopbot.config import FILE_SETTINGS, Settings, SettingsProblem

TOKEN = "7312345678:AAHd9xQ2v-from_a_file_ZpT4"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in Settings.model_fields:
        for variable in (name, f"{name}_file"):
            monkeypatch.delenv(variable.upper(), raising=False)
            monkeypatch.delenv(variable.lower(), raising=False)
    monkeypatch.chdir(tmp_path)


def secret_file(tmp_path: Path, content: str) -> str:
    path = tmp_path / "secret"
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_every_secret_and_url_with_a_password_may_come_from_a_file() -> None:
    assert set(FILE_SETTINGS) == {
        "telegram_token",
        "telegram_webhook_secret",
        "heleket_api_key",
        "heleket_payout_key",
        "database_url",
        "database_replica_urls",
        "redis_url",
    }


def test_a_secret_comes_from_its_file_without_the_trailing_newline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN_FILE", secret_file(tmp_path, TOKEN + "\n"))

    loaded = Settings(_env_file=None)

    assert loaded.telegram_token is not None
    assert loaded.telegram_token.get_secret_value() == TOKEN


@pytest.mark.parametrize(
    ("variable", "content", "expected"),
    [
        ("HELEKET_API_KEY", "hk-api-5d2f8e6b0a\r\n", "hk-api-5d2f8e6b0a"),
        ("HELEKET_PAYOUT_KEY", "hk-payout-1a7c3e9d", "hk-payout-1a7c3e9d"),
        ("TELEGRAM_WEBHOOK_SECRET", "whsec-9c1e07a4b3\n", "whsec-9c1e07a4b3"),
    ],
)
def test_each_secret_reads_its_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, content: str, expected: str
) -> None:
    monkeypatch.setenv(f"{variable}_FILE", secret_file(tmp_path, content))

    value = getattr(Settings(_env_file=None), variable.lower())

    assert value.get_secret_value() == expected


def test_urls_with_passwords_come_from_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database = tmp_path / "database"
    database.write_text("postgresql+asyncpg://shop:pw-from-file@db:5432/shop\n")
    redis = tmp_path / "redis"
    redis.write_text("redis://:redis-pw@cache:6379/0\n")
    monkeypatch.setenv("DATABASE_URL_FILE", str(database))
    monkeypatch.setenv("REDIS_URL_FILE", str(redis))

    loaded = Settings(_env_file=None)

    assert loaded.database_url == "postgresql+asyncpg://shop:pw-from-file@db:5432/shop"
    assert loaded.redis_url == "redis://:redis-pw@cache:6379/0"


def test_name_file_in_dotenv_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_file = tmp_path / "settings.env"
    env_file.write_text(f"HELEKET_API_KEY_FILE={secret_file(tmp_path, 'hk-from-dotenv')}\n")

    loaded = Settings(_env_file=env_file)

    assert loaded.heleket_api_key is not None
    assert loaded.heleket_api_key.get_secret_value() == "hk-from-dotenv"


def test_the_value_and_its_file_together_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_TOKEN_FILE", secret_file(tmp_path, TOKEN))

    with pytest.raises(SettingsProblem) as caught:
        Settings(_env_file=None)

    assert str(caught.value) == (
        "TELEGRAM_TOKEN and TELEGRAM_TOKEN_FILE are both set; set only one of them"
    )


def test_the_value_in_dotenv_and_its_file_in_the_environment_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / "settings.env"
    env_file.write_text("HELEKET_API_KEY=hk-in-dotenv\n")
    monkeypatch.setenv("HELEKET_API_KEY_FILE", secret_file(tmp_path, "hk-in-file"))

    with pytest.raises(SettingsProblem, match="HELEKET_API_KEY and HELEKET_API_KEY_FILE"):
        Settings(_env_file=env_file)


def test_a_placeholder_copied_from_env_example_gives_way_to_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / "settings.env"  # as `cp .env.example .env` leaves it
    env_file.write_text("TELEGRAM_TOKEN=changeme\nHELEKET_API_KEY=changeme\n")
    monkeypatch.setenv("TELEGRAM_TOKEN_FILE", secret_file(tmp_path, TOKEN))

    loaded = Settings(_env_file=env_file)

    assert loaded.telegram_token is not None
    assert loaded.telegram_token.get_secret_value() == TOKEN


def test_an_unreadable_file_names_the_variable_and_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "absent"
    monkeypatch.setenv("HELEKET_PAYOUT_KEY_FILE", str(missing))

    with pytest.raises(SettingsProblem) as caught:
        Settings(_env_file=None)

    assert str(caught.value) == (
        f"HELEKET_PAYOUT_KEY_FILE={missing} cannot be read: No such file or directory"
    )


def test_a_file_that_is_not_text_is_refused_without_its_content(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "binary"
    path.write_bytes(b"\xff\xfehk-secret-bytes")
    monkeypatch.setenv("HELEKET_API_KEY_FILE", str(path))

    with pytest.raises(SettingsProblem) as caught:
        Settings(_env_file=None)

    assert str(caught.value) == f"HELEKET_API_KEY_FILE={path} cannot be read: it is not UTF-8 text"
    assert "hk-secret" not in str(caught.value)


def test_an_empty_file_variable_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN_FILE", "")

    assert Settings(_env_file=None).telegram_token is None


def test_a_file_value_is_checked_like_any_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN_FILE", secret_file(tmp_path, "not a token\n"))

    with pytest.raises(ValueError, match="has the wrong form"):
        Settings(_env_file=None)
