"""The admin's button lines and the progress figures of a broadcast."""

import pytest

from shopbot.domain.broadcasts.buttons import ButtonLineError, parse_buttons
from shopbot.domain.broadcasts.models import UrlButton
from shopbot.domain.broadcasts.progress import Progress, eta_text


def test_button_lines_parse_to_url_buttons() -> None:
    text = "Shop - https://example.com/shop\n\n  Our - channel - http://t.me/x?a=1  \n"
    assert parse_buttons(text) == (
        UrlButton("Shop", "https://example.com/shop"),
        UrlButton("Our - channel", "http://t.me/x?a=1"),
    )


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("", 1, "format"),
        ("Shop https://e.x", 1, "format"),
        ("ok - https://e.x\n - https://e.x", 2, "format"),
        ("x" * 65 + " - https://e.x", 1, "label"),
        ("Shop - ftp://e.x", 1, "url"),
        ("Shop - https://", 1, "url"),
        ("Shop - e.x", 1, "url"),
        ("Shop - https://e.x/a b", 1, "url"),
        ("\n".join(f"b{i} - https://e.x/{i}" for i in range(11)), 11, "too_many"),
    ],
)
def test_bad_button_lines_name_the_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(ButtonLineError) as caught:
        parse_buttons(text)
    assert (caught.value.line, caught.value.reason) == (line, reason)


def test_progress_counts_bar_and_eta() -> None:
    half = Progress(total=200, sent=90, blocked=5, failed=4, unknown=1)
    assert (half.done, half.left, half.percent) == (100, 100, 50)
    assert half.bar() == "▓▓▓▓▓░░░░░"
    assert half.eta_seconds(25) == 4
    assert Progress(total=0).bar() == "▓" * 10
    assert Progress(total=0).percent == 100
    assert Progress(total=3, sent=1).percent == 33
    assert Progress(total=5001).eta_seconds(25) == 201
    with pytest.raises(ValueError):
        half.eta_seconds(0)
    assert [eta_text(s) for s in (9, 309, 3909)] == ["0:09", "5:09", "1:05:09"]
