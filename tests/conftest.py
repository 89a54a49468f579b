"""One local stack per test session: moto executing the real state machine, handlers in-process,
the API on a free loopback port. Each test gets a tenant of its own, so tests never share data."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from devstack.iam import usage_report
from devstack.stack import LocalStack
from tests import least_privilege
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
        # The sweeper runs when a test invokes it, never on its own: a periodic sweep in the middle
        # of a test (the session lasts longer than its 5 minutes) would settle what the test holds.
        timed_events=False,
        # Short, so a test watches a revoked key stop working (the template says 60 s).
        authorizer_cache_seconds=AUTHORIZER_CACHE_SECONDS,
    )
    local.start()
    _session_stacks.append(local)
    yield local
    local.stop()
    # What each role was really used for, for least privilege (tests/least_privilege.py, judged in
    # pytest_sessionfinish below).
    IAM_USAGE.write_text(json.dumps(usage_report(local.iam), indent=1))


# Where the session writes, per role, the IAM actions (and resources) its calls used.
IAM_USAGE = Path(
    os.environ.get("BULKIMPORT_IAM_USAGE", Path(tempfile.gettempdir()) / f"bulkimport-iam-{os.getpid()}.json")
)


_session_stacks: list[LocalStack] = []
INTEGRATION = Path(__file__).resolve().parent / "integration"


def pytest_sessionfinish(session, exitstatus):
    """After a passing run of the whole integration suite: fail the session if a role grants
    something no call used (tests/least_privilege.py), or if any call was denied."""
    if not _session_stacks or exitstatus != 0 or session.testscollected != len(session.items):
        return
    ran = {item.path for item in session.items}
    if not set(INTEGRATION.glob("test_*.py")) <= ran:
        return
    found = least_privilege.problems(_session_stacks[0].iam)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    reporter.write_sep("=", "least privilege (tests/least_privilege.py)", red=bool(found), green=not found)
    for line in found or ["every permission granted was used, or is listed with its reason"]:
        reporter.write_line(line)
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if IAM_USAGE.exists():
        terminalreporter.write_line(f"IAM: actions used per role written to {IAM_USAGE}")


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
