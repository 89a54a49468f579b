"""The handlers' AWS calls served in-process: botocore hands each request, signed, straight to the
stack's AWS endpoint (the WSGI app the HTTP server runs) instead of sending it over a socket.

Over loopback HTTP a call pays for a connection from botocore's pool, its bytes through the kernel
twice, werkzeug's request parsing and a server thread for each request; most of a small call's time
went there (bench/moto_fixes_ab.py measures the in-process path against it). In-process it is one
WSGI call in the caller's thread. The endpoint is the same app: the same moto, its lock, the Lambda
Invoke API, and whatever middleware is wrapped around moto (bench/meter.py) all see the request as
before; botocore's own events (before-call, so the runtime's AWS call hooks; signing; retries;
parsing) are unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from io import BytesIO
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class RawBody(BytesIO):
    """A response body as botocore reads it from urllib3 (`stream()` for streaming bodies)."""

    def stream(self, amt: int = 64 * 1024, **_kwargs: Any):
        while chunk := self.read(amt):
            yield chunk


class InProcessTransport:
    """A botocore `before-send` handler: requests for `endpoint` ("http://host:port") are answered by
    `app`; any other request goes on to the network."""

    def __init__(self, endpoint: str, app: WsgiApp):
        self.app = app
        split = urlsplit(endpoint)
        self.netloc = split.netloc
        self.server_name, self.server_port = split.hostname or "127.0.0.1", str(split.port or 80)

    def __call__(self, request: AWSPreparedRequest, **_kwargs: Any) -> AWSResponse | None:
        if urlsplit(request.url).netloc != self.netloc:
            return None
        status, headers, content = self.serve(
            request.method, request.url, request.headers.items(), request_body(request)
        )
        return AWSResponse(request.url, status, headers, RawBody(content))

    def serve(
        self, method: str, url: str, request_headers: Iterable[tuple[str, str | bytes]], data: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request (its parts as botocore prepared them) through the WSGI app: (status,
        headers, body). Also what a worker process's requests are answered by (devstack.workers)."""
        split = urlsplit(url)
        raw_path = split.path + (f"?{split.query}" if split.query else "")
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": BytesIO(data),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            # As werkzeug's server sets them: PATH_INFO decoded, all of them UTF-8 read as Latin-1.
            "PATH_INFO": _wsgi_str(unquote(split.path)),
            "QUERY_STRING": _wsgi_str(split.query),
            "REQUEST_URI": _wsgi_str(raw_path),
            "RAW_URI": _wsgi_str(raw_path),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": 0,
            "SERVER_NAME": self.server_name,
            "SERVER_PORT": self.server_port,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_LENGTH": str(len(data)),
            "HTTP_HOST": self.netloc,
        }
        for name, value in request_headers:
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            key = name.upper().replace("-", "_")
            if key == "TRANSFER_ENCODING":
                continue  # the body is whole here
            if key == "CONTENT_LENGTH":
                continue  # set from the body above
            if key != "CONTENT_TYPE":
                key = f"HTTP_{key}"
            environ[key] = value
        answered: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            answered["status"], answered["headers"] = status, headers
            return lambda _data: None  # the legacy write(): neither moto nor the endpoint uses it

        chunks = self.app(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        headers: dict[str, str] = {}
        for name, value in answered["headers"]:
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        return int(answered["status"].split(" ", 1)[0]), headers, content


def request_body(request: AWSPreparedRequest) -> bytes:
    """A prepared request's body as bytes."""
    body = request.body
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    # a file-like body (an S3 upload): botocore may resend it on a retry, so rewind after
    position = body.tell() if hasattr(body, "tell") else None
    data = body.read()
    if position is not None:
        body.seek(position)
    return data


def route_to_stack(endpoint: str, before_send: Callable[..., AWSResponse | None], fixes: bool) -> None:
    """The layer's clients (bulkimport.adapters.aws) hand their requests to `before_send` (the stack's
    in-process transport, or a worker's pipe), which answers those for `endpoint` (botocore's own
    event, no patch). With `fixes` (devstack.moto_fixes.wanted()), what the client side of such a
    request spends for nothing is spared too (no signature computed): that replaces a botocore
    function, so it is off with the moto fixes."""
    from bulkimport.adapters.aws import session

    if fixes:  # the stack checked botocore's version (devstack.moto_fixes.check_versions)
        sign_without_signatures(endpoint)
    session().events.register_first("before-send", before_send)


def sign_without_signatures(endpoint: str) -> None:
    """botocore signs every request with SigV4 before it is sent: a canonical request, the SHA-256 of
    the body and five HMACs, a good part of a small DynamoDB call's client-side CPU (measured by
    bench/moto_fixes_ab.py). moto checks no request's signature, so a
    request to the stack's `endpoint` signed by botocore's plain SigV4 signer gets everything but
    the signature: its date and session-token headers, and an Authorization header with the same
    credential scope (moto reads the caller's account from its access key, and the region). The
    signature is left unset ("UNSIGNED"), never made up. S3's signer (uploads, streamed bodies),
    presigned URLs and POST policies (which the stack does check: devstack.s3_post) sign as before,
    and so does every request to another endpoint."""
    from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
    from botocore.exceptions import NoCredentialsError
    from botocore.utils import get_current_datetime

    if getattr(SigV4Auth.add_auth, "stack_endpoint", None) is not None:
        return
    botocore_add_auth = SigV4Auth.add_auth
    prefix = endpoint.rstrip("/") + "/"

    def add_auth(self: SigV4Auth, request: AWSPreparedRequest) -> None:
        if type(self) is not SigV4Auth or not request.url.startswith(prefix):
            return botocore_add_auth(self, request)
        if self.credentials is None:
            raise NoCredentialsError()
        request.context["timestamp"] = get_current_datetime().strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)  # the date and token headers, as botocore sets them
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.scope(request)}, SignedHeaders=host;x-amz-date, Signature=UNSIGNED"
        )
        return None

    add_auth.stack_endpoint = endpoint  # type: ignore[attr-defined]
    SigV4Auth.add_auth = add_auth  # type: ignore[method-assign]


def _wsgi_str(text: str) -> str:
    return text.encode().decode("latin-1")
