import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.persistence.locks import exclusive

log = logging.getLogger(__name__)


async def run_periodically(
    engine: AsyncEngine,
    name: str,
    interval: float,
    job: Callable[[], Awaitable[object]],
    *,
    log_result: bool = True,
) -> None:
    """Run `job` every `interval` seconds on whichever instance holds the lock; a failing
    run is logged and retried at the next tick. Cancel the task to stop. `log_result`
    False: a job polled every few seconds logs for itself when it does something."""
    while True:
        try:
            async with exclusive(engine, name) as held:
                if held:
                    result = await job()
                    if log_result:
                        log.info("job %s finished: %s", name, result)
        except asyncio.CancelledError:
            raise
        except Exception:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # an error while cancelled (e.g. in a cleanup) must not swallow it
            log.exception("job %s failed; retrying in %s s", name, interval)
        await asyncio.sleep(interval)
