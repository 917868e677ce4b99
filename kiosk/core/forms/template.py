"""Form templates as the domain uses them: which forms a guide offers, and the template schema itself.

The schema lives in kiosk/wire/forms.py, because templates travel inside the guide
catalog and the wire schema may not import the domain; it is re-exported here so
the form-filling code reads `from kiosk.core.forms.template import FormTemplate`.
"""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.wire.catalog import Item, Material
from kiosk.wire.forms import (A4_HEIGHT_MM, A4_WIDTH_MM, CARD_FIELD_KINDS, SEX_CHOICES, BlankLayout, CardField,
                              FormField, FormTemplate, GeneratedLayout, Kind, Layout, Position, QrPlace)

__all__ = ["A4_HEIGHT_MM", "A4_WIDTH_MM", "CARD_FIELD_KINDS", "SEX_CHOICES", "BlankLayout", "CardField", "FillableForm",
           "FormField", "FormTemplate", "GeneratedLayout", "Kind", "Layout", "Position", "QrPlace", "fillable_forms"]


@dataclass(frozen=True)
class FillableForm:
    """A form the kiosk can fill in for one guide: the material it is, and its template."""
    item_code: str
    item_name: str
    material: Material
    template: FormTemplate


def fillable_forms(item: Item) -> list[FillableForm]:
    """The forms of a guide that the kiosk fills in, in the order the guide lists its materials."""
    return [FillableForm(item.code, item.name, m, m.fill_form) for m in item.materials if m.fill_form is not None]
