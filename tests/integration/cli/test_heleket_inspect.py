"""The `shopbot heleket inspect-webhook` command, run as a real subprocess (no database)."""

import json
from pathlib import Path
from typing import Any

import pytest

from shopbot.adapters.heleket.signature import signed_webhook_body
from tests.heleket_vectors import WEBHOOK_CASES
from tests.integration.cli.harness import Run, assert_no_secrets, shopbot_fed

PAID = WEBHOOK_CASES[0]  # pub-wh-1-paid-ascii
TAMPERED = PAID["negative"][0]  # status changed after signing
PAYMENT_KEY = PAID["api_key"]
PAYOUT_KEY = "payout-key-9Vx2mQ7rT4"

PAID_FIELDS = [
    "type: payment",
    "status: paid",
    "uuid: 8f1e6c1a-2b7d-4e0f-9a55-0c3d7b2e61a4",
    "order_id: tg-100234-7f3a",
    "amount: 10.50 USDT",
    "payment_amount: 10.50 USDT",
    "is_final: true",
]


async def inspect(tmp_path: Path, *args: str, **env: str) -> Run:
    return await inspect_fed(None, tmp_path, *args, **env)


async def inspect_fed(stdin: bytes | None, tmp_path: Path, *args: str, **env: str) -> Run:
    url = f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"
    run = await shopbot_fed(stdin, tmp_path, url, "heleket", "inspect-webhook", *args, **env)
    assert_no_secrets(run, PAYMENT_KEY, PAYOUT_KEY)
    return run


def body_file(tmp_path: Path, body: str | bytes, name: str = "webhook.json") -> str:
    path = tmp_path / name
    path.write_bytes(body.encode() if isinstance(body, str) else body)
    return str(path)


def payout(**extra: Any) -> dict[str, Any]:
    return {
        "type": "payout",
        "uuid": "a1b2c3d4-0000-4000-8000-000000000001",
        "order_id": "refund-17",
        "amount": "5.00",
        "currency": "USDT",
        "status": "paid",
        "is_final": True,
        **extra,
    }


async def test_a_valid_webhook_prints_its_fields(tmp_path: Path) -> None:
    run = await inspect(tmp_path, body_file(tmp_path, PAID["body"]), HELEKET_API_KEY=PAYMENT_KEY)

    assert run.code == 0, run.output
    assert run.stdout.splitlines() == [*PAID_FIELDS, "key: HELEKET_API_KEY", "signature: valid"]


async def test_a_tampered_webhook_exits_1_and_still_prints_its_fields(tmp_path: Path) -> None:
    run = await inspect(
        tmp_path, body_file(tmp_path, TAMPERED["body"]), HELEKET_API_KEY=PAYMENT_KEY
    )

    assert run.code == 1, run.output
    lines = run.stdout.splitlines()
    assert "status: paid_over" in lines
    assert "order_id: tg-100234-7f3a" in lines
    assert lines[-1] == "signature: INVALID"
    assert "does not match" in run.stderr


async def test_the_webhook_can_come_from_stdin(tmp_path: Path) -> None:
    run = await inspect_fed(PAID["body"].encode(), tmp_path, "-", HELEKET_API_KEY=PAYMENT_KEY)

    assert run.code == 0, run.output
    assert run.stdout.splitlines()[-1] == "signature: valid"
    assert "status: paid" in run.stdout.splitlines()


async def test_a_key_given_with_the_option_wins(tmp_path: Path) -> None:
    file = body_file(tmp_path, PAID["body"])

    good = await inspect(tmp_path, file, "--key", PAYMENT_KEY)
    bad = await inspect(tmp_path, file, "--key", "not-the-key", HELEKET_API_KEY=PAYMENT_KEY)

    assert good.code == 0, good.output
    assert "key: --key" in good.stdout.splitlines()
    assert bad.code == 1, bad.output
    assert bad.stdout.splitlines()[-1] == "signature: INVALID"


@pytest.mark.parametrize("env", [{}, {"HELEKET_API_KEY": "changeme"}, {"HELEKET_API_KEY": ""}])
async def test_without_a_key_it_exits_2_naming_the_variable(
    tmp_path: Path, env: dict[str, str]
) -> None:
    run = await inspect(tmp_path, body_file(tmp_path, PAID["body"]), **env)

    assert run.code == 2, run.output
    assert run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1
    assert "HELEKET_API_KEY" in run.stderr


async def test_an_empty_key_option_is_a_usage_error(tmp_path: Path) -> None:
    run = await inspect(tmp_path, body_file(tmp_path, PAID["body"]), "--key", " ")

    assert run.code == 2, run.output
    assert "--key" in run.stderr


async def test_a_payout_webhook_is_checked_with_the_payout_key(tmp_path: Path) -> None:
    file = body_file(tmp_path, signed_webhook_body(payout(), PAYOUT_KEY))

    run = await inspect(tmp_path, file, HELEKET_API_KEY=PAYMENT_KEY, HELEKET_PAYOUT_KEY=PAYOUT_KEY)
    missing = await inspect(tmp_path, file, HELEKET_API_KEY=PAYMENT_KEY)
    wrong = await inspect(tmp_path, file, HELEKET_API_KEY=PAYMENT_KEY, HELEKET_PAYOUT_KEY="x-1234")

    assert run.code == 0, run.output
    assert run.stdout.splitlines() == [
        "type: payout",
        "status: paid",
        "uuid: a1b2c3d4-0000-4000-8000-000000000001",
        "order_id: refund-17",
        "amount: 5.00 USDT",
        "payment_amount: -",
        "is_final: true",
        "key: HELEKET_PAYOUT_KEY",
        "signature: valid",
    ]
    assert missing.code == 2, missing.output
    assert "HELEKET_PAYOUT_KEY" in missing.stderr
    assert wrong.code == 1, wrong.output


@pytest.mark.parametrize(
    "content",
    [b"not json", b"\xff\xfe{}", b"", b'["a list"]', b'{"a":NaN}', b'{"type":"payment"'],
)
async def test_a_file_that_is_not_a_json_object_exits_2(tmp_path: Path, content: bytes) -> None:
    run = await inspect(tmp_path, body_file(tmp_path, content), HELEKET_API_KEY=PAYMENT_KEY)

    assert run.code == 2, run.output
    assert "not a webhook body" in run.stderr
    assert run.stdout == ""


async def test_a_missing_or_unreadable_file_exits_2(tmp_path: Path) -> None:
    missing = await inspect(tmp_path, str(tmp_path / "nope.json"), HELEKET_API_KEY=PAYMENT_KEY)
    directory = await inspect(tmp_path, str(tmp_path), HELEKET_API_KEY=PAYMENT_KEY)

    assert missing.code == 2, missing.output
    assert directory.code == 2, directory.output


async def test_a_body_without_sign_is_invalid_not_a_crash(tmp_path: Path) -> None:
    body = json.dumps({"type": "payment", "status": "paid", "order_id": "x\x1b[31mred\u2028"})

    run = await inspect(tmp_path, body_file(tmp_path, body), HELEKET_API_KEY=PAYMENT_KEY)

    assert run.code == 1, run.output
    assert "order_id: x\\x1b[31mred\\u2028" in run.stdout.splitlines()
    assert "\x1b" not in run.stdout
    assert run.stdout.splitlines()[-1] == "signature: INVALID"
