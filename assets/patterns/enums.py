"""Enum columns that store the enum's values, checked by the database on both backends."""

import enum
from typing import TypeVar

from sqlalchemy import Enum

E = TypeVar("E", bound=enum.Enum)


def _values(enum_class: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in enum_class]


def enum_type(enum_class: type[E], name: str, *, native: bool = False, length: int = 32) -> Enum:
    """The column type for enum_class.

    native=False (portable): VARCHAR(length) and a CHECK constraint named ck_<table>_<name>;
    adding a value is a new CHECK. native=True: PostgreSQL's CREATE TYPE <name> AS ENUM (SQLite
    still gets VARCHAR and the CHECK); adding a value is ALTER TYPE ... ADD VALUE, and a value
    can never be removed. Autogenerate sees neither change: write that migration by hand.
    """
    return Enum(
        enum_class,
        name=name,
        native_enum=native,
        # the CHECK is off by default since SQLAlchemy 1.4: without it any string is stored
        create_constraint=True,
        # store "in_progress", not the member name IN_PROGRESS, so SQL and the API agree
        values_callable=_values,
        # room for longer values later without widening the column (portable form only)
        length=length,
        # an unknown string raises in Python (LookupError) before it reaches the database
        validate_strings=True,
    )
