"""Whether the database can serve this code: reachable, migrated, every table there."""

import functools
import os
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.base import Base
from app.db.engine import for_reads


@functools.cache
def code_revisions() -> tuple[frozenset[str], frozenset[str]] | None:
    """The head revisions and all revisions of the migrations shipped with the code, found as
    the alembic command finds them (alembic.ini in the working directory, or $ALEMBIC_CONFIG);
    None when there is no such file, and then the revision is not compared."""
    path = Path(os.environ.get("ALEMBIC_CONFIG", "alembic.ini"))
    if not path.is_file():
        return None
    script = ScriptDirectory.from_config(Config(path))
    known = frozenset(revision.revision for revision in script.walk_revisions())
    return frozenset(script.get_heads()), known


def _problems(conn: Connection) -> list[str]:
    tables = set(inspect(conn).get_table_names())
    problems = []
    missing = sorted(set(Base.metadata.tables) - tables)
    if missing:
        problems.append(f"missing tables: {', '.join(missing)}")
    revisions = code_revisions()
    # without alembic_version (tables made by create_all, as in tests) only the tables count
    if revisions is not None and "alembic_version" in tables:
        heads, known = revisions
        applied = set(conn.scalars(text("SELECT version_num FROM alembic_version")))
        # a revision the code does not know is newer than the code: a rolling deploy migrated
        # first, and the old code keeps serving (migrations that only add allow it)
        if applied != heads and applied <= known:
            at = ", ".join(sorted(applied)) or "no revision"
            problems.append(f"migrations behind: database at {at}, code at {', '.join(heads)}")
    return problems


async def schema_problems(engine: AsyncEngine) -> list[str]:
    """What keeps the database from serving this code, empty when nothing does. It only reads,
    in a read transaction: on SQLite it takes no write lock."""
    async with for_reads(engine).connect() as conn:
        return await conn.run_sync(_problems)
