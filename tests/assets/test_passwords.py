"""Password hashing that cannot fail silently, and logins that do not reveal which emails exist.

The suite hashes at argon2's cheapest setting (the autouse fixture in assets/tests/conftest.py);
the test marked production_hashing runs the app's real parameters.
"""

import hashlib

import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from app import repository, security
from app.schemas import UserCreate
from tests.passwords import scrypt_hash, verify_under_memory_limit

ADA = UserCreate(email="ada@example.com", name="Ada", password="analytical-engine")


def naive_verify(password: str, hashed: str) -> bool:
    # the pattern this replaces (pwdlib 0.3.1's Argon2Hasher.verify does the same): every
    # argon2 verification error reads as a wrong password
    try:
        return security.hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


class RecordingHasher(PasswordHasher):
    """The cheapest Argon2id, remembering each hash it verified a password against."""

    def __init__(self, time_cost: int = 1) -> None:
        super().__init__(time_cost=time_cost, memory_cost=8, parallelism=1, hash_len=4, salt_len=8)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # type: ignore[override]
        self.verified.append(str(hash))
        return super().verify(hash, password)


@pytest.mark.production_hashing
def test_hash_password_at_production_cost() -> None:
    hashed = security.hash_password("analytical-engine")
    parameters = extract_parameters(hashed)
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    # OWASP's Argon2id minimums trade memory for passes: 19 MiB x 2 is its first setting
    assert parameters.memory_cost * parameters.time_cost >= 19_456 * 2
    assert parameters.parallelism == 1
    assert security.verify_password("analytical-engine", hashed)
    assert not security.verify_password("analytical-engin3", hashed)
    assert not security.needs_rehash(hashed)
    assert security.hash_password("analytical-engine") != hashed


def test_verify_password_raises_for_a_hash_it_cannot_read() -> None:
    truncated = security.hash_password("pw").rsplit("$", 1)[0] + "$"
    for broken in ("not-a-hash", truncated, ""):
        assert naive_verify("pw", broken) is False
        with pytest.raises((InvalidHashError, VerificationError)):
            security.verify_password("pw", broken)


def test_verify_password_raises_when_memory_cannot_be_allocated() -> None:
    # the naive verify calls it a wrong password, for every user; the taught one raises
    assert verify_under_memory_limit() == {
        "naive": False,
        "taught": "argon2.exceptions.VerificationError: Memory allocation error",
    }


def test_verify_legacy_scrypt_hash_with_maxmem_from_its_parameters() -> None:
    # N=2**16 needs just over 64 MiB: the earlier module's fixed maxmem refused it
    hashed = scrypt_hash("analytical-engine", n=2**16)
    with pytest.raises(ValueError, match="memory limit exceeded"):
        hashlib.scrypt(b"analytical-engine", salt=b"s" * 16, n=2**16, r=8, p=1, maxmem=2**26)
    assert security.verify_password("analytical-engine", hashed)
    assert security.needs_rehash(hashed)


async def test_authenticate_unknown_email_verifies_a_dummy_hash(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = RecordingHasher()
    monkeypatch.setattr(security, "hasher", hasher)
    await repository.create_user(session, ADA)
    assert await repository.authenticate_user(session, "ada@example.com", "wrong-password") is None
    assert (
        await repository.authenticate_user(session, "nobody@example.com", "analytical-engine")
        is None
    )
    # one verify each, against a hash with the current parameters: the same work, so the same
    # time (bench/login_timing.py measures it)
    known, unknown = hasher.verified
    assert extract_parameters(unknown) == extract_parameters(known)
    assert not hasher.check_needs_rehash(unknown)


async def test_authenticate_user_rehashes_when_the_parameters_change(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await repository.create_user(session, ADA)
    first = user.hashed_password
    monkeypatch.setattr(security, "hasher", RecordingHasher(time_cost=2))
    assert await repository.authenticate_user(session, ADA.email, "wrong-password") is None
    assert user.hashed_password == first
    assert await repository.authenticate_user(session, ADA.email, ADA.password) is user
    assert extract_parameters(user.hashed_password).time_cost == 2
    rehashed = user.hashed_password
    assert await repository.authenticate_user(session, ADA.email, ADA.password) is user
    assert user.hashed_password == rehashed
    session.expunge_all()
    stored = await repository.get_user_by_email(session, ADA.email)
    assert stored is not None and stored.hashed_password == rehashed


async def test_authenticate_user_replaces_a_legacy_scrypt_hash(session: AsyncSession) -> None:
    user = await repository.create_user(session, ADA)
    user.hashed_password = scrypt_hash(ADA.password, n=2**10)
    await session.flush()
    assert await repository.authenticate_user(session, ADA.email, "wrong-password") is None
    assert user.hashed_password.startswith("scrypt$")
    assert await repository.authenticate_user(session, ADA.email, ADA.password) is user
    assert user.hashed_password.startswith("$argon2id$")
    assert not security.needs_rehash(user.hashed_password)
