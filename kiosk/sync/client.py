"""The central platform's kiosk API (DESIGN.md section 5), over requests.

Every request is signed (kiosk/wire/auth.py: HMAC-SHA256 over method, path,
kiosk id, timestamp, nonce and body hash), has a timeout, and verifies TLS
(with `[central] ca_bundle` when set; verification is never switched off).
Failures come back as typed errors the relay can act on:

    CentralOffline      no connection (refused, DNS, reset, cut mid-answer)   -> retry
    CentralTimeout      no answer within the timeout                           -> retry
    CentralServerError  5xx or 429, with the Retry-After it sent, if any       -> retry
    CentralAuthRefused  401/403: wrong secret, unknown kiosk, clock off        -> retry, a technician must look
    CentralInvalid      400/413/422: the platform will never take this request -> narrow down, then dead
    CentralNotFound     404 on a look-up (a case look-up answers None instead)

A fee notice the platform refuses (unknown, malformed, paid, expired, of another hall) is an answer,
not an error: `find_fee_notice` returns it as a `FeeRefusal`.
"""
from __future__ import annotations

import contextlib
import email.utils
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import requests
from pydantic import BaseModel, ValidationError

from kiosk import __version__
from kiosk.wire import auth
from kiosk.wire.cases import KioskCase
from kiosk.wire.errors import PlatformUnavailable
from kiosk.wire.fees import REFUSALS, FeeNoticeView, FeePaymentAnswer, FeeRefusal
from kiosk.wire.progress import CaseProgress, HolderCases
from kiosk.wire.queues import Appointment, AppointmentList, HallQueues, Ticket, TicketRefused, TicketRequest
from kiosk.wire.transactions import BatchResult, Heartbeat

M = TypeVar("M", bound=BaseModel)


class CentralError(Exception):
    """The central platform could not be used for this request; the message says why."""
    retryable = True


class CentralOffline(CentralError, PlatformUnavailable):
    pass


class CentralTimeout(CentralError, PlatformUnavailable):
    pass


class CentralServerError(CentralError, PlatformUnavailable):
    def __init__(self, message: str, status: int, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class CentralAuthRefused(CentralError, PlatformUnavailable):
    pass


class CentralInvalid(CentralError):
    """The request itself is wrong (validation, too large); sending it again will not help."""
    retryable = False

    def __init__(self, message: str, status: int, detail: Any = None):
        super().__init__(message)
        self.status = status
        self.detail = detail


class CentralNotFound(CentralError):
    retryable = False


@dataclass(frozen=True)
class Fetched:
    """A conditional GET's outcome: `body` is None when the platform answered 304 Not Modified."""
    body: bytes | None
    etag: str | None

    @property
    def changed(self) -> bool:
        return self.body is not None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _detail(resp: requests.Response) -> Any:
    """The platform's reason: `{"error","message","details":[{"field","problem"}]}`, or FastAPI's `detail`."""
    try:
        doc = resp.json()
    except ValueError:
        return resp.text[:500]
    if isinstance(doc, dict) and "message" in doc:
        parts = [str(doc["message"])]
        for d in doc.get("details") or []:
            if isinstance(d, dict) and "field" in d:
                parts.append(f"{d['field']}: {d.get('problem')}")
        return "; ".join(parts)
    return doc.get("detail", doc) if isinstance(doc, dict) else doc


def send(session, method: str, base: str, path_qs: str, what: str, timeout: float, verify: bool | str,
         **kwargs) -> requests.Response:
    """One request to the platform, its transport failures said in a technician's words: CentralOffline
    (TLS, unreachable, anything else of requests) or CentralTimeout. `session`: a requests.Session, or the
    requests module for a one-off (enrolment, before the kiosk has a secret)."""
    try:
        return session.request(method, base + path_qs, timeout=timeout, verify=verify, allow_redirects=False,
                               **kwargs)
    except requests.exceptions.SSLError as exc:
        raise CentralOffline(f"{what}: TLS verification failed ({exc.__class__.__name__}): check "
                             "[central] url and [central] ca_bundle") from None
    except requests.exceptions.Timeout:
        raise CentralTimeout(f"{what}: no answer within {timeout:g} s ([central] timeout_s)") from None
    except requests.exceptions.ConnectionError as exc:
        raise CentralOffline(f"{what}: cannot reach {base}: {unreached_reason(exc)}") from None
    except requests.exceptions.RequestException as exc:
        raise CentralOffline(f"{what}: {exc.__class__.__name__}: {exc}") from None


class CentralClient:
    """One kiosk's authenticated client of the central platform."""

    def __init__(self, url: str, kiosk_id: str, secret: str, *, timeout_s: float = 10,
                 lookup_timeout_s: float = 3, ca_bundle: str | None = None,
                 session: requests.Session | None = None):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"[central] url {url!r} is not an http(s) URL")
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.prefix = parts.path.rstrip("/")
        self.kiosk_id = kiosk_id
        self.secret = secret
        self.timeout_s = timeout_s
        self.lookup_timeout_s = lookup_timeout_s
        self.verify: bool | str = ca_bundle or True
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"kiosk/{__version__} ({kiosk_id})"

    @classmethod
    def from_settings(cls, settings) -> "CentralClient":
        c = settings.central
        ca = str(settings.resolve(c.ca_bundle)) if c.ca_bundle else None
        return cls(c.url, settings.kiosk.id, c.secret, timeout_s=c.timeout_s,
                   lookup_timeout_s=c.lookup_timeout_s, ca_bundle=ca)

    def close(self) -> None:
        self.session.close()

    # -- the API -----------------------------------------------------------------------
    def post_transactions(self, items: list[dict[str, Any]]) -> BatchResult:
        """Upload a batch; the per-item results (accepted, duplicate, rejected with a reason)."""
        resp = self._request("POST", "/api/v1/transactions", body={"kiosk_id": self.kiosk_id, "items": items})
        try:
            return BatchResult.model_validate_json(resp.content)
        except ValueError as exc:
            raise CentralServerError(f"the platform's answer to a batch is not a batch result: {exc}",
                                     resp.status_code) from None

    def get_catalog(self, etag: str | None = None) -> Fetched:
        return self._conditional("/api/v1/catalog", etag)

    def get_config(self, etag: str | None = None) -> Fetched:
        return self._conditional(f"/api/v1/kiosks/{self.kiosk_id}/config", etag)

    def heartbeat(self, beat: Heartbeat) -> None:
        self._request("POST", f"/api/v1/kiosks/{self.kiosk_id}/heartbeat",
                      body=json.loads(beat.model_dump_json()))

    def documents_for_holder(self, holder_hash: str, timeout: float | None = None) -> list[dict[str, Any]]:
        """Documents released for printing to the card holder with this keyed hash (an interactive look-up)."""
        resp = self._request("GET", f"/api/v1/kiosks/{self.kiosk_id}/documents", query={"holder": holder_hash},
                             timeout=timeout or self.lookup_timeout_s)
        doc = resp.json()
        docs = doc.get("documents", []) if isinstance(doc, dict) else doc
        if not isinstance(docs, list):
            raise CentralServerError("the platform's document list is not a list", resp.status_code)
        return docs

    def get_document(self, doc_id: str, holder_hash: str | None = None, timeout: float | None = None) -> bytes:
        """The PDF of one released document; with `holder_hash`, only if it was released to that holder."""
        resp = self._request("GET", f"/api/v1/documents/{quote(doc_id, safe='')}",
                             query={"holder": holder_hash} if holder_hash else None,
                             timeout=timeout or self.lookup_timeout_s)
        if not resp.content.startswith(b"%PDF"):
            raise CentralServerError(f"document {doc_id!r}: the platform's answer is not a PDF", resp.status_code)
        return resp.content

    def find_case(self, case_number: str, timeout: float | None = None) -> KioskCase | None:
        """The case as the platform knows it, for a deposit: an interactive look-up, with the short
        timeout (`[central] lookup_timeout_s`). None when the platform does not know the case (404);
        an answer that is not a case is a `CentralServerError` (the platform cannot answer now)."""
        return self._case(f"/api/v1/kiosks/{self.kiosk_id}/cases/{quote(case_number, safe='')}", case_number,
                          KioskCase, "a case", timeout)

    # -- queue tickets (kiosk/core/tickets.py QueuePort; docs/services.md) ---------------
    def hall_queues(self, hall: str, timeout: float | None = None) -> HallQueues:
        """The hall's business types with their waiting counts and hours: an interactive look-up."""
        return self._queue_answer(HallQueues, "GET", f"/api/v1/halls/{quote(hall, safe='')}/queues", timeout=timeout)

    def take_ticket(self, hall: str, request: TicketRequest, timeout: float | None = None) -> Ticket:
        """A ticket (or an appointment checked in); the same request id again gives the same ticket."""
        return self._queue_answer(Ticket, "POST", f"/api/v1/halls/{quote(hall, safe='')}/tickets",
                                  body=request.model_dump(exclude_none=True), timeout=timeout)

    def find_appointment(self, hall: str, code: str, timeout: float | None = None) -> Appointment | None:
        try:
            return self._queue_answer(Appointment, "GET", f"/api/v1/halls/{quote(hall, safe='')}/appointments/"
                                                          f"{quote(code, safe='')}", timeout=timeout)
        except TicketRefused as exc:
            if exc.code == "appointment_unknown":
                return None
            raise

    def holder_appointments(self, hall: str, holder_hash: str, timeout: float | None = None) -> list[Appointment]:
        return self._queue_answer(AppointmentList, "GET", f"/api/v1/halls/{quote(hall, safe='')}/appointments",
                                  query={"holder": holder_hash}, timeout=timeout).appointments

    def _queue_answer(self, model, method: str, path: str, *, body: Any = None, query: dict | None = None,
                      timeout: float | None = None):
        """A queue request's answer as `model`; a refusal of the hall's queue system (403, 404, 409, 422 with
        its `error` code) as `TicketRefused`."""
        resp = self._request(method, path, body=body, query=query, timeout=timeout or self.lookup_timeout_s,
                             ok=(200, 201, 403, 404, 409, 422))
        if resp.status_code >= 400:
            try:
                doc = resp.json()
            except ValueError:
                doc = {}
            code = doc.get("error") if isinstance(doc, dict) else None
            code = "not_in_hall" if resp.status_code == 403 else (code or "refused")
            opens = None
            for d in (doc.get("details") or []) if isinstance(doc, dict) else []:
                if isinstance(d, dict) and d.get("opens_at"):
                    with contextlib.suppress(ValueError, TypeError):
                        opens = datetime.fromisoformat(d["opens_at"])
            raise TicketRefused(code, f"{method} {path}: {resp.status_code} {code}", opens_at=opens)
        return _answer_as(model, resp, f"{method} {path}", f"a {model.__name__}")
    def case_progress(self, case_number: str, timeout: float | None = None) -> CaseProgress | None:
        """How far a case is (issue 18): an interactive look-up, with the short timeout. None when the
        platform does not know the case (404) or will never take that number (422); an answer that is not
        a case's progress is a `CentralServerError` (the platform cannot answer now)."""
        return self._case(f"/api/v1/kiosks/{self.kiosk_id}/cases/{quote(case_number, safe='')}/progress",
                          case_number, CaseProgress, "a case's progress", timeout,
                          absent=(CentralNotFound, CentralInvalid))

    def _case(self, path: str, case_number: str, model: type[M], expected: str, timeout: float | None,
              absent: tuple[type[CentralError], ...] = (CentralNotFound,)) -> M | None:
        """A look-up of one case (`model`), None when the platform answers `absent`; the answer must be
        about that case."""
        try:
            resp = self._request("GET", path, timeout=timeout or self.lookup_timeout_s)
        except absent:
            return None
        found = _answer_as(model, resp, f"GET {path}", expected)
        if found.case_number.upper() != case_number.upper():
            raise CentralServerError(f"GET {path}: the platform answered with case {found.case_number!r}",
                                     resp.status_code)
        return found

    def cases_of_holder(self, holder_hash: str, timeout: float | None = None) -> HolderCases:
        """Every case of the card holder with this keyed hash, newest first, with its progress (an
        interactive look-up, with the short timeout)."""
        path = f"/api/v1/kiosks/{self.kiosk_id}/cases"
        resp = self._request("GET", path, query={"holder": holder_hash}, timeout=timeout or self.lookup_timeout_s)
        return _answer_as(HolderCases, resp, f"GET {path}", "a list of cases")

    def find_fee_notice(self, number: str, timeout: float | None = None) -> FeeNoticeView | FeeRefusal:
        """A fee notice before taking payment for it (an interactive look-up, the short timeout): the notice,
        or the platform's refusal (kiosk/wire/fees.py REFUSALS) with its sentence and details."""
        path = f"/api/v1/kiosks/{self.kiosk_id}/fee-notices/{quote(number, safe='')}"
        resp = self._request("GET", path, timeout=timeout or self.lookup_timeout_s, ok=(200, 404, 409, 422))
        if resp.status_code != 200:
            try:
                doc = resp.json()
            except ValueError:
                doc = None
            code = doc.get("error") if isinstance(doc, dict) else None
            if code not in REFUSALS:   # a platform without fee notices, or a request it will never take
                raise CentralServerError(f"GET {path}: answered {resp.status_code} {code or ''}".strip(),
                                         resp.status_code)
            details = doc.get("details") if isinstance(doc.get("details"), list) else []
            return FeeRefusal(code, str(doc.get("message") or ""), [d for d in details if isinstance(d, dict)])
        notice = _answer_as(FeeNoticeView, resp, f"GET {path}", "a fee notice")
        if notice.number != number:
            raise CentralServerError(f"GET {path}: the platform answered with notice {notice.number}",
                                     resp.status_code)
        return notice

    def report_fee_payment(self, item: dict[str, Any], timeout: float | None = None) -> FeePaymentAnswer:
        """The `payment` transaction that pays a notice, sent at once (the outbox sends the same item later;
        the platform stores it once): what became of the notice."""
        path = f"/api/v1/kiosks/{self.kiosk_id}/fee-payments"
        resp = self._request("POST", path, body=item, timeout=timeout or self.lookup_timeout_s)
        return _answer_as(FeePaymentAnswer, resp, f"POST {path}", "a fee payment's")

    # -- plumbing -----------------------------------------------------------------------
    def request_json(self, method: str, path: str, *, body: Any = None, timeout: float | None = None) -> Any:
        """A signed request to a service of the platform outside the sync API (the payment codes of
        kiosk/sync/code_payments.py): the decoded JSON answer, or the typed errors above (an answer
        that is not JSON is a `CentralServerError`)."""
        resp = self._request(method, path, body=body, timeout=timeout)
        try:
            return resp.json()
        except ValueError:
            raise CentralServerError(f"{method} {path}: the answer is not JSON", resp.status_code) from None

    def _conditional(self, path: str, etag: str | None) -> Fetched:
        headers = {"If-None-Match": etag} if etag else {}
        resp = self._request("GET", path, headers=headers, ok=(200, 304))
        if resp.status_code == 304:
            return Fetched(None, etag)
        return Fetched(resp.content, resp.headers.get("ETag"))

    def _request(self, method: str, path: str, *, body: Any = None, query: dict | None = None,
                 headers: dict | None = None, timeout: float | None = None, ok=(200, 201, 202, 204)) -> requests.Response:
        path_qs = self.prefix + path + (("?" + urlencode(query)) if query else "")
        data = b"" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        h = dict(headers or {})
        h.update(auth.sign(self.secret, method, path_qs, self.kiosk_id, data))
        if body is not None:
            h["Content-Type"] = "application/json"
        timeout = timeout or self.timeout_s
        what = f"{method} {path}"
        resp = send(self.session, method, self.base, path_qs, what, timeout, self.verify, data=data or None,
                    headers=h)
        status = resp.status_code
        if status in ok:
            return resp
        if status in (401, 403):
            raise CentralAuthRefused(f"{what}: refused with {status}: check [central] secret for kiosk "
                                     f"{self.kiosk_id!r} and this machine's clock")
        if status == 404:
            raise CentralNotFound(f"{what}: not found (404)")
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            raise CentralServerError(f"{what}: the platform answered {status}"
                                     + (f", retry after {retry_after:g} s" if retry_after is not None else ""),
                                     status, retry_after)
        if status in (400, 409, 413, 415, 422):
            detail = _detail(resp)
            raise CentralInvalid(f"{what}: refused as invalid ({status}): {_short(detail)}", status, detail)
        raise CentralServerError(f"{what}: unexpected answer {status}", status)


def _answer_as(model: type[M], resp: requests.Response, what: str, expected: str) -> M:
    """The answer as `model`; else a `CentralServerError` naming the fields and what is wrong with them,
    never their values (an answer about a case may hold personal data)."""
    try:
        return model.model_validate_json(resp.content)
    except ValidationError as exc:
        wrong = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['type']}" for e in exc.errors()[:5])
        raise CentralServerError(f"{what}: the platform's answer is not {expected} ({wrong})",
                                 resp.status_code) from None


def unreached_reason(exc: Exception) -> str:
    """Why a request did not reach its server, in a few plain words (not urllib3's nested repr)."""
    text = str(exc)
    for hint in ("Connection refused", "Name or service not known", "Connection reset", "RemoteDisconnected",
                 "Connection aborted", "No route to host", "Network is unreachable"):
        if hint in text:
            return hint.lower()
    return text[:200]


def _short(detail: Any) -> str:
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, default=str)
    return text[:300]
