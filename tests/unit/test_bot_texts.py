"""Both languages have the same keys and the same placeholders; user input is escaped."""

import re
import string

import pytest

from shopbot.bot.texts import LANGUAGES, Raw, Texts, _catalog, pick_language


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_languages_have_the_same_keys_and_placeholders() -> None:
    english = _catalog("en")
    for language in LANGUAGES:
        other = _catalog(language)
        assert set(other) == set(english), language
        for key, template in english.items():
            assert placeholders(other[key]) == placeholders(template), (language, key)


@pytest.mark.parametrize("language", LANGUAGES)
def test_templates_are_balanced_html(language: str) -> None:
    for key, template in _catalog(language).items():
        tags = re.findall(r"</?([a-z]+)[^>]*>", template)
        assert sorted(tags) == sorted(tags), key
        for tag in set(tags):
            assert template.count(f"<{tag}") == template.count(f"</{tag}>"), (language, key)


def test_parameters_are_escaped() -> None:
    t = Texts("en")
    text = t("start.welcome", name="<b>Eve</b> & co")
    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; co" in text
    assert t("start.welcome", name=Raw("<i>x</i>")).count("<i>x</i>") == 1


@pytest.mark.parametrize(
    ("code", "language"),
    [("ru", "ru"), ("ru-RU", "ru"), ("uk", "ru"), ("en-US", "en"), ("de", "en"), (None, "en")],
)
def test_language_choice(code: str | None, language: str) -> None:
    assert pick_language(code) == language
