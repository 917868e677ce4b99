"""The `print` transaction: one shape for every print a citizen takes away (docs/printing.md).

Written once the paper is out: by the documents flow (a released document, a blank form), by the
forms (a form filled in at the kiosk, kiosk/core/forms/flow.py) and by the guides (a guide on the
receipt or the A4 printer). It names what was printed, never who printed it: no name, no ID number,
no holder hash (DESIGN.md section 7).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Service = Literal["guides", "documents", "forms"]
Source = Literal["guide", "released", "blank_form", "filled_form"]
PrinterKind = Literal["a4", "receipt"]


@dataclass(frozen=True)
class PrintRecord:
    service: Service
    source: Source
    pages: int
    printer: PrinterKind
    item_code: str | None = None          # the guide catalog's item (a guide, the item of a blank form)
    document: str | None = None           # the platform's document id (released)
    form_url: str | None = None           # the form's canonical address (blank_form)
    copies: int = 1
    amount_fen: int = 0
    payment_reference: str | None = None  # the sale that paid for it
    job_state: str | None = "completed"   # how the CUPS job ended; None on the receipt printer (no job)

    def to_data(self) -> dict[str, Any]:
        """The transaction's `data`, every field present (None where it does not apply)."""
        return asdict(self)
