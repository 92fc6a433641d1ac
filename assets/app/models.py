"""The ORM models: users and their posts."""

from sqlalchemy import ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # stored lower-case, so the unique constraint is case-insensitive on every backend
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    hashed_password: Mapped[str] = mapped_column(String(256))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())

    # lazy="raise": touching an unloaded relationship fails loudly instead of running a
    # hidden query per row (N+1), which under asyncio would also raise MissingGreenlet
    posts: Mapped[list["Post"]] = relationship(
        back_populates="author", lazy="raise", passive_deletes=True
    )


class Post(TimestampMixin, Base):
    __tablename__ = "posts"
    # keyset pagination walks this index in (created_at, id) order
    __table_args__ = (Index("ix_posts_created_at_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    author: Mapped[User] = relationship(back_populates="posts", lazy="raise")
