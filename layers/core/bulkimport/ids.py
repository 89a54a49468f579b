"""Sortable ids and timestamps."""

import os
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, Crockford base32, so ids sort by creation."""
    return id_at(int(time.time() * 1000), os.urandom(10))


def id_at(milliseconds: int, entropy: bytes) -> str:
    """A ULID of a given time and 80 bits: the same inputs make the same id (an id derived from what
    it names, so that doing a thing twice finds the first one's item)."""
    value = (milliseconds << 80) | int.from_bytes(entropy[:10], "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
