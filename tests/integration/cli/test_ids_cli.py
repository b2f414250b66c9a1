"""Ids on the command line: out of range is a usage error (exit 2), never a SQL error."""

import pytest

from tests.integration.cli.harness import Shop

pytestmark = pytest.mark.postgres

NINES = "9" * 20


@pytest.mark.parametrize(
    "args",
    [
        ("users", "show", NINES),
        ("users", "show", "0"),
        ("users", "show", "\u0661\u0662"),
        ("balance", "adjust", NINES, "5", "--reason", "x"),
        ("topup", "create", "--user-id", NINES, "--amount", "5"),
    ],
)
async def test_an_impossible_id_is_a_usage_error(shop: Shop, args: tuple[str, ...]) -> None:
    result = await shop.run(*args)

    assert result.code == 2, result.output
    assert "is not an id (a whole number from 1 to 9223372036854775807)" in result.stderr
    assert "Traceback" not in result.output
    assert await shop.transactions() == 0


@pytest.mark.parametrize("history", [NINES, "-1"])
async def test_users_show_history_is_bounded(shop: Shop, history: str) -> None:
    await shop.add_user(1001)

    result = await shop.run("users", "show", "1001", "--history", history)

    assert result.code == 2, result.output
    assert "--history" in result.stderr
    assert "Traceback" not in result.output
