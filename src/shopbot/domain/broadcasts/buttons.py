"""URL buttons an admin types under a broadcast, one per line: `Label - https://url`."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from shopbot.domain.broadcasts.models import UrlButton

MAX_BUTTONS = 10
"""Our limit, to keep the message readable (Telegram allows 100 buttons)."""
MAX_LABEL = 64
"""Our limit on a label's length in characters (Telegram shows about one line)."""
SEPARATOR = " - "


@dataclass(frozen=True, slots=True)
class ButtonLineError(Exception):
    """Line `line` (1-based) is not `Label - https://url`; `reason` is one of
    "format", "label", "url", "too_many"."""

    line: int
    reason: str


def parse_buttons(text: str) -> tuple[UrlButton, ...]:
    """Buttons from the admin's lines (blank lines ignored). The label is before the last
    ` - `, the URL after it, and must be an absolute http(s) URL with a host (what
    Telegram accepts in an inline keyboard's `url` besides tg://). Raises
    ButtonLineError for the first bad line."""
    buttons: list[UrlButton] = []
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    for number, line in lines:
        if not line:
            continue
        if len(buttons) == MAX_BUTTONS:
            raise ButtonLineError(number, "too_many")
        label, separator, url = line.rpartition(SEPARATOR)
        if not separator:
            raise ButtonLineError(number, "format")
        label, url = label.strip(), url.strip()
        if not label or len(label) > MAX_LABEL:
            raise ButtonLineError(number, "label")
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in url:
            raise ButtonLineError(number, "url")
        buttons.append(UrlButton(label, url))
    if not buttons:
        raise ButtonLineError(1, "format")
    return tuple(buttons)
