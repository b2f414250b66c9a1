"""The browser sandbox's JSON API on the demo stack, in-process: what the page relies on,
and clear errors for what it must refuse."""

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shopbot.demo.browser.app import create_app
from shopbot.demo.browser.identities import ADMIN_IDS, IDENTITIES
from shopbot.demo.stack import demo_stack
from shopbot.http.serve_aiohttp import serve_aiohttp

ALICE = IDENTITIES[0].id


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with demo_stack(tmp_path, admin_ids=ADMIN_IDS) as stack:
        for who in IDENTITIES:
            stack.emulator.create_user(who.id, who.name, language_code=who.language)
        async with (
            serve_aiohttp(create_app(stack)) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as client,
        ):
            yield client


async def test_the_page_and_the_session(sandbox: httpx.AsyncClient) -> None:
    page = await sandbox.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "shopbot sandbox" in page.text
    session = (await sandbox.get("/api/session")).json()
    assert [i["id"] for i in session["identities"]] == [i.id for i in IDENTITIES]
    assert session["currency"] == "USD"
    assert set(session["servers"]) >= {"Telegram Bot API emulator", "Heleket emulator"}


async def test_a_file_sent_by_a_user_is_in_the_chat_and_downloadable(
    sandbox: httpx.AsyncClient,
) -> None:
    content = b"KEY-1\nKEY-2\n"
    sent = await sandbox.post(
        f"/api/chats/{ALICE}/document",
        json={
            "filename": "keys.txt",
            "content_base64": base64.b64encode(content).decode(),
            "mime_type": "text/plain",
        },
    )
    assert sent.status_code == 200, sent.text
    chat = (await sandbox.get(f"/api/chats/{ALICE}")).json()
    document = chat["messages"][0]["document"]
    assert document["file_name"] == "keys.txt"
    downloaded = await sandbox.get(f"/api/files/{document['file_id']}")
    assert downloaded.content == content


async def test_the_panel_of_a_new_customer(sandbox: httpx.AsyncClient) -> None:
    panel = (await sandbox.get(f"/api/panel/{ALICE}")).json()
    assert panel["balance"] == "0.00"
    assert panel["orders"] == panel["invoices"] == panel["history"] == []
    assert panel["ledger"]["sound"] is True
    assert panel["shop_accounts"]["revenue"] == "0.00"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("GET", "/api/chats/5/", None, 404, None),
        ("GET", "/api/chats/5", None, 404, "no identity 5"),
        ("GET", "/api/panel/abc", None, 400, "identity must be an integer"),
        ("POST", f"/api/chats/{ALICE}/send", "not json", 400, "body is not JSON"),
        ("POST", f"/api/chats/{ALICE}/send", [1], 400, "body must be a JSON object"),
        ("POST", f"/api/chats/{ALICE}/send", {"text": "  "}, 400, "needs some text"),
        ("POST", f"/api/chats/{ALICE}/press", {"message_id": 1}, 404, "no bot message 1"),
        ("POST", f"/api/chats/{ALICE}/pay", {"message_id": "x"}, 400, "message_id must be"),
        ("POST", f"/api/chats/{ALICE}/document", {"content_base64": "%%"}, 400, "not base64"),
        ("GET", "/api/files/nope", None, 404, "no such file"),
    ],
)
async def test_bad_requests_get_a_clear_error_and_change_nothing(
    sandbox: httpx.AsyncClient,
    method: str,
    path: str,
    body: object,
    status: int,
    error: str | None,
) -> None:
    if isinstance(body, str):
        response = await sandbox.request(
            method, path, content=body, headers={"Content-Type": "application/json"}
        )
    else:
        response = await sandbox.request(method, path, json=body)
    assert response.status_code == status, response.text
    if error is not None:
        assert error in response.json()["error"]
    assert (await sandbox.get(f"/api/chats/{ALICE}")).json()["messages"] == []


async def test_posts_must_be_json_so_other_sites_cannot_post_forms(
    sandbox: httpx.AsyncClient,
) -> None:
    response = await sandbox.post(
        f"/api/chats/{ALICE}/send",
        content='{"text": "/start"}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert (await sandbox.get(f"/api/chats/{ALICE}")).json()["messages"] == []


async def test_files_other_than_images_are_downloads(sandbox: httpx.AsyncClient) -> None:
    for name, mime, inline in (("x.html", "text/html", False), ("x.png", "image/png", True)):
        sent = await sandbox.post(
            f"/api/chats/{ALICE}/document",
            json={"filename": name, "content_base64": "PGI+", "mime_type": mime},
        )
        file_id = sent.json()["document"]["file_id"]
        served = await sandbox.get(f"/api/files/{file_id}")
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-disposition"] == ("inline" if inline else "attachment")
        assert served.headers["content-type"] == (mime if inline else "application/octet-stream")
