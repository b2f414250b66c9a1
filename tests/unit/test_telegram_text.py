"""Measuring texts as Telegram counts them: parsed text, UTF-16 code units."""

import pytest

from shopbot.bot.telegram_text import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    clip,
    fits,
    split,
    visible_length,
)
from shopbot.domain.catalog.limits import telegram_length


def test_visible_length_counts_the_parsed_text_in_utf16() -> None:
    assert visible_length("<b>Tom</b> &amp; <i>Jerry</i>") == len("Tom & Jerry")
    assert visible_length("&lt;code&gt;") == len("<code>")
    assert visible_length("😀") == 2
    assert visible_length("Ключ") == 4
    assert visible_length('<a href="https://example.com/very/long">x</a>') == 1


def test_fits_at_the_limits() -> None:
    assert fits("&amp;" * MESSAGE_LIMIT)
    assert not fits("&amp;" * MESSAGE_LIMIT + "x")
    assert fits("😀" * (MESSAGE_LIMIT // 2))
    assert not fits("😀" * (MESSAGE_LIMIT // 2) + "x")
    assert fits("<b>" + "я" * CAPTION_LIMIT + "</b>", CAPTION_LIMIT)
    assert not fits("😀" * (CAPTION_LIMIT // 2 + 1), CAPTION_LIMIT)


def test_clip_never_passes_the_limit_nor_splits_a_surrogate_pair() -> None:
    assert clip("short", 10) == "short"
    assert clip("abcdef", 4) == "abc…"
    clipped = clip("😀" * 10, 6)
    assert clipped == "😀😀…"
    assert telegram_length(clipped) <= 6
    assert clip("😀" * 3, 6) == "😀" * 3


def test_split_keeps_every_character_within_the_limits() -> None:
    text = "😀" * 2048 + "x"  # 4097 units
    parts = split(text, 4000, MESSAGE_LIMIT)
    assert "".join(parts) == text
    assert [telegram_length(p) for p in parts] == [4000, 97]
    assert split("short", 10) == ["short"]


def test_split_prefers_whitespace_and_never_breaks_an_emoji_sequence() -> None:
    assert split("hello world again", 12) == ["hello world ", "again"]
    family = "👨\u200d👩\u200d👧"  # one emoji, 8 units
    assert split("ab" + family + "cd", 9) == ["ab", family + "c", "d"]
    assert split("a👍🏽b", 4) == ["a", "👍🏽", "b"]
    # An emoji sequence longer than a part is cut (nothing else fits), nothing is lost.
    assert "".join(split(family, 6)) == family


def test_split_refuses_a_part_too_small_for_one_character() -> None:
    with pytest.raises(ValueError):
        split("abc", 1)
