"""The password-hashing sections of references/troubleshooting.md, reproduced.

The wrong patterns: a verify that reads every argon2 error as a wrong password, and scrypt with
a fixed maxmem; the fixes are assets/app/security.py's verify_password and _verify_scrypt.
"""

import hashlib
import traceback
from collections.abc import Callable

import pytest

from app import security
from tests.passwords import scrypt_hash, verify_under_memory_limit
from tests.troubleshooting_doc import assert_quoted


def test_verify_with_too_little_memory_raises_memory_allocation_error() -> None:
    outcome = verify_under_memory_limit()
    # the naive verify answered "wrong password"; the asset's raises what the section quotes
    assert outcome["naive"] is False
    assert_quoted("memory-allocation-error-at-login", str(outcome["taught"]))


def test_scrypt_with_fixed_maxmem_raises_memory_limit_exceeded() -> None:
    # the earlier security.py: maxmem fixed at 64 MiB, N raised to 2**16 (just over 64 MiB)
    with pytest.raises(ValueError) as caught:
        hashlib.scrypt(b"pw", salt=b"s" * 16, n=2**16, r=8, p=1, maxmem=64 * 1024 * 1024)
    shown = "".join(traceback.format_exception_only(caught.value))
    assert_quoted("memory-limit-exceeded-from-scrypt", shown)
    # the fix: maxmem from the parameters
    assert security.verify_password("pw", scrypt_hash("pw", n=2**16))


REPRODUCED: dict[str, list[Callable[..., object]]] = {
    "memory-allocation-error-at-login": [
        test_verify_with_too_little_memory_raises_memory_allocation_error
    ],
    "memory-limit-exceeded-from-scrypt": [
        test_scrypt_with_fixed_maxmem_raises_memory_limit_exceeded
    ],
}
