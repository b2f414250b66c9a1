"""Webhook delivery in background tasks, with retries and a record of every attempt.

Jobs of one group (an invoice uuid) are delivered one after the other, in the order they
were queued: a job's retries finish (success or give-up) before the next job starts.
Attempt n that fails (non-2xx, connection error, timeout) is followed, after
base * 2**(n-1) seconds (capped), by attempt n+1, up to `attempts` in all.
"""

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from shopbot.sandbox.heleket.config import EmulatorConfig
from shopbot.sandbox.heleket.payloads import moscow


@dataclass
class Job:
    id: int
    group: str
    url: str
    body: bytes
    meta: dict[str, Any]


class WebhookDelivery:
    """Sends the emulator's webhooks: queued per invoice, retried with backoff, every
    attempt recorded in `attempts`."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.attempts: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._queues: dict[str, deque[Job]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._client: httpx.AsyncClient | None = None

    @property
    def pending(self) -> int:
        """Jobs queued or in progress (including waits between retries)."""
        return self._pending

    def enqueue(self, group: str, url: str, body: bytes, **meta: Any) -> int:
        job = Job(next(self._ids), group, url, body, meta)
        self._queues.setdefault(group, deque()).append(job)
        self._pending += 1
        self._idle.clear()
        if group not in self._workers:
            self._workers[group] = asyncio.create_task(self._drain(group))
        return job.id

    async def wait_idle(self, seconds: float | None = None) -> bool:
        """True once nothing is queued or being retried; False after `seconds`."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Cancel pending deliveries (queued jobs are dropped) and close the HTTP client."""
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        self._queues.clear()
        self._pending = 0
        self._idle.set()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.config.webhook_timeout,
                headers={"User-Agent": "heleket-emulator"},
                follow_redirects=False,
            )
        return self._client

    async def _drain(self, group: str) -> None:
        queue = self._queues[group]
        try:
            while queue:
                job = queue[0]
                try:
                    await self._deliver(job)
                finally:
                    queue.popleft()
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.set()
        finally:
            if self._workers.get(group) is asyncio.current_task():
                del self._workers[group]
                self._queues.pop(group, None)

    async def _deliver(self, job: Job) -> None:
        config = self.config
        for attempt in range(1, config.webhook_attempts + 1):
            record: dict[str, Any] = {
                "job": job.id,
                "attempt": attempt,
                "url": job.url,
                "body": job.body.decode("utf-8"),
                "status_code": None,
                "error": None,
                "ok": False,
                "at": moscow(datetime.now(UTC)),
                **job.meta,
            }
            try:
                response = await self._http().post(
                    job.url, content=job.body, headers={"Content-Type": "application/json"}
                )
                record["status_code"] = response.status_code
                record["ok"] = response.is_success
            except httpx.HTTPError as exc:
                record["error"] = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
            self.attempts.append(record)
            if record["ok"]:
                return
            if attempt == config.webhook_attempts:
                record["gave_up"] = True
                return
            delay = config.webhook_base_delay * 2 ** (attempt - 1)
            await asyncio.sleep(min(delay, config.webhook_max_delay))
