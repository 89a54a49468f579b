"""An HTTP front that does what API Gateway (REST, proxy integration) does for this template:
stage prefix, the TOKEN authorizer, binary media types, payload limits and gateway responses."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from devstack.cfn import ACCOUNT, REGION, Template
from devstack.runtime import LambdaRuntime

API_ID = "local"
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway REST payload limit
MAX_LAMBDA_PAYLOAD = 6 * 1024 * 1024  # Lambda synchronous invoke limit


class ApiGateway:
    """`authorizer_cache_seconds`: how long an authorizer's Allow is reused for the same token (the
    template's ReauthorizeEvery unless given: tests shorten it to watch a revoke take effect)."""

    def __init__(
        self,
        template: Template,
        runtime: LambdaRuntime,
        authorizer_cache_seconds: float | None = None,
        on_request: Callable[[str, str, int, float], None] | None = None,
    ):
        self.on_request = on_request  # (method, path, status, seconds) of each request answered
        self.runtime = runtime
        api = template.api()
        self.stage = api["StageName"]
        self.binary_types = {t.replace("~1", "/") for t in api.get("BinaryMediaTypes", [])}
        self.gateway_responses = api.get("GatewayResponses", {})
        authorizers = api["Auth"]["Authorizers"]
        authorizer = authorizers[api["Auth"]["DefaultAuthorizer"]]
        self.authorizer = runtime.find(template.resolve(authorizer["FunctionArn"]))
        self.identity_header = authorizer["Identity"]["Header"]
        # API Gateway's default TTL is 300 s when the template names none.
        self.cache_seconds = (
            float(authorizer["Identity"].get("ReauthorizeEvery", 300))
            if authorizer_cache_seconds is None
            else authorizer_cache_seconds
        )
        self._cache: dict[str, tuple[float, dict]] = {}  # token -> (expires, context), Allow answers only
        self._cache_lock = threading.Lock()
        self.routes: list[tuple[str, str, Any, bool]] = []  # (method, resource path, function, open)
        for function in runtime.functions.values():
            for event in function.events.values():
                if event["Type"] != "Api":
                    continue
                props = event["Properties"]
                is_open = props.get("Auth", {}).get("Authorizer") == "NONE"
                self.routes.append((props["Method"].upper(), props["Path"], function, is_open))

    def __call__(self, environ, start_response):
        request = Request(environ)
        started = time.monotonic()
        response = self.handle(request)
        if self.on_request:
            self.on_request(request.method, request.path, response.status_code, time.monotonic() - started)
        return response(environ, start_response)

    # ------------------------------------------------------------ request flow
    def handle(self, request: Request) -> Response:
        prefix = f"/{self.stage}"
        if not (request.path == prefix or request.path.startswith(prefix + "/")):
            return _json(403, {"message": "Missing Authentication Token"})
        path = request.path[len(prefix) :] or "/"
        route = self._match(request.method, path)
        if route is None:
            return _json(403, {"message": "Missing Authentication Token"})
        resource, function, is_open = route
        body = request.get_data()
        if len(body) > MAX_REQUEST_BYTES:
            return self._gateway_response("REQUEST_TOO_LARGE", 413)
        context: dict[str, Any] = {}
        if not is_open:
            context = self._authorize(request, path)
            if context is None:
                return self._gateway_response("UNAUTHORIZED", 401)
        event = self._event(request, path, resource, body, context)
        payload = json.dumps(event).encode()
        if len(payload) > MAX_LAMBDA_PAYLOAD:
            return self._gateway_response("REQUEST_TOO_LARGE", 413)
        result, error = self.runtime.invoke(function, event)
        if error:
            return _json(502, {"message": "Internal server error"})
        return self._response(result)

    def _match(self, method: str, path: str) -> tuple[str, Any, bool] | None:
        proxy = None
        for route_method, resource, function, is_open in self.routes:
            if route_method not in (method, "ANY"):
                continue
            if resource == path:
                return resource, function, is_open
            if resource.endswith("/{proxy+}") and path.startswith(resource[: -len("{proxy+}")]):
                proxy = (resource, function, is_open)
        return proxy

    def _authorize(self, request: Request, path: str) -> dict | None:
        token = request.headers.get(self.identity_header)
        if not token:
            return None
        with self._cache_lock:
            cached = self._cache.get(token)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        event = {
            "type": "TOKEN",
            "authorizationToken": token,
            "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{self.stage}/{request.method}{path}",
        }
        result, error = self.runtime.invoke(self.authorizer, event)
        if error or not isinstance(result, dict):
            return None
        statements = result.get("policyDocument", {}).get("Statement", [])
        if not any(s.get("Effect") == "Allow" for s in statements):
            return None
        context = {**result.get("context", {}), "principalId": result.get("principalId")}
        if self.cache_seconds > 0:
            with self._cache_lock:
                self._cache[token] = (time.monotonic() + self.cache_seconds, context)
        return context

    def _event(self, request: Request, path: str, resource: str, body: bytes, authorizer: dict) -> dict:
        media_type = (request.mimetype or "").lower()
        is_binary = media_type in self.binary_types
        if is_binary:
            text_body = base64.b64encode(body).decode() if body else None
        else:
            text_body = body.decode("utf-8", errors="replace") if body else None
        headers = dict(request.headers.items())
        query = request.args
        return {
            "resource": resource,
            "path": path,
            "httpMethod": request.method,
            "headers": headers,
            "multiValueHeaders": {k: request.headers.getlist(k) for k in headers},
            "queryStringParameters": {k: query.getlist(k)[-1] for k in query} or None,
            "multiValueQueryStringParameters": {k: query.getlist(k) for k in query} or None,
            "pathParameters": {"proxy": path.lstrip("/")} if resource.endswith("{proxy+}") else None,
            "stageVariables": None,
            "requestContext": {
                "accountId": ACCOUNT,
                "apiId": API_ID,
                "resourcePath": resource,
                "httpMethod": request.method,
                "path": f"/{self.stage}{path}",
                "stage": self.stage,
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {"sourceIp": request.remote_addr, "userAgent": request.user_agent.string},
                "authorizer": authorizer or None,
            },
            "body": text_body,
            "isBase64Encoded": is_binary,
        }

    def _response(self, result: Any) -> Response:
        if not isinstance(result, dict) or "statusCode" not in result:
            return _json(502, {"message": "Internal server error"})
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(data, status=int(result["statusCode"]))
        for key, value in (result.get("headers") or {}).items():
            response.headers[key] = str(value)
        for key, values in (result.get("multiValueHeaders") or {}).items():
            response.headers.remove(key)
            for value in values:
                response.headers.add(key, str(value))
        return response

    def _gateway_response(self, kind: str, default_status: int) -> Response:
        configured = self.gateway_responses.get(kind, {})
        body = configured.get("ResponseTemplates", {}).get("application/json", json.dumps({"message": kind}))
        return Response(body, status=int(configured.get("StatusCode", default_status)), content_type="application/json")


def _json(status: int, body: dict) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
