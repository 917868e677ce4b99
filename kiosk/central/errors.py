"""How the platform refuses: `ApiError` with a stable code, the JSON error body every refusal has, the
responses each route documents, and the exception handlers that turn everything else into that body."""
from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from kiosk.store import StoreError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal with its status, a stable code and a message for the person reading the logs."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details, headers


class ErrorBody(BaseModel):
    error: str = Field(description="stable code: unauthenticated, forbidden, malformed_json, invalid, too_large, "
                                   "unsupported_media_type, not_found, version_not_newer, storage_unavailable, "
                                   "case_closed, event_conflict, no_hash_key")
    message: str
    details: list[dict[str, Any]] | None = None


# every signed route can answer these (the order of checks in kiosk/central/deps.py; 503 when storage fails)
ERRORS = {status: {"model": ErrorBody} for status in (400, 401, 403, 413, 415, 422, 503)}
NOT_FOUND = {404: {"model": ErrorBody, "description": "no such resource (for this caller)"}}
CONFLICT = {409: {"model": ErrorBody, "description": "conflicts with what is stored"}}


def error_response(exc: ApiError) -> JSONResponse:
    body = {"error": exc.code, "message": exc.message}
    if exc.details is not None:
        body["details"] = exc.details
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


async def _api_error(request: Request, exc: ApiError):
    return error_response(exc)


async def _validation(request: Request, exc: RequestValidationError):
    details = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
    return error_response(ApiError(422, "invalid", "the request's parameters are not valid", details))


async def _http(request: Request, exc: StarletteHTTPException):
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
    return error_response(ApiError(exc.status_code, code, f"{request.method} {request.url.path}: {exc.detail}",
                                   headers=getattr(exc, "headers", None)))


async def _gone(request: Request, exc: ClientDisconnect):
    log.info("%s %s: the client went away before sending its whole body; nothing stored",
             request.method, request.url.path)
    return error_response(ApiError(400, "bad_request", "the body ended early"))


async def _storage(request: Request, exc: Exception):
    log.error("storage failed on %s %s: %s", request.method, request.url.path, exc)
    return error_response(ApiError(503, "storage_unavailable", "the platform cannot store right now; "
                                   "nothing was stored; try again later", headers={"Retry-After": "30"}))


def install(app: FastAPI) -> None:
    """Every refusal, ours or the framework's, answers with an ErrorBody."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ClientDisconnect, _gone)
    app.add_exception_handler(sqlite3.Error, _storage)
    app.add_exception_handler(SQLAlchemyError, _storage)
    app.add_exception_handler(StoreError, _storage)
