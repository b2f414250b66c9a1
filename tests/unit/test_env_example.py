"""`.env.example` documents every setting, each with a comment."""

import re
from pathlib import Path

from shopbot.config import Settings


def test_env_example_lists_every_setting_with_a_comment(repo_root: Path) -> None:
    lines = (repo_root / ".env.example").read_text().splitlines()
    variables = {}
    for index, line in enumerate(lines):
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
        if match:
            variables[match.group(1)] = lines[index - 1].startswith("#")
    expected = {name.upper() for name in Settings.model_fields}
    assert set(variables) == expected
    assert all(variables.values()), [name for name, ok in variables.items() if not ok]
