"""`reply_markup` as the Bot API reads it: inline keyboards (with the 1-64 byte
callback_data rule), reply keyboards, keyboard removal and force_reply."""

import json
import re
from typing import Any

from shopbot.sandbox.telegram.state import ApiError, bad_request

INLINE_KINDS = (
    "callback_game",
    "pay",
    "switch_inline_query",
    "switch_inline_query_chosen_chat",
    "switch_inline_query_current_chat",
    "login_url",
    "web_app",
    "copy_text",
)
URL = re.compile(
    r"^(?:(?:https?|tg|ton)://\S+|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?(?:/\S*)?)$"
)


def _button_error(text: str) -> ApiError:
    return bad_request(f"can't parse inline keyboard button: {text}")


def _string(button: dict[str, Any], name: str, required: bool = False) -> str:
    value = button.get(name)
    if value is None:
        if required:
            raise _button_error(f'Can\'t find field "{name}"')
        return ""
    if not isinstance(value, str):
        raise _button_error(f'Field "{name}" must be of type String')
    return value


def inline_button(button: Any) -> dict[str, Any]:
    """The button as Telegram echoes it back (only the field that defines it)."""
    if not isinstance(button, dict):
        raise _button_error("InlineKeyboardButton must be an Object")
    text = _string(button, "text", required=True)
    base: dict[str, Any] = {"text": text}
    if url := _string(button, "url"):
        if not URL.match(url):
            raise bad_request("BUTTON_URL_INVALID")
        return {**base, "url": url}
    if data := _string(button, "callback_data"):
        if len(data.encode("utf-8")) > 64:
            raise bad_request("BUTTON_DATA_INVALID")
        return {**base, "callback_data": data}
    for kind in INLINE_KINDS:
        if kind in button:
            return {**base, kind: button[kind]}
    raise _button_error("Text buttons are unallowed in the inline keyboard")


def keyboard_button(button: Any) -> dict[str, Any]:
    if isinstance(button, str):
        return {"text": button}
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse keyboard button: KeyboardButton must be a String or an Object"
        )
    if not isinstance(button.get("text"), str):
        raise bad_request("can't parse keyboard button: Can't find field \"text\"")
    return {k: v for k, v in button.items() if v is not None}


def parse_reply_markup(raw: str) -> dict[str, Any] | None:
    """None when absent or empty; raises ApiError 400 like the Bot API."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise bad_request("can't parse reply keyboard markup JSON object") from exc
    if not isinstance(value, dict):
        raise bad_request("object expected as reply markup")
    keyboard = value.get("keyboard")
    rows: list[list[dict[str, Any]]] = []
    if keyboard is not None:
        if not isinstance(keyboard, list) or not all(isinstance(r, list) for r in keyboard):
            raise bad_request('Field "keyboard" must be an Array of Arrays')
        rows = [[keyboard_button(b) for b in row] for row in keyboard]
    inline = value.get("inline_keyboard")
    inline_rows: list[list[dict[str, Any]]] = []
    if inline is not None:
        if not isinstance(inline, list) or not all(isinstance(r, list) for r in inline):
            raise bad_request(
                'Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        inline_rows = [[inline_button(b) for b in row] for row in inline]
    if rows:
        options = ("is_persistent", "resize_keyboard", "one_time_keyboard", "selective")
        extra = {k: value[k] for k in (*options, "input_field_placeholder") if value.get(k)}
        return {"keyboard": rows, **extra}
    if inline_rows:
        return {"inline_keyboard": inline_rows}
    if value.get("remove_keyboard") or value.get("hide_keyboard"):
        return {"remove_keyboard": True}
    if value.get("force_reply"):
        return {"force_reply": True}
    return None


def inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """Edits and invoices take only inline keyboards."""
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def find_button(markup: dict[str, Any] | None, callback_data: str) -> dict[str, Any] | None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            if button.get("callback_data") == callback_data:
                return dict(button)
    return None
