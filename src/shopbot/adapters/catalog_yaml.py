"""Reading operators' files: any text file, and catalog files (YAML) with exact prices."""

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from shopbot.domain.errors import InvalidInput
from shopbot.domain.operator_files import MAX_OPERATOR_FILE, decode_operator_file


class _ExactLoader(yaml.SafeLoader):
    """A SafeLoader that reads `9.99` as Decimal("9.99"), never as a binary float."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    try:
        number = Decimal(text)
    except InvalidOperation:  # .inf, .nan, sexagesimal 1:30.5
        number = Decimal("NaN")
    if not number.is_finite():
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a finite decimal number", node.start_mark
        )
    return number


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def read_operator_file(path: Path) -> str:
    """The text of the operator's file at `path`, read by `decode_operator_file` (BOM,
    UTF-16, line ends, control characters, 10 MB). Raises InvalidInput."""
    try:
        if path.stat().st_size > MAX_OPERATOR_FILE:  # before reading it into memory
            raise InvalidInput(f"{path} is larger than {MAX_OPERATOR_FILE // (1024 * 1024)} MB")
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None
    return decode_operator_file(raw, str(path))


def load_yaml(path: Path) -> Any:
    """The YAML document in the operator's file at `path`; raises InvalidInput."""
    text = read_operator_file(path)
    try:
        return yaml.load(text, Loader=_ExactLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path} is not valid YAML: {exc}") from None
