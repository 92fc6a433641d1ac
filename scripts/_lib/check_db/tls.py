"""check_db.py's one line for each way a TLS connection fails, with the URL that fixes it.

The text comes from asyncpg and the ssl module; every URL shown is masked.
"""

from urllib.parse import urlencode

from _lib.urls import DbUrl


def _fixed(url: DbUrl, changes: dict[str, str]) -> str:
    """The masked URL with query options set: the URL a message tells to use."""
    query = [(k, v) for k, v in url.query if k not in changes]
    query += list(changes.items())
    base = url.masked.split("?", 1)[0]
    masked = [(k, "***" if k == "password" else v) for k, v in query]
    return base + ("?" + urlencode(masked, safe="/:*") if masked else "")


def describe_tls_error(text: str, url: DbUrl) -> str | None:
    """One line for each way TLS fails, naming the fix and the URL that has it."""
    where = url.address
    mode_key = "ssl" if any(key == "ssl" for key, _ in url.query) else "sslmode"
    if "rejected SSL upgrade" in text:
        return (
            f"{where} does not offer SSL but the URL asks for it: remove ssl=/sslmode= or set it "
            f"to prefer ({_fixed(url, {mode_key: 'prefer'})}), or turn ssl on in the server"
        )
    if "no pg_hba.conf entry" in text and "no encryption" in text:
        return (
            f"{where} accepts TLS connections only (pg_hba.conf hostssl) and the URL connects "
            f"in plain text: use {_fixed(url, {mode_key: 'require'})}, or verify-full with the "
            "provider's CA as sslrootcert="
        )
    if "IP address mismatch" in text or "Hostname mismatch" in text:
        verify_ca = _fixed(url, {"sslmode": "verify-ca"})
        return (
            f"the server's certificate does not name {url.host!r}, and sslmode=verify-full checks "
            "the name: connect to the host name the certificate names (the provider's, not an "
            f"IP address or an alias), or check the CA only: {verify_ca}"
        )
    if "certificate verify failed" in text:
        return (
            f"the certificate of {where} is not signed by a CA the URL trusts (sslrootcert=, "
            "else the system store): download the provider's CA bundle and pass it, "
            f"{_fixed(url, {'sslrootcert': '/path/to/ca.pem'})}"
        )
    if "root certificate file" in text and "does not exist" in text:
        return (
            "verify-ca and verify-full need the server's CA, and none was given: add "
            f"sslrootcert= ({_fixed(url, {'sslrootcert': '/path/to/ca.pem'})}), or put it at "
            "~/.postgresql/root.crt"
        )
    return None
