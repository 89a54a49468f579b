"""The web console's built files (console/dist) at the API port's root, as CloudFront serves them from
their bucket on AWS: the API keeps its stage prefix (/v1), every other GET is a file of the console.

The headers are those of the template's ConsoleHeadersPolicy, with the local origins: the console may
connect to its own origin (the API) and to the AWS endpoint (presigned uploads to the bucket), nothing
else, so a console that works here works under the deployed Content-Security-Policy.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable
from pathlib import Path

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

# The types a browser insists on for modules and styles (mimetypes may lack some on a bare system).
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
NOT_BUILT = (
    b"The console is not built. `make run` builds it (make console); or build it by hand: "
    b"npm ci && node_modules/.bin/vite build console\n"
)


def security_headers(upload_origin: str) -> list[tuple[str, str]]:
    return [
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            f"connect-src 'self' {upload_origin}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
    ]


class ConsoleFiles:
    def __init__(self, api: WsgiApp, root: Path, stage: str, upload_origin: str):
        self.api, self.root, self.prefix = api, root.resolve(), f"/{stage}"
        self.headers = security_headers(upload_origin)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        if (
            path == self.prefix
            or path.startswith(self.prefix + "/")
            or environ["REQUEST_METHOD"] not in ("GET", "HEAD")
        ):
            return self.api(environ, start_response)
        if not (self.root / "index.html").is_file():
            start_response("503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8")])
            return [NOT_BUILT]
        file = (self.root / path.lstrip("/")).resolve() if path != "/" else self.root / "index.html"
        if not file.is_file() or not file.is_relative_to(self.root):
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"), *self.headers])
            return [b"Not found\n"]
        body = file.read_bytes()
        content_type = _TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        # index.html names the hashed assets of the build: always asked again; assets never change.
        cache = "no-cache" if file.name == "index.html" else "public, max-age=31536000, immutable"
        start_response(
            "200 OK",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Cache-Control", cache),
                *self.headers,
            ],
        )
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]
