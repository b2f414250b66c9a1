"""The demo's transcript: both sides of the conversation, readable in a terminal."""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from shopbot.sandbox.telegram import Emulator, Message

TAG = re.compile(r"</?[a-zA-Z][^>]*>")
USER, BOT, HELEKET, WEBHOOK, INFO = "👤", "🤖", "💳", "🔔", "•"
EDITED = "(edited) "
"""Marks a message the bot changed in place, printed again."""


def plain(text: str) -> str:
    """What a client shows: no HTML tags, entities decoded."""
    return html.unescape(TAG.sub("", text))


def indent(text: str, width: int) -> str:
    lines = text.strip("\n").splitlines() or [""]
    pad = " " * width
    return "\n".join([lines[0], *(pad + line for line in lines[1:])])


@dataclass
class Transcript:
    """Prints lines as they happen; remembers which bot messages it has shown (and in
    which form, since the bot edits messages in place)."""

    user_name: str
    bot_name: str
    echo: Callable[[str], None] = print
    lines: list[str] = field(default_factory=list)
    _shown: dict[int, str] = field(default_factory=dict)

    def say(self, icon: str, who: str, arrow: str, text: str) -> None:
        head = f"{icon} {who:<8}{arrow} "
        line = head + indent(text, len(head) + 1)
        self.lines.append(line)
        self.echo(line)

    def user(self, action: str) -> None:
        self.say(USER, self.user_name, "▸", action)

    def heleket(self, text: str) -> None:
        self.say(HELEKET, "Heleket", "·", text)

    def webhook(self, text: str) -> None:
        self.say(WEBHOOK, "webhook", "·", text)

    def info(self, text: str) -> None:
        self.say(INFO, "demo", "·", text)

    def bot_messages(self, emulator: Emulator, chat_id: int) -> list[Message]:
        """Prints the bot's messages in the chat that are new or changed since last time
        (a changed one marked "edited": the bot edits a message in place, e.g. to take
        the buttons off a paid invoice, and it is not a second message); returns them."""
        shown: list[Message] = []
        for message in emulator.messages(chat_id):
            if message.sender != "bot":
                continue
            body = plain(message.text or message.caption or "")
            buttons = [b.get("text", "") for row in message.buttons for b in row]
            rendered = body + (f"\n[{'] ['.join(buttons)}]" if buttons else "")
            before = self._shown.get(message.message_id)
            if before == rendered:
                continue
            self._shown[message.message_id] = rendered
            self.say(BOT, self.bot_name, "◂", rendered if before is None else EDITED + rendered)
            shown.append(message)
        return shown

    def text(self) -> str:
        return "\n".join(self.lines)
