"""One local stack per test session: moto executing the real state machine, handlers in-process,
the API on a free loopback port. Each test gets a tenant of its own, so tests never share data."""

from __future__ import annotations

import pytest

from devstack.stack import LocalStack
from tests.faults import Faults
from tests.helpers import Api, free_port, new_tenant

# Small chunks and job pages, so that modest files and tables span many of them and the Maps really
# run in parallel.
TEST_CHUNK_ROWS = 100
TEST_JOB_PAGE_RECORDS = 100
# The API Gateway cache of authorizer answers on the test stack (seconds).
AUTHORIZER_CACHE_SECONDS = 2


@pytest.fixture(scope="session")
def stack():
    local = LocalStack(
        aws_port=free_port(),
        api_port=free_port(),
        parameters={"ChunkRows": str(TEST_CHUNK_ROWS), "JobPageRecords": str(TEST_JOB_PAGE_RECORDS)},
        # Short, so a test watches a revoked key stop working (the template says 60 s).
        authorizer_cache_seconds=AUTHORIZER_CACHE_SECONDS,
    )
    local.start()
    yield local
    local.stop()


@pytest.fixture(scope="session")
def faults(stack) -> Faults:
    """Slow or crashing workers on the session's stack, for the tests that arm them."""
    return Faults(stack.runtime)


class Tenant:
    def __init__(self, stack: LocalStack):
        from bulkimport.access.keys import create_api_key

        self.id = new_tenant()
        self.keys = {role: create_api_key(self.id, role) for role in ("viewer", "editor", "admin")}
        self.admin = Api(stack.api_url, self.keys["admin"])
        self.editor = Api(stack.api_url, self.keys["editor"])
        self.viewer = Api(stack.api_url, self.keys["viewer"])


@pytest.fixture
def tenant(stack) -> Tenant:
    return Tenant(stack)


@pytest.fixture
def other_tenant(stack) -> Tenant:
    return Tenant(stack)


@pytest.fixture
def anonymous(stack) -> Api:
    return Api(stack.api_url, None)
