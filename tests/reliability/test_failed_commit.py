"""Failed commit: the commit fails after the handler returned; the client must not see a 2xx."""

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from tests.helpers import count_users
from tests.reliability.support import MakeEngine, Serve

NEW_USER = {"email": "commit@example.com", "name": "Commit", "password": "long-enough"}


class CommitFailed(Exception):
    """Stands for any error the database raises at COMMIT (a deferred constraint, a
    serialization failure, a connection lost between the last statement and COMMIT)."""


def failing_once_factory(
    engine: AsyncEngine, error: Exception | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions whose first commit raises error; later sessions commit normally."""

    class FailingSession(Session):
        pass

    remaining = [1]

    @event.listens_for(FailingSession, "before_commit")
    def _fail(_session: Any) -> None:
        if remaining:
            remaining.pop()
            raise error or CommitFailed("injected commit failure")

    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=FailingSession)


COMMIT_ERRORS = [
    pytest.param(CommitFailed("injected"), 500, id="any_error"),
    # what a deferred constraint raises at COMMIT: a bug or a conflict, not worth a retry
    pytest.param(IntegrityError("COMMIT", None, Exception("violates")), 500, id="integrity"),
    # what a connection lost at COMMIT raises (SQLAlchemy saw the disconnect): the client may
    # retry
    pytest.param(
        OperationalError("COMMIT", None, Exception("lost"), connection_invalidated=True),
        503,
        id="connection_lost",
    ),
]


@pytest.mark.parametrize(("error", "status"), COMMIT_ERRORS)
async def test_create_user_commit_failure_gives_error_and_no_row(
    engine: AsyncEngine, make_engine: MakeEngine, serve: Serve, error: Exception, status: int
) -> None:
    app_engine = make_engine()
    async with serve(app_engine, failing_once_factory(app_engine, error)) as client:
        failed = await client.post("/users", json=NEW_USER)
        rows_after_failure = await count_users(engine)
        # the next request gets a fresh session, not the broken one
        retried = await client.post("/users", json=NEW_USER)
    assert failed.status_code == status
    assert rows_after_failure == 0
    assert retried.status_code == 201
    assert await count_users(engine) == 1
