"""Jobs that one instance runs for as long as it leads.

`run_periodically` (jobs/periodic.py) takes its lock for one run: every instance takes
turns. A job whose results every instance would otherwise duplicate (the ledger check: a
full scan of the ledger) runs instead under a lease one instance keeps: the leader runs
it every `interval` seconds; the others try to take the lease every `interval` seconds
and do nothing else. When the leader dies, PostgreSQL ends its session and frees the
lock (persistence/locks.py), and the next instance to try becomes the leader; when the
leader loses its database session (a restart), its next check of the lease fails, it
stops leading, and the lease goes to whoever takes it first.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.persistence.locks import lease

log = logging.getLogger(__name__)


async def run_as_leader(
    engine: AsyncEngine,
    name: str,
    interval: float,
    job: Callable[[], Awaitable[object]],
) -> None:
    """Run `job` now and then every `interval` seconds (> 0) while this instance holds
    the lease `name`; try to take it every `interval` seconds while another does. A
    failing run is logged and tried again at the next tick; a lost lease is logged and
    taken again if it can be. Cancel the task to stop (the lease is released)."""
    while True:
        try:
            async with lease(engine, name) as held:
                if held is not None:
                    log.info("job %s: this instance leads", name)
                    while True:
                        await held.check()  # still ours, or raise and stop leading
                        try:
                            await job()
                        except asyncio.CancelledError:
                            raise
                        except Exception:
                            log.exception("job %s failed; retrying in %s s", name, interval)
                        await asyncio.sleep(interval)
        except asyncio.CancelledError:
            raise
        except Exception:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # cancelled while the lease was let go: stop, as asked
            log.warning("job %s: lost the lease or the database; trying again", name, exc_info=True)
        await asyncio.sleep(interval)
