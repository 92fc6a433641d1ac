"""Database errors answered by cause. Each error is provoked for real on its backend,
then raised through the asset's handlers: retryable ones answer 503 with Retry-After, a missing
table 500 with a log line that says to migrate, every other one 500."""

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.errors import Cause, cause, unique_violation, violates_foreign_key
from app.errors import (
    DATABASE_BUSY,
    DATABASE_TIMEOUT,
    DATABASE_UNAVAILABLE,
    INTERNAL_ERROR,
    add_error_handlers,
)
from app.models import Post, User
from app.repository import AUTHOR_FOREIGN_KEY
from tests.provoke import (
    Provoke,
    deadlock,
    duplicate_key,
    lock_not_available,
    missing_column,
    missing_insert_column,
    missing_table,
    serialization_failure,
    sqlite_busy,
    statement_timeout,
    syntax_error,
)
from tests.reliability.support import MakeEngine, Serve

# name -> (provoke, backend or None for both, cause, status, detail)
CASES: dict[str, tuple[Provoke, str | None, Cause | None, int, str]] = {
    "serialization_failure": (serialization_failure, "postgresql", Cause.BUSY, 503, DATABASE_BUSY),
    "deadlock": (deadlock, "postgresql", Cause.BUSY, 503, DATABASE_BUSY),
    "lock_not_available": (lock_not_available, "postgresql", Cause.BUSY, 503, DATABASE_BUSY),
    "statement_timeout": (statement_timeout, "postgresql", Cause.TIMEOUT, 503, DATABASE_TIMEOUT),
    "database_is_locked": (sqlite_busy, "sqlite", Cause.BUSY, 503, DATABASE_BUSY),
    "missing_table": (missing_table, None, Cause.SCHEMA, 500, INTERNAL_ERROR),
    "missing_column": (missing_column, None, Cause.SCHEMA, 500, INTERNAL_ERROR),
    "missing_insert_column": (missing_insert_column, None, Cause.SCHEMA, 500, INTERNAL_ERROR),
    "duplicate_key": (duplicate_key, None, None, 500, INTERNAL_ERROR),
    # SQLite raises syntax errors as OperationalError, like "database is locked": a class
    # says nothing about the cause
    "syntax_error": (syntax_error, None, None, 500, INTERNAL_ERROR),
}
SQLSTATES = {
    "serialization_failure": "40001",
    "deadlock": "40P01",
    "lock_not_available": "55P03",
    "statement_timeout": "57014",
}


async def answer(exc: BaseException) -> Response:
    """What a client gets when a handler raises exc, with the asset's error handlers."""
    demo = FastAPI()
    add_error_handlers(demo)

    @demo.get("/fails")
    async def fails() -> None:
        raise exc

    transport = ASGITransport(app=demo, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/fails")


@pytest.mark.parametrize("name", sorted(CASES))
async def test_database_error_answers_by_cause(
    engine: AsyncEngine,
    make_engine: MakeEngine,
    scratch_table: str,
    name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    provoke, backend, expected, status, detail = CASES[name]
    if backend is not None and engine.dialect.name != backend:
        pytest.skip(f"{engine.dialect.name}: {name} is {backend}'s")
    with pytest.raises(DBAPIError) as raised:
        async with asyncio.timeout(30):
            await provoke(make_engine(), scratch_table)
    assert cause(raised.value) is expected
    if name in SQLSTATES:
        assert getattr(raised.value.orig, "sqlstate", None) == SQLSTATES[name]
    response = await answer(raised.value)
    assert response.status_code == status
    assert response.json() == {"detail": detail}
    assert ("Retry-After" in response.headers) is (status == 503)
    [line] = [r.getMessage() for r in caplog.records if r.name == "app.errors"]
    if expected is Cause.SCHEMA:
        assert "run the migrations (alembic upgrade head)" in line


async def test_database_file_that_cannot_be_opened_is_unavailable(
    engine: AsyncEngine, make_engine: MakeEngine, tmp_path: Path
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip(f"{engine.dialect.name}: connect failures are in test_timeouts.py")
    unmounted = make_engine(database_url=f"sqlite+aiosqlite:///{tmp_path / 'none' / 'app.db'}")
    with pytest.raises(DBAPIError) as raised:
        async with unmounted.connect():
            pass
    assert cause(raised.value) is Cause.UNAVAILABLE
    assert (await answer(raised.value)).json() == {"detail": DATABASE_UNAVAILABLE}


async def test_socket_error_of_another_client_is_not_a_database_error() -> None:
    # an HTTP client's refused connection, say: not "Database unavailable", and no Retry-After
    response = await answer(ConnectionRefusedError(111, "Connection refused"))
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    assert "Database" not in response.text


async def test_unique_violation_names_the_constraint_on_both_backends(
    engine: AsyncEngine, make_engine: MakeEngine, scratch_table: str
) -> None:
    app_engine = make_engine()
    row = {"email": "twice@example.com", "name": "Twice", "hashed_password": "x"}
    insert_user = text(
        "INSERT INTO users (email, name, hashed_password, is_active, created_at, updated_at) "
        "VALUES (:email, :name, :hashed_password, TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    try:
        async with app_engine.begin() as conn:
            await conn.execute(insert_user, row)
        with pytest.raises(IntegrityError) as email:
            async with app_engine.begin() as conn:
                await conn.execute(insert_user, row)
        with pytest.raises(IntegrityError) as primary_key:
            async with app_engine.begin() as conn:
                await conn.execute(text(f"INSERT INTO {scratch_table} (id, n) VALUES (1, 0)"))
    finally:
        async with app_engine.begin() as conn:
            await conn.execute(delete(User))
    # SQLite's message names columns (users.email), mapped back to the constraint through
    # the metadata; PostgreSQL's error carries the constraint's name
    assert unique_violation(email.value) == "uq_users_email"
    # the test's table is not in the models' metadata: on SQLite nothing names its key
    expected = f"{scratch_table}_pkey" if engine.dialect.name == "postgresql" else None
    assert unique_violation(primary_key.value) == expected


async def test_create_user_violating_another_unique_constraint_is_not_email_taken(
    engine: AsyncEngine, make_engine: MakeEngine, serve: Serve
) -> None:
    """Any IntegrityError used to read "A user with this email already exists"."""
    async with engine.begin() as conn:
        await conn.execute(text("CREATE UNIQUE INDEX uq_users_name_test ON users (name)"))
    try:
        async with serve(make_engine()) as client:
            body = {"email": "first@example.com", "name": "Same", "password": "long-enough"}
            first = await client.post("/users", json=body)
            same_email = await client.post("/users", json=body | {"name": "Other"})
            same_name = await client.post("/users", json=body | {"email": "second@example.com"})
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP INDEX uq_users_name_test"))
    assert first.status_code == 201
    assert same_email.status_code == 409
    assert same_name.status_code == 500
    assert same_name.json() == {"detail": INTERNAL_ERROR}


async def test_foreign_key_violation_names_the_key_on_both_backends(
    engine: AsyncEngine, make_engine: MakeEngine
) -> None:
    insert_post = text(
        "INSERT INTO posts (title, content, author_id, created_at, updated_at) "
        "VALUES ('Orphan', '', 424242, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    with pytest.raises(IntegrityError) as orphan:
        async with make_engine().begin() as conn:
            await conn.execute(insert_post)
    assert violates_foreign_key(orphan.value, AUTHOR_FOREIGN_KEY)
    assert unique_violation(orphan.value) is None
    # PostgreSQL's error carries the key's name; SQLite's says only "FOREIGN KEY constraint
    # failed", so there any foreign key of the statement counts
    other_key = violates_foreign_key(orphan.value, "fk_posts_editor_id_users")
    assert other_key is (engine.dialect.name == "sqlite")


async def test_restrict_foreign_key_names_the_key_on_both_backends(
    make_engine: MakeEngine, scratch_table: str
) -> None:
    """Deleting a parent that ON DELETE RESTRICT protects: SQLite reports it as a trigger
    failure (SQLITE_CONSTRAINT_TRIGGER), not SQLITE_CONSTRAINT_FOREIGNKEY."""
    engine = make_engine()
    child, key = f"{scratch_table}_child", f"fk_{scratch_table}_child_parent"
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"CREATE TABLE {child} (id INTEGER PRIMARY KEY, parent_id INTEGER, CONSTRAINT "
                f"{key} FOREIGN KEY (parent_id) REFERENCES {scratch_table} (id) ON DELETE RESTRICT)"
            )
        )
        await conn.execute(text(f"INSERT INTO {child} (id, parent_id) VALUES (1, 1)"))
    try:
        with pytest.raises(IntegrityError) as blocked:
            async with engine.begin() as conn:
                await conn.execute(text(f"DELETE FROM {scratch_table} WHERE id = 1"))
        assert violates_foreign_key(blocked.value, key)
        if engine.dialect.name == "sqlite":
            # a trigger's RAISE(ABORT, ...) has the same error name and is no foreign key
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        f"CREATE TRIGGER {child}_no BEFORE INSERT ON {child} "
                        "BEGIN SELECT RAISE(ABORT, 'no'); END"
                    )
                )
            with pytest.raises(IntegrityError) as refused:
                async with engine.begin() as conn:
                    await conn.execute(text(f"INSERT INTO {child} (id) VALUES (2)"))
            assert (
                getattr(refused.value.orig, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_TRIGGER"
            )
            assert not violates_foreign_key(refused.value, key)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE {child}"))


async def test_create_post_violating_another_constraint_is_not_author_missing(
    engine: AsyncEngine, make_engine: MakeEngine, serve: Serve
) -> None:
    """Any IntegrityError of a new post used to read "User not found" (404)."""
    async with engine.begin() as conn:
        await conn.execute(text("CREATE UNIQUE INDEX uq_posts_title_test ON posts (title)"))
    try:
        async with serve(make_engine()) as client:
            body = {"email": "author@example.com", "name": "Author", "password": "long-enough"}
            author = (await client.post("/users", json=body)).json()["id"]
            first = await client.post(f"/users/{author}/posts", json={"title": "Same"})
            same_title = await client.post(f"/users/{author}/posts", json={"title": "Same"})
            no_author = await client.post("/users/424242/posts", json={"title": "Orphan"})
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP INDEX uq_posts_title_test"))
    assert first.status_code == 201
    assert same_title.status_code == 500
    assert same_title.json() == {"detail": INTERNAL_ERROR}
    assert no_author.status_code == 404
    async with engine.connect() as conn:
        titles = (await conn.execute(select(Post.title))).scalars().all()
    assert titles == ["Same"]
