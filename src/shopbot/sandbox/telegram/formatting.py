"""Telegram's text formatting: the HTML parse mode (tdlib's rules and error messages),
explicit `entities`, entity auto-detection and UTF-16 offsets.

Only parse_mode HTML is parsed; Markdown and MarkdownV2 are accepted and stored verbatim
(no entities). A lone `&` that starts no entity is literal text, as in tdlib; `<` always
starts a tag.
"""

import json
import re
from typing import Any

from shopbot.sandbox.telegram.state import bad_request, words

TAGS = words("a b strong i em s strike del u ins tg-spoiler tg-emoji span pre code blockquote")
KIND = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
EXPLICIT_TYPES = words(
    "bold italic underline strikethrough spoiler code pre text_link text_mention custom_emoji "
    "blockquote expandable_blockquote"
)
AUTO_TYPES = words("mention hashtag cashtag bot_command url email phone_number bank_card_number")
STYLE_TYPES = {"bold", "italic", "underline", "strikethrough", "spoiler", "blockquote"}
DETECT = [
    (
        "bot_command",
        re.compile(r"(?<![\w/<>@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])"),
    ),
    ("url", re.compile(r"(?<![\w@/])(?:https?|tg|ton)://[^\s<>\"]+", re.IGNORECASE)),
    ("mention", re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{4,32}\b")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
]
SPACE = " \t\n\r\f\v"


class ParseError(Exception):
    pass


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, start: int) -> tuple[str, int] | None:
    """The character of an HTML entity at `text[start] == "&"` and the index after it."""
    end = text.find(";", start + 1, start + 12)
    if end < 0:
        return None
    name = text[start + 1 : end]
    if name in NAMED:
        return NAMED[name], end + 1
    code: int | None = None
    if re.fullmatch(r"#[0-9]{1,7}", name):
        code = int(name[1:])
    elif re.fullmatch(r"#[xX][0-9a-fA-F]{1,6}", name):
        code = int(name[2:], 16)
    if code is None or code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), end + 1


def _valid_link(url: str) -> bool:
    url = url.strip()
    if not url or any(c.isspace() for c in url):
        return False
    if re.match(r"^(https?|tg|ton|mailto)://?\S", url, re.IGNORECASE):
        return True
    return bool(re.match(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?(/\S*)?$", url))


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """(plain text, entities); raises ParseError with tdlib's message."""
    out: list[str] = []
    offset = 0  # UTF-16 offset of the end of `out`
    stack: list[tuple[str, str, int]] = []  # (tag, argument, utf16 start)
    entities: list[dict[str, Any]] = []
    i, n = 0, len(text)

    def add(chars: str) -> None:
        nonlocal offset
        out.append(chars)
        offset += utf16_len(chars)

    while i < n:
        c = text[i]
        if c == "&" and (decoded := _decode_entity(text, i)) is not None:
            add(decoded[0])
            i = decoded[1]
            continue
        if c != "<":
            add(c)
            i += 1
            continue
        begin = i
        at = _byte_offset(text, begin)
        i += 1
        if i >= n or text[i] != "/":
            tag_end = i
            while tag_end < n and text[tag_end] not in SPACE and text[tag_end] != ">":
                tag_end += 1
            tag = text[i:tag_end].lower()
            if tag not in TAGS:
                raise ParseError(f'Unsupported start tag "{tag}" at byte offset {at}')
            i = tag_end
            argument = ""
            while True:
                while i < n and text[i] in SPACE:
                    i += 1
                if i >= n:
                    raise ParseError(f"Unclosed start tag at byte offset {at}")
                if text[i] == ">":
                    i += 1
                    break
                name_start = i
                while i < n and text[i] not in SPACE and text[i] not in "=>":
                    i += 1
                name = text[name_start:i].lower()
                if not name:
                    raise ParseError(f'Empty attribute name in the tag "{tag}" at byte offset {at}')
                while i < n and text[i] in SPACE:
                    i += 1
                if i >= n or text[i] != "=":
                    if tag == "blockquote" and name == "expandable":
                        argument = "expandable"
                        continue
                    raise ParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {at}'
                    )
                i += 1
                while i < n and text[i] in SPACE:
                    i += 1
                if i >= n:
                    raise ParseError(f"Unclosed start tag at byte offset {at}")
                value_chars: list[str] = []
                if text[i] in "'\"":
                    quote = text[i]
                    i += 1
                    while i < n and text[i] != quote:
                        if text[i] == "&" and (decoded := _decode_entity(text, i)) is not None:
                            value_chars.append(decoded[0])
                            i = decoded[1]
                        else:
                            value_chars.append(text[i])
                            i += 1
                    if i < n:
                        i += 1
                else:
                    while i < n and (text[i].isalnum() or text[i] in ".-"):
                        value_chars.append(text[i])
                        i += 1
                    if not value_chars:
                        raise ParseError(
                            "Expected quote in declaration of an attribute of the tag "
                            f'"{tag}" at byte offset {at}'
                        )
                if i >= n:
                    raise ParseError(f"Unclosed start tag at byte offset {at}")
                value = "".join(value_chars)
                if (
                    (tag == "a" and name == "href")
                    or (tag == "tg-emoji" and name == "emoji-id")
                    or (tag == "code" and name == "class" and value.startswith("language-"))
                ):
                    argument = value
                elif tag == "span" and name == "class" and value.startswith("tg-"):
                    argument = value[3:]
            if tag == "span" and argument != "spoiler":
                raise ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
            stack.append((tag, argument, offset))
            continue
        if not stack:
            raise ParseError(f"Unexpected end tag at byte offset {at}")
        i += 1
        end_start = i
        while i < n and text[i] != ">":
            i += 1
        if i >= n:
            raise ParseError(f"Unclosed end tag at byte offset {at}")
        end_tag = text[end_start:i].lower()
        i += 1
        tag, argument, start = stack.pop()
        if end_tag and end_tag != tag:
            raise ParseError(
                f'Unmatched end tag at byte offset {at}, expected "</{tag}>", found "</{end_tag}>"'
            )
        if offset > start:
            _close(tag, argument, start, offset - start, "".join(out), entities)
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return "".join(out), entities


def _close(
    tag: str, argument: str, start: int, length: int, plain: str, entities: list[dict[str, Any]]
) -> None:
    entity: dict[str, Any] = {"offset": start, "length": length, "type": KIND.get(tag, tag)}
    if tag == "a":
        url = argument or _slice16(plain, start, length)
        if match := re.fullmatch(r"tg://user\?id=(\d+)", url.strip()):
            entity.update(type="text_mention", user={"id": int(match[1])})
        elif _valid_link(url):
            entity.update(type="text_link", url=url.strip())
        else:
            return
    elif tag == "tg-emoji":
        if not argument.isdigit():
            return
        entity["custom_emoji_id"] = argument
    elif tag == "blockquote" and argument == "expandable":
        entity["type"] = "expandable_blockquote"
    elif tag == "code" and argument:
        entity["language"] = argument[len("language-") :]
    elif tag == "pre":
        code = next(
            (
                e
                for e in entities
                if e["type"] == "code" and e["offset"] == start and e["length"] == length
            ),
            None,
        )
        if code is not None and "language" in code:
            entities.remove(code)
            entity["language"] = code["language"]
    entities.append(entity)


def _slice16(text: str, offset: int, length: int) -> str:
    raw = text.encode("utf-16-le")
    return raw[offset * 2 : (offset + length) * 2].decode("utf-16-le", "replace")


def explicit_entities(raw: str, length16: int) -> list[dict[str, Any]]:
    """The `entities` parameter (JSON), as Telegram keeps it; auto types are dropped."""
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []  # the Bot API ignores undecodable entities
    if not isinstance(value, list):
        return []
    result = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("can't parse MessageEntity: expected an Object")
        kind = item.get("type")
        if kind in AUTO_TYPES:
            continue
        if kind not in EXPLICIT_TYPES:
            raise bad_request("can't parse MessageEntity: Unsupported type specified")
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise bad_request('can\'t parse MessageEntity: Field "offset" must be a Number')
        if offset < 0 or length <= 0 or offset + length > length16:
            continue
        result.append({k: v for k, v in item.items() if v is not None})
    return result


def strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading/trailing whitespace; entities are shifted and clipped."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def detect(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds the entities Telegram finds by itself (commands, URLs, mentions, hashtags)."""
    prefix = [0]
    for char in text:
        prefix.append(prefix[-1] + (2 if ord(char) > 0xFFFF else 1))
    taken = [
        (e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] not in STYLE_TYPES
    ]
    found = list(entities)
    for kind, pattern in DETECT:
        for match in pattern.finditer(text):
            start, end = prefix[match.start()], prefix[match.end()]
            if any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            found.append({"offset": start, "length": end - start, "type": kind})
    return sorted(found, key=lambda e: (e["offset"], -e["length"]))


def format_text(
    text: str, parse_mode: str, raw_entities: str, *, caption: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """The Bot API's get_formatted_text + Telegram's cleanup; raises ApiError 400."""
    if len(text) > 1 << 15:
        raise bad_request("text is too long")
    mode = parse_mode.lower()
    if text and mode and mode != "none":
        if mode not in ("html", "markdown", "markdownv2"):
            raise bad_request("unsupported parse_mode")
        entities: list[dict[str, Any]] = []
        if mode == "html":
            try:
                text, entities = parse_html(text)
            except ParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from exc
    else:
        entities = explicit_entities(raw_entities, utf16_len(text))
    text, entities = strip(text, entities)
    return text, detect(text, entities)
