"""The one backoff loop of the adapters: DynamoDB batch calls hand back what they did not process
(UnprocessedItems, UnprocessedKeys), and the caller sends that again after a jittered pause until
nothing is left. botocore's own retries cover throttled and failed requests; this covers the part of
a successful request that the service asks us to send again."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

Pending = TypeVar("Pending")


def until_all_processed(send: Callable[[Pending], Pending | None], pending: Pending) -> None:
    """Call `send` with what is pending until it returns nothing (None or empty): full jitter,
    doubling from 50 ms, capped at 2 s a pause."""
    attempt = 0
    while pending:
        left = send(pending)
        if not left:
            return
        pending = left
        attempt += 1
        time.sleep(min(2.0, 0.05 * 2**attempt) * random.random())
