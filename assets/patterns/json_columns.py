"""JSON columns: JSONB on PostgreSQL, change tracking, and bodies the database can store."""

import math
from typing import Annotated, Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
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


# a request body field for a JSON column: any JSON object the database can store
JSONObject = Annotated[dict[str, JsonValue], AfterValidator(_storable)]


def _renderable(value: Any) -> Any:
    # JSONResponse refuses NaN and Infinity (allow_nan=False) and cannot encode a lone
    # surrogate as UTF-8: either would turn the 422 into a 500
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_renderable(key): _renderable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_renderable(item) for item in value]
    return value


async def request_validation_handler(_request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's 422 for any body: the default handler echoes the invalid input, and a NaN or a
    lone surrogate in it fails to render (a 500); here they are echoed as text."""
    errors = _renderable(jsonable_encoder(exc.errors()))
    return JSONResponse({"detail": errors}, status_code=422)
