"""The platform's routes, one APIRouter per resource, in the order the app includes them (which is the
order of the OpenAPI document's paths)."""
from __future__ import annotations

from kiosk.central.routes import (cases, catalog, config, documents, enrolment, fees, health, kiosks, notices, page,
                                  payments, queues, transactions)
from kiosk.wire.catalog import Catalog
from kiosk.wire.enrolment import EnrolRequest
from kiosk.wire.queues import TicketRequest
from kiosk.wire.transactions import Heartbeat, TransactionBatch

ROUTERS = (transactions.router, catalog.router, config.router, kiosks.router, enrolment.router, documents.router,
           cases.router, notices.router, payments.router, queues.router, fees.router, health.router, page.router)

# the request bodies the routes read by hand (kiosk/central/deps.py): their schemas go into the OpenAPI
# document's components, where the routes' `request_body` refers to them
BODIES = (TransactionBatch, Heartbeat, Catalog, documents.DocumentUpload, payments.CodePaymentRequest,
          payments.CodeRefundRequest, cases.CaseUpload, TicketRequest, queues.HallDefinition,
          queues.AppointmentDefinition, fees.FeePaymentItem, EnrolRequest)
