"""An in-process Lambda runtime: runs the template's handlers the way Lambda would, answering the
Lambda Invoke API that the executed state machine calls.

Two extension points let code outside the emulator watch or change invocations (tests use them to
slow workers down or kill them: tests/faults.py):
- `add_invocation_hook(hook)`: `hook(function, event, call)` wraps every invocation and returns
  its `Answer`, usually `call(function, event)`'s;
- `add_aws_call_hook(hook)`: `hook("service.Operation")` runs just before each AWS call a
  handler makes, in the handler's thread; what it raises, the handler's call raises.

With an `Enforcer` (devstack.iam), each handler's AWS calls are authorized against its function's
role, as on AWS; a call its role does not allow fails with the AccessDenied error the client sees.
The calling function is a context variable set for the handler's run, which threads of a pool the
handler starts inherit (Lambda runs each invocation in its own process; here they share one). For the
same reason the API function's Powertools resolver keeps each invocation's request apart
(devstack/resolver_state.py): concurrent requests run its one `app` at once.

Both are patches (of the standard library's ThreadPoolExecutor.submit and of Powertools' resolver), so
with the moto fixes off (devstack.moto_fixes.wanted()) neither is installed, and the runtime does as
Lambda does with one execution environment per function: an API function (events of type Api, whose
Powertools resolver keeps the request in class attributes) runs one invocation at a time in a
process; and a call a handler makes from a pool thread is made as the stack (its role unchecked).
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from devstack.cfn import Function, Template
from devstack.iam import DENIAL, Enforcer, authorizations, denial_message

if TYPE_CHECKING:
    from devstack.workers import WorkerPool

# The function whose handler runs in this context (None outside handlers: the stack, tests).
_caller: contextvars.ContextVar[Function | None] = contextvars.ContextVar("devstack_caller", default=None)
_log = logging.getLogger("devstack.iam")
_DENIAL_KEY = "devstack_access_denied"
_PRESIGN_BUCKET_KEY = "devstack_presigned_post_bucket"


@dataclass(frozen=True)
class Invocation:
    function: str  # logical id
    outcome: str  # "ok", the error type, or what an invocation hook answered (tests/faults.py: "crashed")
    started: float  # time.monotonic()
    seconds: float
    cpu_seconds: float = 0.0  # CPU time of the handler's own thread (time.thread_time)


@dataclass(frozen=True)
class Answer:
    """What an invocation answers: the Invoke API's payload and X-Amz-Function-Error ("Unhandled"
    when the function failed), and the outcome that `LambdaRuntime.invocations` records."""

    payload: Any
    function_error: str | None = None
    outcome: str = "ok"
    cpu_seconds: float | None = None  # the handler thread's, when it ran in a worker process


Call = Callable[[Function, Any], Answer]
InvocationHook = Callable[[Function, Any, Call], Answer]
AwsCallHook = Callable[[str], None]


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
    def __init__(self, template: Template, iam: Enforcer | None = None):
        self.template = template
        self.iam = iam
        self.functions = template.functions()
        self._by_name = {f.name: f for f in self.functions.values()} | {f.arn: f for f in self.functions.values()}
        self._handlers: dict[str, Callable] = {}
        self._lock = threading.Lock()
        self._invocation_hooks: list[InvocationHook] = []
        self._aws_call_hooks: list[AwsCallHook] = []
        self.invocations: list[Invocation] = []  # for tests and benchmarks to read
        # Functions that run one invocation at a time in this process (set by `install`).
        self._one_at_a_time: dict[str, threading.Lock] = {}
        # Set by `run_in_workers`: handlers run in worker processes (devstack.workers), not here.
        self.workers: WorkerPool | None = None

    # ------------------------------------------------------------ setup
    def install(self, patches: bool = True) -> None:
        """Set the functions' environment, make the layer importable, and route the handlers' AWS
        calls past the AWS call hooks. `patches` (the moto fixes' switch): let handlers share the
        process as below; without, an API function runs one invocation at a time.

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
        if self.iam is not None:
            session().events.register("before-parameter-build", self._authorize)
            session().events.register("before-sign.s3.PutObject", self._authorize_presigned_post)
        if not patches:
            self._one_at_a_time = {
                function.logical_id: threading.Lock()
                for function in self.functions.values()
                if any(event["Type"] == "Api" for event in function.events.values())
            }
            return
        # Why these two patches: Lambda runs one invocation per execution environment (process); this
        # runtime runs a function's concurrent invocations on threads of one process, so what Lambda
        # keeps apart by process must be kept apart by context here.
        # - The IAM check finds the calling function in a context variable: the layer's process-wide
        #   pool (records.writer) and s3transfer's threads must run each task in its submitter's
        #   context, or their calls would be the stack's, unchecked against the function's role.
        _propagate_context_to_pools()
        # - Concurrent invocations of the API function share its Powertools resolver, which keeps the
        #   request in class attributes: each must see its own request (devstack/resolver_state.py).
        from devstack import resolver_state

        resolver_state.install()

    def run_in_workers(self, workers: WorkerPool) -> None:
        """Run every handler in `workers` from now on. AWS call hooks run in a handler's own thread,
        so they need handlers in this process: a runtime has one or the other."""
        with self._lock:
            if self._aws_call_hooks:
                raise RuntimeError("AWS call hooks need handlers in-process: no worker processes with them")
            self.workers = workers

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

    # ------------------------------------------------------------ extension points
    def add_invocation_hook(self, hook: InvocationHook) -> None:
        """Wrap every invocation from now on: `hook(function, event, call)` runs in the invoking
        thread, before the handler, and returns the invocation's `Answer`, normally `call(function,
        event)`'s. A hook added later wraps those added before it. The handler's own errors arrive as
        an Answer (an Exception is what Lambda reports); a BaseException a hook made the handler raise
        comes up through `call`, for that hook to answer."""
        with self._lock:
            self._invocation_hooks.append(hook)

    def add_aws_call_hook(self, hook: AwsCallHook) -> None:
        """Call `hook(operation)`, operation as botocore names it ("dynamodb.BatchWriteItem"), just
        before each AWS call made with the layer's clients, in the calling thread: for a handler,
        the thread its invocation hooks ran in. What the hook raises, that call raises. Not with
        worker processes (`run_in_workers`)."""
        with self._lock:
            if self.workers is not None:
                raise RuntimeError("handlers run in worker processes: AWS call hooks need them in-process")
            self._aws_call_hooks.append(hook)

    def _before_aws_call(self, event_name: str, context: dict | None = None, **_kwargs) -> Any:
        operation = event_name.removeprefix("before-call.")
        for hook in self._aws_call_hooks:
            hook(operation)
        # Answered as AWS answers a call its caller may not make: botocore parses it and raises the
        # client's own error for the code, as it would for the service's response.
        return (context or {}).get(_DENIAL_KEY)

    def _authorize(self, event_name: str, params: dict, context: dict, **_kwargs) -> None:
        _, service, operation = event_name.split(".")
        if context.get("is_presign_request") and (service, operation) == ("s3", "CreateBucket"):
            # A presigned POST: botocore builds it on CreateBucket's model, without the key, and
            # signs it as PutObject (below, `_authorize_presigned_post`).
            context[_PRESIGN_BUCKET_KEY] = params["Bucket"]
            return
        denial = self._denial(service, operation, lambda: authorizations(service, operation, params))
        if denial is None:
            return
        if context.get("is_presign_request"):
            # AWS refuses a presigned URL's request when it is used; locally, when it is made.
            raise ClientError(denial[1], operation)  # type: ignore[arg-type]
        context[_DENIAL_KEY] = denial

    def _authorize_presigned_post(self, request, **_kwargs) -> None:
        fields = request.context.get("s3-presign-post-fields")
        if fields is None or _PRESIGN_BUCKET_KEY not in request.context:
            return
        resource = f"arn:aws:s3:::{request.context[_PRESIGN_BUCKET_KEY]}/{fields['key']}"
        denial = self._denial("s3", "PutObject", lambda: [("s3:PutObject", resource)])
        if denial is not None:
            raise ClientError(denial[1], "PutObject")  # type: ignore[arg-type]

    def _denial(
        self, service: str, operation: str, requested: Callable[[], list[tuple[str, str]]]
    ) -> tuple[AWSResponse, dict] | None:
        """None if the calling function's role allows the call (or no function calls), else the
        response AWS would answer: the HTTP response and its parsed error."""
        function = _caller.get()
        if function is None or self.iam is None:
            return None  # the stack itself or a test: administrator
        role = self.iam.function_roles[function.logical_id]
        refused = self.iam.check(role, requested())
        if refused is None:
            return None
        action, resource, decision = refused
        code, status = DENIAL[service]
        message = denial_message(role, function.name, action, resource, decision)
        # As CloudTrail would record it: the one line that says which permission the template lacks.
        _log.warning("%s (%s.%s): %s", code, service, operation, message)
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())},
        }
        return AWSResponse(f"https://{service}.local", status, {}, None), parsed

    # ------------------------------------------------------------ invoking
    def invoke(self, function: Function, event: Any) -> tuple[Any, str | None]:
        """Run a handler; returns (payload, function_error) as the Invoke API would."""
        started, started_cpu = time.monotonic(), time.thread_time()
        call: Call = self._call_handler
        for hook in list(self._invocation_hooks):
            call = _wrapped(hook, call)
        answer = call(function, event)
        cpu_seconds = answer.cpu_seconds if answer.cpu_seconds is not None else time.thread_time() - started_cpu
        self.invocations.append(
            Invocation(
                function.logical_id,
                answer.outcome,
                started,
                time.monotonic() - started,
                cpu_seconds,
            )
        )
        return answer.payload, answer.function_error

    def _call_handler(self, function: Function, event: Any) -> Answer:
        if self.workers is not None:
            return self.workers.invoke(function, event)
        return self.run_handler(function, event)

    def run_handler(self, function: Function, event: Any) -> Answer:
        """Run a handler in this process, in the calling thread."""
        token = _caller.set(function)
        environment = self._one_at_a_time.get(function.logical_id) or contextlib.nullcontext()
        try:
            with environment:
                return Answer(self.handler(function)(event, LambdaContext(function)))
        except Exception as error:  # noqa: BLE001 - a handler's unhandled error, answered as Lambda reports it
            return Answer(
                {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error),
                },
                "Unhandled",
                type(error).__name__,
            )
        finally:
            _caller.reset(token)

    def invoke_json(self, function: Function, payload: bytes) -> tuple[bytes, str | None]:
        event = json.loads(payload) if payload else {}
        result, error = self.invoke(function, event)
        return json.dumps(result, default=str).encode(), error


_pools_propagate = False


def _propagate_context_to_pools() -> None:
    """Work submitted to a thread pool runs in a copy of the submitter's context, so a handler's
    pool threads (the records writer's, s3transfer's) make their AWS calls as that function."""
    global _pools_propagate
    if _pools_propagate:
        return
    _pools_propagate = True
    submit = ThreadPoolExecutor.submit

    def submit_in_context(self, fn, /, *args, **kwargs):
        return submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = submit_in_context  # type: ignore[method-assign]


def _wrapped(hook: InvocationHook, call: Call) -> Call:
    return lambda function, event: hook(function, event, call)
