"""The web console's built files (console/dist) at the API port's root, as CloudFront serves them from
their bucket on AWS: the API keeps its stage prefix (/v1), every other GET is a file of the console.

The headers are those of the template's ConsoleHeadersPolicy, with the local origins: the console may
connect to its own origin (the API) and to the AWS endpoint (presigned uploads to the bucket), nothing
else, so a console that works here (the browser tests) works under the deployed Content-Security-Policy.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable
from pathlib import Path

from devstack.cfn import Template

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


def security_headers(template: Template, upload_origin: str) -> list[tuple[str, str]]:
    """The headers of the template's response headers policy for the console, its connect-src
    pointed at the local origins (the API on this origin, uploads to the AWS endpoint). No HSTS: it
    is plain HTTP on loopback."""
    (policy,) = template.of_type("AWS::CloudFront::ResponseHeadersPolicy").values()
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    deployed = config["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    deployed = deployed["Fn::Sub"] if isinstance(deployed, dict) else deployed
    directives = [d.strip() for d in deployed.split(";") if d.strip()]
    local = [f"connect-src 'self' {upload_origin}" if d.startswith("connect-src ") else d for d in directives]
    headers = [("Content-Security-Policy", "; ".join(local))]
    if "ContentTypeOptions" in config:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if "FrameOptions" in config:
        headers.append(("X-Frame-Options", config["FrameOptions"]["FrameOption"]))
    if "ReferrerPolicy" in config:
        headers.append(("Referrer-Policy", config["ReferrerPolicy"]["ReferrerPolicy"]))
    return headers


class ConsoleFiles:
    def __init__(self, api: WsgiApp, root: Path, template: Template, stage: str, upload_origin: str):
        self.api, self.root, self.prefix = api, root.resolve(), f"/{stage}"
        self.headers = security_headers(template, upload_origin)

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
