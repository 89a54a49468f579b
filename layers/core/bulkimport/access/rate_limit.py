"""Per-tenant request rates, counted in DynamoDB: the same limit deployed and on the local stack.

Each (tenant, action) has one counter item per wall-clock second; a request takes a place with one
conditional ADD that fails once the second's places are gone. Exactly `per_second` requests pass in
any one second, however many API keys, Lambda instances or clients the tenant has. The items carry
an `expires_at` that the table's TTL deletes.

Why not API Gateway usage plans: they throttle per API Gateway API key, best effort, for a whole
stage or method, while this limit is per tenant (a tenant has several keys of ours) and for one route
that shares the `{proxy+}` resource with every other route.
"""

from __future__ import annotations

import math
import time

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import Attr, ControlStore
from bulkimport.errors import RateLimited


def take(tenant: str, action: str, per_second: int) -> None:
    """Count one request, or refuse it with 429 RATE_LIMITED and a Retry-After (seconds)."""
    now = time.time()
    second = int(now)
    taken = ControlStore().update(
        keys.rate_pk(tenant, action),
        str(second),
        set_values={"expires_at": second + 60},
        add_values={"requests": 1},
        condition=Attr("requests").not_exists() | Attr("requests").lt(per_second),
    )
    if taken is None:
        raise RateLimited("RATE_LIMITED", limit=per_second, retry_after=max(1, math.ceil(second + 1 - now)))
