"""Integers as JSON Schema means them: `5.0` is the integer 5 (JSON has one number type).

Strict pydantic models refuse `5.0` where an `int` belongs, while the
OpenAPI document (JSON Schema `"type": "integer"`) allows it, so a client
generated from the document could be refused for a valid request. `json_int()`
accepts an integral float and keeps refusing `5.5`, strings and booleans.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and INT64_MIN <= value <= INT64_MAX:
        return int(value)
    return value


def json_int(ge: int = INT64_MIN, le: int = INT64_MAX) -> Any:
    """An integer from `ge` to `le` (int64 by default) that also accepts `5.0`. The bounds come before
    the validator: the other way round pydantic leaves them out of the JSON Schema."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_integral)]
