"""What each operation of the public API promises, declared once beside its route and turned into
Powertools' OpenAPI route arguments (summary, description, tag, security, responses).

A route states its success answers (status -> model) and the domain errors it raises itself (as
instances: class and code); `operation()` adds what every route of its kind can answer (401 without
a key, 403 below the role, 400/413/415/422 for a JSON body, 400 INVALID_CURSOR and 422 for a list,
429 and 500 everywhere) and takes each error's status from http_errors.STATUS, so a status is never
written twice. The role is enforced from the same declaration (a route middleware), so what the
document says and what the API does cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi import swagger_ui
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server, Tag
from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from http_errors import status_of
from pydantic import BaseModel, Field
from web import principal

from bulkimport.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    MalformedRequest,
    RateLimited,
    TooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from bulkimport.i18n.messages import render

Role = Literal["viewer", "editor", "admin"]
BEARER = "bearerAuth"

SECURITY_SCHEMES = {
    BEARER: HTTPBearer(description="An API key of the tenant: `Authorization: Bearer <key>`.", bearerFormat="API key")
}

TAGS = [
    Tag(name="Health", description="Whether the API answers, and its own description (no key needed)."),
    Tag(name="Tables", description="Typed schemas that records are imported into."),
    Tag(name="Recipes", description="How a file's columns map onto a table's fields."),
    Tag(name="Imports", description="Files imported into a table with a recipe, their progress and failures."),
    Tag(name="Records", description="The records of a table: read, filter, create in batches."),
    Tag(name="Schedules", description="Recurring imports of the new files under a folder."),
    Tag(name="Jobs", description="Exports, batch updates and batch deletes that run in the background."),
    Tag(name="Keys", description="The tenant's API keys: create (the secret shown once), list, revoke."),
    Tag(name="Webhooks", description="Signed notifications of imports, jobs and records to the tenant's endpoints."),
]
TAG_NAMES = {tag.name for tag in TAGS}


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable: program against it (docs/API.md lists every code).")
    message: str = Field(description="What happened and what to do, in the caller's language.")
    details: list[Any] = Field(description="Often empty; for VALIDATION_ERROR {loc, type, msg} per problem.")


class ErrorEnvelope(BaseModel):
    """Every error the API answers (and API Gateway's own 401, 413 and 429) has this shape."""

    error: ErrorInfo


T = TypeVar("T")


class Data(BaseModel, Generic[T]):
    """One resource: `{"data": ...}`."""

    data: T


# What every route of a kind can answer, beside the errors it declares itself.
AUTHENTICATED = (Unauthorized("UNAUTHORIZED"),)
ANYWHERE = (RateLimited("RATE_LIMITED", limit=10, retry_after=1), DomainError("INTERNAL"))
JSON_BODY = (
    MalformedRequest("MALFORMED_REQUEST"),
    TooLarge("PAYLOAD_TOO_LARGE"),
    UnsupportedMediaType("UNSUPPORTED_MEDIA_TYPE"),
    InvalidInput("VALIDATION_ERROR"),
)
PAGED = (MalformedRequest("INVALID_CURSOR"), InvalidInput("VALIDATION_ERROR"))

_DESCRIPTIONS = {
    400: "The request cannot be read",
    401: "No API key, or one that is not valid",
    403: "The key's role may not do this",
    404: "Not found for this tenant",
    409: "The resource's state does not allow this now",
    413: "Too large",
    415: "Not a media type the operation takes",
    422: "Readable, but not valid: see details",
    429: "Too many requests: wait Retry-After seconds",
    500: "An error on the service's side; retrying may help",
}
_RETRY_AFTER: dict[str, OpenAPIResponseHeader] = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
}


def status_for(error: DomainError) -> int:
    """An error's status: http_errors' table, and 500 for the bare DomainError of an unexpected one."""
    return 500 if type(error) is DomainError else status_of(error)


def error_responses(errors: Iterable[DomainError]) -> dict[int, OpenAPIResponse]:
    """One response per status, listing its codes, with the error envelope as schema and an example."""
    by_status: dict[int, list[DomainError]] = {}
    for error in errors:
        codes = by_status.setdefault(status_for(error), [])
        if all(known.code != error.code for known in codes):
            codes.append(error)
    responses: dict[int, OpenAPIResponse] = {}
    for status, found in sorted(by_status.items()):
        examples = {
            e.code: {"value": {"error": {"code": e.code, "message": render(e.code, e.params), "details": []}}}
            for e in found
        }
        response: OpenAPIResponse = {
            "description": f"{_DESCRIPTIONS[status]}: {', '.join(e.code for e in found)}.",
            "content": {"application/json": {"model": ErrorEnvelope, "examples": examples}},
        }
        if status == 429:
            response["headers"] = _RETRY_AFTER
        responses[status] = response
    return responses


Answer = type | OpenAPIResponse | None


def operation(
    summary: str,
    *,
    tag: str,
    role: Role | None,
    answers: Mapping[int, Answer],
    errors: Iterable[DomainError] = (),
    description: str | None = None,
    body: bool = False,
    paged: bool = False,
    request_body: Mapping[str, Any] | None = None,
    links: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The keyword arguments of a Powertools route decorator for one operation.

    answers: success status -> a response model (or None for no body, or a whole OpenAPI response);
    errors: the domain errors the route raises itself; role: the least role that may call it (None:
    no key needed); body: it takes a JSON body; paged: it is a list (per_page, cursor);
    request_body: an OpenAPI requestBody for a route that reads its body itself; links: where the
    resource answered can be used next (`link()`), on every success answer with a body."""
    if tag not in TAG_NAMES:
        raise ValueError(f"unknown tag {tag!r}: add it to TAGS")
    declared = list(errors)
    if role is not None:
        declared += AUTHENTICATED
        if role != "viewer":
            declared.append(Forbidden("FORBIDDEN", role="viewer", needed=role))
    declared += JSON_BODY if body else ()
    declared += PAGED if paged else ()
    declared += ANYWHERE
    responses: dict[int, OpenAPIResponse] = {}
    for status, answer in answers.items():
        if answer is None:
            responses[status] = {"description": "No content."}
        elif isinstance(answer, dict):
            responses[status] = answer
        else:
            # A model's own docstring says what the answer is; a parametrized Data[...] or Page[...] has none.
            said = answer.__dict__.get("__doc__") if "[" not in answer.__name__ else None
            responses[status] = {
                "description": f"{HTTPStatus(status).phrase}" + (f": {said.strip().splitlines()[0]}" if said else "."),
                "content": {"application/json": {"model": answer}},
            }
    for response in responses.values():
        if links and "content" in response:
            response["links"] = dict(links)
    responses.update(error_responses(declared))
    extensions: dict[str, Any] = {"x-required-role": role} if role else {}
    if request_body:
        extensions["requestBody"] = dict(request_body)
    role_note = f"Role: {role} or higher." if role else "No API key needed."
    return {
        "summary": summary,
        "description": f"{description}\n\n{role_note}" if description else role_note,
        "tags": [tag],
        "security": [{BEARER: []}] if role else None,
        "responses": responses,
        "openapi_extensions": extensions or None,
        "middlewares": [_requires(role)] if role else None,
    }


def link(method: str, path: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation `method path` (by JSON pointer, so no operationId is needed),
    its parameters taken from this answer or request: a client (and schemathesis' stateful phase)
    knows which operations use what this one created."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method.lower()}", "parameters": parameters}


def _requires(role: Role) -> Callable[..., Response]:
    """The route's role, checked before it runs: the same declaration documents and enforces it."""

    def check(app, next_middleware):
        principal(app, role)
        return next_middleware(app)

    return check


# ------------------------------------------------------------ the document
TITLE = "Bulk import API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Import CSV, TSV and XLSX files into typed tables, read and change their records, schedule imports "
    'and run batch jobs. Every error is `{"error": {"code", "message", "details"}}` with a stable '
    "code; messages follow `Accept-Language` (en or zh-TW). The full guide is docs/API.md."
)
DOCUMENT: OpenAPIResponse = {
    "description": "The OpenAPI document (3.1).",
    "content": {"application/json": {"schema": {"type": "object"}}},
}
PAGE: OpenAPIResponse = {"description": "An HTML page.", "content": {"text/html": {"schema": {"type": "string"}}}}
ACCEPT_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "description": "The language of messages: the first of en or zh (zh-TW, zh-Hant, zh) it names; "
    "en otherwise (a value it cannot read is not an error).",
    "schema": {"type": "string"},
    "example": "zh-TW,zh;q=0.9,en;q=0.5",
}


def document(app: APIGatewayRestResolver) -> str:
    """The OpenAPI document as JSON, served from the stage the request came through (`/v1`).

    Powertools builds it from the routes' declarations; two things it cannot say per route are added
    here: every operation reads Accept-Language, and the framework's own 422 shape (`{"detail"}`), which
    this API never answers, is dropped where a route did not declare its 422. A 204 has no body (Powertools
    gives every declared response one)."""
    stage = app.current_event.request_context.stage
    raw = app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        tags=list(TAGS),
        servers=[Server(url=f"/{stage}" if stage else "/", description="This stage of the API")],
        security_schemes=dict(SECURITY_SCHEMES),
    )
    spec = json.loads(raw)
    for path_item in spec.get("paths", {}).values():
        for operation_ in path_item.values():
            operation_.setdefault("parameters", []).append(ACCEPT_LANGUAGE)
            framework_422 = operation_["responses"].get("422", {}).get("content", {}).get("application/json", {})
            if framework_422.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                del operation_["responses"]["422"]
            operation_["responses"].get("204", {}).pop("content", None)
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        spec.get("components", {}).get("schemas", {}).pop(name, None)
    return json.dumps(spec, ensure_ascii=False, separators=(",", ":"))


def swagger_page(spec: str) -> str:
    """Swagger UI over the document, with Powertools' bundled assets (no CDN); the key given to
    Authorize stays set when the page is reloaded."""
    assets = Path(swagger_ui.__file__).parent
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    # "</" inside the inlined JSON must not close the page's <script>.
    return generate_swagger_html(spec.replace("</", "<\\/"), js, css, "", None, persist_authorization=True)
