"""What every route needs from the HTTP request: who calls, in which language, which page."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping
from typing import Any

import multipart
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from http_errors import status_of

from bulkimport.access.keys import Principal, require
from bulkimport.config import Uploads, section
from bulkimport.errors import DomainError, InvalidInput, MalformedRequest, TooLarge, Unauthorized, UnsupportedMediaType
from bulkimport.i18n.messages import pick_language, render

JSON = "application/json"

_BODY_METHODS = ("POST", "PUT", "PATCH")
# Routes that read their body themselves: they take JSON or multipart/form-data.
_OWN_MEDIA_TYPES = {("POST", "/imports"), ("POST", "/recipes/suggest")}

# The resolver (app.py) or a resource's router (routes/): both expose the request being handled.
Routing = APIGatewayRestResolver | APIGatewayRouter


def principal(app: Routing, role: str = "viewer") -> Principal:
    """The caller, as the authorizer identified it; refused unless its role is at least `role`."""
    context: Mapping[str, Any] = app.current_event.request_context.authorizer or {}
    tenant, key_role = context.get("tenant"), context.get("role")
    if not tenant or not key_role:
        raise Unauthorized("UNAUTHORIZED")
    caller = Principal(tenant=tenant, role=key_role, key_id=context.get("key_id") or "")
    require(caller, role)
    return caller


def language(app: Routing) -> str:
    return pick_language(
        app.current_event.headers.get("accept-language") or app.current_event.headers.get("Accept-Language")
    )


def error_response(app: Routing, error: DomainError, status: int | None = None) -> Response:
    """The error envelope, in the caller's language; the status comes from the error's class."""
    body = error_body(error, language(app))
    headers = {"Retry-After": str(error.params["retry_after"])} if "retry_after" in error.params else {}
    if "allowed" in error.params:
        headers["Allow"] = error.params["allowed"]
    return Response(status_code=status or status_of(error), content_type=JSON, body=body, headers=headers or None)


def parse_json(text: str | bytes) -> Any:
    """A JSON body, or MalformedRequest (bad JSON, or nested too deeply to read)."""
    try:
        return json.loads(text)
    except ValueError as error:
        raise MalformedRequest("MALFORMED_REQUEST", reason=str(error)) from None
    except RecursionError:
        raise MalformedRequest("MALFORMED_REQUEST", reason="nested too deeply") from None


def header(event: Mapping[str, Any], name: str) -> str:
    """A request header of a REST proxy event, whatever its case."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value or ""
    return ""


def check_body(event: Mapping[str, Any]) -> None:
    """The edge's check of a request's body, before any route reads it: a body sent with POST, PUT or
    PATCH must be JSON (application/json, any parameters) that parses. A request without a body
    passes as before (a route that needs one says so: app.py's handlers)."""
    if event.get("httpMethod") not in _BODY_METHODS or (event["httpMethod"], event.get("path")) in _OWN_MEDIA_TYPES:
        return
    raw = event.get("body") or ""
    if not raw:
        return
    if header(event, "content-type").split(";")[0].strip().lower() != JSON:
        raise UnsupportedMediaType("UNSUPPORTED_MEDIA_TYPE", accepted=JSON)
    parse_json(base64.b64decode(raw) if event.get("isBase64Encoded") else raw)


def refused(event: Mapping[str, Any], error: DomainError) -> dict[str, Any]:
    """An error answered before the resolver runs (check_body), as a REST proxy response."""
    language = pick_language(header(event, "accept-language"))
    return {
        "statusCode": status_of(error),
        "headers": {"Content-Type": JSON},
        "body": json.dumps(error_body(error, language), ensure_ascii=False, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def error_body(error: DomainError, language: str) -> dict[str, Any]:
    return {
        "error": {
            "code": error.code,
            "message": render(error.code, error.params, language),
            "details": error.details,
        }
    }


def request_body(app: Routing) -> tuple[str, dict[str, str], bytes]:
    """The request's media type, its options (a multipart boundary) and its raw bytes."""
    event = app.current_event
    content_type = (event.headers.get("content-type") or event.headers.get("Content-Type") or "").strip()
    media_type, options = multipart.parse_options_header(content_type)
    # Not event.decoded_body: it decodes to text, and an uploaded file is bytes in any encoding.
    raw = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
    return media_type, options, raw


def read_form(raw: bytes, boundary: str, names: set[str]) -> tuple[dict[str, str], bytes]:
    """A multipart/form-data body: its text fields among `names` (a file's name as `file_name`) and
    its `file` part, which must be there and fit a direct upload."""
    limit = section(Uploads).direct_upload_max_bytes
    fields: dict[str, str] = {}
    file_body = None
    try:
        for part in multipart.MultipartParser(
            io.BytesIO(raw), boundary, len(raw), memory_limit=limit * 2, spool_limit=limit * 2
        ):
            if part.name == "file":
                file_body = part.raw
                if part.filename:
                    fields.setdefault("file_name", part.filename)
            elif part.name in names:
                fields[part.name] = part.value
    except multipart.MultipartError as error:
        raise MalformedRequest("MALFORMED_REQUEST", reason=str(error)) from None
    if file_body is None:
        raise InvalidInput("FILE_REQUIRED")
    if len(file_body) > limit:
        raise TooLarge(
            "PAYLOAD_TOO_LARGE",
            size=len(file_body),
            max_bytes=limit,
            upload_max_bytes=section(Uploads).upload_max_bytes,
        )
    return fields, file_body
