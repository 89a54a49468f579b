"""An in-process Lambda runtime: runs the template's handlers the way Lambda would, answering the
Lambda Invoke API that the executed state machine calls.

It can also slow a worker down (`delay`), or kill it, as a Lambda crash or timeout would: a test arms
`crash(function, "dynamodb.BatchWriteItem", after=N)` and the next invocation of that function dies
just before its N+1th call of that AWS operation, so what it did before stands and the rest is never done.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from devstack.cfn import Function, Template


class WorkerCrashed(BaseException):
    """Raised inside a handler to stop it dead; BaseException, so no `except Exception` of ours catches it."""


@dataclass(frozen=True)
class Invocation:
    function: str  # logical id
    outcome: str  # "ok", "crashed" or the error type
    started: float  # time.monotonic()
    seconds: float
    cpu_seconds: float = 0.0  # CPU time of the handler's own thread (time.thread_time)


@dataclass
class _CrashPlan:
    operation: str  # "service.Operation", as botocore names its events
    after: int
    times: int
    when: Callable[[Any], bool] | None = None  # which invocations (by their event) it applies to
    calls: int = 0


class LambdaContext:
    def __init__(self, function: Function):
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + function.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LambdaRuntime:
    def __init__(self, template: Template):
        self.template = template
        self.functions = template.functions()
        self._by_name = {f.name: f for f in self.functions.values()} | {f.arn: f for f in self.functions.values()}
        self._handlers: dict[str, Callable] = {}
        self._lock = threading.Lock()
        self._crash_plans: dict[str, _CrashPlan] = {}
        self._delays: dict[str, tuple[float, Callable[[Any], bool] | None]] = {}
        self._local = threading.local()
        self.invocations: list[Invocation] = []  # for tests and benchmarks to read

    # ------------------------------------------------------------ setup
    def install(self) -> None:
        """Set the functions' environment, make the layer importable, and hook crash injection.

        Handlers share one process, so their environments must agree (they do: the template gives
        them the same names for the same resources).
        """
        merged: dict[str, str] = {}
        for function in self.functions.values():
            for key, value in function.environment.items():
                if merged.setdefault(key, value) != value:
                    raise RuntimeError(f"functions disagree on {key}: {merged[key]} / {value}")
        os.environ.update(merged)
        for layer in self.template.layer_dirs():
            if str(layer) not in sys.path:
                sys.path.insert(0, str(layer))
        # The handlers make every AWS call through the layer's clients, made from this session.
        from bulkimport.adapters.aws import session

        session().events.register("before-call", self._before_aws_call)

    def handler(self, function: Function) -> Callable:
        with self._lock:
            if function.logical_id not in self._handlers:
                module_name, attr = function.handler.rsplit(".", 1)
                code_dir = str(function.code_dir)
                if code_dir not in sys.path:
                    sys.path.insert(0, code_dir)
                spec = importlib.util.spec_from_file_location(
                    f"fn_{function.logical_id}", function.code_dir / f"{module_name}.py"
                )
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                self._handlers[function.logical_id] = getattr(module, attr)
            return self._handlers[function.logical_id]

    def find(self, name_or_arn: str) -> Function | None:
        return self._by_name.get(name_or_arn) or self._by_name.get(name_or_arn.split(":")[-1])

    # ------------------------------------------------------------ invoking
    def invoke(self, function: Function, event: Any) -> tuple[Any, str | None]:
        """Run a handler; returns (payload, function_error) as the Invoke API would."""
        self._local.plan = self._take_crash_plan(function.logical_id, event)
        started, started_cpu = time.monotonic(), time.thread_time()
        seconds, when = self._delays.get(function.logical_id, (0.0, None))
        if seconds and (when is None or when(event)):
            time.sleep(seconds)  # a slow worker: a cold start, a slow network

        def record(outcome: str) -> None:
            self.invocations.append(Invocation(function.logical_id, outcome, started, time.monotonic() - started,
                                               time.thread_time() - started_cpu))

        try:
            result = self.handler(function)(event, LambdaContext(function))
            record("ok")
            return result, None
        except WorkerCrashed:
            record("crashed")
            return {"errorType": "Runtime.ExitError", "errorMessage": "worker killed by the local stack"}, "Unhandled"
        except Exception as error:  # a handler's unhandled error, as Lambda reports it
            record(type(error).__name__)
            return {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error),
            }, "Unhandled"
        finally:
            self._local.plan = None

    def invoke_json(self, function: Function, payload: bytes) -> tuple[bytes, str | None]:
        event = json.loads(payload) if payload else {}
        result, error = self.invoke(function, event)
        return json.dumps(result, default=str).encode(), error

    # ------------------------------------------------------------ slow and crashing workers
    def delay(self, logical_id: str, seconds: float, when: Callable[[Any], bool] | None = None) -> None:
        """Make invocations of a function (those whose event satisfies `when`) take `seconds` longer
        before their handler runs; 0 ends it."""
        with self._lock:
            if seconds:
                self._delays[logical_id] = (seconds, when)
            else:
                self._delays.pop(logical_id, None)

    def crash(
        self, logical_id: str, operation: str, after: int = 0, times: int = 1, when: Callable[[Any], bool] | None = None
    ) -> None:
        """Kill the next `times` invocations of a function (those whose event satisfies `when`) just
        before call number after+1 of operation."""
        with self._lock:
            self._crash_plans[logical_id] = _CrashPlan(operation, after, times, when)

    def _take_crash_plan(self, logical_id: str, event: Any) -> _CrashPlan | None:
        with self._lock:
            plan = self._crash_plans.get(logical_id)
            if plan is None or (plan.when is not None and not plan.when(event)):
                return None
            plan.times -= 1
            if plan.times <= 0:
                del self._crash_plans[logical_id]
            return _CrashPlan(plan.operation, plan.after, 1)

    def _before_aws_call(self, event_name: str, **_kwargs) -> None:
        plan = getattr(self._local, "plan", None)
        if plan is None or not event_name.endswith("." + plan.operation):
            return
        if plan.calls >= plan.after:
            raise WorkerCrashed()
        plan.calls += 1

