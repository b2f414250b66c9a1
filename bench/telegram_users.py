"""The project's Telegram Bot API emulator with many users who already opened the chat
with the bot, so the bot may answer them (Telegram refuses a bot that writes first).

    python bench/telegram_users.py --port 8081 --token 713713:BENCH --users 1000:2000 \
        [--users 5000:5100] [--global-rate 30]

`--users FIRST:STOP` creates users FIRST..STOP-1 in-process (the control API would take a
request each); no access log, so the emulator's CPU goes to the Bot API calls.
"""

import argparse
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shopbot.sandbox.telegram import EMULATOR, EmulatorConfig, create_app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--users", action="append", default=[], help="FIRST:STOP, repeatable")
    parser.add_argument("--global-rate", type=int, help="flood limit, messages/s per bot")
    options = parser.parse_args()
    bot_id = int(options.token.split(":", 1)[0])
    config = EmulatorConfig(
        bots={options.token: (bot_id, "bench_bot", "Bench")}, global_rate=options.global_rate
    )
    app = create_app(config)
    emulator = app[EMULATOR]
    for block in options.users:
        first, stop = (int(part) for part in block.split(":"))
        for user_id in range(first, stop):
            emulator.create_user(user_id, "Bench", started=True)
    web.run_app(app, host="127.0.0.1", port=options.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
