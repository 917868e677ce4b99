"""The kiosk's side of enrolment (kiosk/wire/enrolment.py): its one-time token exchanged for its secret,
once, over the same TLS checks as every other request to the platform (the system's CAs, or
`[central] ca_bundle`; verification is never switched off)."""
from __future__ import annotations

import requests

from kiosk.wire.enrolment import PATH, EnrolAnswer, normalize


class EnrolError(Exception):
    """The secret could not be had; the message says why and what to do."""


def enrol(central_url: str, kiosk_id: str, token: str, *, ca_bundle: str | None = None,
          timeout_s: float = 15.0) -> str:
    url = central_url.rstrip("/") + PATH
    try:
        r = requests.post(url, json={"kiosk_id": kiosk_id, "token": normalize(token)}, timeout=timeout_s,
                          verify=ca_bundle or True, allow_redirects=False)
    except requests.exceptions.SSLError as exc:
        raise EnrolError(f"{url}: TLS verification failed ({exc.__class__.__name__}); check [central] url and "
                         "[central] ca_bundle") from None
    except requests.exceptions.Timeout:
        raise EnrolError(f"{url}: no answer within {timeout_s:g} s") from None
    except requests.exceptions.ConnectionError:
        raise EnrolError(f"{url}: the platform cannot be reached (check the URL and the network)") from None
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
