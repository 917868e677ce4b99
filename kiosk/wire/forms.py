"""Form templates (自助填表): what a citizen fills in at the kiosk for one material of a guide.

A template travels inside the guide catalog, as the optional `fill_form` of a
material (kiosk/wire/catalog.py), so the kiosk, the agent's catalog pull and
the central platform's seed accept and refuse the same templates. It lives in
kiosk/wire rather than kiosk/core/forms because the wire schema may not import
the domain (the central platform shares only kiosk/wire with the kiosk);
kiosk/core/forms/template.py re-exports it for the domain's code.

Shape (JSON):

    {"id": "residence-permit", "title": "居住证申领登记表", "version": 1,
     "fields": [{"key": "name", "label": "姓名", "kind": "name", "required": true, "card_field": "name"},
                {"key": "reason", "label": "申请事由", "kind": "choice", "required": true,
                 "choices": ["就业", "就学", "居住"]}, ...],
     "layout": {"generated": {}}}

or, over the department's official blank form, every field placed on it:

     "layout": {"blank": {"url": "https://.../12010004-4.pdf", "pages": 1,
                          "qr": {"page": 1, "x_mm": 165, "y_mm": 250, "size_mm": 35}}}
     ... {"key": "name", ..., "position": {"page": 1, "x_mm": 40, "y_mm": 52, "w_mm": 50, "h_mm": 8}}

Positions are millimetres from the top-left corner of an A4 page, as a person
measures the paper form with a ruler. Everything that would make a printed
form wrong (text printed over other text, off the paper, or a value the card
cannot sensibly fill) is refused when the catalog is imported, naming the
field by its key, so a bad template never reaches a citizen.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kiosk.wire.numbers import json_int

A4_WIDTH_MM = 210.0
A4_HEIGHT_MM = 297.0

Kind = Literal["text", "name", "id_number", "date", "phone", "address", "choice", "checkbox"]
CardField = Literal["name", "sex", "nation", "birth", "address", "id_number"]

# which kinds of field each ID-card field may fill: the card's value must make sense there, and pass the
# field's checks (a name into a `date` field would never pass)
CARD_FIELD_KINDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "text"),
    "sex": ("choice", "text"),
    "nation": ("choice", "text"),
    "birth": ("date",),
    "address": ("address", "text"),
    "id_number": ("id_number",),
}
SEX_CHOICES = ("男", "女")  # how a Chinese form writes the card's `male` / `female`

_Label = Annotated[str, Field(max_length=200)]
_Short = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
_Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2_000)]
_Mm = Annotated[float, Field(ge=0, le=A4_HEIGHT_MM)]
_SizeMm = Annotated[float, Field(gt=0, le=A4_HEIGHT_MM)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, str_strip_whitespace=True)


def _inside_a4(x: float, y: float, w: float, h: float) -> str | None:
    if x + w > A4_WIDTH_MM or y + h > A4_HEIGHT_MM:
        return (f"reaches {x + w:g} x {y + h:g} mm from the top-left corner, outside the A4 page "
                f"({A4_WIDTH_MM:g} x {A4_HEIGHT_MM:g} mm)")
    return None


class Position(_Model):
    """Where a value is printed on the blank form: a box, millimetres from the page's top-left corner."""

    page: json_int(ge=1, le=50) = 1
    x_mm: _Mm
    y_mm: _Mm
    w_mm: _SizeMm
    h_mm: _SizeMm
    font_mm: Annotated[float, Field(ge=2, le=20)] | None = None  # the letter height the value starts at

    @model_validator(mode="after")
    def _on_the_paper(self) -> "Position":
        problem = _inside_a4(self.x_mm, self.y_mm, self.w_mm, self.h_mm)
        if problem:
            raise ValueError(f"the box {problem}")
        return self

    def overlaps(self, other: "Position | QrPlace") -> bool:
        """Both boxes share some area on the same page (touching edges is fine: ruled boxes do)."""
        w, h = (other.size_mm, other.size_mm) if isinstance(other, QrPlace) else (other.w_mm, other.h_mm)
        return (self.page == other.page and self.x_mm < other.x_mm + w and other.x_mm < self.x_mm + self.w_mm
                and self.y_mm < other.y_mm + h and other.y_mm < self.y_mm + self.h_mm)


class QrPlace(_Model):
    """Where the QR code of the form's data goes on the blank form (a free corner the window staff scan)."""

    page: json_int(ge=1, le=50) = 1
    x_mm: _Mm
    y_mm: _Mm
    size_mm: Annotated[float, Field(ge=30, le=60)] = 35.0  # smaller prints too fine for a window scanner

    @model_validator(mode="after")
    def _on_the_paper(self) -> "QrPlace":
        problem = _inside_a4(self.x_mm, self.y_mm, self.size_mm, self.size_mm)
        if problem:
            raise ValueError(f"the QR code {problem}")
        return self


class FormField(_Model):
    """One thing the citizen fills in. `label` is what the form and the screen call it."""

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    label: _Label = ""
    kind: Kind
    required: bool = False
    max_length: json_int(ge=1, le=2_000) | None = None
    card_field: CardField | None = None
    choices: list[_Short] | None = None
    hint: Annotated[str, Field(max_length=500)] | None = None
    position: Position | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "FormField":
        if self.required and not self.label:
            raise ValueError("a required field needs a label (the citizen must be told what to fill in)")
        if self.kind == "choice":
            if not self.choices:
                raise ValueError('a "choice" field needs its "choices" (a list of at least one)')
            if len(set(self.choices)) != len(self.choices):
                # not "appears twice": load_catalog keeps those words for item codes
                raise ValueError("choices: the same choice is listed twice")
        elif self.choices is not None:
            raise ValueError(f'"choices" belong to a "choice" field, not to a {self.kind!r} one')
        if self.card_field is not None:
            fits = CARD_FIELD_KINDS[self.card_field]
            if self.kind not in fits:
                raise ValueError(f"card_field {self.card_field!r} cannot fill a {self.kind!r} field "
                                 f"(it fits {', '.join(repr(k) for k in fits)})")
            if self.card_field == "sex" and self.kind == "choice" and not set(SEX_CHOICES) <= set(self.choices):
                raise ValueError(f"card_field 'sex' fills {' and '.join(SEX_CHOICES)}: the choices must offer both")
        if self.max_length is not None and self.kind in ("checkbox", "choice", "date", "id_number"):
            raise ValueError(f"max_length means nothing for a {self.kind!r} field (its checks fix the length)")
        return self


class GeneratedLayout(_Model):
    """A clean A4 layout the kiosk draws itself: for items whose department publishes no blank form."""


class BlankLayout(_Model):
    """The department's official blank form, with the values printed into its boxes.

    `url` is the blank's canonical address (the kiosk prints its copy from the forms cache, as for
    `blank_form_url`); `path` names a file provisioned into the forms cache instead."""

    url: _Url | None = None
    path: Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^/\\]+\.pdf$")] | None = None
    pages: json_int(ge=1, le=50)
    qr: QrPlace

    @model_validator(mode="after")
    def _one_source(self) -> "BlankLayout":
        if (self.url is None) == (self.path is None):
            raise ValueError('a blank layout names its PDF by exactly one of "url" or "path"')
        if self.qr.page > self.pages:
            raise ValueError(f"qr: page {self.qr.page} is past the blank's {self.pages} pages")
        return self


class Layout(_Model):
    generated: GeneratedLayout | None = None
    blank: BlankLayout | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "Layout":
        if (self.generated is None) == (self.blank is None):
            raise ValueError('a layout is exactly one of {"generated": {}} or {"blank": {...}}')
        return self


class FormTemplate(_Model):
    """A form the kiosk can fill in and print; `id` and `version` travel in the form's QR code, so the
    window's system knows which fields the keys name."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
    title: _Short
    version: json_int(ge=1, le=1_000_000)
    fields: Annotated[list[FormField], Field(min_length=1, max_length=60)]
    layout: Layout

    @model_validator(mode="after")
    def _fields_fit_the_layout(self) -> "FormTemplate":
        seen: set[str] = set()
        for f in self.fields:
            if f.key in seen:
                raise ValueError(f"two fields have the key {f.key!r}; keys must be unique within a form")
            seen.add(f.key)
        blank = self.layout.blank
        if blank is None:
            placed = [f.key for f in self.fields if f.position is not None]
            if placed:
                raise ValueError(f"field {placed[0]!r}: a position belongs to a blank layout; the generated "
                                 "layout places every field itself")
            return self
        for i, f in enumerate(self.fields):
            if f.position is None:
                raise ValueError(f"field {f.key!r}: a blank layout needs a position for every field")
            if f.position.page > blank.pages:
                raise ValueError(f"field {f.key!r}: page {f.position.page} is past the blank's {blank.pages} pages")
            if f.position.overlaps(blank.qr):
                raise ValueError(f"field {f.key!r} overlaps the QR code on page {f.position.page}")
            for g in self.fields[:i]:
                if f.position.overlaps(g.position):
                    raise ValueError(f"fields {g.key!r} and {f.key!r} overlap on page {f.position.page}")
        return self

    def field(self, key: str) -> FormField:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)
