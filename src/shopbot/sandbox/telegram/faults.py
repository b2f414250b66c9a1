"""Fault injection: the emulator answers chosen Bot API calls with an error, the way
Telegram does in bad moments, so tests can see how the bot copes with each kind.

    emulator.faults.inject("sendMessage", 502, "Bad Gateway", times=2, chat_id=900)
    emulator.faults.inject("sendPhoto", 429, "Too Many Requests: retry after 3", retry_after=3)

The answer has Telegram's wire format (`{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}`); the call is recorded as failed and has no effect. Codes
follow the Bot API (https://core.telegram.org/api/errors): 400/403/404 are refusals that
repeat on every retry, 429 asks to wait `retry_after` seconds, 5xx are outages.
"""

from dataclasses import dataclass

from shopbot.sandbox.telegram.state import ApiError, SandboxError


@dataclass
class Fault:
    method: str
    """Lower-case Bot API method name."""
    code: int
    description: str
    remaining: int
    chat_id: str | None = None
    retry_after: int | None = None


class Faults:
    def __init__(self) -> None:
        self.pending: list[Fault] = []

    def inject(
        self,
        method: str,
        code: int,
        description: str,
        *,
        times: int = 1,
        chat_id: int | str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next `times` calls of `method` (to `chat_id` only, if given) fail with
        `code`/`description`. Raises SandboxError for a code Telegram does not use for
        method errors (400-599) or a 429 without `retry_after`."""
        if not 400 <= code <= 599:
            raise SandboxError("a fault's error_code is 400..599")
        if code == 429 and (retry_after is None or retry_after < 1):
            raise SandboxError("a 429 fault needs retry_after >= 1 seconds")
        if times < 1:
            raise SandboxError("times must be at least 1")
        chat = None if chat_id is None else str(chat_id)
        wait = retry_after if code == 429 else None
        self.pending.append(Fault(method.lower(), code, description, times, chat, wait))

    def take(self, method: str, chat_id: str) -> ApiError | None:
        """The error for this call, if a fault matches (one use of it is consumed)."""
        for fault in self.pending:
            if fault.method != method.lower():
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id.strip():
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self.pending.remove(fault)
            return ApiError(fault.code, fault.description, retry_after=fault.retry_after)
        return None

    def clear(self) -> None:
        self.pending.clear()
