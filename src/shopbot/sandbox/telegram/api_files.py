"""Bot API methods with files: sendDocument, sendPhoto (multipart upload, `attach://`,
file_id or HTTP URL) and getFile (the download path is served by the app)."""

import re
import struct
from typing import TYPE_CHECKING, Any

from shopbot.sandbox.telegram.api_messages import check_caption, send
from shopbot.sandbox.telegram.formatting import format_text
from shopbot.sandbox.telegram.markup import parse_reply_markup
from shopbot.sandbox.telegram.methods import Params, Upload, method, target_chat
from shopbot.sandbox.telegram.state import BotState, StoredFile, bad_request

if TYPE_CHECKING:
    from shopbot.sandbox.telegram.emulator import Emulator


async def input_file(emu: "Emulator", params: Params, field: str, folder: str) -> StoredFile:
    value = params.file(field)
    if value is None:
        raise bad_request(f"there is no {field} in the request")
    if isinstance(value, Upload):
        if not value.content:
            raise bad_request("file must be non-empty")
        generic = value.content_type in (None, "", "application/octet-stream")
        mime = None if generic else value.content_type
        return emu.store_file(value.content, value.filename, mime, folder)
    value = value.strip()
    if re.match(r"https?://", value, re.IGNORECASE):
        content, mime = await emu.fetch_url(value)
        name = value.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None
        return emu.store_file(content, name, mime, folder)
    stored = emu.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return stored


def caption_of(params: Params) -> tuple[str | None, list[dict[str, Any]]]:
    caption, entities = format_text(
        params.value("caption"), params.value("parse_mode"), params.value("caption_entities")
    )
    check_caption(caption)
    return caption or None, entities


@method("sendDocument")
async def send_document(emu: "Emulator", bot: BotState, params: Params) -> Any:
    stored = await input_file(emu, params, "document", "documents")
    caption, entities = caption_of(params)
    markup = parse_reply_markup(params.value("reply_markup"))
    chat = target_chat(emu, bot, params)
    document: dict[str, Any] = {}
    if stored.file_name:
        document["file_name"] = stored.file_name
    document.update(
        mime_type=stored.mime_type,
        file_id=stored.file_id,
        file_unique_id=stored.file_unique_id,
        file_size=len(stored.content),
    )
    return send(
        emu,
        bot,
        chat,
        params,
        markup,
        document=document,
        caption=caption,
        caption_entities=entities,
    )


def image_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, JPEG or WebP image; None if it is not one."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return width, height
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return width, height
    if content.startswith(b"RIFF") and content[8:12] == b"WEBP":
        return 512, 512
    if content.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(content):
            if content[index] != 0xFF:
                return None
            marker = content[index + 1]
            (length,) = struct.unpack(">H", content[index + 2 : index + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", content[index + 5 : index + 9])
                return width, height
            index += 2 + length
    return None


@method("sendPhoto")
async def send_photo(emu: "Emulator", bot: BotState, params: Params) -> Any:
    stored = await input_file(emu, params, "photo", "photos")
    size = image_size(stored.content)
    if size is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    caption, entities = caption_of(params)
    markup = parse_reply_markup(params.value("reply_markup"))
    chat = target_chat(emu, bot, params)
    photo = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
        "width": size[0],
        "height": size[1],
    }
    return send(
        emu, bot, chat, params, markup, photo=[photo], caption=caption, caption_entities=entities
    )


@method("getFile")
async def get_file(emu: "Emulator", bot: BotState, params: Params) -> Any:
    file_id = params.value("file_id").strip()
    if not file_id:
        raise bad_request("file_id not specified")
    stored = emu.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.content) > emu.config.max_download_size:
        raise bad_request("file is too big")
    return stored.to_api()
