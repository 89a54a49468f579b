"""What every route needs from the HTTP request: who calls, in which language, which page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from http_errors import status_of

from bulkimport.access.keys import Principal, require
from bulkimport.errors import DomainError, Unauthorized
from bulkimport.i18n.messages import pick_language, render

JSON = "application/json"

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
    body = {
        "error": {
            "code": error.code,
            "message": render(error.code, error.params, language(app)),
            "details": error.details,
        }
    }
    headers = {"Retry-After": str(error.params["retry_after"])} if "retry_after" in error.params else None
    return Response(status_code=status or status_of(error), content_type=JSON, body=body, headers=headers)
