import httpx
from fastapi import FastAPI

from shopbot.http.serve import serve


async def test_serve_runs_an_app_over_real_http() -> None:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/ping")
    assert response.json() == {"pong": "yes"}
