"""The guide catalog file (DESIGN.md section 6): the national service-item element set.

`{"version": str, "items": [ITEM, ...]}`. Shared by `kiosk guides import`, the
agent's catalog pull and the central platform's seed, so all three accept and
refuse the same documents.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Text = Annotated[str, Field(max_length=20_000)]
Short = Annotated[str, Field(min_length=1, max_length=200)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Material(Model):
    name: Short
    required: bool
    form: Literal["original", "copy", "electronic"]
    copies: Annotated[int, Field(ge=0, le=100)]
    blank_form_url: str | None = None
    sample_url: str | None = None
    notes: Text | None = None


class Step(Model):
    name: Short
    description: Text
    time_limit: str | None = None


class Duration(Model):
    value: Annotated[int, Field(ge=0, le=3650)]
    unit: Literal["working_days", "days", "immediate"]


class TimeLimit(Model):
    legal: Duration
    promised: Duration


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
    fees: list[Fee]
    legal_basis: list[Text]
    location: Text
    hours: Text
    phone: Text
    complaint_phone: Text
    visits: Annotated[int, Field(ge=0, le=20)]
    online_url: str | None = None
    faq: list[Faq]
    keywords: list[Short] = []


class Catalog(Model):
    version: Annotated[str, Field(min_length=1, max_length=64)]
    items: list[Item]

    @field_validator("items")
    @classmethod
    def _unique_codes(cls, items: list[Item]) -> list[Item]:
        seen: set[str] = set()
        for item in items:
            if item.code in seen:
                raise ValueError(f"item code {item.code!r} appears twice")
            seen.add(item.code)
        return items
