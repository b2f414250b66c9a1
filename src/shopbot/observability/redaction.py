"""Secrets out of log output: every configured secret value becomes `***`.

Applied twice on purpose: to the event's values before rendering (so a JSON renderer
never escapes a secret into a form the text pass would miss) and to the rendered line,
which includes formatted tracebacks (aiohttp errors carry the bot token in
`/bot<token>/getMe` URLs).
"""

import json
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any
from urllib.parse import quote

from structlog.typing import EventDict, WrappedLogger

MASK = "***"
MIN_SECRET_LENGTH = 4
"""Shorter values are not masked: masking "ab" everywhere would garble every line."""


def variants(secret: str) -> set[str]:
    """The forms a secret takes in output: as is, URL-quoted (a token's `:` in a URL,
    a password in DATABASE_URL) and JSON-escaped."""
    forms = {secret, quote(secret, safe=""), quote(secret), json.dumps(secret)[1:-1]}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Redactor:
    """Replaces each secret (and its variants) with `***`; longest first, so a secret
    that contains another is masked whole."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._forms: list[str] = []
        self.update(secrets)

    def update(self, secrets: Iterable[str]) -> None:
        forms = set(self._forms)
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                forms |= variants(secret)
        self._forms = sorted(forms, key=len, reverse=True)

    def text(self, value: str) -> str:
        for form in self._forms:
            if form in value:
                value = value.replace(form, MASK)
        return value

    def value(self, value: Any) -> Any:
        """Strings masked, mappings and sequences walked; other values become their
        masked `str()` only when that holds a secret (an exception's message)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        if isinstance(value, int | float | bool) or value is None:
            return value
        if isinstance(value, BaseException):
            return value  # formatted (and masked) with its traceback by the renderer
        shown = str(value)
        masked = self.text(shown)
        return value if masked == shown else masked

    def __call__(self, _: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        """structlog processor: masks the event's values (keys are code, not data)."""
        for key, item in list(event_dict.items()):
            if key not in ("exc_info", "_record", "_from_structlog"):
                event_dict[key] = self.value(item)
        return event_dict


class RedactedRenderer:
    """Wraps the last processor (a renderer returning a string): masks the whole line,
    traceback included."""

    def __init__(self, renderer: Any, redactor: Redactor) -> None:
        self._renderer = renderer
        self._redactor = redactor

    def __call__(
        self, logger: WrappedLogger, name: str, event_dict: MutableMapping[str, Any]
    ) -> str:
        rendered = self._renderer(logger, name, event_dict)
        text = rendered if isinstance(rendered, str) else str(rendered)
        return self._redactor.text(text)
