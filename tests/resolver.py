"""The tests' resolver: no test sends a DNS query beyond this machine. Names resolve through the
system's resolver only when they are loopback's (localhost, IP literals); names a test gave answers
to (`LocalNames.answer`) resolve as it said; any other name does not resolve. In-process only: the
local stack's handlers run in the test process, so a webhook's URL is resolved here."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

_LOCAL = {"localhost", "", None}


def _literal(host) -> bool:
    try:
        ipaddress.ip_address(str(host).strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


class LocalNames:
    def __init__(self):
        self.real = socket.getaddrinfo
        self._answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []

    def answer(self, host: str, *answers: list[str]) -> None:
        """`host` resolves to each list of addresses in turn, the last one from then on ([]: fails)."""
        self._answers[host] = list(answers)

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host in _LOCAL or (isinstance(host, str) and host.endswith(".localhost")) or _literal(host):
            return self.real(host, port, *args, **kwargs)
        self.lookups.append(host)
        answers = self._answers.get(host)
        addresses = (answers.pop(0) if len(answers) > 1 else answers[0]) if answers else []
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: no such name (tests resolve no name beyond loopback)")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port or 0))
            for a in addresses
        ]

    def forget(self) -> None:
        self._answers.clear()
        self.lookups.clear()


def install() -> Iterator[LocalNames]:
    names = LocalNames()
    socket.getaddrinfo = names.getaddrinfo  # type: ignore[assignment]
    try:
        yield names
    finally:
        socket.getaddrinfo = names.real  # type: ignore[assignment]
