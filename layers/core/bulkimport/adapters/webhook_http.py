"""The webhook receivers' side of the network: resolving a host, and one POST to a checked address.

Resolution is the system resolver's (getaddrinfo), done once per attempt; the POST connects to the
address given (never resolving the name again) while the TLS handshake names, and the certificate
is verified against, the URL's host. Redirects are not followed (a 3xx is the receiver's answer)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import urllib3

_READ_AT_MOST = 1024  # of a receiver's answer: only its status matters (and a short error text)


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (an IP literal resolves to itself); [] if it does not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (refused, timed out, TLS failed)
    error: str | None = None  # why there was no answer, or the start of a non-2xx body


def post(
    scheme: str, host: str, port: int, address: str, path: str, body: bytes, headers: dict, timeout: float
) -> Answer:
    limit = urllib3.Timeout(total=timeout)
    pool: urllib3.HTTPConnectionPool
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            maxsize=1,
            retries=False,
            timeout=limit,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, maxsize=1, retries=False, timeout=limit)
    host_header = host if port == (443 if scheme == "https" else 80) else f"{host}:{port}"
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            text = response.read(_READ_AT_MOST, decode_content=False)
        finally:
            response.release_conn()
        ok = 200 <= response.status < 300
        return Answer(response.status, None if ok else text.decode("utf-8", "replace")[:200] or None)
    except urllib3.exceptions.TimeoutError:
        return Answer(None, f"no answer within {timeout:g} s")
    except urllib3.exceptions.HTTPError as error:
        return Answer(None, f"{type(error).__name__}: {error}"[:300])
    finally:
        pool.close()
