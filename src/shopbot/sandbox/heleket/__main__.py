"""`python -m shopbot.sandbox.heleket --port 8090 --merchant-id M --api-key K --payout-key P`"""

import argparse
import sys
from decimal import Decimal

import uvicorn

from shopbot.observability.logging import configure_logging
from shopbot.sandbox.heleket.app import create_app
from shopbot.sandbox.heleket.config import EmulatorConfig


def parse_rate(text: str) -> tuple[str, str, str]:
    """ "USD:USDT=1" -> ("USD", "USDT", "1")."""
    try:
        pair, rate = text.split("=", 1)
        source, target = pair.split(":", 1)
        Decimal(rate)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected FROM:TO=RATE, got {text!r}") from exc
    return source.strip().upper(), target.strip().upper(), rate.strip()


def main(argv: list[str] | None = None) -> None:
    configure_logging()
    parser = argparse.ArgumentParser(
        prog="python -m shopbot.sandbox.heleket", description="Local Heleket API emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--merchant-id", default="sandbox-merchant")
    parser.add_argument("--api-key", default="sandbox-payment-key", help="the payment key")
    parser.add_argument("--payout-key", default="sandbox-payout-key")
    parser.add_argument("--public-url", help="base URL of invoice pages (default: own URL)")
    parser.add_argument(
        "--rate",
        action="append",
        type=parse_rate,
        metavar="FROM:TO=RATE",
        help="exchange rate, repeatable (default USD:USDT=1)",
    )
    parser.add_argument("--commission", default="2", help="commission percent")
    parser.add_argument("--webhook-attempts", type=int, default=8)
    parser.add_argument("--webhook-base-delay", type=float, default=1.0)
    args = parser.parse_args(argv)

    rates: dict[str, dict[str, str]] = {}
    for source, target, rate in args.rate or [("USD", "USDT", "1")]:
        rates.setdefault(source, {})[target] = rate
    url = f"http://{args.host}:{args.port}"
    config = EmulatorConfig(
        merchants={args.merchant_id: (args.api_key, args.payout_key)},
        rates=rates,
        public_url=args.public_url or url,
        commission_percent=Decimal(args.commission),
        webhook_attempts=args.webhook_attempts,
        webhook_base_delay=args.webhook_base_delay,
    )
    print(f"Heleket emulator: {url}  (API {url}/v1, control {url}/sandbox)", flush=True)
    print(f"merchant {args.merchant_id}; invoice pages under {config.public_url}/pay/", flush=True)
    sys.stdout.flush()
    uvicorn.run(
        create_app(config), host=args.host, port=args.port, log_level="info", log_config=None
    )


if __name__ == "__main__":
    main()
