"""Case 4: OFFSET vs the asset app's keyset pages at the same depths, and counting rows."""

from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import repository
from app.models import Post
from app.pagination import count_rows
from bench.db import Backend, asset_engine, empty_tables, reset_schema
from bench.runner import Case, Mode, Row, interleave, timed
from bench.seed import copy_rows, post_rows, user_rows

TITLE = "pagination"
PAGE = 20
NEWEST_FIRST = (Post.created_at.desc(), Post.id.desc())


async def run(backend: Backend, mode: Mode) -> list[Row]:
    total = mode.pick(300_000, 3_000)
    depths = [0, 1_000, 100_000, 290_000] if not mode.smoke else [0, 10, 1_000, 2_900]
    pages = mode.pick(5, 2)
    engine = asset_engine(backend)
    await reset_schema(engine)
    await copy_rows(backend, "users", user_rows(1000))
    await copy_rows(backend, "posts", post_rows(total, 1000))
    factory = async_sessionmaker(engine, expire_on_commit=False)
    rows: list[Row] = []
    sql: list[str] = []

    def capture(_c: Any, _cu: Any, statement: str, *_a: Any) -> None:
        sql.append(statement)

    try:
        async with factory() as session:
            for depth in depths:
                rows += await _depth(session, depth, pages, backend.name, mode)
            rows += await _counts(session, mode.pick(3, 1), backend.name, mode)
            event.listen(engine.sync_engine, "before_cursor_execute", capture)
            await count_rows(session, select(Post).order_by(*NEWEST_FIRST))
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
    finally:
        await empty_tables(engine)
        await engine.dispose()
    helper = next(r for r in rows if r.variant.startswith("count helper"))
    helper.extra["ORDER BY in SQL"] = "yes" if "ORDER BY" in sql[-1].upper() else "no"
    return rows


async def _depth(
    session: AsyncSession, depth: int, pages: int, backend: str, mode: Mode
) -> list[Row]:
    after = None
    if depth > 0:
        # the cursor a client holds after reading `depth` rows: the last row it saw
        last = (
            await session.execute(
                select(Post.created_at, Post.id).order_by(*NEWEST_FIRST).offset(depth - 1).limit(1)
            )
        ).one()
        after = (last.created_at, last.id)

    async def keyset() -> None:
        for _ in range(pages):
            got, _cursor = await repository.page_posts(session, after=after, limit=PAGE)
            assert len(got) == PAGE
            session.expunge_all()

    async def offset() -> None:
        stmt = select(Post).order_by(*NEWEST_FIRST).offset(depth).limit(PAGE)
        for _ in range(pages):
            assert len((await session.scalars(stmt)).all()) == PAGE
            session.expunge_all()

    variants = {
        f"keyset page at depth {depth:,}": lambda: timed(keyset, pages),
        f"OFFSET page at depth {depth:,}": lambda: timed(offset, pages),
    }
    return await interleave(TITLE, backend, variants, mode.budget(5, 15))


async def _counts(session: AsyncSession, reps: int, backend: str, mode: Mode) -> list[Row]:
    ordered = select(Post).order_by(*NEWEST_FIRST)

    async def count_star() -> None:
        for _ in range(reps):
            await session.scalar(select(func.count()).select_from(Post))

    async def helper() -> None:
        for _ in range(reps):
            await count_rows(session, ordered)

    async def naive() -> None:
        for _ in range(reps):
            await session.scalar(select(func.count()).select_from(ordered.subquery()))

    variants = {
        "count(*) over the table": lambda: timed(count_star, reps),
        "count helper (subquery, ORDER BY dropped)": lambda: timed(helper, reps),
        "count over a subquery with ORDER BY": lambda: timed(naive, reps),
    }
    return await interleave(TITLE, backend, variants, mode.budget(5, 25))


CASE = Case(
    "pagination",
    TITLE,
    run,
    "300,000 posts, 20 per page; OFFSET and keyset pages at the same depths, and counting "
    "the rows.",
)
