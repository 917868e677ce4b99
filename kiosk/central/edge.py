"""Strict JSON at the platform's edge: what a body may hold before any model or the database sees it.

`json.loads` alone lets through what later crashes or poisons the platform:
nesting deep enough to exhaust the stack, `1e400` (parsed as infinity, then
unrenderable in every listing that includes it), `NaN`/`Infinity`, integers
past 64 bits (SQLite and PostgreSQL refuse them at bind time) and strings
holding a lone surrogate (`"\\ud800"`, which no UTF-8 encoder accepts).
`loads` refuses the first kinds while parsing; `problems` walks the result
without recursion and names the field of each of the others.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_PROBLEMS = 20


class JSONRefused(ValueError):
    """The body is not JSON this platform accepts; the message says why (no field: it was not parsed)."""


def _no_constants(name: str):
    raise JSONRefused(f"{name} is not a JSON number")


def loads(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONRefused(f"the body is not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise JSONRefused(f"the body is nested too deep: at most {MAX_DEPTH} levels of objects and lists") from None
    except json.JSONDecodeError as exc:
        raise JSONRefused(f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:  # parse_constant, or an integer past Python's digit limit
        raise JSONRefused(f"the body is not valid JSON: {exc}") from None


def _utf8(s: str) -> bool:
    if s.isascii():   # most keys and values: no encoding needed to know
        return True
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _path(trail: tuple) -> str:
    """The dotted field name of a value from its trail, nested pairs (((None, prefix), key), key) ..."""
    keys = []
    while trail[0] is not None:
        trail, key = trail
        keys.append(key)
    path = trail[1]
    for key in reversed(keys):
        path = _join(path, key)
    return path


def problems(doc: Any, prefix: str = "", max_depth: int = MAX_DEPTH) -> list[dict[str, str]]:
    """[{"field": "items.3.data.x", "problem": ...}] for every value the platform cannot store faithfully.
    A value's field name is only spelled out when it has a problem (every batch item is walked)."""
    out: list[dict[str, str]] = []
    stack = [(doc, (None, prefix), 1)]
    while stack and len(out) < MAX_PROBLEMS:
        value, trail, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > max_depth:
                out.append({"field": _path(trail) or "(body)",
                            "problem": f"nested too deep: at most {max_depth} levels of objects and lists"})
                continue
            pairs = value.items() if isinstance(value, dict) else enumerate(value)
            for key, sub in pairs:
                if isinstance(key, str) and not _utf8(key):
                    out.append({"field": _path((trail, repr(key))), "problem": "the key is not encodable as "
                                                                              "UTF-8 (a lone surrogate)"})
                    continue
                if isinstance(sub, (dict, list, float, int, str)):
                    stack.append((sub, (trail, key), depth + 1))
            continue
        if isinstance(value, float) and not math.isfinite(value):
            out.append({"field": _path(trail) or "(body)", "problem": "the number is out of range (not a "
                                                                      "finite 64-bit float)"})
        elif isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
            out.append({"field": _path(trail) or "(body)", "problem": "the integer does not fit in 64 bits"})
        elif isinstance(value, str) and not _utf8(value):
            out.append({"field": _path(trail) or "(body)", "problem": "the string is not encodable as UTF-8 "
                                                                      "(a lone surrogate)"})
    return out


_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_NINETEEN_DIGITS = re.compile(r"[0-9]{19}")   # the shortest integer that may be past 64 bits has 19 digits


def storable_json(doc: Any, max_depth: int = MAX_DEPTH) -> bytes | None:
    """`doc` (a value json.loads made) as UTF-8 JSON when it certainly holds nothing `problems` names; None
    when it may (then ask `problems`). One encoding in C instead of a walk in Python of every value:
    a non-finite float fails the encoder, a lone surrogate the UTF-8 encoding; an integer past 64 bits has
    at least 19 digits in a row; and a document with at most `max_depth` objects and lists in all is no
    deeper than that. Digits or brackets inside strings only send a document to the walk."""
    try:
        text = _ENCODER.encode(doc)
        data = text.encode("utf-8")
    except (ValueError, RecursionError):   # UnicodeEncodeError is a ValueError
        return None
    if text.count("{") + text.count("[") > max_depth or _NINETEEN_DIGITS.search(text):
        return None
    return data
