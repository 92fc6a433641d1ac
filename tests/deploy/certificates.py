"""A certificate authority and a server certificate made with openssl, for the TLS tests."""

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Authority:
    certificate: Path
    key: Path


def _openssl(*args: str | Path, cwd: Path) -> None:
    subprocess.run(
        ["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True, timeout=60
    )


def make_authority(directory: Path, name: str) -> Authority:
    """A self-signed CA (EC P-256, valid two days) in directory/NAME.crt and NAME.key."""
    directory.mkdir(parents=True, exist_ok=True)
    certificate, key = directory / f"{name}.crt", directory / f"{name}.key"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", certificate, "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    return Authority(certificate, key)


def make_server_certificate(directory: Path, authority: Authority, host: str) -> tuple[Path, Path]:
    """A server certificate signed by authority that names only `host` (DNS), and its key."""
    certificate, key = directory / "server.crt", directory / "server.key"
    request = directory / "server.csr"
    extensions = directory / "server.ext"
    extensions.write_text(
        f"subjectAltName=DNS:{host}\nextendedKeyUsage=serverAuth\n"
        "keyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n"
    )
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", request, "-subj", f"/CN={host}",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", request, "-CA", authority.certificate, "-CAkey", authority.key,
        "-CAcreateserial", "-out", certificate, "-days", "2", "-extfile", extensions,
        cwd=directory,
    )  # fmt: skip
    return certificate, key
