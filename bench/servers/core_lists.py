"""The asset app with GET /users served from Core rows (`mappings()`) instead of ORM objects.

Run: DATABASE_URL=postgresql+asyncpg://... uvicorn bench.servers.core_lists:app
"""

from app import repository
from app.main import app
from bench.servers.readpath import core_list_users

# the route calls repository.list_users through the module, so it now gets Core rows, which
# UserPublic.model_validate takes as mappings
repository.list_users = core_list_users  # type: ignore[assignment]

__all__ = ["app"]
