"""The baseline for bench/webhook.py: a FastAPI endpoint that only reads the body."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/bare")
async def bare(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"status": "ok"})
