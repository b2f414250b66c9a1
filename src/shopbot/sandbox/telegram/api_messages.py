"""Bot API methods on messages and chats: getMe, sendMessage, copyMessage, edits,
deleteMessage, answerCallbackQuery, sendChatAction, getChat and the bot command list."""

import json
import re
import time
from typing import TYPE_CHECKING, Any

from shopbot.sandbox.telegram.formatting import format_text, utf16_len
from shopbot.sandbox.telegram.markup import inline_only, parse_reply_markup
from shopbot.sandbox.telegram.methods import Params, method, target_chat
from shopbot.sandbox.telegram.state import BotState, Chat, Message, bad_request

if TYPE_CHECKING:
    from shopbot.sandbox.telegram.emulator import Emulator

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
ACTIONS = {
    "cancel",
    "typing",
    "record_video",
    "upload_video",
    "record_audio",
    "record_voice",
    "upload_audio",
    "upload_voice",
    "upload_photo",
    "upload_document",
    "choose_sticker",
    "pick_up_location",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
SCOPES = {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
CAPTIONED_MEDIA = ("document", "photo")
"""Copyable content besides text; a message with none of it (an invoice, a payment) is a
service message to Telegram and cannot be copied."""


def reply_target(chat: Chat, params: Params) -> int | None:
    """reply_parameters (JSON) or the legacy reply_to_message_id."""
    allow = params.flag("allow_sending_without_reply")
    message_id = params.integer("reply_to_message_id")
    if params.has("reply_parameters"):
        value = params.json("reply_parameters", "can't parse reply parameters JSON object")
        if value is not None and not isinstance(value, dict):
            raise bad_request("object expected as reply parameters")
        value = value or {}
        message_id = value.get("message_id") or 0
        allow = bool(value.get("allow_sending_without_reply"))
    if not isinstance(message_id, int) or message_id <= 0:
        return None
    if chat.find(message_id) is None:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return message_id


def send(
    emu: "Emulator",
    bot: BotState,
    chat: Chat,
    params: Params,
    markup: dict[str, Any] | None,
    **fields: Any,
) -> dict[str, Any]:
    """Flood check, then the bot's new message; returns its API JSON."""
    reply_to = reply_target(chat, params)
    emu.check_flood(bot, chat)
    inline = markup if markup and "inline_keyboard" in markup else None
    keyboard = None if inline else markup
    if keyboard and "keyboard" in keyboard:
        chat.reply_keyboard = keyboard
    elif keyboard and "remove_keyboard" in keyboard:
        chat.reply_keyboard = None
    message = emu.add_message(
        bot,
        chat,
        "bot",
        reply_markup=inline,
        keyboard=keyboard,
        reply_to_message_id=reply_to,
        **fields,
    )
    return emu.message_json(bot, message)


def text_of(params: Params) -> tuple[str, list[dict[str, Any]]]:
    text = params.value("text")
    if not text:
        raise bad_request("message text is empty")
    return format_text(text, params.value("parse_mode"), params.value("entities"))


MAX_TEXT = 4096
MAX_CAPTION = 1024
"""Telegram's limits, counted as Telegram does: on the text after entity parsing (what
the user sees, not the HTML source), in UTF-16 code units (an emoji outside the BMP
counts 2)."""


def check_text(text: str) -> None:
    """`text` is the parsed text (after format_text)."""
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")


def check_caption(caption: str | None) -> None:
    """`caption` is the parsed caption (after format_text)."""
    if caption is not None and utf16_len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")


@method("getMe")
async def get_me(emu: "Emulator", bot: BotState, params: Params) -> Any:
    return bot.to_api() | {
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("sendMessage")
async def send_message(emu: "Emulator", bot: BotState, params: Params) -> Any:
    text, entities = text_of(params)
    markup = parse_reply_markup(params.value("reply_markup"))
    chat = target_chat(emu, bot, params)
    check_text(text)
    return send(
        emu,
        bot,
        chat,
        params,
        markup,
        text=text,
        entities=entities,
        source=params.value("text"),
        parse_mode=params.value("parse_mode") or None,
    )


def copied_content(message: Message, params: Params) -> dict[str, Any]:
    """The fields of a copy: the original's content, with the caption of captioned media
    replaced when `caption` is passed (even empty: that removes it, as Telegram does); texts
    and locations have no caption to replace, so a `caption` for them is ignored."""
    if message.text is not None:
        return {"text": message.text, "entities": list(message.entities)}
    if message.location is not None:
        return {"location": dict(message.location)}
    media = {key: getattr(message, key) for key in CAPTIONED_MEDIA if getattr(message, key)}
    if not media:
        raise bad_request("message can't be copied")
    caption, entities = message.caption, list(message.caption_entities)
    if params.has("caption"):
        caption, entities = format_text(
            params.value("caption"), params.value("parse_mode"), params.value("caption_entities")
        )
        check_caption(caption)
    return media | {"caption": caption or None, "caption_entities": entities}


@method("copyMessage")
async def copy_message(emu: "Emulator", bot: BotState, params: Params) -> Any:
    markup = parse_reply_markup(params.value("reply_markup"))
    chat = target_chat(emu, bot, params)
    # target_chat only reads chat_id; the source chat needs the same lookup, not a send check
    source_params = Params({"chat_id": params.required("from_chat_id")})
    source = target_chat(emu, bot, source_params, sending=False)
    original = source.find(params.integer("message_id"))
    if original is None:
        raise bad_request("message to copy not found")
    fields = copied_content(original, params)
    sent = send(emu, bot, chat, params, markup, **fields)
    return {"message_id": sent["message_id"]}


def to_edit(emu: "Emulator", bot: BotState, params: Params) -> Message:
    if not params.value("chat_id") and not params.value("message_id"):
        if params.value("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # the emulator has no inline messages
        raise bad_request("message identifier is not specified")
    chat = target_chat(emu, bot, params, sending=False)
    message = chat.find(params.integer("message_id"))
    if message is None:
        raise bad_request("message to edit not found")
    if message.sender != "bot":
        raise bad_request("message can't be edited")
    return message


def remember(message: Message, how: str) -> None:
    keys = ("text", "entities", "source", "caption", "caption_entities", "reply_markup")
    version = {key: getattr(message, key) for key in keys}
    message.edits.append({**version, "edit_date": message.edit_date, "replaced_by": how})


@method("editMessageText")
async def edit_message_text(emu: "Emulator", bot: BotState, params: Params) -> Any:
    text, entities = text_of(params)
    markup = inline_only(parse_reply_markup(params.value("reply_markup")))
    message = to_edit(emu, bot, params)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    check_text(text)
    if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    remember(message, "editMessageText")
    message.text, message.entities, message.reply_markup = text, entities, markup
    message.source, message.parse_mode = params.value("text"), params.value("parse_mode") or None
    message.edit_date = int(time.time())
    emu.changed.fire()
    return emu.message_json(bot, message)


@method("editMessageCaption")
async def edit_message_caption(emu: "Emulator", bot: BotState, params: Params) -> Any:
    caption, entities = format_text(
        params.value("caption"), params.value("parse_mode"), params.value("caption_entities")
    )
    markup = inline_only(parse_reply_markup(params.value("reply_markup")))
    message = to_edit(emu, bot, params)
    if message.document is None and message.photo is None:
        raise bad_request("there is no caption in the message to edit")
    check_caption(caption)
    new = (caption or None, entities, markup)
    if new == (message.caption, message.caption_entities, message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    remember(message, "editMessageCaption")
    message.caption, message.caption_entities, message.reply_markup = new
    message.edit_date = int(time.time())
    emu.changed.fire()
    return emu.message_json(bot, message)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(emu: "Emulator", bot: BotState, params: Params) -> Any:
    markup = inline_only(parse_reply_markup(params.value("reply_markup")))
    message = to_edit(emu, bot, params)
    if markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    remember(message, "editMessageReplyMarkup")
    message.reply_markup = markup
    emu.changed.fire()
    return emu.message_json(bot, message)


@method("deleteMessage")
async def delete_message(emu: "Emulator", bot: BotState, params: Params) -> Any:
    if not params.value("chat_id"):
        raise bad_request("chat identifier is not specified")
    if params.integer("message_id") <= 0:
        raise bad_request("message identifier is not specified")
    chat = target_chat(emu, bot, params, sending=False)
    message = chat.find(params.integer("message_id"))
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    emu.changed.fire()
    return True


@method("answerCallbackQuery")
async def answer_callback_query(emu: "Emulator", bot: BotState, params: Params) -> Any:
    query = bot.callback_queries.get(params.value("callback_query_id").strip())
    if query is None or query.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    query.answered, query.answered_at = True, time.time()
    query.text = params.value("text") or None
    query.show_alert = params.flag("show_alert")
    query.url = params.value("url") or None
    emu.changed.fire()
    return True


@method("sendChatAction")
async def send_chat_action(emu: "Emulator", bot: BotState, params: Params) -> Any:
    action = params.value("action").lower()
    if action not in ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat = target_chat(emu, bot, params)
    chat.actions.append((time.time(), action))
    emu.changed.fire()
    return True


@method("getChat")
async def get_chat(emu: "Emulator", bot: BotState, params: Params) -> Any:
    chat = target_chat(emu, bot, params, sending=False)
    gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
    return emu.chat_json(chat.id) | {
        "accent_color_id": chat.id % 7,
        "max_reaction_count": 11,
        "accepted_gift_types": {name: True for name in gifts} | {"gifts_from_channels": True},
    }


def command_key(params: Params) -> tuple[str, str]:
    scope = params.json("scope", "can't parse BotCommandScope JSON object") or {"type": "default"}
    if not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope: BotCommandScope must be an Object")
    kind = scope.get("type")
    if kind not in SCOPES and kind not in ("chat", "chat_administrators", "chat_member"):
        raise bad_request("can't parse BotCommandScope: Unsupported type specified")
    return json.dumps(scope, sort_keys=True), params.value("language_code")


@method("setMyCommands")
async def set_my_commands(emu: "Emulator", bot: BotState, params: Params) -> Any:
    commands = params.json("commands", "can't parse commands JSON object") or []
    if not isinstance(commands, list):
        raise bad_request("expected an Array of BotCommand")
    kept = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: expected an Object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not isinstance(description, str):
            raise bad_request('can\'t parse BotCommand: Field "command" must be of type String')
        name = command.removeprefix("/")
        if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        kept.append({"command": name, "description": description})
    if len(kept) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    key = command_key(params)
    if kept:
        bot.commands[key] = kept
    else:
        bot.commands.pop(key, None)
    return True


@method("getMyCommands")
async def get_my_commands(emu: "Emulator", bot: BotState, params: Params) -> Any:
    return bot.commands.get(command_key(params), [])


@method("deleteMyCommands")
async def delete_my_commands(emu: "Emulator", bot: BotState, params: Params) -> Any:
    bot.commands.pop(command_key(params), None)
    return True
