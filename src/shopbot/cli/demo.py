import asyncio
import io
import sys

import click

EXIT_INTERRUPTED = 130


@click.command()
@click.option("--verbose", is_flag=True, help="INFO logs of every component (default: warnings).")
@click.option("--pause", type=float, default=0.0, hidden=True, help="Wait once the servers are up.")
def demo(verbose: bool, pause: float) -> None:
    """Run the whole shop on loopback (Telegram and Heleket emulators, bot, webhook service,
    SQLite in a temporary directory) and play a customer journey; exits 0 if the item was
    delivered and the ledger is sound."""
    from shopbot.demo import run_demo  # imported here: it loads the bot and both emulators

    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # the transcript appears as it happens
    try:
        code = asyncio.run(run_demo(verbose=verbose, pause=pause))
    except KeyboardInterrupt:
        click.echo("\ninterrupted; everything the demo started was stopped", err=True)
        sys.exit(EXIT_INTERRUPTED)
    sys.stdout.flush()
    sys.exit(code)
