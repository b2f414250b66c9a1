import asyncio
import io
import sys
from pathlib import Path

import click

EXIT_INTERRUPTED = 130


@click.command()
@click.option(
    "--serve",
    is_flag=True,
    help="Keep everything running and open a browser sandbox (default http://127.0.0.1:8080).",
)
@click.option(
    "--catalog",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --serve: load this catalog file instead of the demo's (the `catalog import` "
    "format; an optional `demo_stock:` section maps SKUs to stock items).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8080,
    show_default=True,
    help="With --serve: the sandbox's port on 127.0.0.1.",
)
@click.option("--verbose", is_flag=True, help="INFO logs of every component (default: warnings).")
@click.option("--pause", type=float, default=0.0, hidden=True, help="Wait once the servers are up.")
def demo(serve: bool, catalog: Path | None, port: int, verbose: bool, pause: float) -> None:
    """Run the whole shop on loopback (Telegram and Heleket emulators, bot, webhook service,
    SQLite in a temporary directory) and play a customer journey; exits 0 if the item was
    delivered and the ledger is sound. With --serve, a browser sandbox instead."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # the transcript appears as it happens
    if serve:
        run_sandbox(catalog, port, verbose)
        return
    if catalog is not None:
        raise click.UsageError(
            "--catalog needs --serve: the scripted journey uses the demo catalog"
        )
    from shopbot.demo import run_demo  # imported here: it loads the bot and both emulators

    try:
        code = asyncio.run(run_demo(verbose=verbose, pause=pause))
    except KeyboardInterrupt:
        click.echo("\ninterrupted; everything the demo started was stopped", err=True)
        sys.exit(EXIT_INTERRUPTED)
    sys.stdout.flush()
    sys.exit(code)


def run_sandbox(catalog: Path | None, port: int, verbose: bool) -> None:
    from shopbot.demo.browser import PortInUse, check_port, serve_sandbox
    from shopbot.demo.stack import CATALOG
    from shopbot.domain.errors import InvalidInput

    try:
        check_port(port)
    except PortInUse as exc:
        raise click.BadParameter(str(exc), param_hint="--port") from None
    try:
        asyncio.run(serve_sandbox(port, catalog or CATALOG, verbose=verbose))
    except InvalidInput as exc:  # raised before anything starts
        raise click.BadParameter(str(exc), param_hint="--catalog") from None
    except KeyboardInterrupt:
        # Ctrl-C is how the sandbox is meant to end, so it is a normal exit.
        click.echo("\nstopped; everything the sandbox started was stopped", err=True)
