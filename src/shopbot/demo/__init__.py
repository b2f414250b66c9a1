"""`shopbot demo`: the whole product on loopback in one process, with a scripted customer
journey printed as a transcript. No Telegram token, no Heleket account, no network."""

import asyncio
import logging
import tempfile
import time
from pathlib import Path

from shopbot.demo.script import CUSTOMER_NAME, JourneyFailed, play
from shopbot.demo.stack import BOT_NAME, demo_stack
from shopbot.demo.transcript import Transcript
from shopbot.observability.logging import configure_logging

__all__ = ["EXIT_FAILED", "EXIT_OK", "run_demo"]

EXIT_OK, EXIT_FAILED = 0, 1


def quiet_logs(verbose: bool) -> None:
    configure_logging(level="INFO" if verbose else "WARNING", log_format="console")
    if not verbose:
        for name in ("aiogram", "uvicorn", "httpx", "alembic", "aiohttp"):
            logging.getLogger(name).setLevel(logging.WARNING)


async def run_demo(
    workdir: Path | None = None, *, verbose: bool = False, pause: float = 0.0
) -> int:
    """Run the demo; returns the exit code. Everything started is stopped before it
    returns, also when cancelled (Ctrl-C). `pause`: seconds to wait once the servers are
    up, before the journey (the tests interrupt the demo there)."""
    quiet_logs(verbose)
    started = time.monotonic()
    transcript = Transcript(CUSTOMER_NAME, BOT_NAME)
    with tempfile.TemporaryDirectory(prefix="shopbot-demo-") as temporary:
        directory = workdir or Path(temporary)
        transcript.info(f"SQLite database in {directory}; in-memory coordination; no network")
        async with demo_stack(directory) as stack:
            for name, url in stack.urls.items():
                transcript.info(f"{name:<27} {url}")
            transcript.info("all servers are up; the demo customer starts")
            print(flush=True)
            if pause:
                await asyncio.sleep(pause)
            try:
                outcome = await play(stack, transcript)
            except JourneyFailed as exc:
                print(flush=True)
                transcript.info(f"the journey FAILED: {exc}")
                return EXIT_FAILED
        # Everything is stopped here; the summary comes last.
        report = outcome.report
        print()
        if outcome.delivered:
            transcript.info(f"delivered stock item: {outcome.delivered}")
        else:
            transcript.info("no stock item was delivered")
        transcript.info(f"{CUSTOMER_NAME}'s balance after the purchase: {outcome.balance} USD")
        transcript.info(
            f"ledger check: accounts {report.accounts}, transactions {report.transactions}, "
            f"entries {report.entries}, sum of all entries {report.total}"
        )
        transcript.info("ledger is sound" if report.sound else f"ledger is NOT sound: {report}")
        transcript.info(f"finished in {time.monotonic() - started:.1f} s; everything stopped")
    return EXIT_OK if outcome.ok else EXIT_FAILED
