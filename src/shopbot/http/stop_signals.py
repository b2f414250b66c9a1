"""Stopping a server on SIGINT or SIGTERM without being killed by them."""

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Ctrl-C, and what `docker stop`, systemd and Kubernetes send before SIGKILL."""


@contextmanager
def on_stop_signal(stop: Callable[[], None]) -> Iterator[None]:
    """Inside the block, SIGINT and SIGTERM call `stop()` (which should make the server
    return) instead of killing the process or cancelling the main task, so the caller's
    exit stack then closes the database pool, the Bot session and the Heleket client in
    order and the process exits 0. Outside the main thread nothing is installed (signals
    reach the main thread only). Needs a running event loop."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    for stop_signal in STOP_SIGNALS:
        loop.add_signal_handler(stop_signal, stop)
    try:
        yield
    finally:
        for stop_signal in STOP_SIGNALS:
            loop.remove_signal_handler(stop_signal)
