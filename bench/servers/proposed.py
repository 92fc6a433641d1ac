"""The asset app with the read path measured for adoption (bench/servers/readpath.py).

GET routes get the read session (AUTOCOMMIT, writes refused, one retry on a dropped
connection) and the engine pings a connection only after it sat idle. Start it with
DB_POOL_PRE_PING=false, so that the asset engine's ping on every checkout is off.
Run: DATABASE_URL=postgresql+asyncpg://... DB_POOL_PRE_PING=false uvicorn bench.servers.proposed:app
"""

from app.db import engine, get_session
from app.main import app
from bench.servers.readpath import ping_when_idle, read_session_dependency, read_session_factory

__all__ = ["app"]

ping_when_idle(engine)
# the bench drives only GET routes at this server, so every route may take the read session
app.dependency_overrides[get_session] = read_session_dependency(read_session_factory(engine))
