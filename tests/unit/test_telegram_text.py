"""Measuring texts as Telegram counts them: parsed text, UTF-16 code units."""

from shopbot.bot.telegram_text import CAPTION_LIMIT, MESSAGE_LIMIT, clip, fits, visible_length
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
