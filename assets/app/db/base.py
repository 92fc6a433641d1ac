"""Declarative base with named constraints and timestamps that stay timezone-aware."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# named constraints let migrations drop and alter them, on SQLite (batch mode) and PostgreSQL
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and returns them aware, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware datetime such as utc_now()")
        value = value.astimezone(UTC)
        # SQLite has no time zone type and would drop the offset silently: store UTC, naive
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


class TimestampMixin:
    # values computed in Python are known to the object after INSERT and UPDATE, so reading
    # them never needs a lazy refresh (the cause of MissingGreenlet); the server default
    # covers rows written by plain SQL, in SQL that SQLite and PostgreSQL both accept, so the
    # migration autogenerate writes from it runs on both
    created_at: Mapped[datetime] = mapped_column(
        default=utc_now, server_default=text("CURRENT_TIMESTAMP")
    )
    updated_at: Mapped[datetime] = mapped_column(
        default=utc_now, onupdate=utc_now, server_default=text("CURRENT_TIMESTAMP")
    )
