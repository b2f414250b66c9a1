"""Translations: a folder per language, one YAML file per feature (merged; a key may be
defined once); handlers never hold user-facing text.

Parameters are HTML-escaped when substituted (messages use parse mode HTML), so user
input can never inject markup; templates themselves may contain Telegram's HTML tags.
"""

import html
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"


class Raw(str):
    """A parameter that is already safe HTML (e.g. built from other texts)."""

    __slots__ = ()


@cache
def _catalog(language: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((Path(__file__).parent / language).glob("*.yaml")):
        part: dict[str, str] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        clash = set(part) & set(merged)
        if clash:
            raise ValueError(f"{path.name} redefines {sorted(clash)}")
        merged.update(part)
    return merged


def pick_language(code: str | None) -> str:
    """Russian for ru/uk/be users, English otherwise."""
    base = (code or "").split("-")[0].lower()
    if base in ("ru", "uk", "be"):
        return "ru"
    return DEFAULT_LANGUAGE


class Texts:
    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, key: str, **params: Any) -> str:
        template = _catalog(self.language).get(key) or _catalog(DEFAULT_LANGUAGE)[key]
        safe = {
            name: value if isinstance(value, Raw) else html.escape(str(value), quote=False)
            for name, value in params.items()
        }
        return template.format(**safe)

    def has(self, key: str) -> bool:
        return key in _catalog(self.language)
