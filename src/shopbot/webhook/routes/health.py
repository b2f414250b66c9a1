"""Liveness and readiness of the webhook service (the same answers as the bot's, see
`shopbot.observability.health`)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from shopbot.observability.health import ReadinessProbe

router = APIRouter(tags=["health"])

READY_EXAMPLE = {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}
UNAVAILABLE_EXAMPLE = {
    "status": "unavailable",
    "checks": {
        "database": "down: connection refused",
        "migrations": "unknown: the database is down",
    },
}


@router.get("/health", summary="Liveness: the process serves HTTP (no I/O)")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/health/ready",
    summary="Readiness: the database answers and its migrations are at head",
    responses={
        200: {"content": {"application/json": {"example": READY_EXAMPLE}}},
        503: {
            "description": "a check failed; `checks` names it with a short reason",
            "content": {"application/json": {"example": UNAVAILABLE_EXAMPLE}},
        },
    },
)
async def ready(request: Request) -> JSONResponse:
    readiness = await probe(request).check()
    return JSONResponse(readiness.body(), status_code=readiness.status_code)


def probe(request: Request) -> ReadinessProbe:
    """The app's probe, built on first use over the services' engine (the webhook service
    uses no Redis) and kept on the app so concurrent probes share one run."""
    state: Any = request.app.state
    found: ReadinessProbe | None = getattr(state, "readiness", None)
    if found is None:
        found = state.readiness = ReadinessProbe(state.services.engine)
    return found
