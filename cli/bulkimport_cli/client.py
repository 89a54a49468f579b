"""HTTP to the API: one session with the key, the language and retries; errors as the API states them."""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

# Safe to send again whatever the server did with the first try.
_IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


class CliError(Exception):
    """Something the CLI reports and exits 1 with: the API's code and message, or the CLI's own."""

    def __init__(self, code: str, message: str, status: int | None = None, details: list | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details or []


class _Retry(Retry):
    """urllib3's Retry (backoff, Retry-After honoured on 429 and 503), but a POST is sent again only
    after a 429: the API refused it before doing anything. A 5xx after a POST may have done it."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() not in _IDEMPOTENT and status_code != 429:
            return False
        return super().is_retry("GET", status_code, has_retry_after)


def retry_policy() -> Retry:
    return _Retry(
        total=6,
        connect=2,
        read=2,
        status=5,
        backoff_factor=0.5,
        backoff_max=10,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=_IDEMPOTENT,  # connection and read errors: only these are sent again
        respect_retry_after_header=True,
        raise_on_status=False,
    )


class Client:
    def __init__(self, api: str, key: str | None, language: str | None = None, timeout: float = 60):
        self.api = api.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry_policy())
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "bulkimport-cli/0.1"
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"
        if language:
            self.session.headers["Accept-Language"] = language

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith(("http://", "https://")) else self.api + path
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectionError:
            raise CliError("NO_API", f"No API answers at {self.api}. Is the local stack running (make run)?") from None
        except requests.Timeout:
            raise CliError("TIMEOUT", f"{self.api} did not answer within {self.timeout:.0f} s.") from None
        if response.status_code >= 400:
            raise api_error(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        return response.json() if response.content else None

    def all_pages(self, path: str, params: dict[str, Any] | None = None) -> list[dict]:
        items: list[dict] = []
        cursor = None
        while True:
            page = self.json("GET", path, params={**(params or {}), "per_page": 100, "cursor": cursor})
            items.extend(page["data"])
            cursor = page["meta"].get("next_cursor")
            if not cursor:
                return items

    def download(self, url: str, target: Path, authorized: bool = True) -> int:
        """Stream a file (an API path, or a presigned URL: sent without our key) to `target`."""
        session = self.session if authorized else requests.Session()
        full = url if url.startswith(("http://", "https://")) else self.api + url
        try:
            with session.get(full, stream=True, timeout=self.timeout) as response:
                if response.status_code >= 400:
                    raise api_error(response)
                size = 0
                with target.open("wb") as out:
                    for block in response.iter_content(1024 * 1024):
                        out.write(block)
                        size += len(block)
        except requests.ConnectionError:
            raise CliError("NO_API", f"Nothing answers at {full.split('?')[0]}.") from None
        return size


def api_error(response: requests.Response) -> CliError:
    """The API's error envelope, or a plain description of a response that has none (a proxy, S3)."""
    try:
        error = response.json()["error"]
        return CliError(error["code"], error["message"], response.status_code, error.get("details"))
    except (ValueError, KeyError, TypeError):
        text = response.text.strip().replace("\n", " ")[:300]
        return CliError(f"HTTP_{response.status_code}", text or response.reason, response.status_code)


def content_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class MultipartBody:
    """A multipart/form-data body read from the file as it is sent (a large file is never in memory),
    reporting each block to `on_read`; its length is known up front (S3 needs Content-Length)."""

    def __init__(self, fields: dict[str, str], path: Path, on_read: Callable[[int], None]):
        self.boundary = uuid.uuid4().hex
        head = "".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            f"Content-Type: {content_type(path)}\r\n\r\n"
        )
        self._parts: list[bytes | BinaryIO] = [head.encode(), path.open("rb"), f"\r\n--{self.boundary}--\r\n".encode()]
        self._length = len(self._parts[0]) + path.stat().st_size + len(self._parts[2])  # type: ignore[arg-type]
        self._on_read = on_read

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        size = size if size and size > 0 else 1024 * 1024
        while self._parts:
            part = self._parts[0]
            if isinstance(part, bytes):
                block, rest = part[:size], part[size:]
                if rest:
                    self._parts[0] = rest
                else:
                    self._parts.pop(0)
            else:
                block = part.read(size)
                if not block:
                    part.close()
                    self._parts.pop(0)
                    continue
                self._on_read(len(block))
            return block
        return b""
