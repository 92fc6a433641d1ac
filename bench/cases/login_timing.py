"""Case: login time for a known and an unknown email, and the cost of one password hash.

repository.authenticate_user verifies a dummy hash when the email has no account, so both
answers take one hash; the naive login returns as soon as the lookup finds nothing. The
hash-only rows compare the asset's Argon2id with the scrypt settings it replaced.
"""

import hashlib
import secrets
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import repository
from app.schemas import UserCreate
from app.security import hash_password
from bench.db import Backend, asset_engine, empty_tables, reset_schema
from bench.runner import Case, Mode, Rep, Row, interleave, timed

TITLE = "login timing"
KNOWN = "ada@example.com"
UNKNOWN = "nobody@example.com"
PASSWORD = "analytical-engine"


Authenticate = Callable[[AsyncSession, str, str], Awaitable[object]]


async def naive_authenticate(session: AsyncSession, email: str, password: str) -> object:
    # without the dummy hash: an unknown email is answered before any hashing
    if await repository.get_user_by_email(session, email) is None:
        return None
    return await repository.authenticate_user(session, email, password)


def _scrypt(n: int) -> None:
    hashlib.scrypt(
        PASSWORD.encode(), salt=secrets.token_bytes(16), n=n, r=8, p=1, maxmem=129 * n * 8 + 2**20
    )


async def run(backend: Backend, mode: Mode) -> list[Row]:
    logins, hashes = mode.pick(10, 2), mode.pick(3, 1)
    engine = asset_engine(backend)
    await reset_schema(engine)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    async with factory() as session, session.begin():
        await repository.create_user(
            session, UserCreate(email=KNOWN, name="Ada", password=PASSWORD)
        )

    def login(
        email: str, password: str, authenticate: Authenticate = repository.authenticate_user
    ) -> Rep:
        # what each login request does: its own session and transaction
        async def many() -> None:
            for _ in range(logins):
                async with factory() as session, session.begin():
                    await authenticate(session, email, password)

        return lambda: timed(many, logins)

    def hash_only(fn: Callable[[], object]) -> Rep:
        async def many() -> None:
            for _ in range(hashes):
                fn()

        return lambda: timed(many, hashes)

    variants = {
        "known email, wrong password": login(KNOWN, "wrong-password"),
        "unknown email, dummy hash (authenticate_user)": login(UNKNOWN, PASSWORD),
        "unknown email, no dummy hash (naive)": login(UNKNOWN, PASSWORD, naive_authenticate),
        "known email, right password": login(KNOWN, PASSWORD),
        "hash only: Argon2id m=19 MiB t=2 p=1 (asset)": hash_only(lambda: hash_password(PASSWORD)),
        "hash only: scrypt N=2**14 r=8 (replaced)": hash_only(lambda: _scrypt(2**14)),
        "hash only: scrypt N=2**17 r=8 (OWASP)": hash_only(lambda: _scrypt(2**17)),
    }
    try:
        return await interleave(TITLE, backend.name, variants, mode.budget(5, 90))
    finally:
        await empty_tables(engine)
        await engine.dispose()


CASE = Case(
    "login-timing",
    TITLE,
    run,
    "10 logins per login variant and 3 hashes per hash variant per repetition, at the asset's "
    "production Argon2id cost.",
)
