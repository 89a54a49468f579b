"""One local stack per test session: moto executing the real state machine, handlers in-process,
the API on a free loopback port. Each test gets a tenant of its own, so tests never share data."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.cfn import Template
from devstack.iam import Enforcer, usage_report
from devstack.stack import ROOT, LocalStack
from tests import least_privilege
from tests.faults import Faults
from tests.helpers import Api, DevstackProcess, free_port, new_tenant
from tests.resolver import LocalNames, install

# Small chunks and job pages, so that modest files and tables span many of them and the Maps really
# run in parallel.
TEST_CHUNK_ROWS = 100
TEST_JOB_PAGE_RECORDS = 100
WEBHOOK_RETRY_SECONDS = "1,1,1,1,1,1,1"
WEBHOOK_TIMEOUT_SECONDS = 2
# The API Gateway cache of authorizer answers on the test stack (seconds).
AUTHORIZER_CACHE_SECONDS = 2
# The largest file an import takes, small on the test stack so that a test can send a file over it.
TEST_MAX_FILE_BYTES = 24 * 1024 * 1024
STACK_PARAMETERS = {
    "ChunkRows": str(TEST_CHUNK_ROWS),
    "MaxFileBytes": str(TEST_MAX_FILE_BYTES),
    "JobPageRecords": str(TEST_JOB_PAGE_RECORDS),
    # A webhook's retry schedule in seconds, not hours, and a shorter wait for an answer: the
    # deliveries' tests run the whole schedule (docs/API.md gives AWS's).
    "WebhookRetrySeconds": WEBHOOK_RETRY_SECONDS,
    "WebhookTimeoutSeconds": str(WEBHOOK_TIMEOUT_SECONDS),
}


@pytest.fixture(scope="session", autouse=True)
def local_names():
    """No DNS query leaves the machine (a webhook's URL is resolved in-process): tests/resolver.py."""
    yield from install()


@pytest.fixture
def names(local_names: LocalNames) -> Iterator[LocalNames]:
    """Names resolving as a test says (`names.answer(host, [addresses], ...)`), for this test only."""
    yield local_names
    local_names.forget()


@pytest.fixture(scope="session")
def stack():
    local = LocalStack(
        aws_port=free_port(),
        api_port=free_port(),
        parameters=STACK_PARAMETERS,
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
    # What each role was really used for, for people to read (the least-privilege judge,
    # pytest_sessionfinish below, reads what each process wrote to IAM_DUMPS).
    IAM_USAGE.write_text(json.dumps(usage_report(local.iam), indent=1))


# Where the session writes, per role, the IAM actions (and resources) its calls used.
IAM_USAGE = Path(
    os.environ.get("BULKIMPORT_IAM_USAGE", Path(tempfile.gettempdir()) / f"bulkimport-iam-{os.getpid()}.json")
)


_session_stacks: list[LocalStack] = []
INTEGRATION = Path(__file__).resolve().parent / "integration"

# Least privilege is judged on what the whole integration suite used. Under pytest-xdist (make test
# runs the suite on every core) each worker process has a stack of its own and sees only its share
# of the calls: each process that ran a stack writes what its roles used into this folder, and the
# process that judges (xdist's controller, or the only process) judges the union.
IAM_DUMPS = "BULKIMPORT_IAM_DUMPS"


# pytest-xdist's workers start with COLUMNS=80 and LINES=24 of their own, which the CLI (and anything
# else a test runs) would take for a terminal's size: each worker gets back the controller's.
CONTROLLER_TERMINAL = "BULKIMPORT_CONTROLLER_TERMINAL"
TERMINAL_SIZE = ("COLUMNS", "LINES")


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist
        # Workers inherit the environment, so they write where the controller reads.
        os.environ[IAM_DUMPS] = tempfile.mkdtemp(prefix="bulkimport-iam-")
        os.environ[CONTROLLER_TERMINAL] = json.dumps({name: os.environ.get(name) for name in TERMINAL_SIZE})
        return
    for name, value in json.loads(os.environ[CONTROLLER_TERMINAL]).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def pytest_sessionfinish(session, exitstatus):
    """After a passing run of the whole integration suite: fail the session if a role grants
    something no call used (tests/least_privilege.py), or if any call was denied."""
    dumps = Path(os.environ[IAM_DUMPS])
    if _session_stacks:
        _dump_iam_use(session, exitstatus, dumps / f"{os.getpid()}.json")
    if hasattr(session.config, "workerinput") or exitstatus != 0:
        return
    enforcer = _merged_iam_use(dumps)
    if enforcer is None:
        return
    found = least_privilege.problems(enforcer)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    reporter.write_sep("=", "least privilege (tests/least_privilege.py)", red=bool(found), green=not found)
    for line in found or ["every permission granted was used, or is listed with its reason"]:
        reporter.write_line(line)
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _dump_iam_use(session, exitstatus, path: Path) -> None:
    """What this process's stack was used for, and whether this session was the whole integration
    suite (nothing deselected, every file of tests/integration among its items: a worker's items
    are the whole session's, whichever share of them it ran)."""
    ran = {item.path for item in session.items}
    whole_suite = session.testscollected == len(session.items) and set(INTEGRATION.glob("test_*.py")) <= ran
    iam = _session_stacks[0].iam
    path.write_text(
        json.dumps(
            {
                "whole_suite": whole_suite and exitstatus == 0,
                "used": {role: sorted(pairs) for role, pairs in iam.used.items()},
                "denied": iam.denied,
            }
        )
    )


def _merged_iam_use(dumps: Path) -> Enforcer | None:
    """An enforcer over the template holding every process's use, or None when no process ran the
    whole integration suite (a partial run cannot judge what is never used)."""
    parts = [json.loads(p.read_text()) for p in sorted(dumps.glob("*.json"))]
    if not parts or not all(part["whole_suite"] for part in parts):
        return None
    enforcer = Enforcer(Template(ROOT / "template.yaml", STACK_PARAMETERS))
    for part in parts:
        for role, pairs in part["used"].items():
            enforcer.used[role].update(tuple(pair) for pair in pairs)
        enforcer.denied.extend(tuple(entry) for entry in part["denied"])
    return enforcer


def pytest_terminal_summary(terminalreporter):
    if IAM_USAGE.exists():
        terminalreporter.write_line(f"IAM: actions used per role written to {IAM_USAGE}")


@pytest.fixture(scope="session")
def stock_stack():
    """A second local stack, on moto, botocore and Powertools as released (`python -m devstack
    --stock-moto`, in a process of its own: the fixes patch the process they run in): what the
    session's stack answers with the fixes, this one answers without."""
    with DevstackProcess("--stock-moto", "--quiet") as stock:
        assert "moto fixes: off" in stock.banner
        yield stock


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
