"""The guide catalog file (DESIGN.md section 6): the national service-item element set.

`{"version": str, "items": [ITEM, ...]}`. Shared by `kiosk guides import`, the
agent's catalog pull and the central platform's seed, so all three accept and
refuse the same documents. `load_catalog()` turns bytes, text or a parsed
document into a `Catalog`, or raises `CatalogError` whose message names each
bad item by its code and the field, for example
`item 11010001: materials[2].copies: expected an integer, got "two"`.
Types are strict: a quoted "2" where a number belongs is a mistake worth naming.
"""
from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kiosk.wire.forms import FormTemplate
from kiosk.wire.numbers import json_int

Text = Annotated[str, Field(max_length=20_000)]
Short = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]  # not blank: values are stripped
Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2_000)]

MAX_PROBLEMS = 20  # a broken file would otherwise print thousands of lines


class CatalogError(ValueError):
    """A catalog that cannot be imported; the message names the item code and the field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        super().__init__("\n".join(shown + ([f"... and {more} more problems"] if more > 0 else [])))


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, str_strip_whitespace=True)


class Material(Model):
    name: Short
    required: bool
    form: Literal["original", "copy", "electronic"]
    copies: json_int(ge=0, le=100)  # how many to hand in; 0 = shown and given back
    blank_form_url: Url | None = None
    sample_url: Url | None = None
    notes: Text | None = None
    fill_form: FormTemplate | None = None  # the kiosk fills this form in with the citizen (kiosk/wire/forms.py)

    @model_validator(mode="after")
    def _one_blank(self) -> "Material":
        blank = self.fill_form.layout.blank if self.fill_form else None
        if blank and blank.url and self.blank_form_url and blank.url != self.blank_form_url:
            raise ValueError("fill_form.layout.blank.url differs from blank_form_url: the form is filled in "
                             "on the blank the guide offers, so the two name the same PDF")
        return self


class Step(Model):
    name: Short
    description: Text
    time_limit: str | None = None


class Duration(Model):
    value: json_int(ge=0, le=3650)
    unit: Literal["working_days", "days", "immediate"]


class TimeLimit(Model):
    """The promised time is not longer than the legal one when both are in the same unit."""

    legal: Duration
    promised: Duration

    @model_validator(mode="after")
    def _promise_within_law(self) -> "TimeLimit":
        if self.legal.unit == self.promised.unit and self.promised.value > self.legal.value:
            raise ValueError(f"the promised time ({self.promised.value}) is longer than the legal one "
                             f"({self.legal.value})")
        return self


class Fee(Model):
    name: Short
    standard: Text
    basis: Text


class Faq(Model):
    q: Text
    a: Text


class Item(Model):
    code: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
    name: Short
    department: Short
    themes: list[Short]
    audience: Literal["person", "company", "both"]
    kiosk_enabled: bool
    conditions: Text
    materials: list[Material]
    steps: list[Step]
    time_limit: TimeLimit
    fees: list[Fee]  # empty = free
    legal_basis: list[Text]
    location: Text
    hours: Text
    phone: Text
    complaint_phone: Text
    visits: json_int(ge=0, le=20)
    online_url: Url | None = None
    faq: list[Faq]
    keywords: list[Short] = []

    @property
    def free(self) -> bool:
        return not self.fees


class Catalog(Model):
    """A guide catalog. Item codes are unique within it (a catalog with a code twice is refused); text is
    stripped of surrounding whitespace before its length is checked."""

    # printable text with something in it: the platform keeps it in a text column, which on PostgreSQL
    # cannot hold a NUL, and it is shown to technicians
    version: Annotated[str, Field(min_length=1, max_length=64,
                                  pattern=r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$")]
    items: list[Item]

    @field_validator("items")
    @classmethod
    def _unique_codes(cls, items: list[Item]) -> list[Item]:
        seen: set[str] = set()
        for item in items:
            if item.code in seen:
                raise ValueError(f"item code {item.code!r} appears twice")
            seen.add(item.code)
        forms: dict[str, tuple[str, FormTemplate]] = {}
        for item in items:
            for material in item.materials:
                form = material.fill_form
                if form is None:
                    continue
                first = forms.setdefault(form.id, (item.code, form))
                if first[1] != form:
                    # the window's system reads the template id from the QR code: one id, one form
                    raise ValueError(f"item {item.code}: form template {form.id!r} is defined differently in "
                                     f"item {first[0]}; give each form its own id")
        return items


# -- reading a document, with errors a person can act on ----------------------------------------

_EXPECTED = {
    "int_type": "expected an integer", "int_parsing": "expected an integer", "int_from_float": "expected an integer",
    "string_type": "expected a string", "bool_type": "expected true or false",
    "bool_parsing": "expected true or false", "list_type": "expected a list",
    "dict_type": "expected an object", "model_type": "expected an object",
    "model_attributes_type": "expected an object",
}


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _problem(err: dict) -> str:
    kind, got = err["type"], err.get("input")
    if kind == "extra_forbidden":
        return "unknown field (check the spelling against DESIGN.md section 6)"
    if kind == "missing":
        return "required field is missing"
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind]}, got {_shown(got)}"
    if kind == "literal_error":
        return f"expected one of {err['ctx']['expected']}, got {_shown(got)}"
    if kind == "string_pattern_mismatch":
        what = "an http(s) address" if "https?" in err["ctx"]["pattern"] else "no spaces"
        return f"expected {what}, got {_shown(got)}"
    if kind == "value_error":
        return str(err["ctx"]["error"])
    msg = err["msg"]
    return f"{msg[0].lower()}{msg[1:]}, got {_shown(got)}"


def _path(loc: tuple, raw: Any = None) -> str:
    """`materials[2].copies`; a form's field is named by its key, `fill_form.fields[phone].kind`,
    because the index of the tenth field is no help to the person fixing it."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            entry = raw[part] if isinstance(raw, list) and part < len(raw) else None
            key = entry.get("key") if isinstance(entry, dict) and out.endswith("fields") else None
            named = isinstance(key, str) and re.fullmatch(r"[a-z][a-z0-9_]*", key)
            out += f"[{key}]" if named else f"[{part}]"
            raw = entry
        else:
            out += f".{part}" if out else str(part)
            raw = raw.get(part) if isinstance(raw, dict) else None
    return out


def _item_label(items: Any, index: int) -> str:
    raw = items[index] if isinstance(items, list) and index < len(items) else None
    code = raw.get("code") if isinstance(raw, dict) else None
    return f"item {code}" if isinstance(code, str) and code.strip() else f"items[{index}] (no code)"


def _problems(exc: ValidationError, doc: Any) -> list[str]:
    items = doc.get("items") if isinstance(doc, dict) else None
    out = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            raw = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
            field = _path(loc[2:], raw)
            where = _item_label(items, loc[1]) + (f": {field}" if field else "")
        else:
            where = _path(loc) or "catalog"
        out.append(f"{where}: {_problem(err)}")
    return out


def _duplicates(doc: Any) -> list[str]:
    items = doc.get("items") if isinstance(doc, dict) else None
    first: dict[str, int] = {}
    out = []
    for i, raw in enumerate(items if isinstance(items, list) else []):
        code = raw.get("code") if isinstance(raw, dict) else None
        if not isinstance(code, str):
            continue
        if code in first:
            out.append(f"item {code}: code: appears twice (items[{first[code]}] and items[{i}]); codes must be unique")
        else:
            first[code] = i
    return out


def parse_document(data: bytes | str) -> Any:
    """JSON text or UTF-8 bytes to a document; malformed JSON names the line and column."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CatalogError([f"catalog: not UTF-8 text (byte {exc.start}); save the file as UTF-8"]) from None
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise CatalogError([f"catalog: not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"]) from None


def load_catalog(data: bytes | str | dict | Catalog) -> Catalog:
    """Validate a whole catalog; raises CatalogError naming every bad item by code and field."""
    if isinstance(data, Catalog):
        return data
    doc = data if isinstance(data, dict) else parse_document(data)
    if not isinstance(doc, dict):
        raise CatalogError([f'catalog: expected an object {{"version": ..., "items": [...]}}, got {_shown(doc)}'])
    dupes = _duplicates(doc)
    try:
        catalog = Catalog.model_validate(doc)
    except ValidationError as exc:
        problems = [p for p in _problems(exc, doc) if "appears twice" not in p]
        raise CatalogError(problems + dupes) from None
    return catalog
