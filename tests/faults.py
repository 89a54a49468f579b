"""Fault injection on the local stack, for tests: slow a worker down (`delay`), or kill it as a Lambda
crash or timeout would (`crash`). It plugs into the runtime's extension points (devstack/runtime.py).

A test arms `faults.crash(function, "dynamodb.BatchWriteItem", after=N)` and the next invocation of
that function dies just before its N+1th call of that AWS operation, so what it did before stands and
the rest is never done. The caller sees what Lambda answers for a process that died: a
`Runtime.ExitError`, function error "Unhandled", which the state machine's Retry handles as on AWS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devstack.cfn import Function
from devstack.runtime import Answer, Call, LambdaRuntime

EventFilter = Callable[[Any], bool]  # which invocations (by their event) a fault applies to


class WorkerCrashed(BaseException):
    """Raised inside a handler to stop it dead; BaseException, so no `except Exception` of ours catches it."""


@dataclass
class _CrashPlan:
    operation: str  # "service.Operation", as botocore names its events
    after: int
    times: int
    when: EventFilter | None = None
    calls: int = 0


class Faults:
    def __init__(self, runtime: LambdaRuntime):
        self._lock = threading.Lock()
        self._crash_plans: dict[str, _CrashPlan] = {}
        self._delays: dict[str, tuple[float, EventFilter | None]] = {}
        # The plan of the invocation running in this thread: its handler's AWS calls come from here.
        self._local = threading.local()
        runtime.add_invocation_hook(self._invocation)
        runtime.add_aws_call_hook(self._before_aws_call)

    def delay(self, logical_id: str, seconds: float, when: EventFilter | None = None) -> None:
        """Make invocations of a function (those whose event satisfies `when`) take `seconds` longer
        before their handler runs; 0 ends it."""
        with self._lock:
            if seconds:
                self._delays[logical_id] = (seconds, when)
            else:
                self._delays.pop(logical_id, None)

    def crash(
        self, logical_id: str, operation: str, after: int = 0, times: int = 1, when: EventFilter | None = None
    ) -> None:
        """Kill the next `times` invocations of a function (those whose event satisfies `when`) just
        before call number after+1 of operation; times=0 disarms the function's crashes."""
        with self._lock:
            if times <= 0:
                self._crash_plans.pop(logical_id, None)  # disarm: kill nothing more
            else:
                self._crash_plans[logical_id] = _CrashPlan(operation, after, times, when)

    # ------------------------------------------------------------ the runtime's hooks
    def _invocation(self, function: Function, event: Any, call: Call) -> Answer:
        self._local.plan = self._take_crash_plan(function.logical_id, event)
        seconds, when = self._delays.get(function.logical_id, (0.0, None))
        if seconds and (when is None or when(event)):
            time.sleep(seconds)  # a slow worker: a cold start, a slow network
        try:
            return call(function, event)
        except WorkerCrashed:
            return Answer(
                {"errorType": "Runtime.ExitError", "errorMessage": "worker killed by the local stack"},
                "Unhandled",
                "crashed",
            )
        finally:
            self._local.plan = None

    def _take_crash_plan(self, logical_id: str, event: Any) -> _CrashPlan | None:
        with self._lock:
            plan = self._crash_plans.get(logical_id)
            if plan is None or (plan.when is not None and not plan.when(event)):
                return None
            plan.times -= 1
            if plan.times <= 0:
                del self._crash_plans[logical_id]
            return _CrashPlan(plan.operation, plan.after, 1)

    def _before_aws_call(self, operation: str) -> None:
        plan = getattr(self._local, "plan", None)
        if plan is None or operation != plan.operation:
            return
        if plan.calls >= plan.after:
            raise WorkerCrashed()
        plan.calls += 1
