"""Request and response bodies; the response models never carry the password hash."""

from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)


def _storable(value: str) -> str:
    # PostgreSQL rejects NUL in text and no database stores a lone surrogate:
    # refuse them here (422) instead of failing inside the driver (500)
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _text(min_length: int, max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


# lengths match the columns in models.py, so an over-long value is a 422, never a database error
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=320),
    Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", examples=["ada@example.com"]),
    AfterValidator(_storable),
]
Name = Annotated[str, _text(1, 100), AfterValidator(_storable)]
Password = Annotated[str, Field(min_length=8, max_length=128), AfterValidator(_storable)]
Title = Annotated[str, _text(1, 200), AfterValidator(_storable)]
Content = Annotated[str, Field(max_length=10_000), AfterValidator(_storable)]


class UserBase(BaseModel):
    email: Email
    name: Name


class UserCreate(UserBase):
    # extra="forbid": a body that sets is_active or hashed_password is refused, not applied
    model_config = ConfigDict(extra="forbid")

    password: Password


class UserUpdate(BaseModel):
    """The fields a client may change; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    name: Name | None = None

    @field_validator("email", "name")
    @classmethod
    def _not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class UserPublic(BaseModel):
    # typed as stored, not as UserBase's input rules: a row that a script or an older rule
    # wrote (admin@localhost, an empty name) is still returned, never a 500 for the whole page
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


class UsersPublic(BaseModel):
    data: list[UserPublic]
    count: int


class PostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    content: Content = ""


class PostPublic(BaseModel):
    # typed as stored, like UserPublic: PostCreate's rules apply to input only
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    content: str
    author_id: int
    created_at: datetime
    updated_at: datetime


class PostsPublic(BaseModel):
    data: list[PostPublic]
    count: int


class PostsPage(BaseModel):
    data: list[PostPublic]
    # pass as ?cursor= to get the next page; null on the last page
    next_cursor: str | None
