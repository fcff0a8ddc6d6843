"""The API reference at /api/v1/docs: the OpenAPI document rendered on the server (no script)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, make_response, render_template
from markupsafe import Markup, escape

from shortener.openapi import openapi_document

bp = Blueprint("docs", __name__, url_prefix="/api/v1")

# Nothing but Lumen's own stylesheet: no script, no frame, no form, no other origin.
POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
METHOD_ORDER = ("get", "post", "put", "patch", "delete")
CODE_SPAN = re.compile(r"`([^`]+)`")


@bp.app_template_filter("code_spans")
def code_spans(text: str) -> Markup:
    """The document's text escaped, with its `backtick` spans shown as code.

    >>> str(code_spans("send `<key>` as <b>"))
    'send <code>&lt;key&gt;</code> as &lt;b&gt;'
    """
    return Markup(CODE_SPAN.sub(r"<code>\1</code>", str(escape(text))))


def _type_of(schema: dict[str, Any]) -> str:
    """A schema's type in a few words: `string (uri)`, `array of string`, `301 | 302 | 307`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    kind = schema.get("type", "object")
    kind = " or ".join(kind) if isinstance(kind, list) else str(kind)
    if kind == "array":
        return "array of " + _type_of(schema.get("items", {}))
    if "format" in schema:
        kind += f" ({schema['format']})"
    return kind


def _fields(schema: dict[str, Any]) -> list[dict[str, str]]:
    """The properties of an object schema (or of an array's items) as table rows."""
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "type": _type_of(prop),
            "required": "yes" if name in required else "",
            "description": prop.get("description", ""),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _response_meaning(response: dict[str, Any]) -> str:
    if response.get("$ref", "").endswith("/Problem"):
        return "an error, as application/problem+json"
    if response.get("$ref", "").endswith("/Unavailable"):
        return "Redis does not answer; try again after Retry-After seconds"
    return str(response.get("description", ""))


def reference_operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation of the document, in path order, shaped for the reference page."""
    operations: list[dict[str, Any]] = []
    for path, path_item in document["paths"].items():
        for method in METHOD_ORDER:
            if method not in path_item:
                continue
            item = path_item[method]
            security = item.get("security", document.get("security", []))
            body = item.get("requestBody", {}).get("content", {})
            body_schema: dict[str, Any] | None = (
                next(iter(body.values())).get("schema") if body else None
            )
            operations.append(
                {
                    "id": item.get("operationId", f"{method}-{path}"),
                    "method": method.upper(),
                    "path": document["servers"][0]["url"] + path,
                    "summary": item.get("summary", ""),
                    "description": item.get("description", ""),
                    "scope": ", ".join(
                        scope for req in security for scopes in req.values() for scope in scopes
                    )
                    if security
                    else "public",
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "type": _type_of(p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in item.get("parameters", [])
                    ],
                    "body": _fields(body_schema) if body_schema else [],
                    "body_type": _type_of(body_schema) if body_schema else "",
                    "responses": [
                        (status, _response_meaning(response))
                        for status, response in item.get("responses", {}).items()
                    ],
                }
            )
    return operations


@bp.get("/docs")
def docs() -> Response:
    """The API reference page (public, like the OpenAPI document it is rendered from)."""
    document = openapi_document()
    response = make_response(
        render_template(
            "api_docs.html",
            info=document["info"],
            auth=document["components"]["securitySchemes"]["bearer"]["description"],
            operations=reference_operations(document),
        )
    )
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
