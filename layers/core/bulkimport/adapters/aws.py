"""boto3 clients, made once per process (Lambda reuses them across invocations).

The endpoint comes from boto3's own AWS_ENDPOINT_URL setting, so the same code talks to AWS or to
the local stack.

The clients read botocore's endpoint table from a copy cut to the services we call. botocore loads
that table (endpoints.json: every service in every partition) whole, with the first client, and
keeps it for the worker's life: memory a chunk worker's budget is better spent on (bench/memory.py).
The copy is botocore's own entries for those services and every partition's defaults, made from the
pinned botocore by tools/trim_endpoints.py; tests/unit/test_aws.py checks it is still exactly that,
and that it resolves every endpoint as the whole table does.
"""

import threading
from functools import cache
from pathlib import Path

import boto3
import botocore.session
from botocore.config import Config

# Every service this code makes a client for; client() refuses others (their endpoints are not in
# the copy of the table).
SERVICES = ("dynamodb", "events", "s3", "scheduler", "sqs", "stepfunctions")
DATA_PATH = Path(__file__).resolve().parent / "botocore_data"
ENDPOINTS_FILE = DATA_PATH / "endpoints.json"

_lock = threading.Lock()
# No client-side parameter validation: botocore walks every request in Python before sending it (for
# a chunk, every attribute of 2,000 items), and the service validates each request anyway.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=64, parameter_validation=False)
# S3 signs its presigned URLs and POST policies with SigV4: botocore would presign with SigV2 in
# us-east-1, which S3 refuses for buckets created since June 2020.
_SERVICE_CONFIG = {"s3": _CONFIG.merge(Config(signature_version="s3v4"))}


@cache
def session() -> boto3.session.Session:
    core = botocore.session.get_session()
    core.set_config_variable("data_path", str(DATA_PATH))  # searched before botocore's own data
    return boto3.session.Session(botocore_session=core)


@cache
def _client_unlocked(service: str):
    if service not in SERVICES:
        raise ValueError(
            f"no client for {service}: add it to bulkimport.adapters.aws.SERVICES, then run tools/trim_endpoints.py"
        )
    return session().client(service, config=_SERVICE_CONFIG.get(service, _CONFIG))


def client(service: str):
    # Creating clients from one session is not thread-safe; using them is.
    with _lock:
        return _client_unlocked(service)
