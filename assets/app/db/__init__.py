"""The database layer: settings, engine, sessions and the declarative base."""

from app.db.base import Base, TimestampMixin, UTCDateTime, utc_now
from app.db.session import SessionDep, engine, get_session, session_factory

__all__ = [
    "Base",
    "SessionDep",
    "TimestampMixin",
    "UTCDateTime",
    "engine",
    "get_session",
    "session_factory",
    "utc_now",
]
