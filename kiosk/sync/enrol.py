"""The kiosk's side of enrolment (kiosk/wire/enrolment.py): its one-time token exchanged for its secret,
once, over the same TLS checks as every other request to the platform (the system's CAs, or
`[central] ca_bundle`; verification is never switched off)."""
from __future__ import annotations

import requests

from kiosk.sync.client import CentralError, send
from kiosk.wire.enrolment import PATH, EnrolAnswer, normalize


class EnrolError(Exception):
    """The secret could not be had; the message says why and what to do."""


def enrol(central_url: str, kiosk_id: str, token: str, *, ca_bundle: str | None = None,
          timeout_s: float = 15.0) -> str:
    base = central_url.rstrip("/")
    url = base + PATH
    try:
        r = send(requests, "POST", base, PATH, f"POST {PATH}", timeout_s, ca_bundle or True,
                 json={"kiosk_id": kiosk_id, "token": normalize(token)})
    except CentralError as exc:
        raise EnrolError(str(exc)) from None
    if r.status_code == 200:
        try:
            answer = EnrolAnswer.model_validate_json(r.content)
        except ValueError:
            raise EnrolError(f"{url}: the answer is not an enrolment answer; is this the platform?") from None
        if answer.kiosk_id != kiosk_id:
            raise EnrolError(f"{url}: the platform answered for kiosk {answer.kiosk_id!r}, not {kiosk_id!r}")
        return answer.secret
    try:
        message = r.json().get("message") or r.text[:300]
    except ValueError:
        message = r.text[:300] or r.reason
    raise EnrolError(f"{url}: {r.status_code}: {message}")
