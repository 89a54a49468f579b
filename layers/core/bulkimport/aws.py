"""boto3 clients, made once per process (Lambda reuses them across invocations).

The endpoint comes from boto3's own AWS_ENDPOINT_URL setting, so the same code talks to AWS or to
the local stack.
"""

import threading
from functools import cache

import boto3
from botocore.config import Config

_lock = threading.Lock()
# No client-side parameter validation: botocore walks every request in Python before sending it (for
# a chunk, every attribute of 2,000 items), and the service validates each request anyway.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=64, parameter_validation=False)


@cache
def _client_unlocked(service: str):
    return boto3.client(service, config=_CONFIG)


def client(service: str):
    # Creating clients from the shared default session is not thread-safe; using them is.
    with _lock:
        return _client_unlocked(service)
