"""Case 5: what isolating one test costs: create_all/drop_all, TRUNCATE, savepoint rollback."""

import statistics

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import Base
from app.models import User
from bench.db import Backend, asset_engine, reset_schema
from bench.runner import Case, Mode, Row, interleave, timed

TITLE = "test isolation"


async def _body(factory: async_sessionmaker[AsyncSession], n: int) -> None:
    """A typical small test: write a user, commit, read it back."""
    async with factory() as session:
        async with session.begin():
            session.add(User(email=f"t{n}@example.com", name="T", hashed_password="x"))
        found = await session.scalar(select(User).where(User.email == f"t{n}@example.com"))
        assert found is not None


async def _truncate(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.exec_driver_sql("TRUNCATE posts, users RESTART IDENTITY CASCADE")
        else:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())


async def run(backend: Backend, mode: Mode) -> list[Row]:
    tests = mode.pick(15, 3)
    engine = asset_engine(backend)
    await reset_schema(engine)
    plain = async_sessionmaker(engine, expire_on_commit=False)
    counter = iter(range(10**9))

    async def no_isolation() -> None:
        # the body alone on a shared schema: the reference every overhead is measured from
        for _ in range(tests):
            await _body(plain, next(counter))

    async def create_drop() -> None:
        for _ in range(tests):
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            await _body(plain, next(counter))
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)

    async def truncate() -> None:
        for _ in range(tests):
            await _body(plain, next(counter))
            await _truncate(engine)

    async def savepoint() -> None:
        # the asset fixtures: an outer transaction per test, sessions that end only SAVEPOINTs
        for _ in range(tests):
            async with engine.connect() as conn:
                outer = await conn.begin()
                factory = async_sessionmaker(
                    bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
                )
                await _body(factory, next(counter))
                await outer.rollback()

    async def prepare_dropped() -> None:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)

    async def prepare_created() -> None:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await _truncate(engine)

    async def rep(fn: object, dropped: bool = False) -> float:
        await (prepare_dropped() if dropped else prepare_created())
        return await timed(fn, tests)  # type: ignore[arg-type]

    variants = {
        "test body alone (no isolation)": lambda: rep(no_isolation),
        "savepoint rollback (asset fixtures)": lambda: rep(savepoint),
        "TRUNCATE after each test": lambda: rep(truncate),
        "create_all + drop_all per test": lambda: rep(create_drop, dropped=True),
    }
    try:
        result = await interleave(TITLE, backend.name, variants, mode.budget(5, 30))
    finally:
        await reset_schema(engine)
        await engine.dispose()
    base = result[0].samples
    for row in result:
        overhead = [s - b for s, b in zip(row.samples, base, strict=True)]
        row.extra["overhead ms/test"] = statistics.median(overhead)
    return result


CASE = Case(
    "isolation",
    TITLE,
    run,
    "15 simulated tests per repetition (insert a user, commit, read it back) under each way "
    "of isolating tests.",
)
