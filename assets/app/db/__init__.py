"""The database layer: settings, engine, sessions and the declarative base."""

from app.db.base import Base, TimestampMixin, UTCDateTime, utc_now
from app.db.session import (
    ReadSessionDep,
    SessionDep,
    engine,
    get_read_session,
    get_session,
    read_session_factory,
    session_factory,
)

__all__ = [
    "Base",
    "ReadSessionDep",
    "SessionDep",
    "TimestampMixin",
    "UTCDateTime",
    "engine",
    "get_read_session",
    "get_session",
    "read_session_factory",
    "session_factory",
    "utc_now",
]
