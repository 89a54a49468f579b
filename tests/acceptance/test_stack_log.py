"""The stack's log, as `make run` shows it: a line per request and per import step, no library warning
between them (a handler that publishes no metric made Powertools warn in each worker process)."""

import requests

from tests.helpers import DevstackProcess


def test_the_stack_log_has_no_library_warnings():
    with DevstackProcess("--workers", "2") as stack:
        for _ in range(4):  # handlers that publish no metric, in each worker
            assert requests.get(f"{stack.api}/tables", headers={"Authorization": "Bearer dev-key"}, timeout=30).ok
        stack.stop()
    log = stack.output()
    assert "/v1/tables 200" in log
    assert "Warning" not in log and "No application metrics" not in log, log
