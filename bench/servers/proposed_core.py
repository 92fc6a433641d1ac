"""The proposed read path (proposed.py) with GET /users from Core rows (core_lists.py).

Run: DATABASE_URL=postgresql+asyncpg://... DB_POOL_PRE_PING=false \
  uvicorn bench.servers.proposed_core:app
"""

# each module adapts the one asset app when imported
import bench.servers.proposed  # noqa: F401
from bench.servers.core_lists import app

__all__ = ["app"]
