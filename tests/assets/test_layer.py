"""The asset layer's promises below HTTP: loading, timestamps, password storage, counting."""

import importlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.exc import IntegrityError, InvalidRequestError, StatementError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import selectinload

from app import repository
from app.db import SessionDep
from app.db.config import DatabaseSettings
from app.db.engine import create_engine
from app.models import Post, User
from app.pagination import count_rows
from app.security import hash_password, verify_password

NEW_USER = {"email": "grace@example.com", "name": "Grace", "password": "cobol-forever"}


async def test_lazy_load_of_relationship_raises(session: AsyncSession) -> None:
    user = User(email="a@example.com", name="A", hashed_password="x")
    session.add(user)
    await session.commit()
    loaded = (await session.scalars(select(User).where(User.id == user.id))).one()
    session.expunge_all()
    with pytest.raises(InvalidRequestError, match="lazy='raise'"):
        _ = loaded.posts


async def test_selectinload_loads_relationship(session: AsyncSession) -> None:
    user = User(email="b@example.com", name="B", hashed_password="x")
    session.add(user)
    await session.flush()
    session.add_all([Post(author_id=user.id, title=f"t{i}", content="") for i in range(3)])
    await session.commit()
    session.expunge_all()
    stmt = select(User).where(User.id == user.id).options(selectinload(User.posts))
    loaded = (await session.scalars(stmt)).one()
    assert sorted(p.title for p in loaded.posts) == ["t0", "t1", "t2"]


async def test_timestamps_readable_and_aware_after_insert_and_update(session: AsyncSession) -> None:
    user = User(email="c@example.com", name="C", hashed_password="x")
    session.add(user)
    await session.commit()
    # reading after commit needs no query: a lazy refresh here would raise MissingGreenlet
    created, first_update = user.created_at, user.updated_at
    assert created.utcoffset() == timedelta(0)
    user.name = "C2"
    await session.commit()
    assert user.updated_at > first_update
    assert user.created_at == created
    session.expunge_all()
    reloaded = await session.get(User, user.id)
    assert reloaded is not None
    assert reloaded.updated_at == user.updated_at
    assert reloaded.updated_at.tzinfo is not None


async def test_timestamps_store_other_offsets_as_utc(session: AsyncSession) -> None:
    user = User(email="d@example.com", name="D", hashed_password="x")
    session.add(user)
    await session.flush()
    plus_two = timezone(timedelta(hours=2))
    post = Post(
        author_id=user.id,
        title="t",
        content="",
        created_at=datetime(2024, 5, 1, 12, tzinfo=plus_two),
    )
    session.add(post)
    await session.commit()
    session.expunge_all()
    reloaded = await session.get(Post, post.id)
    assert reloaded is not None
    assert reloaded.created_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert reloaded.created_at.utcoffset() == timedelta(0)


async def test_naive_datetime_is_refused(session: AsyncSession) -> None:
    user = User(
        email="e@example.com", name="E", hashed_password="x", created_at=datetime(2024, 1, 1)
    )
    session.add(user)
    with pytest.raises(StatementError, match="naive datetime"):
        await session.flush()


async def test_password_stored_hashed_never_returned(
    client: AsyncClient, session: AsyncSession
) -> None:
    created = await client.post("/users", json=NEW_USER)
    user_id = created.json()["id"]
    await client.post(f"/users/{user_id}/posts", json={"title": "t"})
    responses = [
        created,
        await client.get(f"/users/{user_id}"),
        await client.get("/users"),
        await client.patch(f"/users/{user_id}", json={"name": "G"}),
        await client.get(f"/users/{user_id}/posts"),
        await client.get("/posts"),
        await client.post("/users", json=NEW_USER),
    ]
    for response in responses:
        assert "hashed_password" not in response.text
        assert NEW_USER["password"] not in response.text
    stored = await session.scalar(select(User.hashed_password).where(User.id == user_id))
    assert stored is not None and stored.startswith("$argon2id$")
    assert NEW_USER["password"] not in stored
    assert verify_password(NEW_USER["password"], stored)
    assert not verify_password("wrong password", stored)


def test_hash_password_salts_each_hash() -> None:
    assert hash_password("same") != hash_password("same")


async def test_count_rows_ignores_order_limit_and_offset(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    session.add_all(
        User(email=f"u{i}@example.com", name="U", hashed_password="x") for i in range(7)
    )
    await session.flush()
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(connection.sync_connection, "before_cursor_execute", record)
    try:
        stmt = select(User).order_by(User.name.desc()).limit(2).offset(1)
        assert await count_rows(session, stmt) == 7
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", record)
    assert len(statements) == 1
    assert "ORDER BY" not in statements[0].upper()


async def test_create_post_refuses_unknown_author(session: AsyncSession) -> None:
    post = Post(author_id=987654, title="orphan", content="")
    session.add(post)
    # SQLite checks foreign keys only because app/db/engine.py turns them on per connection
    with pytest.raises(IntegrityError, match="(?i)foreign key"):
        await session.flush()
    await session.rollback()
    assert (await session.execute(text("SELECT count(*) FROM posts"))).scalar_one() == 0


async def delete_author_then_count_posts(conn: AsyncConnection) -> int:
    """Insert a user with a post, delete the user with a plain DELETE, count the posts left."""
    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint") as session:
        author = User(email="fk@example.com", name="Fk", hashed_password="x")
        session.add(author)
        await session.flush()
        session.add(Post(author_id=author.id, title="t", content=""))
        await session.flush()
        await session.execute(delete(User).where(User.id == author.id))
        return (await session.execute(select(func.count()).select_from(Post))).scalar_one()


async def test_sqlite_enforces_foreign_keys_only_with_connect_hook(engine: AsyncEngine) -> None:
    # wrong: an engine without the connect hook that runs PRAGMA foreign_keys=ON
    plain = create_async_engine(engine.url.render_as_string(hide_password=False))
    try:
        async with plain.connect() as conn:
            left = await delete_author_then_count_posts(conn)
            await conn.rollback()
    finally:
        await plain.dispose()
    # SQLite: the post outlives its author, ON DELETE CASCADE never ran; PostgreSQL enforces
    # foreign keys on every connection
    assert left == (1 if engine.dialect.name == "sqlite" else 0)

    # taught: the asset engine runs the pragma on each connection, so the cascade runs
    async with engine.connect() as conn:
        assert await delete_author_then_count_posts(conn) == 0
        await conn.rollback()


# quotes, statement and comment markers, LIKE wildcards, the escape characters of LIKE
# (backslash, and "/" which SQLAlchemy's autoescape uses)
SEARCH_META = "a'b\"c;d--e/*f*/g\\h%i_j/k"
SEARCH_INJECTION = "x'); DROP TABLE users; --"
WILDCARDS = ["%", "_"]


@pytest.mark.parametrize(
    "q", [*WILDCARDS, "/", "\\", "'", "--", "/*", SEARCH_META, SEARCH_INJECTION]
)
async def test_search_without_autoescape_matches_every_row(session: AsyncSession, q: str) -> None:
    session.add_all(
        [
            User(email="plain@example.com", name="plain name", hashed_password="x"),
            User(
                email="odd@example.com",
                name=f"{SEARCH_META} {SEARCH_INJECTION}",
                hashed_password="x",
            ),
        ]
    )
    await session.flush()
    # wrong: the user's text pasted into a LIKE pattern, where % and _ match anything
    naive = select(User.email).where(User.name.ilike(f"%{q}%")).order_by(User.id)
    naive_emails = list((await session.scalars(naive)).all())
    if q in WILDCARDS:
        assert naive_emails == ["plain@example.com", "odd@example.com"]
    # taught: icontains(q, autoescape=True) in repository.list_users matches the text itself
    users, count = await repository.list_users(session, q=q)
    assert [u.email for u in users] == ["odd@example.com"]
    assert count == 1


async def test_refresh_in_a_loop_is_one_query_per_row(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    authors = [User(email=f"n{i}@example.com", name=f"N{i}", hashed_password="x") for i in range(3)]
    session.add_all(authors)
    await session.flush()
    session.add_all([Post(author_id=a.id, title="t", content="") for a in authors])
    await session.commit()
    session.expunge_all()
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        # wrong: the collection loaded per user, by hand: one query per row, the N+1
        users = (await session.scalars(select(User).order_by(User.id))).all()
        for user in users:
            await session.refresh(user, ["posts"])
        loop_statements = len(statements)
        session.expunge_all()
        statements.clear()
        # taught: selectinload loads every user's posts in one more query
        stmt = select(User).order_by(User.id).options(selectinload(User.posts))
        loaded = (await session.scalars(stmt)).all()
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    # at least one query per row (a refresh of one attribute runs two on 2.0)
    assert loop_statements >= 1 + len(authors)
    assert len(statements) == 2
    assert [len(u.posts) for u in loaded] == [1, 1, 1]


async def test_commit_in_handler_keeps_first_half_of_failed_request(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_module = importlib.import_module("app.db.session")
    monkeypatch.setattr(
        session_module, "session_factory", async_sessionmaker(engine, expire_on_commit=False)
    )
    demo = FastAPI()

    @demo.post("/pair")
    async def create_pair(session: SessionDep, commit_between: bool) -> None:
        session.add(User(email="first@example.com", name="First", hashed_password="x"))
        await session.flush()
        if commit_between:
            # wrong: a commit in the handler ends the request's transaction early
            await session.commit()
        # the second half fails: a duplicate email
        session.add(User(email="first@example.com", name="Again", hashed_password="x"))
        await session.flush()

    transport = ASGITransport(app=demo, raise_app_exceptions=False)
    try:
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            wrong = await client.post("/pair", params={"commit_between": True})
            left_by_wrong = await count_users(engine)
            async with engine.begin() as conn:
                await conn.execute(delete(User))
            # taught: the dependency commits once, so the failure rolls back both halves
            taught = await client.post("/pair", params={"commit_between": False})
            left_by_taught = await count_users(engine)
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(User))
    assert (wrong.status_code, left_by_wrong) == (500, 1)
    assert (taught.status_code, left_by_taught) == (500, 0)


async def count_users(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        count: int = (await conn.execute(select(func.count()).select_from(User))).scalar_one()
        return count


async def test_engine_per_request_opens_a_connection_per_request(engine: AsyncEngine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    engines: list[AsyncEngine] = []
    connects: list[object] = []

    def on_connect(dbapi_connection: object, _record: object) -> None:
        connects.append(dbapi_connection)

    async def engine_per_request() -> AsyncIterator[AsyncSession]:
        # wrong: a new engine, so a new pool and a new connection, for every request
        created = create_engine(DatabaseSettings(database_url=url))
        engines.append(created)
        event.listen(created.sync_engine, "connect", on_connect)
        async with AsyncSession(created) as session, session.begin():
            yield session

    shared = create_engine(DatabaseSettings(database_url=url))
    event.listen(shared.sync_engine, "connect", on_connect)

    async def shared_engine() -> AsyncIterator[AsyncSession]:
        # taught: one engine built once, its pool reused
        async with AsyncSession(shared) as session, session.begin():
            yield session

    demo = FastAPI()

    @demo.get("/per-request")
    async def per_request(
        session: Annotated[AsyncSession, Depends(engine_per_request, scope="function")],
    ) -> int:
        return (await session.execute(select(func.count()).select_from(User))).scalar_one()

    @demo.get("/shared")
    async def once(
        session: Annotated[AsyncSession, Depends(shared_engine, scope="function")],
    ) -> int:
        return (await session.execute(select(func.count()).select_from(User))).scalar_one()

    try:
        async with AsyncClient(transport=ASGITransport(app=demo), base_url="http://test") as c:
            for _ in range(5):
                assert (await c.get("/per-request")).status_code == 200
            per_request_connects = len(connects)
            connects.clear()
            for _ in range(5):
                assert (await c.get("/shared")).status_code == 200
    finally:
        for created in [*engines, shared]:
            await created.dispose()
    assert (per_request_connects, len(engines)) == (5, 5)
    assert len(connects) == 1
