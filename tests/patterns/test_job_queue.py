"""The job queue: workers claim every job once on both backends; SKIP LOCKED passes over a
held row on PostgreSQL, where the plain SELECT hands the same job to two workers."""

import asyncio

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taskapp.job_queue import Job, claim_job, enqueue, finish_job

from tests.patterns.support import require_backend


async def fill(maker: async_sessionmaker[AsyncSession], count: int) -> None:
    async with maker() as session, session.begin():
        for n in range(count):
            await enqueue(session, "email", {"n": n})


async def test_claim_job_workers_take_each_job_once(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    await fill(maker, 12)
    claimed: list[int] = []

    async def worker() -> None:
        # bounded: a worker stops at the first empty claim, or after every job
        for _ in range(12):
            async with maker() as session, session.begin():
                job = await claim_job(session)
            if job is None:
                return
            claimed.append(job.id)
            async with maker() as session, session.begin():
                await finish_job(session, job.id, ok=True)

    await asyncio.gather(*(worker() for _ in range(4)))
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 12
    async with maker() as session:
        statuses = (await session.scalars(select(Job.status))).all()
        attempts = (await session.scalars(select(Job.attempts))).all()
    assert set(statuses) == {"done"} and set(attempts) == {1}


async def test_claim_job_skips_a_job_another_worker_holds(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    await fill(maker, 2)
    await require_backend(
        maker, "postgresql", "sqlite: one writing transaction at a time; the second claim waits"
    )
    async with maker() as first, maker() as second:
        held = await claim_job(first)
        # first has not committed: its row is locked, and the second worker takes the next
        other = await claim_job(second)
        assert held is not None and other is not None and held.id != other.id
        await first.commit()
        await second.commit()


async def test_select_without_lock_hands_one_job_to_two_workers(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    """The naive claim: SELECT the oldest queued job, then mark it running."""
    await fill(maker, 2)
    await require_backend(maker, "postgresql", "sqlite: BEGIN IMMEDIATE serializes the claims")
    oldest = select(Job).where(Job.status == "queued").order_by(Job.id).limit(1)
    async with maker() as first, maker() as second:
        mine, theirs = await first.scalar(oldest), await second.scalar(oldest)
        assert mine is not None and theirs is not None
        for session, job in ((first, mine), (second, theirs)):
            job.status = "running"
            await session.commit()
        assert mine.id == theirs.id


async def wait_until_blocked(session: AsyncSession) -> None:
    """Return once another backend of this database waits on a lock (bounded by count)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(2000):
        if await session.scalar(waiting):
            return
    pytest.fail("the second worker never waited on the first one's lock")


async def test_for_update_without_skip_locked_waits_for_the_holder(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    """Why SKIP LOCKED: with a plain FOR UPDATE, each claim waits for the previous one's
    commit, so workers take jobs one at a time however many there are."""
    await fill(maker, 2)
    await require_backend(maker, "postgresql", "sqlite: no row locks")
    plain = select(Job).where(Job.status == "queued").order_by(Job.id).limit(1).with_for_update()
    async with maker() as probe, maker() as first, maker() as second:
        held = await claim_job(first)
        waiter = asyncio.create_task(second.scalar(plain))
        await wait_until_blocked(probe)
        await first.commit()
        # only now does the waiter see the first job claimed and take the next one
        taken = await waiter
        assert held is not None and taken is not None and taken.id != held.id
        await second.rollback()
