"""Reading operators' files: any text file, and catalog files (YAML) read as the text typed."""

import re
from pathlib import Path
from typing import Any

import yaml

from shopbot.domain.errors import InvalidInput
from shopbot.domain.operator_files import MAX_OPERATOR_FILE, decode_operator_file


class _TextLoader(yaml.SafeLoader):
    """A SafeLoader that keeps every scalar as the text typed; only null is typed.

    PyYAML follows YAML 1.1, where plain scalars become numbers, booleans and dates by
    their look: `015` is octal 13, `0x10` is 16, `1:30` is sexagesimal 90, `1_000` is
    1000, `yes`/`on` are true, `2024-01-01` is a date — so a price, a SKU like `007` or a
    title like `true` would silently change. Here they stay strings; the catalog spec
    reads prices through `parse_typed_amount` and `active` as true/false. Null (`~`,
    `null`, an empty value) is None, and `<<` merge keys still merge.
    """


# Only null and merge are resolved implicitly (PyYAML's own patterns for them).
_TextLoader.yaml_implicit_resolvers = {}
_TextLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_TextLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _typed_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    """An explicitly tagged scalar (`!!int 015`, `!!float 9.99`, `!!bool yes`,
    `!!timestamp ...`) as the text typed: the tag does not bypass the spec's checks."""
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


for _tag in ("int", "float", "bool", "timestamp"):
    _TextLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _typed_text)


def read_operator_file(path: Path) -> str:
    """The text of the operator's file at `path`, read by `decode_operator_file` (BOM,
    UTF-16, line ends, control characters, 10 MB). Raises InvalidInput."""
    try:
        with path.open("rb") as file:
            # One byte past the limit, never more: a device or a pipe (/dev/zero, <(...))
            # reports size 0 and may never end, so its size is what was read.
            raw = file.read(MAX_OPERATOR_FILE + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None
    return decode_operator_file(raw, str(path))


def load_yaml(path: Path) -> Any:
    """The YAML document in the operator's file at `path`: mappings, lists, None for
    null, and every other scalar as a str of the text typed (see `_TextLoader`).
    Raises InvalidInput."""
    text = read_operator_file(path)
    try:
        return yaml.load(text, Loader=_TextLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path} is not valid YAML: {exc}") from None
