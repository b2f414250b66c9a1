"""Albums (media groups): a user sends 2-10 photos or 2-10 documents at once. Telegram
delivers them as separate messages, each in its own update, sharing one
`media_group_id`; the album's caption rides on the first message
(https://core.telegram.org/bots/api#message, `media_group_id`; sendMediaGroup takes
"2-10 items", and documents group only with documents)."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shopbot.sandbox.telegram.api_files import image_size
from shopbot.sandbox.telegram.formatting import detect, strip
from shopbot.sandbox.telegram.state import Message, SandboxError, UnknownReference
from shopbot.sandbox.telegram.users import UserActions

ALBUM_SIZE = range(2, 11)
"""2 to 10 items, like sendMediaGroup."""


@dataclass(frozen=True)
class AlbumItem:
    kind: str
    """"photo" or "document"."""
    filename: str
    content: bytes
    mime_type: str | None = None


class AlbumActions(UserActions):
    def send_album(
        self,
        user_id: int,
        items: Sequence[AlbumItem],
        *,
        caption: str | None = None,
        reply_to: int | None = None,
        bot: str | int | None = None,
    ) -> list[Message]:
        """The user sends `items` as one album: one message (and one update) per item,
        in order, all with the same new `media_group_id`; `caption` goes on the first,
        `reply_to` on every one (as Telegram does for an album sent as a reply).
        Raises SandboxError for fewer than 2 or more than 10 items, documents mixed
        with photos, an empty file or a "photo" that is not an image."""
        if len(items) not in ALBUM_SIZE:
            raise SandboxError("an album has 2 to 10 items")
        kinds = {item.kind for item in items}
        if not kinds <= {"photo", "document"}:
            raise SandboxError('album items are "photo" or "document"')
        if len(kinds) > 1:
            raise SandboxError("documents can only be grouped with documents")
        if any(not item.content for item in items):
            raise SandboxError("an album item cannot be empty")
        state, _, chat = self._active_chat(user_id, bot)
        if reply_to is not None and chat.find(reply_to) is None:
            raise UnknownReference(f"no message {reply_to} in chat {user_id}")
        contents = [self._album_content(item) for item in items]
        group = str(secrets.randbits(62))
        messages = []
        for index, fields in enumerate(contents):
            if index == 0 and caption:
                text, _ = strip(caption, [])
                fields.update(caption=text, caption_entities=detect(text, []))
            messages.append(
                self._from_user(
                    state, chat, media_group_id=group, reply_to_message_id=reply_to, **fields
                )
            )
        return messages

    def _album_content(self, item: AlbumItem) -> dict[str, Any]:
        if item.kind == "document":
            stored = self.store_file(item.content, item.filename, item.mime_type, "documents")
            document = {
                "file_name": item.filename,
                "mime_type": stored.mime_type,
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(item.content),
            }
            return {"document": document}
        size = image_size(item.content)
        if size is None:
            raise SandboxError(f"{item.filename} is not a PNG, GIF, JPEG or WebP image")
        stored = self.store_file(item.content, item.filename, item.mime_type, "photos")
        photo = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(item.content),
            "width": size[0],
            "height": size[1],
        }
        return {"photo": [photo]}
