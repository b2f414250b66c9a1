"""The broadcast tables on both supported databases, and PostgreSQL's SKIP LOCKED claims."""

from datetime import UTC, datetime

from shopbot.domain.broadcasts.models import (
    BroadcastContent,
    BroadcastStatus,
    ContentKind,
    RecipientState,
    UrlButton,
)
from shopbot.domain.broadcasts.ports import Outcome
from shopbot.domain.broadcasts.progress import Progress
from shopbot.persistence.uow import UnitOfWorkFactory

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PHOTO = BroadcastContent(
    ContentKind.PHOTO, "<b>Hi</b>", "AgAC-file", (UrlButton("Shop", "https://e.x/s"),)
)


async def users(uows: UnitOfWorkFactory, ids: list[int]) -> None:
    async with uows() as uow:
        for user_id in ids:
            await uow.users.register(user_id, username=None, language="en")
        await uow.commit()


async def test_the_job_round_trip(any_uow: UnitOfWorkFactory) -> None:
    await users(any_uow, [5, 3, 1, 4, 2])
    async with any_uow() as uow:
        await uow.users.set_blocked(4, True)  # banned by the shop: not in the audience
        created = await uow.broadcasts.create(request_key="n1", created_by=1, content=PHOTO, at=NOW)
        assert created is not None
        assert (
            await uow.broadcasts.create(request_key="n1", created_by=1, content=PHOTO, at=NOW)
            is None
        )
        await uow.broadcasts.set_progress_message(created.id, chat_id=1, message_id=77)
        await uow.commit()
    async with any_uow() as uow:
        job = await uow.broadcasts.get(created.id)
        assert job is not None
        assert (job.content, job.total, job.status) == (PHOTO, 4, BroadcastStatus.RUNNING)
        assert (job.progress_chat_id, job.progress_message_id) == (1, 77)
        assert [b.id for b in await uow.broadcasts.running()] == [created.id]
        await uow.broadcasts.mark_started(created.id, NOW)
        assert await uow.broadcasts.claim(created.id, 2) == [1, 2]
        assert await uow.broadcasts.claim(created.id, 1) == [3]
        await uow.broadcasts.record(
            created.id,
            [Outcome(1, RecipientState.SENT, 1), Outcome(2, RecipientState.BLOCKED, 2)],
            NOW,
        )
        await uow.broadcasts.release(created.id, [3])
        await uow.commit()
    async with any_uow() as uow:
        assert await uow.broadcasts.claim(created.id, 10) == [3, 5]
        await uow.commit()
    async with any_uow() as uow:
        assert await uow.broadcasts.abandon_in_flight() == 2
        assert await uow.broadcasts.progress(created.id) == Progress(
            total=4, sent=1, blocked=1, unknown=2
        )
        assert await uow.broadcasts.claim(created.id, 10) == []
        assert await uow.broadcasts.finish(created.id, NOW)
        assert not await uow.broadcasts.cancel(created.id, NOW)  # not running any more
        await uow.commit()
    async with any_uow() as uow:
        done = await uow.broadcasts.get(created.id)
        assert done is not None
        assert (done.status, done.finished_at) == (BroadcastStatus.DONE, NOW)
        assert await uow.broadcasts.running() == []


async def test_concurrent_claims_on_postgresql_never_overlap(pg_uow: UnitOfWorkFactory) -> None:
    await users(pg_uow, list(range(1, 11)))
    async with pg_uow() as uow:
        job = await uow.broadcasts.create(
            request_key="n1", created_by=1, content=BroadcastContent(ContentKind.TEXT, "x"), at=NOW
        )
        assert job is not None
        await uow.commit()
    async with pg_uow() as first, pg_uow() as second:
        mine = await first.broadcasts.claim(job.id, 4)  # rows locked, not committed
        theirs = await second.broadcasts.claim(job.id, 4)  # skips them, does not wait
        assert mine == [1, 2, 3, 4]
        assert theirs == [5, 6, 7, 8]
        await first.commit()
        await second.commit()
