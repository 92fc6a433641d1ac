"""Read replicas: GET requests read from a replica, every write and what follows it the primary.

Optional: copy it next to app/db/ when the app reads far more than it writes and the provider
offers a replica. Set REPLICA_DATABASE_URL and use RoutedSessionDep where SessionDep or
ReadSessionDep was.
Rules it keeps (references/deploy.md explains them):
- POST, PUT, PATCH and DELETE requests use the primary for everything, reads included;
- a GET request reads from the replica until it writes, then uses the primary from there on,
  so a request always reads its own writes;
- another request's write may not have reached the replica yet (replication lag): a read that
  must see it uses SessionDep, the primary;
- when the replica cannot be reached, reads go to the primary until it can.
"""

import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Select, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from app.db import engine
from app.db.config import DatabaseSettings
from app.db.engine import create_engine

logger = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# seconds a connection made to the primary in the replica's place is kept, before the
# replica is tried again
RETRY_REPLICA_AFTER = 30.0


class ReplicaSettings(DatabaseSettings):
    # unset: every read goes to the primary, as without this module
    replica_database_url: str | None = None


class RoutingSession(Session):
    """Sends plain SELECTs to the replica until the session writes; all else to the primary."""

    def get_bind(self, mapper: Any = None, *, clause: Any = None, **kw: Any) -> Engine:
        # a flush, INSERT/UPDATE/DELETE or text() is a write; from then on the session reads
        # from the primary, which has its writes
        if self.info.get("wrote") or not isinstance(clause, Select):
            self.info["wrote"] = True
            primary: Engine = self.info["primary"]
            return primary
        replica: Engine = self.info["replica"]
        return replica


def create_replica_engine(settings: ReplicaSettings, primary: AsyncEngine) -> AsyncEngine:
    """The replica's engine, with the app's settings; it connects to primary when it must."""
    url = settings.replica_database_url or settings.database_url
    replica = create_engine(settings.model_copy(update={"database_url": url}))
    # the primary's address with the replica's other options (TLS, timeouts): a provider's
    # replica takes the same ones
    target = primary.url.translate_connect_args(username="user")

    @event.listens_for(replica.sync_engine, "do_connect")
    def _connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        try:
            connection = dialect.connect(*cargs, **cparams)
        except (OSError, dialect.loaded_dbapi.Error) as exc:
            logger.warning("replica unreachable, reading from the primary: %s", exc)
            record.info["primary_since"] = time.monotonic()
            return dialect.connect(*cargs, **(cparams | target))
        record.info.pop("primary_since", None)
        return connection

    @event.listens_for(replica.sync_engine, "checkout")
    def _retry_replica(_dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("primary_since")
        if since is not None and time.monotonic() - since >= RETRY_REPLICA_AFTER:
            # the pool drops this connection and connects again, to the replica if it is back
            raise DisconnectionError("connected to the primary in the replica's place")

    return replica


def routed_session(
    primary: AsyncEngine, replica: AsyncEngine
) -> Callable[[Request], AsyncIterator[AsyncSession]]:
    """A session dependency that routes as the module docstring says."""
    binds = {"primary": primary.sync_engine, "replica": replica.sync_engine}
    reads = async_sessionmaker(
        sync_session_class=RoutingSession, expire_on_commit=False, info=binds
    )
    writes = async_sessionmaker(primary, expire_on_commit=False)

    async def get_routed_session(request: Request) -> AsyncIterator[AsyncSession]:
        factory = reads if request.method in READ_METHODS else writes
        async with factory() as session, session.begin():
            yield session

    return get_routed_session


settings = ReplicaSettings.load()
replica_engine = (
    create_replica_engine(settings, engine) if settings.replica_database_url else engine
)
get_routed_session = routed_session(engine, replica_engine)
# like SessionDep, it commits before the response is sent
RoutedSessionDep = Annotated[AsyncSession, Depends(get_routed_session, scope="function")]
