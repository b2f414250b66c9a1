"""Reading operators' catalog files (YAML) with exact prices."""

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from shopbot.domain.errors import InvalidInput


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


def load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None
    try:
        return yaml.load(text, Loader=_ExactLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path} is not valid YAML: {exc}") from None
