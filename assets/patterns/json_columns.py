"""JSON columns: JSONB on PostgreSQL, change tracking, and bodies the database can store."""

import math
from typing import Annotated

from pydantic import AfterValidator, JsonValue
from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.mutable import MutableDict

# JSONB on PostgreSQL (binary, indexable with GIN, keys deduplicated), JSON text on SQLite
JSONDocument = JSON().with_variant(JSONB(), "postgresql")

# MutableDict records doc[key] = value and del doc[key] on the top level of the dict; a change
# deeper down (doc["a"]["b"] = 1) is not seen: assign a new dict or call flag_modified()
MutableJSONDocument = MutableDict.as_mutable(JSONDocument)


def _storable(value: JsonValue) -> JsonValue:
    # PostgreSQL's json types refuse NaN and Infinity (not JSON) and \u0000 (not text); SQLite
    # would store them and every later read of the row would fail to render as JSON
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite (no NaN or Infinity)")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("strings must not contain NUL characters")
        try:
            # a lone surrogate ("\ud800" is valid JSON) cannot be stored as UTF-8
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("strings must be valid Unicode text") from None
    if isinstance(value, dict):
        for key, item in value.items():
            _storable(key)
            _storable(item)
    elif isinstance(value, list):
        for item in value:
            _storable(item)
    return value


# a request body field for a JSON column: any JSON object the database can store; the 422 for
# one it cannot echoes the NaN or surrogate, which app/errors.py's handler renders safely
JSONObject = Annotated[dict[str, JsonValue], AfterValidator(_storable)]
