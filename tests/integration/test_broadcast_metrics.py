"""Broadcast outcomes as counters, with the real Bot against the Telegram emulator on real
PostgreSQL: sent, blocked (403) and failed (400: the user never opened the chat)."""

from prometheus_client import REGISTRY

from shopbot.bot.broadcast import Broadcaster
from tests.integration.test_broadcast import Env, FakeClock, add_users, env

__all__ = ["env"]  # the fixture, shared with test_broadcast.py


def sent(outcome: str) -> float:
    return REGISTRY.get_sample_value("shopbot_broadcast_messages_total", {"outcome": outcome}) or 0


async def test_broadcast_outcomes_are_counted(env: Env) -> None:
    await add_users(env, [1, 2, 3, 4, 5])
    await add_users(env, [6], in_telegram=False)
    env.emu.block(3)
    clock = FakeClock()
    before = {outcome: sent(outcome) for outcome in ("sent", "blocked", "failed")}

    report = await Broadcaster(env.bot, env.uows, rate=25, clock=clock, sleep=clock.sleep).send(
        "hello"
    )

    assert (report.sent, report.unreachable, report.failed) == (4, 1, 1)
    assert {outcome: sent(outcome) - before[outcome] for outcome in before} == {
        "sent": 4,
        "blocked": 1,
        "failed": 1,
    }
