"""The webhook receivers' side of the network: resolving a host, and one POST to a checked address.

Resolution is the system resolver's (getaddrinfo), done once per attempt; the POST connects to the
address given (never resolving the name again) while the TLS handshake names, and the certificate
is verified against, the URL's host. Redirects are not followed (a 3xx is the receiver's answer)."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from dataclasses import dataclass

import urllib3
import urllib3.connection

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
    """One POST, over within `timeout` seconds whatever the receiver does: a per-read timeout alone
    would let an answer that trickles in a byte at a time take as long as it likes, so a timer cuts
    the connection at the deadline."""
    connection: urllib3.connection.HTTPConnection
    if scheme == "https":
        connection = urllib3.connection.HTTPSConnection(
            address, port, timeout=timeout, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED"
        )
    else:
        connection = urllib3.connection.HTTPConnection(address, port, timeout=timeout)
    host_header = host if port == (443 if scheme == "https" else 80) else f"{host}:{port}"
    late = threading.Event()  # set by the timer before it cuts: whatever fails after is the deadline's
    cut = threading.Timer(timeout, _cut, [connection, late])
    cut.start()
    try:
        connection.request("POST", path, body=body, headers={**headers, "Host": host_header})
        response = connection.getresponse()  # never follows a redirect: a 3xx is the answer
        text = response.read(_READ_AT_MOST, decode_content=False)
        if late.is_set():
            raise TimeoutError
        ok = 200 <= response.status < 300
        return Answer(response.status, None if ok else text.decode("utf-8", "replace")[:200] or None)
    except urllib3.exceptions.NewConnectionError as error:  # a TimeoutError to urllib3, but refused
        return Answer(None, f"could not connect: {str(error).split(': ', 1)[-1]}"[:300])
    except (TimeoutError, urllib3.exceptions.TimeoutError):
        return Answer(None, f"no answer within {timeout:g} s")
    except (OSError, http.client.HTTPException, urllib3.exceptions.HTTPError) as error:
        # HTTPException: an answer that is not HTTP, or one cut short (at the deadline, too).
        if late.is_set():
            return Answer(None, f"no answer within {timeout:g} s")
        return Answer(None, f"{type(error).__name__}: {error}"[:300])
    finally:
        cut.cancel()
        connection.close()


def _cut(connection: urllib3.connection.HTTPConnection, late: threading.Event) -> None:
    """Make the connection's reads end now: a read waiting for nothing wakes at the shutdown, and one
    fed a byte at a time (data still comes in after a shutdown) times out at its next wait."""
    late.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(0.001)
            sock.shutdown(socket.SHUT_RDWR)
