"""Every setting is read by the code it describes: a field parsed but read nowhere is a
promise the shop does not keep (issue 10). Reads are found in the source, not at run time:
an attribute `.field`, a string "field" (require_secrets(settings, "telegram_token"),
getattr lists), or a property of Settings that reads it and is itself read elsewhere."""

import ast
from pathlib import Path

from shopbot.config import Settings

SOURCE = Path(__file__).resolve().parents[2] / "src" / "shopbot"
CONFIG = SOURCE / "config.py"


def names_read(tree: ast.AST) -> set[str]:
    """Attribute names read and string constants in `tree`."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
    return found


def reads_outside_config() -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        if path != CONFIG:
            found |= names_read(ast.parse(path.read_text(encoding="utf-8")))
    return found


def self_attribute(node: ast.AST) -> str | None:
    """`x` for a `self.x` node, else None."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    ):
        return node.attr
    return None


def fields_behind_properties(used: set[str]) -> set[str]:
    """Fields that Settings' properties read (`self.x`), for the properties read in `used`."""
    tree = ast.parse(CONFIG.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.FunctionDef) and node.name in used):
            continue
        if any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list):
            found |= {name for n in ast.walk(node) if (name := self_attribute(n))}
    return found


def test_every_setting_is_read_somewhere() -> None:
    used = reads_outside_config()
    used |= fields_behind_properties(used)

    unread = sorted(name.upper() for name in Settings.model_fields if name not in used)

    assert unread == [], f"settings read nowhere in src/shopbot: {unread}; use them or remove them"


def test_the_scan_finds_an_unread_field() -> None:
    """The scan itself works: a name no code mentions is reported as unread."""
    assert "surely_not_a_setting_anywhere" not in reads_outside_config()
    assert "bot_mode" in reads_outside_config()
