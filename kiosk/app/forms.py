"""Composition of form filling (自助填表) in the UI process (kiosk/app/root.py `FORMS`).

The `FormFlow` (kiosk/core/forms/flow.py) over the guide catalog (the forms its materials fill in),
the blank forms cache of the documents service (a form filled in on its official blank), the ID card
reader and the document printer of the device runtime (bound once they are up: without a reader every
field is typed), the outbox (the `form` and `print` transactions) and its own worker thread. The flow
is reset when the visitor session is wiped: every value goes, and the pinyin index and the handwriting
model close. A form with a price (`[fees] forms`) hands the visit over to the payment while the flow
is paying, and gets it back after; a printed form hands over to the rating. Its screen is kiosk/screens/forms.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.app.services import Parts
    from kiosk.core.forms.flow import FormFlow
    from kiosk.core.visit import VisitPath
    from kiosk.screens.forms import FormsScreen
    from kiosk.screens.shell import KioskApp


def make(parts: "Parts") -> "FormFlow":
    from kiosk.core.forms.flow import FormFlow, FormRecorder, FormState
    from kiosk.core.forms.template import fillable_forms
    from kiosk.core.guides.catalog import GuideCatalog
    from kiosk.core.printing.documents import FormLibrary, Printable
    from kiosk.sync.outbox import Outbox

    settings, visit = parts.settings, parts.visit
    catalog = GuideCatalog(parts.store)
    blanks = FormLibrary(catalog, settings.data_path / settings.documents.forms_dir,
                         sample_forms=settings.documents.sample_forms)

    with_forms: list = [None, ()]    # (catalog stamp, the codes of the items that have a form to fill)

    def forms(item_code: str | None):
        """The forms of guide `item_code`, or of every guide; which guides have one is worked out once
        per catalog version (on the flow's first look after an import), not item by item at each visit."""
        if item_code is None:
            stamp = catalog.stamp()
            if with_forms[0] != stamp or stamp is None:
                codes = []
                for summary in catalog.items():
                    item = catalog.get(summary.code)
                    if item is not None and any(m.fill_form for m in item.materials):
                        codes.append(item.code)
                with_forms[:] = [stamp, tuple(codes)]
        out = []
        for code in ([item_code] if item_code else with_forms[1]):
            item = catalog.get(code)
            if item is not None:
                out.extend(fillable_forms(item))
        return out

    def blank_pdf(form):
        blank = form.template.layout.blank
        url = blank.url or form.material.blank_form_url if blank else None
        if blank is not None and blank.path:
            path = blanks.cache_dir / blank.path
            return path if path.exists() else None
        return blanks.pdf(Printable("blank_form", url, form.material.name, 1, form.item_code)) if url else None

    flow = FormFlow(forms, executor=parts.background.threads("forms"), clock=parts.clock,
                    today=lambda: parts.now().date(), recorder=FormRecorder(parts.store, Outbox),
                    blank_pdf=blank_pdf, spool_dir=settings.data_path / "spool",
                    card_timeout_s=settings.documents.id_card_timeout_s, payment=visit.payment,
                    fee=settings.fees.forms)
    visit.pays_through(flow.name, flow, lambda: flow.state is FormState.PAYING)

    def devices_ready(devices):
        flow.reader, flow.printer = devices.get("idcard"), devices.get("document_printer")

    parts.runtime.on_ready(devices_ready)
    parts.session.on("wipe", lambda _reason: flow.reset())
    parts.session.attach(flow)   # which of its steps a visit may leave (kiosk/core/flow.py)
    return flow


def screen(_app: "KioskApp", flow: "FormFlow", visit: "VisitPath") -> "FormsScreen":
    from kiosk.screens.forms import FormsScreen  # kivy only once configure_kivy() has run

    return FormsScreen(name="forms", flow=flow, path=visit)
