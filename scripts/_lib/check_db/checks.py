"""check_db.py's checks in order: each one a function returning a Check, run from the project's
folder; the checks that need a connection are skipped when an earlier one failed."""

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

from _lib import app_settings
from _lib.check_db import local, poolers
from _lib.check_db.live import LIVE_CHECKS, live_checks
from _lib.check_db.settings import AppSettings
from _lib.cli import FAIL, SKIP, Check
from _lib.project import Tool

APP_DEFAULT = "app default: DATABASE_URL is not set"
LOCAL_CHECKS = ("driver", "options", "pooler", "sqlite-path", "installed")
# a connection still tells something when these fail
NOT_BLOCKING = ("settings", "pooler")


@dataclass(frozen=True)
class Options:
    given_url: str | None
    project: Path
    workers: int
    timeout: float
    settings: AppSettings
    tool: Tool
    # a .env the settings could not be read from (pydantic-settings missing)
    unread_dotenv: Path | None = None
    # the project's db/urls.py, which translates a provider's URL as the app connects
    layer: Path | None = None


def find_url(options: Options, environ_url: str | None) -> tuple[str | None, str]:
    """The URL to check and where it came from, in the app's order: --url, the environment,
    .env, the settings class's default. None when .env holds it but cannot be read here."""
    settings = options.settings
    if options.given_url is not None:
        return options.given_url, "--url"
    if settings.raw_url is not None and settings.url_from:
        return settings.raw_url, settings.url_from
    if settings.problem and environ_url:
        return environ_url, "DATABASE_URL"
    if options.unread_dotenv is not None:
        return None, f"DATABASE_URL in {options.unread_dotenv}"
    return settings.default_url or app_settings.default_url(), APP_DEFAULT


def run_checks(options: Options, environ_url: str | None) -> tuple[list[Check], str | None, str]:
    """The checks, the URL they ran on, and where it came from."""
    checks = [local.check_settings(options.settings)]
    raw, source = find_url(options, environ_url)
    if raw is None:
        checks.append(
            Check(
                "url",
                FAIL,
                f"DATABASE_URL is not in the environment and {source.split(' in ')[1]} cannot "
                "be read without pydantic-settings: run this with the project's Python "
                f"(`{options.tool.python()} .../check_db.py`), or pass --url",
            )
        )
        raw, url = "", None
    else:
        url_check, url = local.check_url(raw, source)
        if source == APP_DEFAULT:
            url_check = replace(
                url_check,
                message=f"{url_check.message}; for another database set DATABASE_URL, or add a "
                f"DATABASE_URL=... line to {options.project / '.env'} (the app reads .env, and "
                "resolves a relative SQLite path, from the folder it is started in)",
            )
        checks.append(url_check)
    if url is None:
        reason = "the URL does not parse" if raw else "no URL"
        return checks + [Check(n, SKIP, reason) for n in (*LOCAL_CHECKS, *LIVE_CHECKS)], raw, source
    checks += [
        local.check_driver(url, options.layer, options.project),
        local.check_options(url, options.layer, options.project),
        poolers.check_pooler(url, options.settings.values),
        local.check_sqlite_path(url, options.project),
        local.check_installed(url, options.tool),
    ]
    failed = [c.name for c in checks if c.status == FAIL and c.name not in NOT_BLOCKING]
    if failed:
        reason = f"fix {', '.join(failed)} first"
        return checks + [Check(name, SKIP, reason) for name in LIVE_CHECKS], raw, source
    path = local.sqlite_file(url, options.project)
    connect_url, in_memory = raw, False
    if path is not None:
        # a check does not create the file: an in-memory database stands in for an absent one
        in_memory = not path.exists()
        query = "?" + raw.split("?", 1)[1] if "?" in raw else ""
        connect_url = (
            "sqlite+aiosqlite://" if in_memory else f"sqlite+aiosqlite:///{path}"
        ) + query
    checks += asyncio.run(
        live_checks(
            connect_url,
            url,
            in_memory=in_memory,
            timeout=options.timeout,
            workers=options.workers,
            settings=options.settings,
            project=options.project,
            tool=options.tool,
            layer=options.layer,
        )
    )
    return checks, raw, source
