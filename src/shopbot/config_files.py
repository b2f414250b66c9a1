"""Secrets from files: `NAME_FILE=/run/secrets/name` gives NAME (Docker and Kubernetes
secrets), for the settings that hold secrets (`FILE_SETTINGS` in config.py).

The file's content is the value, one trailing newline stripped. NAME_FILE may come from
the environment or `.env`. Setting NAME as well is refused (unless NAME holds a placeholder
such as `changeme`, as a `.env` copied from `.env.example` does: the file wins then), as is
a file that cannot be read; the message names the variable and the path, never the content.
"""

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource


class SecretFilesSource(PydanticBaseSettingsSource):
    """Settings source: reads `<field>_FILE` for each of `fields` from the variables of
    `sources` (the environment and .env sources, already loaded by pydantic-settings).
    Raises `problem(message)` for NAME (unless `placeholder(NAME)`) together with
    NAME_FILE, or an unreadable file."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        fields: Iterable[str],
        sources: Iterable[PydanticBaseSettingsSource],
        problem: type[Exception],
        placeholder: Callable[[str], bool] = lambda _: False,
    ) -> None:
        super().__init__(settings_cls)
        self._fields = tuple(fields)
        self._variables = [variables_of(source) for source in sources]
        self._problem = problem
        self._placeholder = placeholder

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads everything at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field in self._fields:
            path = self._first(f"{field}_file")
            if path is None:
                continue
            name = field.upper()
            plain = self._first(field)
            if plain is not None and not self._placeholder(plain):
                raise self._problem(f"{name} and {name}_FILE are both set; set only one of them")
            values[field] = self._read(name, path)
        return values

    def _first(self, variable: str) -> str | None:
        for variables in self._variables:
            value = variables.get(variable)
            if value is not None and value.strip():
                return value
        return None

    def _read(self, name: str, path: str) -> str:
        try:
            text = Path(path.strip()).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
            raise self._problem(f"{name}_FILE={path.strip()} cannot be read: {reason}") from None
        return text.removesuffix("\n").removesuffix("\r")


def variables_of(source: PydanticBaseSettingsSource) -> Mapping[str, str | None]:
    """The raw variables an environment or .env source loaded (lower-case names)."""
    variables = getattr(source, "env_vars", None)
    if variables is None:
        return {}
    return {key.lower(): value for key, value in variables.items()}
