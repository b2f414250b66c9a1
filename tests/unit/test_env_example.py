"""`.env.example` documents every setting, each with a comment."""

import re
from pathlib import Path

import pytest

from shopbot.config import Settings


def test_env_example_lists_every_setting_with_a_comment(repo_root: Path) -> None:
    lines = (repo_root / ".env.example").read_text().splitlines()
    variables = {}
    for index, line in enumerate(lines):
        # `# NAME=value`: listed, left unset on purpose (LOG_FORMAT: ENVIRONMENT decides)
        match = re.match(r"^(?:# )?([A-Z][A-Z0-9_]*)=", line)
        if match:
            variables[match.group(1)] = lines[index - 1].startswith("#")
    expected = {name.upper() for name in Settings.model_fields}
    assert set(variables) == expected
    assert all(variables.values()), [name for name, ok in variables.items() if not ok]


def test_env_example_loads_as_documented(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copied as it is, the template is valid, and its empty values mean what it says."""
    for name in Settings.model_fields:  # only the file speaks
        monkeypatch.delenv(name.upper(), raising=False)
    loaded = Settings(_env_file=repo_root / ".env.example")

    assert loaded.support_chat_id is None  # "empty: the first of ADMIN_IDS"
    assert loaded.admin_ids == []
    assert loaded.redis_url is None
    assert loaded.redis_cluster_nodes == []
    assert loaded.public_base_url is None
    assert loaded.heleket_webhook_url is None
    assert loaded.heleket_return_url is None
    assert loaded.trusted_proxies == []
    assert loaded.database_url == "sqlite+aiosqlite:///./shopbot.db"
