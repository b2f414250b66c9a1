"""Broadcast outcomes as counters, with the real Bot against the Telegram emulator on real
PostgreSQL: sent, blocked (403) and failed (400: the user never opened the chat)."""

from prometheus_client import REGISTRY

from tests.integration.broadcast_env import Env, FakeClock, add_users, create, env, states, text

__all__ = ["env"]  # the fixture, shared with test_broadcast.py


def sent(outcome: str) -> float:
    return REGISTRY.get_sample_value("shopbot_broadcast_messages_total", {"outcome": outcome}) or 0


async def test_broadcast_outcomes_are_counted(env: Env) -> None:
    await add_users(env, [1, 2, 3, 4, 5])
    await add_users(env, [6], in_telegram=False)
    env.emu.block(3)
    before = {outcome: sent(outcome) for outcome in ("sent", "blocked", "failed")}
    broadcast = await create(env, text("hello"))

    await env.worker(clock=FakeClock()).drain()

    assert sorted((await states(env, broadcast.id)).values()) == [
        "blocked",
        "failed",
        "sent",
        "sent",
        "sent",
        "sent",
    ]
    assert {outcome: sent(outcome) - before[outcome] for outcome in before} == {
        "sent": 4,
        "blocked": 1,
        "failed": 1,
    }
