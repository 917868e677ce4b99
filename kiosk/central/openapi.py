"""The platform's OpenAPI document: the request bodies the routes parse by hand, the JSON values the
platform stores faithfully, and the signed-request security schemes."""
from __future__ import annotations

from typing import Any, Iterable

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from kiosk.wire import auth

# paths that take no signature (the OpenAPI document itself is not a route of the schema)
UNSIGNED = ("/api/v1/health",)

# Bounds in the document are 2^53 - 1, inside the server's int64: JSON Schema tools (hypothesis-jsonschema
# among them) handle numbers as doubles, and 2^63 - 1 rounds up to 2^63, past what the server takes.
JSON_SAFE_INT = 2**53 - 1
# any JSON value the platform stores faithfully (kiosk/central/edge.py); the depth limit is not expressed
JSON_VALUE = {"anyOf": [{"type": ["string", "boolean", "null"]},
                        {"type": "number", "minimum": -JSON_SAFE_INT, "maximum": JSON_SAFE_INT},
                        {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
                        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}}]}


def _free_json_is_storable(schemas: dict) -> None:
    """Free-form objects (`dict[str, Any]`: a transaction's data, a heartbeat's devices and alarms) hold
    values the edge checks too: say so, rather than `additionalProperties: true`."""
    stack: list[Any] = list(schemas.values())
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "object" and node.get("additionalProperties") is True and not node.get("properties"):
                node["additionalProperties"] = {"$ref": "#/components/schemas/JsonValue"}
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def request_body(model: type[BaseModel] | dict | None, description: str) -> dict:
    """`openapi_extra` for a route whose body is read by hand (kiosk/central/deps.py): a model's schema
    (added to the components by `install`), a literal schema, or any object."""
    if isinstance(model, dict):
        schema = model
    else:
        schema = {"$ref": f"#/components/schemas/{model.__name__}"} if model else {"type": "object"}
    return {"requestBody": {"required": True, "description": description,
                            "content": {"application/json": {"schema": schema}}}}


def install(app: FastAPI, bodies: Iterable[type[BaseModel]]) -> None:
    """Serve the app's OpenAPI document with `bodies` (the models that routes read by hand) among its
    components and each signed operation's security requirement. Built once, on first request."""
    hand_parsed = tuple(bodies)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        # request bodies are parsed by hand (kiosk/central/deps.py): add their schemas here
        _, defs = models_json_schema([(m, "validation") for m in hand_parsed],
                                     ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).update(defs.get("$defs", {}))
        components["schemas"]["JsonValue"] = JSON_VALUE
        _free_json_is_storable(components["schemas"])
        described = ((auth.HEADER_KIOSK, "the kiosk id; a kiosk's requests"),
                     (auth.HEADER_OPERATOR, "the operator name; an operator's requests"),
                     (auth.HEADER_TS, "unix seconds, 1-12 ASCII digits; within 300 s of the server's clock"),
                     (auth.HEADER_NONCE, "16-64 of [A-Za-z0-9_-] (32 random hex digits), never reused"),
                     (auth.HEADER_BODY, "hex SHA-256 of the body as sent (of nothing for a GET); signed"),
                     (auth.HEADER_SIG, "hex HMAC-SHA256 of the canonical request; docs/central-api.md"))
        components["securitySchemes"] = {name: {"type": "apiKey", "in": "header", "name": name, "description": text}
                                         for name, text in described}
        common = [auth.HEADER_TS, auth.HEADER_NONCE, auth.HEADER_BODY, auth.HEADER_SIG]
        # either a kiosk's or an operator's signature (never both principal headers)
        requirement = [{name: [] for name in (principal, *common)}
                       for principal in (auth.HEADER_KIOSK, auth.HEADER_OPERATOR)]
        for path, ops in schema["paths"].items():
            if path in UNSIGNED:
                continue
            for op in ops.values():
                op["security"] = requirement
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
