"""DATABASE_REPLICA_URLS and DATABASE_REPLICA_MAX_LAG_SECONDS: read, checked, kept secret."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shopbot.config import Settings
from shopbot.config_rules import FORMATS, describe_errors

PRIMARY = "postgresql+asyncpg://shopbot:primary-pw@db:5432/shopbot"  # pragma: allowlist secret
REPLICAS = (
    "postgres://shopbot:replica-pw@db-replica-1/shopbot, "  # pragma: allowlist secret
    "postgresql://shopbot:replica-pw@db-replica-2:5433/shopbot"  # pragma: allowlist secret
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in Settings.model_fields:
        for variable in (name, f"{name}_file"):
            monkeypatch.delenv(variable.upper(), raising=False)
            monkeypatch.delenv(variable.lower(), raising=False)
    monkeypatch.chdir(tmp_path)


def errors(**values: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, **values)
    return describe_errors(caught.value)


def test_no_replicas_by_default() -> None:
    loaded = Settings(_env_file=None)

    assert loaded.database_replica_urls == []
    assert loaded.database_replica_max_lag_seconds == 5


def test_replica_urls_are_a_comma_list_given_the_async_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", PRIMARY)
    monkeypatch.setenv("DATABASE_REPLICA_URLS", REPLICAS)
    monkeypatch.setenv("DATABASE_REPLICA_MAX_LAG_SECONDS", "0.5")

    loaded = Settings(_env_file=None)

    assert loaded.database_replica_urls == [
        # pragma: allowlist nextline secret
        "postgresql+asyncpg://shopbot:replica-pw@db-replica-1/shopbot",
        # pragma: allowlist nextline secret
        "postgresql+asyncpg://shopbot:replica-pw@db-replica-2:5433/shopbot",
    ]
    assert loaded.database_replica_max_lag_seconds == 0.5


def test_an_empty_value_means_no_replicas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_REPLICA_URLS", " ")

    assert Settings(_env_file=None).database_replica_urls == []


def test_replica_urls_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "database_replica_urls"
    secret.write_text(REPLICAS + "\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", PRIMARY)
    monkeypatch.setenv("DATABASE_REPLICA_URLS_FILE", str(secret))

    loaded = Settings(_env_file=None)

    assert len(loaded.database_replica_urls) == 2
    assert loaded.database_replica_urls[1].endswith("@db-replica-2:5433/shopbot")


def test_replica_urls_never_show_in_the_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", PRIMARY)
    monkeypatch.setenv("DATABASE_REPLICA_URLS", REPLICAS)

    assert "replica-pw" not in repr(Settings(_env_file=None))


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("sqlite+aiosqlite:///./replica.db", "URL 1 is not PostgreSQL"),
        (
            f"{PRIMARY},mysql://shopbot:replica-pw@db/shop",  # pragma: allowlist secret
            "URL 2 is a 'mysql' URL",
        ),
        (
            f"{PRIMARY},postgresql+psycopg://u:replica-pw@db/s",  # pragma: allowlist secret
            "URL 2 uses the driver 'psycopg'",
        ),
        (
            "postgresql://shopbot:replica-pw@db-replica-1",  # pragma: allowlist secret
            "URL 1 names no database",
        ),
    ],
)
def test_a_bad_replica_url_is_named_by_position_never_quoted(raw: str, problem: str) -> None:
    [line] = errors(database_url=PRIMARY, database_replica_urls=raw)

    assert line.startswith(f"invalid setting DATABASE_REPLICA_URLS: {problem}")
    assert FORMATS["DATABASE_REPLICA_URLS"] in line
    assert "replica-pw" not in line


def test_replicas_are_refused_with_a_sqlite_primary() -> None:
    [line] = errors(database_replica_urls=PRIMARY)  # DATABASE_URL: the SQLite default

    assert "DATABASE_REPLICA_URLS is set but DATABASE_URL is not PostgreSQL" in line
    assert "primary-pw" not in line


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("3601", "3601 is outside 0..3600"), ("-1", "'-1' is not a number in ASCII digits")],
)
def test_the_lag_bound_is_seconds_within_an_hour(raw: str, problem: str) -> None:
    [line] = errors(database_replica_max_lag_seconds=raw)

    assert line.startswith(f"invalid setting DATABASE_REPLICA_MAX_LAG_SECONDS: {problem}")
    assert FORMATS["DATABASE_REPLICA_MAX_LAG_SECONDS"] in line
