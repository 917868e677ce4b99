"""Composition of the document printing service in the UI process (kiosk/app/root.py `DOCUMENTS`).

The `DocumentPrintFlow` (kiosk/core/printing/documents.py) with the form
library, over the central client (released documents are looked up there),
the A4 printer and the ID card reader of the device runtime (bound once they
are up), and the visit path's payment: a priced document hands the visit over
to the payment while the flow is paying, and gets it back after. The flow is
reset when the visitor session is wiped. Its screen is kiosk/screens/documents.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.app.services import Parts
    from kiosk.core.printing.documents import DocumentPrintFlow
    from kiosk.core.visit import VisitPath
    from kiosk.screens.documents import DocumentsScreen
    from kiosk.screens.shell import KioskApp


def make(parts: "Parts") -> "DocumentPrintFlow":
    from kiosk.core.guides.catalog import GuideCatalog
    from kiosk.core.printing.documents import DocState, DocumentPrintFlow, FormLibrary
    from kiosk.sync import outbox

    settings, visit = parts.settings, parts.visit
    forms = FormLibrary(GuideCatalog(parts.store), settings.data_path / settings.documents.forms_dir,
                        sample_forms=settings.documents.sample_forms)
    documents = DocumentPrintFlow(
        printer=None, executor=parts.background.threads("documents", workers=3), payment=visit.payment,
        store=parts.store, outbox=outbox, fees=settings.fees, hash_key=settings.privacy.hash_key,
        central=parts.central, forms=forms, spool_dir=settings.data_path / "spool",
        card_timeout_s=settings.documents.id_card_timeout_s, lookup_timeout_s=settings.central.lookup_timeout_s,
        print_timeout_s=settings.documents.print_timeout_s)
    visit.pays_through(documents.SERVICE, documents, lambda: documents.state is DocState.PAYING)

    def devices_ready(devices):
        documents.printer, documents.reader = devices.get("document_printer"), devices.get("idcard")

    parts.runtime.on_ready(devices_ready)
    parts.session.on("wipe", lambda _reason: documents.reset())
    parts.session.attach(documents)   # which of its steps a visit may leave (kiosk/core/flow.py)
    return documents


def screen(app: "KioskApp", flow: "DocumentPrintFlow", visit: "VisitPath") -> "DocumentsScreen":
    from kiosk.screens.documents import DocumentsScreen  # kivy only once configure_kivy() has run

    return DocumentsScreen(name="documents", flow=flow, path=visit)
