"""One reader for every text file an operator hands the shop (stock files, catalog YAML),
whichever way it arrives (CLI, bot upload, browser sandbox) and however it was saved.

Rules, in order: at most 10 MiB; a UTF-8 byte-order mark is dropped, UTF-16/UTF-32 files
(recognised by their BOM, as Windows Notepad writes "Unicode") are decoded, anything else
must be UTF-8; line ends CRLF and CR become LF; text is NFC-normalised (Unicode UAX #15)
so the same visible text is the same string; a U+FEFF at the start of any line (files
joined with `cat`) is dropped; NUL and other control characters except tab, and the
Unicode line/paragraph separators, are refused with their line numbers. Error messages
name lines and code points, never the content: stock lines are secrets.
"""

import codecs
import unicodedata
from typing import Final

from shopbot.domain.file_problems import FileRefused, Problem

MAX_OPERATOR_FILE: Final = 10 * 1024 * 1024
"""Bytes; also the bot's upload limit for stock files."""

_BOMS: Final = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_ALLOWED_CONTROLS: Final = frozenset("\t\n")
_MAX_LISTED: Final = 20


def decode_operator_file(raw: bytes, name: str = "the file") -> str:
    """Text of an operator's file (see the module rules). Raises FileRefused (an
    InvalidInput) naming the problem: file_too_large, utf16_without_bom, undecodable or
    control_character (file_problems codes), with line numbers."""
    if len(raw) > MAX_OPERATOR_FILE:
        limit_mb = MAX_OPERATOR_FILE // (1024 * 1024)
        raise FileRefused(
            f"{name} is larger than {limit_mb} MB",
            [Problem("file_too_large", {"limit_mb": limit_mb})],
        )
    encoding, body = "utf-8", raw
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            encoding, body = codec, raw[len(bom) :]
            break
    head = body[:400]
    if encoding == "utf-8" and head and head.count(0) * 4 >= len(head):
        # Text with a NUL in every other byte is UTF-16 that lost its BOM.
        raise FileRefused(
            f"{name} looks like UTF-16 without a BOM; save it as UTF-8",
            [Problem("utf16_without_bom")],
        )
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise FileRefused(
            f"{name} is not {encoding.upper()} text: undecodable byte at line {line}; "
            "save it as UTF-8",
            [Problem("undecodable", {"encoding": encoding.upper(), "line": line})],
        ) from None
    return normalize_operator_text(text, name)


def normalize_operator_text(text: str, name: str = "the file") -> str:
    """`text` with LF line ends, NFC, no BOMs at line starts; refuses control characters
    (FileRefused: a control_character problem per line, with the code point; the
    message lists up to 20 lines)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    lines = [line.removeprefix("\ufeff") for line in text.split("\n")]
    problems: list[Problem] = []
    for number, line in enumerate(lines, start=1):
        bad = next((c for c in line if _is_control(c)), None)
        if bad is not None:
            problems.append(
                Problem("control_character", {"line": number, "code_point": f"U+{ord(bad):04X}"})
            )
    if problems:
        listed = [
            f"line {p.params['line']}: control character {p.params['code_point']}"
            for p in problems[:_MAX_LISTED]
        ]
        more = len(problems) - _MAX_LISTED
        listed += [f"... and {more} more lines"] if more > 0 else []
        raise FileRefused(
            f"{name} has characters that are not text:\n  " + "\n  ".join(listed), problems
        )
    return "\n".join(lines)


def _is_control(char: str) -> bool:
    category = unicodedata.category(char)
    return (category == "Cc" and char not in _ALLOWED_CONTROLS) or category in ("Zl", "Zp")
