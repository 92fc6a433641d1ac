"""Password hashing with Argon2id (argon2-cffi); plain passwords are never stored."""

import base64
import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

# Argon2id with OWASP's first recommended setting: 19 MiB, 2 passes, 1 lane. Argon2id rather
# than the standard library's scrypt: it is OWASP's first choice, and scrypt at OWASP's
# N=2**17 needs 128 MiB and many times the time per hash (bench/login_timing.py). Raise the
# costs when the servers can afford them: verify reads each hash's own parameters, and
# repository.authenticate_user stores the new ones at each user's next login.
hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def hash_password(password: str) -> str:
    """Return '$argon2id$v=19$m=...,t=...,p=...$salt$hash'; slow on purpose, so call it in a
    worker thread."""
    return hasher.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    """True for the right password, False for a wrong one; a hash that cannot be checked
    raises, so a misconfiguration shows up as errors instead of as failed logins."""
    if hashed.startswith("scrypt$"):
        return _verify_scrypt(password, hashed)
    try:
        return hasher.verify(hashed, password)
    except VerifyMismatchError:
        # only a mismatch: its parent VerificationError also covers "Memory allocation error"
        # (a memory cost the server cannot allocate), which is not the user's mistake
        return False


def needs_rehash(hashed: str) -> bool:
    """True when the hash was made with another scheme or other parameters than hasher's."""
    return hashed.startswith("scrypt$") or hasher.check_needs_rehash(hashed)


def verify_dummy(password: str) -> None:
    """Do the work of a verify for a login whose email has no account, so that the time the
    answer takes does not tell which emails exist."""
    verify_password(password, _dummy_hash(hasher))


@functools.cache
def _dummy_hash(current: PasswordHasher) -> str:
    # made with the current parameters, so it costs what a user's hash costs
    return current.hash(secrets.token_urlsafe(16))


def _verify_scrypt(password: str, hashed: str) -> bool:
    # 'scrypt$n$r$p$salt$hash', written by this module's earlier versions until each user's
    # next login rehashes it. maxmem follows from the parameters (OpenSSL allocates
    # 128 * r * (n + p + 2) bytes): a fixed limit makes a larger n raise "memory limit exceeded"
    _, n, r, p, salt, digest = hashed.split("$")
    cost, block, lanes = int(n), int(r), int(p)
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        password.encode(),
        salt=base64.b64decode(salt),
        n=cost,
        r=block,
        p=lanes,
        maxmem=128 * block * (cost + lanes + 2),
        dklen=len(expected),
    )
    return hmac.compare_digest(actual, expected)
