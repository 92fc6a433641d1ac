"""Case 3: 100 users with 10 posts each: lazy loading vs selectinload vs joinedload."""

from typing import Any

from sqlalchemy import ForeignKey, String, event, select
from sqlalchemy.ext.asyncio import AsyncAttrs, AsyncEngine, async_sessionmaker
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)

from app.models import User
from bench.db import Backend, asset_engine, empty_tables, reset_schema
from bench.runner import Case, Mode, Row, interleave, timed
from bench.seed import copy_rows, post_rows, user_rows

TITLE = "loading"


class LazyBase(AsyncAttrs, DeclarativeBase):
    """A copy of the asset models' tables with SQLAlchemy's default loader (lazy="select")."""


class LazyUser(LazyBase):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    posts: Mapped[list["LazyPost"]] = relationship(back_populates="author")


class LazyPost(LazyBase):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author: Mapped[LazyUser] = relationship(back_populates="posts")


class Counter:
    """Counts the SELECT statements an engine sends, through before_cursor_execute."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.selects = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # BEGIN IMMEDIATE (SQLite) goes through the cursor too; only queries are counted
        if statement.lstrip().upper().startswith("SELECT"):
            self.selects += 1


async def run(backend: Backend, mode: Mode) -> list[Row]:
    users, per_user = 100, 10
    engine = asset_engine(backend)
    await reset_schema(engine)
    await copy_rows(backend, "users", user_rows(users))
    await copy_rows(backend, "posts", post_rows(users * per_user, users))
    factory = async_sessionmaker(engine, expire_on_commit=False)
    counter = Counter(engine)
    statements: dict[str, int] = {}

    async def lazy() -> int:
        async with factory() as session:
            loaded = (await session.scalars(select(LazyUser).order_by(LazyUser.id))).all()
            return sum([len(await u.awaitable_attrs.posts) for u in loaded])

    async def selectin() -> int:
        async with factory() as session:
            stmt = select(User).options(selectinload(User.posts)).order_by(User.id)
            return sum(len(u.posts) for u in (await session.scalars(stmt)).all())

    async def joined() -> int:
        async with factory() as session:
            stmt = select(User).options(joinedload(User.posts)).order_by(User.id)
            return sum(len(u.posts) for u in (await session.scalars(stmt)).unique().all())

    async def rep(name: str, fn: Any) -> float:
        before = counter.selects
        loaded: list[int] = []

        async def once() -> None:
            loaded.append(await fn())

        seconds = await timed(once, 1)
        if loaded != [users * per_user]:
            raise AssertionError(f"{name} loaded {loaded} posts, expected {users * per_user}")
        statements[name] = counter.selects - before
        return seconds

    variants = {
        "selectinload": lambda: rep("selectinload", selectin),
        "joinedload": lambda: rep("joinedload", joined),
        "lazy loading in a loop": lambda: rep("lazy loading in a loop", lazy),
    }
    try:
        result = await interleave(TITLE, backend.name, variants, mode.budget(7, 20))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", counter._on_execute)
        await empty_tables(engine)
        await engine.dispose()
    for row in result:
        row.extra["statements"] = statements[row.variant]
    return result


CASE = Case(
    "loading",
    TITLE,
    run,
    "100 users with 10 posts each, loaded three ways.",
)
