"""`shopbot demo --serve` as an operator runs it: their own catalog file in the sandbox,
and clear refusals (exit 2, nothing started) for a bad file, a taken port, or --catalog
without --serve."""

import socket
import time
from pathlib import Path
from typing import Any

import httpx

from shopbot.http.serve import free_port
from tests.e2e.demo_process import DEADLINE, running_sandbox, start

OPERATOR_CATALOG = """
categories:
  - slug: courses
    title: {en: Courses, ru: IT}
    products:
      - sku: python-course
        kind: stock
        title: {en: Python course, ru: Python 101}
        price: 49.90
demo_stock:
  python-course: [COURSE-ACCESS-1, COURSE-ACCESS-2]
"""


def run_to_end(cwd: Path, *args: str) -> tuple[int, str]:
    process = start(cwd, *args)
    try:
        output, _ = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, output


def test_the_operators_catalog_runs_in_the_sandbox(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(OPERATOR_CATALOG, encoding="utf-8")
    with running_sandbox(tmp_path, "--catalog", str(catalog)) as sandbox:
        assert f"catalog: {catalog}" in sandbox.output, sandbox.output
        with httpx.Client(base_url=sandbox.url, timeout=30) as client:
            client.post("/api/chats/1001/send", json={"text": "/start"}).raise_for_status()
            menu = wait_for_bot_message(client, "Catalog")
            button = next(b for row in menu["reply_markup"]["inline_keyboard"] for b in row)
            pressed = client.post(
                "/api/chats/1001/press",
                json={"message_id": menu["message_id"], "callback_data": button["callback_data"]},
            )
            assert pressed.status_code == 200, pressed.text
            shown = wait_for_bot_message(client, "Courses")
            labels = [b["text"] for row in shown["reply_markup"]["inline_keyboard"] for b in row]
            assert any("Courses" in text for text in labels), labels
            assert not any("Games" in text for text in labels), labels


def wait_for_bot_message(client: httpx.Client, text: str) -> dict[str, Any]:
    """The newest bot message with a button showing `text` (the bot answers asynchronously)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in reversed(client.get("/api/chats/1001").json()["messages"]):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            if message["sender"] == "bot" and any(text in b["text"] for r in rows for b in r):
                return message
        time.sleep(0.1)
    raise AssertionError(f"no bot message with a button {text!r}")


def test_a_bad_catalog_is_refused_before_anything_starts(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        OPERATOR_CATALOG.replace("python-course: [", "no-such-sku: ["), encoding="utf-8"
    )
    # A free port, not the default 8080: a running `make sandbox` must not change the answer.
    port = str(free_port())
    code, output = run_to_end(tmp_path, "--serve", "--port", port, "--catalog", str(catalog))
    assert code == 2, output
    assert "no-such-sku" in output, output
    assert "--catalog" in output, output
    assert "Browser sandbox" not in output, output
    assert "Traceback" not in output, output

    catalog.write_text("categories: [ {slug: x, title: ", encoding="utf-8")
    code, output = run_to_end(tmp_path, "--serve", "--port", port, "--catalog", str(catalog))
    assert code == 2, output
    assert "not valid YAML" in output, output


def test_catalog_needs_serve(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(OPERATOR_CATALOG, encoding="utf-8")
    code, output = run_to_end(tmp_path, "--catalog", str(catalog))
    assert code == 2, output
    assert "--catalog needs --serve" in output, output


def test_a_taken_port_is_refused(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = run_to_end(tmp_path, "--serve", "--port", str(port))
    assert code == 2, output
    assert f"127.0.0.1:{port} is in use; choose another with --port" in output, output
    assert "Browser sandbox" not in output, output


def test_the_help_names_the_sandbox_options(tmp_path: Path) -> None:
    code, output = run_to_end(tmp_path, "--help")
    assert code == 0, output
    for option in ("--serve", "--catalog", "--port"):
        assert option in output, output
