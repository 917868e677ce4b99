"""Signed config bundles: an operator uploads one for the fleet; each kiosk pulls the newest that targets
it or one of its groups. The platform does not verify the signature; kiosks do."""
from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kiosk.central import edge
from kiosk.central.deps import DB, Caller, Signed, etag_matches, own_kiosk, parse_json
from kiosk.central.errors import ERRORS, ApiError, ErrorBody
from kiosk.central.openapi import JSON_SAFE_INT, request_body
from kiosk.wire.transactions import ConfigStored

log = logging.getLogger(__name__)
router = APIRouter()

_BUNDLE_FIELDS = {"version": {"type": "integer", "minimum": 1, "maximum": JSON_SAFE_INT},
                  "targets": {"type": "array", "minItems": 1,
                              "items": {"type": "string", "minLength": 1, "maxLength": 64}}}
# what declared_bundle_fields reads: version and targets at the top level, or in `payload` or `bundle`
BUNDLE_SCHEMA = {
    "type": "object",
    "properties": {**_BUNDLE_FIELDS, **{place: {"type": "object", "properties": _BUNDLE_FIELDS,
                                                "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}}
                                        for place in ("payload", "bundle")}},
    # each alternative complete in itself: generators do not always merge a branch with its parent
    "anyOf": [{"type": "object", "required": ["version", "targets"], "properties": _BUNDLE_FIELDS},
              *({"type": "object", "required": [place], "properties": {place: {
                  "type": "object", "required": ["version", "targets"], "properties": _BUNDLE_FIELDS,
                  "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}}}}
                for place in ("payload", "bundle"))],
    "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
    "description": "integers anywhere in the envelope fit in 64 bits; nesting is at most 64 levels"}


def declared_bundle_fields(envelope: Any) -> tuple[int, list[str]]:
    """The version and targets a signed config bundle declares: top-level fields of the envelope,
    or of its `payload`/`bundle` object. The platform does not verify the signature; kiosks do."""
    if not isinstance(envelope, dict):
        raise ApiError(422, "invalid", "a config bundle is a JSON object (the signed envelope)")
    places = [envelope] + [envelope[k] for k in ("payload", "bundle") if isinstance(envelope.get(k), dict)]
    source = next((p for p in places if "version" in p and "targets" in p), None)
    if source is None:
        raise ApiError(422, "invalid", "the envelope declares no version and targets",
                       [{"field": "version", "problem": "required: the bundle's version, an integer"},
                        {"field": "targets", "problem": "required: the kiosk ids and group names it is for"}])
    version, targets = source["version"], source["targets"]
    if isinstance(version, float) and version.is_integer() and abs(version) <= edge.INT64_MAX:
        version = int(version)  # JSON has one number type: 7.0 is the integer 7
    details = []
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= edge.INT64_MAX:
        details.append({"field": "version", "problem": f"expected an integer from 1 to {edge.INT64_MAX}, "
                                                       f"got {json.dumps(version)[:40]}"})
    if (not isinstance(targets, list) or not targets
            or not all(isinstance(t, str) and 0 < len(t) <= 64 for t in targets)):
        details.append({"field": "targets", "problem": "expected a non-empty list of kiosk ids and group names"})
    if details:
        raise ApiError(422, "invalid", "the envelope's version or targets are not usable", details)
    return version, targets


@router.get("/api/v1/kiosks/{kiosk_id}/config", tags=["config"],
            responses={**ERRORS, 304: {"description": "unchanged"}, 404: {"model": ErrorBody},
                       200: {"description": "the signed envelope, as the operator uploaded it",
                             "content": {"application/json": {"schema": {"type": "object"}}}}},
            summary="The newest signed config bundle that targets this kiosk or one of its groups")
async def get_config(request: Request, kiosk_id: str, db: DB,
                     caller: Caller = Depends(Signed("kiosk", "operator"))):
    own_kiosk(caller, kiosk_id)
    row = await run_in_threadpool(db.newest_config_for, kiosk_id, body=False)
    if row is None:
        raise ApiError(404, "not_found", f"no config bundle targets kiosk {kiosk_id!r} or its groups")
    etag = f'"{row["sha256"]}"'
    headers = {"ETag": etag, "X-Config-Version": str(row["version"]), "Cache-Control": "no-cache"}
    if etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    body = await run_in_threadpool(db.config_body, row["version"])
    return Response(body, media_type="application/json; charset=utf-8", headers=headers)


@router.put("/api/v1/fleet/config", response_model=ConfigStored, tags=["config"],
            responses={**ERRORS, 409: {"model": ErrorBody, "description": "version not above the newest stored"}},
            summary="Upload a signed config bundle for the fleet (operator)",
            openapi_extra=request_body(BUNDLE_SCHEMA, "the signed envelope made by `kiosk config sign`; it declares "
                                                      "`version` (integer, strictly increasing) and `targets` (kiosk "
                                                      "ids and group names) at its top level or in its `payload` "
                                                      "object"))
async def put_fleet_config(request: Request, db: DB, caller: Caller = Depends(Signed("operator", limit="config"))):
    version, targets = declared_bundle_fields(parse_json(request, caller.body))
    if not db.put_config(caller.body, version, targets, f"operator:{caller.name}"):
        newest = db.newest_config_version()
        raise ApiError(409, "version_not_newer", f"version {version} is not above the newest stored version "
                       f"{newest}; bundle versions only increase: sign it again with a higher version")
    log.info("config bundle version %d for %s stored by operator %s", version, targets, caller.name)
    return JSONResponse({"version": version, "targets": targets})
