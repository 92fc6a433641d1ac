"""A job queue in the database: workers claim jobs with FOR UPDATE SKIP LOCKED, never twice."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin, utc_now


class Job(TimestampMixin, Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # queued -> running -> done or failed
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None] = mapped_column(default=None)


async def enqueue(session: AsyncSession, kind: str, payload: dict[str, Any]) -> Job:
    job = Job(kind=kind, payload=payload)
    session.add(job)
    await session.flush()
    return job


async def claim_job(session: AsyncSession) -> Job | None:
    """Take the oldest queued job and mark it running; None when no job is free.

    Commit right after, so the claim is visible and the row lock is released; work on the job
    outside the transaction, then record the outcome with finish_job in another one.
    """
    stmt = (
        select(Job)
        .where(Job.status == "queued")
        .order_by(Job.id)
        .limit(1)
        # PostgreSQL: rows other workers hold are passed over instead of waited for; without
        # SKIP LOCKED each claim waits for the previous claim to commit. SQLite renders no
        # clause: BEGIN IMMEDIATE already lets one transaction at a time run this
        .with_for_update(skip_locked=True)
    )
    job = await session.scalar(stmt)
    if job is not None:
        job.status = "running"
        job.attempts += 1
        job.started_at = utc_now()
    return job


async def finish_job(session: AsyncSession, job_id: int, *, ok: bool) -> None:
    job = await session.get(Job, job_id)
    if job is not None:
        job.status = "done" if ok else "failed"
