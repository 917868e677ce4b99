"""The console's config page, `/console/config`: upload a signed bundle, and see which kiosks applied it.

An operator uploads the envelope `kiosk config sign` wrote on the operator's machine (the console never
holds a signing key). Before it is stored the platform checks it as a kiosk would: the signatures against
the operator keys pinned in `[console] trusted_keys` of central.toml (following the key rotations the
envelope carries), then the payload, whose version and targets, not the envelope's unsigned hints, decide
where it goes; a version not above every stored one is refused, as the API refuses it. The kiosks still
verify every bundle themselves: the check here keeps a forged or mistaken bundle from reaching them at all.

Each bundle's kiosks (those it names, and those of the groups it names) are shown as applied (the version
their last heartbeat reported is this one or newer), refused (an open `config` alarm of theirs names this
version; its reason shown), or waiting.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection, select

from kiosk.central import schema as T
from kiosk.central.console import queries
from kiosk.central.console.accounts import Person, audit
from kiosk.central.console.views import Refused, Signed, check_csrf, msg, page
from kiosk.wire import bundle

router = APIRouter(prefix="/console", include_in_schema=False)
_VERSION_IN_DETAIL = re.compile(r"\bversion (\d+)\b")
SHOWN_BUNDLES = 20


class TrustError(ValueError):
    """The pinned keys cannot be read: the message names the file and the setting."""


def load_trust(paths: list[str], base: Path, threshold: int = 1) -> bundle.TrustSet:
    """The operator keys of `[console] trusted_keys` (relative to the settings file's folder `base`)."""
    keys = {}
    for entry in paths:
        path = Path(entry) if Path(entry).is_absolute() else base / entry
        try:
            key = bundle.load_public_key(path)
        except bundle.BundleError as exc:
            raise TrustError(f"[console] trusted_keys: {path}: {exc}") from None
        keys[bundle.keyid(key)] = key
    return bundle.TrustSet(keys, threshold)


@dataclass
class Checked:
    version: int
    targets: list[str]
    keyids: tuple[str, ...]


def check_upload(raw: bytes, trust: bundle.TrustSet) -> Checked:
    """The bundle's version and targets once its signatures verified; bundle.BundleError otherwise."""
    env = bundle.parse_envelope(raw)
    if env.payload_type != bundle.CONFIG_TYPE:
        raise bundle.BundleError("unknown_type", "this is not a config bundle (a key rotation travels inside "
                                                 "the bundle it leads to)")
    verified = bundle.authenticate(env, trust)
    decoded = bundle.decode_config(env, list(verified.keyids))
    return Checked(decoded.version, list(decoded.targets), verified.keyids)


def _explain(exc: bundle.BundleError) -> str:
    if exc.code == "no_trusted_keys":
        return msg("The platform pins no operator key: list the operators' .pub files in [console] "
                   "trusted_keys of central.toml, then restart it.")
    if exc.code == "unknown_key":
        return msg("Signed by a key the platform does not trust: sign with an operator key listed in "
                   "[console] trusted_keys.")
    if exc.code == "bad_signature":
        return msg("The signatures do not match the content: the file was altered after signing, or too few "
                   "trusted keys signed it. Sign it again with `kiosk config sign`.")
    if exc.code == "too_large":
        return msg("The file is larger than a signed bundle can be (1 MiB).")
    return msg("This is not a signed config bundle: upload the .json file that `kiosk config sign` wrote.")


def bundles(conn: Connection, person: Person, now: float) -> list[dict[str, Any]]:
    """The newest bundles, each with the kiosks it is meant for (those the person sees) and their state."""
    b = T.config_bundles
    stored = conn.execute(select(b.c.version, b.c.targets, b.c.sha256, b.c.uploaded_at, b.c.uploaded_by)
                          .order_by(b.c.version.desc()).limit(SHOWN_BUNDLES)).mappings().all()
    if not stored:
        return []
    fleet = queries.fleet(conn, person, now)
    groups = {r[0]: set(json.loads(r[1] or "[]")) for r in conn.execute(select(T.kiosks.c.kiosk_id,
                                                                               T.kiosks.c.groups))}
    refusals = _refusals(conn, person)
    out = []
    for row in stored:
        targets = set(json.loads(row["targets"]))
        meant = [k for k in fleet if k.kiosk_id in targets or groups.get(k.kiosk_id, set()) & targets]
        kiosks = []
        for k in meant:
            reason = refusals.get((k.kiosk_id, row["version"]))
            state = ("applied" if (k.config_version or 0) >= row["version"] else
                     "refused" if reason else "waiting")
            kiosks.append({"kiosk_id": k.kiosk_id, "hall": k.hall_name or k.hall, "state": state,
                           "reason": reason, "version": k.config_version, "online": k.online})
        out.append({**row, "targets": sorted(targets), "kiosks": kiosks,
                    "counts": {s: sum(k["state"] == s for k in kiosks) for s in ("applied", "refused", "waiting")}})
    return out


def _refusals(conn: Connection, person: Person) -> dict[tuple[str, int], str]:
    """(kiosk, version) -> the reason, from the kiosks' open `config` alarms ("code: version N: reason")."""
    a = T.alarms
    stmt = select(a.c.kiosk_id, a.c.detail).where(a.c.device == "config", a.c.cleared_at.is_(None))
    scope = queries._hall_scope(person, a.c.kiosk_id)
    if scope is not None:
        stmt = stmt.where(scope)
    found = {}
    for kiosk_id, detail in conn.execute(stmt):
        m = _VERSION_IN_DETAIL.search(detail or "")
        if m:
            found[(kiosk_id, int(m.group(1)))] = detail
    return found


@router.get("/config")
def config_page(request: Request, session: Signed, uploaded: int | None = None):
    db = request.app.state.db
    with db.reading() as conn:
        shown = bundles(conn, session.person, db.clock())
    trust = request.app.state.console_trust
    return page(request, session, "config.html", bundles=shown, uploaded=uploaded,
                keyids=sorted(trust.keys), error=None)


@router.post("/config")
def upload(request: Request, session: Signed, csrf: Annotated[str, Form(max_length=100)] = "",
           file: Annotated[UploadFile | None, File()] = None):
    check_csrf(session, csrf)
    if not session.person.may("configure"):
        raise Refused(msg("Only an operator's account uploads config bundles."))
    db, trust = request.app.state.db, request.app.state.console_trust
    raw = file.file.read(bundle.MAX_ENVELOPE_BYTES + 1) if file is not None else b""
    error = None
    try:
        checked = check_upload(raw, trust)
    except bundle.BundleError as exc:
        error, checked = _explain(exc), None
    if checked is not None and not db.put_config(raw, checked.version, checked.targets,
                                                 by=f"console:{session.person.name}"):
        error = msg("A bundle of this version or a newer one is stored already: versions only grow. "
                    "Give the bundle a higher version and sign it again.")
    with db.begin() as conn:
        if error is None:
            audit(conn, db.clock(), session.person.name, "config.upload", str(checked.version),
                  targets=checked.targets, keyids=[k[:16] for k in checked.keyids])
        else:
            audit(conn, db.clock(), session.person.name, "config.refused", file.filename if file else "",
                  reason=error)
    if error is None:
        return RedirectResponse(f"/console/config?uploaded={checked.version}", status_code=303)
    with db.reading() as conn:
        shown = bundles(conn, session.person, db.clock())
    return page(request, session, "config.html", status=422, bundles=shown, uploaded=None,
                keyids=sorted(trust.keys), error=error)
