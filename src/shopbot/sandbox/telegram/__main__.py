"""`python -m shopbot.sandbox.telegram --host 127.0.0.1 --port 8081 --token 123456:TEST`"""

import argparse

from aiohttp import web

from shopbot.observability.logging import configure_logging
from shopbot.sandbox.telegram.app import create_app
from shopbot.sandbox.telegram.config import EmulatorConfig


def parse_token(text: str) -> str:
    bot_id, sep, secret = text.partition(":")
    if not sep or not bot_id.isdigit() or not secret:
        raise argparse.ArgumentTypeError(f"expected <bot id>:<secret>, got {text!r}")
    return text


def parse(argv: list[str] | None = None) -> tuple[argparse.Namespace, EmulatorConfig]:
    """The command line, and the emulator's configuration made from it."""
    parser = argparse.ArgumentParser(
        prog="python -m shopbot.sandbox.telegram", description="Local Telegram Bot API emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--token", action="append", type=parse_token, help="bot token, repeatable (123456:TEST)"
    )
    parser.add_argument("--username", default="sandbox_shop_bot", help="username of the first bot")
    parser.add_argument("--name", default="Sandbox Shop", help="first name of the first bot")
    parser.add_argument("--per-chat-rate", type=int, help="flood limit, messages/s per chat")
    parser.add_argument("--global-rate", type=int, help="flood limit, messages/s per bot")
    parser.add_argument(
        "--webhook-attempts",
        type=int,
        default=EmulatorConfig.webhook_attempts,
        help="webhook deliveries of one update before it is dropped",
    )
    args = parser.parse_args(argv)

    bots: dict[str, tuple[int, str, str]] = {}
    for index, token in enumerate(args.token or ["123456:TEST"]):
        bot_id = int(token.split(":", 1)[0])
        if index == 0:
            bots[token] = (bot_id, args.username, args.name)
        else:
            bots[token] = (bot_id, f"sandbox{bot_id}_bot", f"Sandbox {bot_id}")
    config = EmulatorConfig(
        bots=bots,
        per_chat_rate=args.per_chat_rate,
        global_rate=args.global_rate,
        webhook_attempts=args.webhook_attempts,
    )
    return args, config


def main(argv: list[str] | None = None) -> None:
    configure_logging()
    args, config = parse(argv)
    bots = config.bots
    url = f"http://{args.host}:{args.port}"
    print(f"Telegram Bot API emulator: {url}", flush=True)
    print(
        f"  aiogram: AiohttpSession(api=TelegramAPIServer.from_base({url!r})); "
        f"control API {url}/sandbox/state",
        flush=True,
    )
    for token, (bot_id, username, _) in bots.items():
        print(f"  bot @{username} (id {bot_id}) token {token}", flush=True)
    web.run_app(
        create_app(config), host=args.host, port=args.port, print=None, shutdown_timeout=5.0
    )


if __name__ == "__main__":
    main()
