"""`shopbot stock add` with files as operators save them."""

import codecs
from pathlib import Path

import pytest

from tests.integration.cli.harness import CATALOG, SECRETS, Shop, assert_no_secrets

pytestmark = pytest.mark.postgres


def save(shop: Shop, name: str, content: bytes) -> str:
    path = Path(shop.file(name, ""))
    path.write_bytes(content)
    return str(path)


async def test_a_key_saved_with_bom_and_crlf_is_caught_when_uploaded_again(shop: Shop) -> None:
    await shop.import_catalog()
    windows = codecs.BOM_UTF8 + f"{SECRETS[0]}\r\n{SECRETS[1]}\r\n".encode()
    first = await shop.run("stock", "add", "game-key", save(shop, "win.txt", windows))
    again = await shop.run(
        "stock", "add", "game-key", save(shop, "unix.txt", f"{SECRETS[0]}\n".encode())
    )

    assert first.code == 0, first.output
    assert await shop.stock_items() == [SECRETS[0], SECRETS[1]]  # no U+FEFF stored
    assert again.code == 1
    assert "1 item(s) already in stock for 'game-key' (lines 1)" in again.stderr
    assert_no_secrets(again)
    assert (await shop.listing())["game-key"].stock == "2"


async def test_a_utf16_file_is_read(shop: Shop) -> None:
    await shop.import_catalog()
    content = codecs.BOM_UTF16_LE + f"{SECRETS[0]}\r\n".encode("utf-16-le")

    result = await shop.run("stock", "add", "game-key", save(shop, "u16.txt", content))

    assert result.code == 0, result.output
    assert await shop.stock_items() == [SECRETS[0]]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (f"{SECRETS[0]}\x00\n".encode(), "line 1: control character U+0000"),
        (f"ok\n{SECRETS[0]}".encode("cp1252") + b"\x81\n", "is not UTF-8 text"),
    ],
)
async def test_files_that_are_not_text_are_refused(
    shop: Shop, content: bytes, problem: str
) -> None:
    await shop.import_catalog()

    result = await shop.run("stock", "add", "game-key", save(shop, "bad.txt", content))

    assert result.code == 1
    assert problem in result.stderr
    assert_no_secrets(result)
    assert await shop.stock_items() == []


async def test_a_catalog_saved_with_bom_and_crlf_imports(shop: Shop) -> None:
    windows = codecs.BOM_UTF8 + CATALOG.replace("\n", "\r\n").encode()
    plain = await shop.run("catalog", "import", shop.file("plain.yaml", CATALOG))

    result = await shop.run("catalog", "import", save(shop, "catalog.yaml", windows))

    assert result.code == 0, result.output
    assert result.stdout == plain.stdout
    nul = await shop.run("catalog", "import", save(shop, "nul.yaml", b"categories: []\x00\n"))
    assert nul.code == 1
    assert "line 1: control character U+0000" in nul.stderr


async def test_a_file_that_never_ends_is_refused_at_the_limit(shop: Shop) -> None:
    """/dev/zero reports size 0 and never ends: reading stops one byte past 10 MB."""
    await shop.import_catalog()

    result = await shop.run("stock", "add", "game-key", "/dev/zero")

    assert result.code == 1
    assert "/dev/zero is larger than 10 MB" in result.stderr
    assert await shop.stock_items() == []
