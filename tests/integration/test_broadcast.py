"""The broadcast worker sending durable jobs with the real aiogram `Bot` against the
Telegram emulator, on real PostgreSQL: pace, 429s, blocked users, cancel, media with
buttons, the progress message, the audience snapshot."""

import itertools
import re
import time
from datetime import UTC, datetime

import pytest

from shopbot.bot.broadcast import Pacer
from shopbot.domain.broadcasts.models import (
    BroadcastContent,
    BroadcastStatus,
    ContentKind,
    UrlButton,
)
from shopbot.domain.broadcasts.progress import Progress
from tests.integration.broadcast_env import (
    ADMIN,
    Env,
    FakeClock,
    RecordingSleep,
    SendLog,
    add_users,
    create,
    env,
    max_in_any_second,
    png,
    received,
    states,
    text,
)

__all__ = ["env"]  # the fixture


async def test_pacing_never_exceeds_the_rate(env: Env) -> None:
    users = list(range(100, 145))
    await add_users(env, users)
    clock = FakeClock()
    log = SendLog(clock)
    env.bot.session.middleware(log)
    await create(env, text("<b>News</b> &amp; offers"))

    assert await env.worker(rate=10, clock=clock, batch_size=7).drain() == 1

    assert all(received(env, u) == ["News & offers"] for u in users)
    times = [t for t, _ in log.sends]
    assert len(times) == 45
    assert max_in_any_second(times) <= 10
    # ... and no slower than needed: 45 sends at 10/s take a little over 4 seconds.
    assert 4.0 <= times[-1] - times[0] <= 4.5


async def test_pacer_alone_spreads_a_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(3, clock, clock.sleep)
    times = []
    for _ in range(10):
        await pacer.acquire()
        times.append(clock())
    assert max_in_any_second(times) == 3
    assert times[-1] - times[0] == pytest.approx(3.0)
    # Evenly, not a second's budget at once: a burst reaches Telegram unevenly and a
    # sliding one-second count there sees more than the rate.
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) == pytest.approx(1 / 3)
    pacer.pause(5)
    paused_at = clock()
    await pacer.acquire()
    assert clock() - paused_at == pytest.approx(5.0)
    with pytest.raises(ValueError):
        Pacer(0, clock, clock.sleep)


async def test_the_audience_is_the_users_reachable_when_confirmed(env: Env) -> None:
    await add_users(env, [1, 2, 3, 4])
    async with env.uows() as uow:
        await uow.users.mark_unreachable([4], datetime.now(UTC))
        await uow.commit()
    broadcast = await create(env, text("hello"))
    await add_users(env, [5])  # joins after the confirmation

    await env.worker(clock=FakeClock()).drain()

    assert broadcast.total == 3
    assert await states(env, broadcast.id) == {1: "sent", 2: "sent", 3: "sent"}
    assert [received(env, u) for u in (1, 2, 3, 4, 5)] == [["hello"]] * 3 + [[], []]
    async with env.uows() as uow:
        done = await uow.broadcasts.get(broadcast.id)
    assert done is not None
    assert done.status is BroadcastStatus.DONE
    assert done.finished_at is not None


async def test_a_double_confirmation_creates_one_job(env: Env) -> None:
    await add_users(env, [1])
    await create(env, text("once"), key="same")
    async with env.uows() as uow:
        again = await uow.broadcasts.create(
            request_key="same",
            created_by=ADMIN,
            content=text("once"),
            at=datetime.now(UTC),
        )
    assert again is None


async def test_a_429_is_honoured_and_the_same_user_retried(env: Env) -> None:
    users = list(range(200, 212))
    await add_users(env, users)
    env.emu.set_flood(per_chat=None, global_rate=4)  # stricter than the worker's rate
    sleep = RecordingSleep()
    log = SendLog(time.time)
    env.bot.session.middleware(log)
    broadcast = await create(env, text("hello"))

    await env.worker(rate=25, sleep=sleep).drain()

    assert set((await states(env, broadcast.id)).values()) == {"sent"}
    assert all(received(env, u) == ["hello"] for u in users)  # exactly once each
    refusals = [c for c in env.emu.calls("sendMessage") if c.error_code == 429]
    assert refusals, "the emulator's flood limit should have answered 429"
    for refusal in refusals:
        retry_after = int(re.findall(r"retry after (\d+)", refusal.description or "")[0])
        chat_id = int(refusal.params["chat_id"])
        # The next request for that user came no sooner than retry_after seconds later.
        later = [t for t, c in log.sends if c == chat_id and t > refusal.at]
        assert later, chat_id
        assert min(later) >= refusal.at + retry_after - 0.05
        assert any(s >= retry_after - 0.05 for s in sleep.sleeps)


async def test_a_user_who_keeps_getting_429_fails_after_max_attempts(env: Env) -> None:
    await add_users(env, [300])
    env.emu.set_flood(per_chat=None, global_rate=1)
    env.emu.check_flood(env.emu.bot(), env.emu.chat(300))  # the window is full already
    broadcast = await create(env, text("hello"))

    # virtual sleeps: the emulator's real window never clears
    await env.worker(clock=FakeClock(), max_attempts=3).drain()

    assert await states(env, broadcast.id) == {300: "failed"}
    assert len(env.emu.calls("sendMessage")) == 3
    assert received(env, 300) == []


async def test_blocked_users_are_marked_unreachable_and_skipped_next_time(env: Env) -> None:
    await add_users(env, [1, 2, 3, 4, 5])
    await add_users(env, [6], in_telegram=False)  # never opened the chat: 400
    env.emu.block(3)
    clock = FakeClock()
    first = await create(env, text("one"), key="one")
    await env.worker(clock=clock).drain()

    assert await states(env, first.id) == {
        1: "sent",
        2: "sent",
        3: "blocked",
        4: "sent",
        5: "sent",
        6: "failed",
    }
    async with env.uows() as uow:
        assert await uow.users.unreachable_since(3) is not None
        assert await uow.users.unreachable_since(6) is None
        assert await uow.broadcasts.progress(first.id) == Progress(
            total=6, sent=4, blocked=1, failed=1
        )

    second = await create(env, text("two"), key="two")
    await env.worker(clock=clock).drain()

    assert 3 not in await states(env, second.id)
    attempts_for_3 = [c for c in env.emu.calls("sendMessage") if c.params.get("chat_id") == "3"]
    assert len(attempts_for_3) == 1  # only the first broadcast tried
    assert received(env, 1) == ["one", "two"]


async def test_cancel_stops_the_worker_within_one_batch(env: Env) -> None:
    users = list(range(1, 31))
    await add_users(env, users)
    clock = FakeClock()
    broadcast = await create(env, text("x"))

    async def cancel_at(count: int) -> None:
        if count == 7:  # in the second batch of five
            async with env.uows() as uow:
                assert await uow.broadcasts.cancel(broadcast.id, datetime.now(UTC))
                await uow.commit()

    env.bot.session.middleware(SendLog(clock, before=cancel_at))
    await env.worker(clock=clock, batch_size=5).drain()

    got = [u for u in users if received(env, u)]
    assert got == users[:10]  # the batch under way finished; no further batch
    final = await states(env, broadcast.id)
    assert [final[u] for u in users] == ["sent"] * 10 + ["pending"] * 20
    async with env.uows() as uow:
        stopped = await uow.broadcasts.get(broadcast.id)
        assert stopped is not None
        assert stopped.status is BroadcastStatus.CANCELLED
        assert await uow.broadcasts.running() == []


@pytest.mark.parametrize("kind", [ContentKind.PHOTO, ContentKind.DOCUMENT])
async def test_media_with_url_buttons_reach_every_user(env: Env, kind: ContentKind) -> None:
    await add_users(env, [1, 2])
    folder = "photos" if kind is ContentKind.PHOTO else "documents"
    name = "offer.png" if kind is ContentKind.PHOTO else "price.pdf"
    stored = env.emu.store_file(png(), name, None, folder)
    buttons = (UrlButton("Shop", "https://example.com/shop"), UrlButton("Help", "https://e.x/h"))
    content = BroadcastContent(kind, "<b>Sale</b> &amp; more", stored.file_id, buttons)
    await create(env, content)

    await env.worker(clock=FakeClock()).drain()

    for user_id in (1, 2):
        [message] = [m for m in env.emu.messages(user_id) if m.sender == "bot"]
        assert message.caption == "Sale & more"
        assert message.caption_entities[0]["type"] == "bold"
        if kind is ContentKind.PHOTO:
            assert message.photo is not None
            assert message.photo[0]["file_id"] == stored.file_id
        else:
            assert message.document is not None
            assert message.document["file_id"] == stored.file_id
        assert message.buttons == [
            [{"text": "Shop", "url": "https://example.com/shop"}],
            [{"text": "Help", "url": "https://e.x/h"}],
        ]


async def test_the_progress_message_is_edited_with_the_counts(env: Env) -> None:
    users = list(range(1, 41))
    await add_users(env, users)
    env.emu.block(40)
    clock = FakeClock()
    broadcast = await create(env, text("x"), progress=True)

    await env.worker(rate=10, clock=clock, batch_size=10, progress_every=2.0).drain()

    edits = [c for c in env.emu.calls("editMessageText") if c.ok]
    assert 2 <= len(edits) <= 4  # every 2 virtual seconds of a 4-second run, and the end
    progress = env.emu.last_bot_message(ADMIN)
    assert progress is not None
    assert progress.text == (
        f"📣 Broadcast #{broadcast.id}: finished\n"
        "▓▓▓▓▓▓▓▓▓▓ 100 %\n"
        "Sent 39 · blocked 1 · failed 0 · left 0"
    )
    assert progress.buttons == []  # no Cancel once it stopped
    first = edits[0].params["text"]
    assert "sending" in first
    assert "left 0" not in first
    assert "Time left: about 0:0" in first
    assert "Cancel the broadcast" in edits[0].params["reply_markup"]
