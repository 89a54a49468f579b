"""A large file's upload in parts (the API's multipart upload): PUT to presigned URLs, a few at once,
and resumed after an interruption by sending only the parts S3 does not hold as they are here."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from bulkimport_cli.client import Client, CliError, api_error, retry_policy

AT_ONCE = 4
URLS_PER_CALL = 100  # the API's most part URLs a call


def read_part(file: Path, part_size: int, number: int) -> bytes:
    with file.open("rb") as handle:
        handle.seek((number - 1) * part_size)
        return handle.read(part_size)


def part_etag(data: bytes) -> str:
    """What S3 answers as a part's ETag (the bucket's default encryption, SSE-S3): the MD5 of its bytes."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def matching_parts(file: Path, ticket: dict, held: list[dict]) -> dict[int, str]:
    """The parts S3 holds that are this file's: same size and same checksum (ETag). Returns their ETags."""
    size = file.stat().st_size
    part_size = ticket["part_size"]
    kept = {}
    for part in held:
        number = part["number"]
        expected = min(part_size, size - (number - 1) * part_size)
        if part["size"] != expected or expected <= 0:
            continue
        if part_etag(read_part(file, part_size, number)) == part["etag"].strip('"').lower():
            kept[number] = part["etag"]
    return kept


class _S3:
    """PUTs to presigned URLs: a session per thread, without our key; a part PUT is safe to send again."""

    def __init__(self) -> None:
        self._local = threading.local()

    def put(self, url: str, data: bytes) -> str:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            retries = retry_policy()
            adapter = HTTPAdapter(max_retries=retries.new(allowed_methods=frozenset({"PUT"})))
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        try:
            response = session.put(url, data=data, timeout=600)
        except requests.ConnectionError:
            raise CliError("NO_S3", f"Nothing answers at {url.split('?')[0]}.") from None
        if response.status_code >= 400:
            raise api_error(response)
        return response.headers["ETag"].strip('"')


def upload_parts(
    client: Client,
    import_id: str,
    file: Path,
    ticket: dict,
    done: dict[int, str],
    on_sent: Callable[[int], None],
    at_once: int = AT_ONCE,
) -> dict[int, str]:
    """Send every part not in `done` (number -> ETag), `at_once` at a time, each read from the file
    as it goes (at most `at_once` parts in memory). Returns every part's ETag."""
    etags = dict(done)
    todo = [n for n in range(1, ticket["part_count"] + 1) if n not in done]
    s3 = _S3()

    def send(number: int, url: str) -> tuple[int, str]:
        data = read_part(file, ticket["part_size"], number)
        etag = s3.put(url, data)
        on_sent(len(data))
        return number, etag

    def urls() -> Iterator[tuple[int, str]]:
        # Asked for as they are needed: a URL lives an hour, a large file may take longer.
        for start in range(0, len(todo), URLS_PER_CALL):
            batch = todo[start : start + URLS_PER_CALL]
            answer = client.json("POST", f"/imports/{import_id}/upload/parts", json={"numbers": batch})
            for entry in answer["data"]:
                yield entry["number"], entry["url"]

    with ThreadPoolExecutor(max_workers=at_once) as pool:
        running: set[Future] = set()
        try:
            for number, url in urls():
                if len(running) >= at_once:
                    finished, running = wait(running, return_when=FIRST_COMPLETED)
                    etags.update(f.result() for f in finished)
                running.add(pool.submit(send, number, url))
            etags.update(f.result() for f in wait(running).done)
        except BaseException:
            for future in running:
                future.cancel()
            raise
    return etags


def complete(client: Client, import_id: str, etags: dict[int, str]) -> dict:
    parts = [{"number": n, "etag": etags[n]} for n in sorted(etags)]
    return client.json("POST", f"/imports/{import_id}/upload/complete", json={"parts": parts})["data"]
