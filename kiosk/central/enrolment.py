"""The platform's side of enrolment (kiosk/wire/enrolment.py): tokens issued for provisioned kiosks, and
a token exchanged once for a new secret.

Issuing replaces any token the kiosk had. Exchanging happens in one transaction with the enrolment row
locked, so two kiosks racing with one token (or two workers taking one request twice) give out one
secret: the first takes it and the row is gone for the second. The kiosk's secret is replaced at that
moment; the one `add-kiosk` made, never shown to anyone, stops working. A wrong token counts against
the row, which is dropped at the MAX_FAILURES-th; an expired one is dropped when tried. Nothing here
writes a token or a secret to the log.
"""
from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from kiosk.central import schema as T
from kiosk.central.db import CentralDB, ProvisioningError, new_secret
from kiosk.wire.enrolment import MAX_FAILURES, digest, new_token

log = logging.getLogger(__name__)

DEFAULT_VALID_S = 72 * 3600.0      # three days: time to carry the token to the hall and provision


@dataclass(frozen=True)
class Issued:
    kiosk_id: str
    token: str
    expires_at: float


def issue(db: CentralDB, kiosk_id: str, valid_s: float = DEFAULT_VALID_S) -> Issued:
    """A new token for `kiosk_id`, which must be provisioned (`add-kiosk`); an earlier token is void."""
    if not 60 <= valid_s <= 90 * 86400:
        raise ProvisioningError("an enrolment token is valid for 1 minute to 90 days")
    token, now = new_token(), db.clock()
    e = T.enrolments
    with db.begin() as conn:
        if conn.execute(select(T.kiosks.c.kiosk_id).where(T.kiosks.c.kiosk_id == kiosk_id)).first() is None:
            raise ProvisioningError(f"kiosk {kiosk_id!r} is not provisioned: `kiosk central add-kiosk {kiosk_id}` "
                                    "first (with --enrolment-token it does both)")
        conn.execute(delete(e).where(e.c.kiosk_id == kiosk_id))
        conn.execute(insert(e).values(kiosk_id=kiosk_id, token_sha256=digest(token), issued_at=now,
                                      expires_at=now + valid_s, failures=0))
    log.info("kiosk %s: enrolment token issued, valid until %.0f", kiosk_id, now + valid_s)
    return Issued(kiosk_id, token, now + valid_s)


def exchange(db: CentralDB, kiosk_id: str, token: str) -> str | None:
    """The kiosk's new secret for a valid token (the token is used up); None otherwise, with the try counted."""
    e = T.enrolments
    now = db.clock()
    with db.begin() as conn:
        row = conn.execute(select(e).where(e.c.kiosk_id == kiosk_id).with_for_update()).mappings().first()
        if row is None:
            outcome = "no token"
        elif row["expires_at"] <= now:
            conn.execute(delete(e).where(e.c.kiosk_id == kiosk_id))
            outcome = "expired"
        elif not hmac.compare_digest(row["token_sha256"], digest(token)):
            failures = row["failures"] + 1
            if failures >= MAX_FAILURES:
                conn.execute(delete(e).where(e.c.kiosk_id == kiosk_id))
                outcome = f"wrong token, {failures} tries: voided"
            else:
                conn.execute(update(e).where(e.c.kiosk_id == kiosk_id).values(failures=failures))
                outcome = f"wrong token ({failures} of {MAX_FAILURES})"
        else:
            secret = new_secret()
            conn.execute(update(T.kiosks).where(T.kiosks.c.kiosk_id == kiosk_id)
                         .values(secret=db.seal.seal(secret, f"kiosk:{kiosk_id}")))
            conn.execute(delete(e).where(e.c.kiosk_id == kiosk_id))
            log.info("kiosk %s enrolled: its new secret went to it", kiosk_id)
            return secret
    log.warning("kiosk %s: enrolment refused (%s)", kiosk_id, outcome)
    return None
