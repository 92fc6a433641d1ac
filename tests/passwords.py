"""Password hashes the suite needs besides the app's own: a legacy scrypt hash, and what
verifying a hash too costly for the process's memory answers. Used by tests/assets and the
troubleshooting tests in tests/docs."""

import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import textwrap

from tests.helpers import ROOT


def scrypt_hash(password: str, n: int) -> str:
    """A hash in the format security.py wrote before Argon2id: 'scrypt$n$r$p$salt$hash'."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, maxmem=2**30)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${n}$8$1${encoded[0]}${encoded[1]}"


MEMORY_LIMITED = textwrap.dedent(
    """
    import json, resource, traceback
    from argon2.exceptions import VerificationError
    from app import security

    # a hash whose memory cost (1 GiB) the process cannot allocate: a worker in a 512 MiB
    # container, after the cost was raised on a larger one
    hashed = "$argon2id$v=19$m=1048576,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$" + "A" * 43
    resource.setrlimit(resource.RLIMIT_AS, (512 * 2**20, 512 * 2**20))
    outcome = {}
    try:
        security.hasher.verify(hashed, "pw")
    except VerificationError:
        outcome["naive"] = False  # what naive_verify answers
    try:
        security.verify_password("pw", hashed)
    except VerificationError as exc:
        outcome["taught"] = "".join(traceback.format_exception_only(exc)).strip()
    print(json.dumps(outcome))
    """
)


def verify_under_memory_limit() -> dict[str, object]:
    """What a naive verify and verify_password answer for a hash the process cannot afford."""
    env = os.environ | {"PYTHONPATH": str(ROOT / "assets")}
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_LIMITED],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome: dict[str, object] = json.loads(result.stdout)
    return outcome
