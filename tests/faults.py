"""Fault injection on the local stack, for tests: slow a worker down (`delay`), kill it as a Lambda
crash or timeout would (`crash`), or stop it at a chosen AWS call until the test lets it go on
(`hold`). It plugs into the runtime's extension points (devstack/runtime.py).

A test arms `faults.crash(function, "dynamodb.BatchWriteItem", after=N)` and the next invocation of
that function dies just before its N+1th call of that AWS operation, so what it did before stands and
the rest is never done. The caller sees what Lambda answers for a process that died: a
`Runtime.ExitError`, function error "Unhandled", which the state machine's Retry handles as on AWS.

`faults.hold(function, operation, after=N)` stops the next invocation at the same place, alive, until
the test releases it: meanwhile the test can run the same work again (a Lambda retried while its first
attempt still runs) and then let the first attempt finish. AWS calls are counted in the handler's own
thread, as for crashes (calls a handler makes on a pool of threads are not counted), unless a crash is
armed with `pool=True`: then the calls of its pool's threads count too (a chunk's record puts and
claims run there, records.writer.in_parallel), and the call that crashes may be one of them.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devstack.cfn import Function
from devstack.runtime import Answer, Call, LambdaRuntime

EventFilter = Callable[[Any], bool]  # which invocations (by their event) a fault applies to
HOLD_TIMEOUT = 60.0  # the longest a gate stops a worker; the state machine's call of a task times out after 60 s


class WorkerCrashed(BaseException):
    """Raised inside a handler to stop it dead; BaseException, so no `except Exception` of ours catches it."""


class Hold:
    """A gate armed by `Faults.hold`: the first invocation it applies to stops just before the chosen
    AWS call until `release()`. Used as a context manager, it is released and disarmed on leaving, so
    a failing test never leaves a worker stopped.

        with faults.hold("ProcessChunkFunction", "dynamodb.UpdateItem", when=...) as gate:
            ...                  # start the work
            event = gate.wait()  # the held invocation's event, once it has stopped
            ...                  # run the same event again, look at the state in between
            gate.release()       # the held invocation goes on with the call it was stopped before
    """

    def __init__(
        self, faults: Faults, logical_id: str, operation: str, after: int, when: EventFilter | None, timeout: float
    ):
        self._faults = faults
        self.logical_id, self.operation, self.after, self.when = logical_id, operation, after, when
        self.timeout = timeout
        self.event: Any = None  # the held invocation's event
        self._reached = threading.Event()
        self._released = threading.Event()

    def wait(self, timeout: float = 60) -> Any:
        """Wait until an invocation is stopped at the gate; returns its event."""
        if not self._reached.wait(timeout):
            raise TimeoutError(f"no invocation of {self.logical_id} reached {self.operation} in {timeout}s")
        return self.event

    def release(self) -> None:
        self._released.set()

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._faults.disarm_hold(self)
        self.release()

    def stop_here(self, event: Any) -> None:
        """In the held invocation's thread: stop until released. A gate never released (a test that
        failed before releasing it) lets the worker go on after its timeout rather than for good."""
        self.event = event
        self._reached.set()
        self._released.wait(self.timeout)


@dataclass
class _HoldPlan:  # one invocation's progress towards its gate
    hold: Hold
    event: Any
    calls: int = 0


@dataclass
class _CrashPlan:
    operation: str  # "service.Operation", as botocore names its events
    after: int
    times: int
    when: EventFilter | None = None
    calls: int = 0
    pool: bool = False  # count the calls of the handler's pool threads too


# A pool=True crash plan of the invocation: pool threads run in a copy of the handler's context
# (devstack.runtime), so they see it where they do not see the handler thread's own.
_pooled: contextvars.ContextVar[_CrashPlan | None] = contextvars.ContextVar("faults_pooled_plan", default=None)


class Faults:
    def __init__(self, runtime: LambdaRuntime):
        self._lock = threading.Lock()
        self._crash_plans: dict[str, _CrashPlan] = {}
        self._delays: dict[str, tuple[float, EventFilter | None]] = {}
        self._holds: dict[str, Hold] = {}
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
        self,
        logical_id: str,
        operation: str,
        after: int = 0,
        times: int = 1,
        when: EventFilter | None = None,
        pool: bool = False,
    ) -> None:
        """Kill the next `times` invocations of a function (those whose event satisfies `when`) just
        before call number after+1 of operation (pool: counting its pool threads' calls too);
        times=0 disarms the function's crashes."""
        with self._lock:
            if times <= 0:
                self._crash_plans.pop(logical_id, None)  # disarm: kill nothing more
            else:
                self._crash_plans[logical_id] = _CrashPlan(operation, after, times, when, pool=pool)

    def hold(
        self,
        logical_id: str,
        operation: str,
        after: int = 0,
        when: EventFilter | None = None,
        timeout: float = HOLD_TIMEOUT,
    ) -> Hold:
        """Arm a gate: the next invocation of a function (whose event satisfies `when`) stops just before
        call number after+1 of operation, until the gate is released (or `timeout` seconds have passed).
        One gate per function at a time; it stops one invocation."""
        gate = Hold(self, logical_id, operation, after, when, timeout)
        with self._lock:
            self._holds[logical_id] = gate
        return gate

    def disarm_hold(self, gate: Hold) -> None:
        """Take back a gate no invocation has reached yet (leaving a `with` block does)."""
        with self._lock:
            if self._holds.get(gate.logical_id) is gate:
                del self._holds[gate.logical_id]

    # ------------------------------------------------------------ the runtime's hooks
    def _invocation(self, function: Function, event: Any, call: Call) -> Answer:
        # Saved and restored: an invocation may run inside another in the same thread.
        outer = getattr(self._local, "plan", None), getattr(self._local, "hold", None)
        self._local.plan = self._take_crash_plan(function.logical_id, event)
        self._local.hold = self._take_hold(function.logical_id, event)
        pooled = _pooled.set(self._local.plan if self._local.plan and self._local.plan.pool else None)
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
            self._local.plan, self._local.hold = outer
            _pooled.reset(pooled)

    def _take_hold(self, logical_id: str, event: Any) -> _HoldPlan | None:
        with self._lock:
            gate = self._holds.get(logical_id)
            if gate is None or (gate.when is not None and not gate.when(event)):
                return None
            del self._holds[logical_id]
            return _HoldPlan(gate, event)

    def _take_crash_plan(self, logical_id: str, event: Any) -> _CrashPlan | None:
        with self._lock:
            plan = self._crash_plans.get(logical_id)
            if plan is None or (plan.when is not None and not plan.when(event)):
                return None
            plan.times -= 1
            if plan.times <= 0:
                del self._crash_plans[logical_id]
            return _CrashPlan(plan.operation, plan.after, 1, pool=plan.pool)

    def _before_aws_call(self, operation: str) -> None:
        self._at_gate(operation)
        plan = getattr(self._local, "plan", None) or _pooled.get()
        if plan is None or operation != plan.operation:
            return
        with self._lock:  # a pool=True plan counts calls of several threads
            crash = plan.calls >= plan.after
            plan.calls += not crash
        if crash:
            raise WorkerCrashed()

    def _at_gate(self, operation: str) -> None:
        held = getattr(self._local, "hold", None)
        if held is None or operation != held.hold.operation:
            return
        if held.calls < held.hold.after:
            held.calls += 1
            return
        self._local.hold = None  # it stops once
        held.hold.stop_here(held.event)
