"""Lambda handlers run in worker processes, so that the stack uses more than one core.

In one process everything shares one interpreter lock: moto answering a call, and the handlers
parsing, validating and building that call (botocore's serializing, signing and parsing are CPU
work of the same order as moto's answer; bench/end_to_end.py measures the whole). On AWS each
invocation has a process of its own. Here a worker process runs the template's handlers (many
invocations at once, on threads, as the in-process runtime does) and sends each AWS call they make
to the stack's process, which answers it with the same endpoint as an in-process call
(devstack.transport): moto, its lock, the Invoke API, whatever middleware wraps moto. While moto
answers one call, the worker builds the next.

What a handler sees is what it sees in-process: the function's environment, its IAM role (each
worker runs a `LambdaRuntime` with its own `Enforcer` over the same template), the endpoint. A
worker process that dies (killed, or its interpreter crashes) fails the invocations it was running
with `Runtime.ExitError`, as Lambda reports a runtime that exited, and the next invocation starts a
new one. The stack's invocation hooks still wrap every invocation (they run in the stack's process);
AWS call hooks, which run inside the handler's thread, need the in-process runtime.

One pipe per worker carries both directions, each message a tuple:
- stack -> worker: ("invoke", id, logical id, event) and ("answer", id, status, headers, body);
- worker -> stack: ("result", id, payload, function error, outcome, cpu seconds) and
  ("call", id, method, url, headers, body).
The stack reads each worker's pipe on a thread of its own, which answers the worker's calls in the
order they come (but the Invoke API's, which run a handler and wait for it, on a pool thread).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from devstack.cfn import Function
from devstack.runtime import Answer
from devstack.transport import InProcessTransport, RawBody, request_body

_log = logging.getLogger("devstack.workers")
_INVOKE = re.compile(r"/2015-03-31/functions/[^/]+/invocations")

# A handler's invocation and the AWS calls it makes wait on these threads (the Map runs up to its
# MaxConcurrency chunk workers at once, each with its writer's pool of claims).
_THREADS = 64


def default_count() -> int:
    """Worker processes for `make run` and the benchmarks: one core for the stack's process (moto),
    the others for handlers; none on a single core, where a second process only adds its pipe."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(0, cores - 1)


class ExitError(Exception):
    """The worker process running an invocation ended before answering it."""


class _Reply:
    """The answer to one message sent on a channel, waited for by the thread that sent it. A lock held
    until the answer comes, not a concurrent.futures.Future: a Future makes a Condition and wakes
    its waiters through it, and a worker waits for one on every AWS call it makes."""

    __slots__ = ("_answered", "_error", "_value")

    def __init__(self):
        self._answered = threading.Lock()
        self._answered.acquire()
        self._value: Any = None
        self._error: BaseException | None = None

    def set_result(self, value: Any) -> None:
        self._value = value
        self._answered.release()

    def set_exception(self, error: BaseException) -> None:
        self._error = error
        self._answered.release()

    def result(self) -> Any:
        """The answer, once it comes (called once, by the sender)."""
        self._answered.acquire()
        if self._error is not None:
            raise self._error
        return self._value


class _Channel:
    """One end of a worker's pipe: sends under a lock (several threads send), and hands each answer
    to the reply waiting for its id."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self._send_lock = threading.Lock()
        self._ids = itertools.count()
        self._waiting: dict[int, _Reply] = {}
        self._waiting_lock = threading.Lock()

    def send(self, message: tuple) -> None:
        with self._send_lock:
            self.connection.send(message)

    def ask(self, kind: str, *parts: Any) -> _Reply:
        reply = _Reply()
        with self._waiting_lock:
            request_id = next(self._ids)
            self._waiting[request_id] = reply
        try:
            self.send((kind, request_id, *parts))
        except (OSError, ValueError) as error:  # the other end is gone
            self.settle(request_id, exception=ExitError(str(error)))
        return reply

    def settle(self, request_id: int, result: Any = None, exception: BaseException | None = None) -> None:
        with self._waiting_lock:
            reply = self._waiting.pop(request_id, None)
        if reply is None:
            return
        if exception is not None:
            reply.set_exception(exception)
        else:
            reply.set_result(result)

    def fail_all(self, reason: str) -> None:
        with self._waiting_lock:
            waiting, self._waiting = self._waiting, {}
        for reply in waiting.values():
            reply.set_exception(ExitError(reason))


class _Worker:
    """A worker process, seen from the stack: invocations sent to it, its AWS calls answered."""

    def __init__(self, context, target: Callable, args: tuple, answer_call: Callable, pool: ThreadPoolExecutor):
        here, there = multiprocessing.Pipe(duplex=True)
        self.process = context.Process(target=target, args=(there, *args), daemon=True, name="devstack-worker")
        self.process.start()
        there.close()
        self.channel = _Channel(here)
        self._answer_call = answer_call
        self._pool = pool
        self.alive = True
        self.in_flight = 0  # invocations sent and not answered (the pool counts them under its lock)
        self._reader = threading.Thread(target=self._read, daemon=True, name=f"worker-{self.process.pid}")
        self._reader.start()

    def _read(self) -> None:
        try:
            while True:
                message = self.channel.connection.recv()
                if message[0] == "result":
                    _, request_id, *answer = message
                    self.channel.settle(request_id, tuple(answer))
                elif _INVOKE.search(message[3]):  # ("call", id, method, url, ...) of Lambda's Invoke API
                    # runs a handler, maybe in this worker, whose calls this thread must answer meanwhile
                    self._pool.submit(self._answer, message)
                else:
                    # Answered here, in order: the stack serves one AWS call at a time anyway (moto's
                    # lock), and a pool thread's hand-offs cost more than most calls.
                    self._answer(message)
        except (EOFError, OSError):
            pass
        self.alive = False
        self.process.join(timeout=5)
        self.channel.fail_all(f"worker process {self.process.pid} exited (code {self.process.exitcode})")

    def _answer(self, message: tuple) -> None:
        _, request_id, method, url, headers, body = message
        try:
            status, answer_headers, content = self._answer_call(method, url, headers, body)
        except Exception as error:  # noqa: BLE001 - the caller gets it as AWS's 500, not a hang
            _log.exception("answering a worker's %s %s", method, url)
            status, answer_headers, content = 500, {}, str(error).encode()
        # A worker gone meanwhile: its invocations are failed by the reader.
        with contextlib.suppress(OSError, ValueError):
            self.channel.send(("answer", request_id, status, answer_headers, content))

    def stop(self) -> None:
        self.alive = False
        with contextlib.suppress(OSError, ValueError):
            self.channel.send(("stop",))
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
        self.channel.connection.close()


class WorkerPool:
    """`count` worker processes running the template's handlers; `invoke` sends an invocation to the
    one with the fewest in flight and waits for its answer."""

    def __init__(
        self,
        count: int,
        template_path: Path,
        parameters: dict[str, str],
        enforce_iam: bool,
        transport: InProcessTransport,
    ):
        self._args = (str(template_path), dict(parameters), enforce_iam)
        self._transport = transport
        # spawn, not fork: the stack's process has threads (servers, moto's executions) a fork would
        # copy mid-flight, locks and all.
        self._context = multiprocessing.get_context("spawn")
        self._calls = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="worker-calls")
        self._lock = threading.Lock()
        self._workers = [self._start() for _ in range(count)]

    def _start(self) -> _Worker:
        return _Worker(self._context, _worker_main, self._args, self._transport.serve, self._calls)

    def invoke(self, function: Function, event: Any) -> Answer:
        """One invocation, run in a worker process."""
        with self._lock:
            for index, worker in enumerate(self._workers):
                if not worker.alive:  # a dead worker is replaced by a fresh one
                    self._workers[index] = self._start()
            worker = min(self._workers, key=lambda w: w.in_flight)
            worker.in_flight += 1
        try:
            payload, function_error, outcome, cpu_seconds = worker.channel.ask(
                "invoke", function.logical_id, event
            ).result()
            return Answer(payload, function_error, outcome, cpu_seconds)
        except ExitError as error:
            payload = {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: local Error: {error}"}
            return Answer(payload, "Unhandled", "Runtime.ExitError", 0.0)
        finally:
            with self._lock:
                worker.in_flight -= 1

    def stop(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._calls.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------- in the worker process


def _worker_main(connection: Connection, template_path: str, parameters: dict[str, str], enforce_iam: bool) -> None:
    """A worker process: the template's handlers under their roles, their AWS calls sent up the pipe.
    The environment (the functions', the endpoint's) is the stack's, inherited at spawn."""
    from devstack import moto_fixes
    from devstack.cfn import Template
    from devstack.iam import Enforcer
    from devstack.runtime import LambdaRuntime

    fixes = moto_fixes.wanted()  # the stack's setting, inherited in the environment
    template = Template(Path(template_path), parameters)
    runtime = LambdaRuntime(template, Enforcer(template) if enforce_iam else None)
    inherited = dict(os.environ)
    runtime.install(patches=fixes)
    os.environ.update(inherited)  # the stack's settings over the template's (its log level)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the stack, which stops its workers
    channel = _Channel(connection)
    from devstack.transport import route_to_stack

    endpoint = os.environ["AWS_ENDPOINT_URL"]
    route_to_stack(endpoint, _PipeTransport(endpoint, channel), fixes)
    invocations = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="invocation")
    for function in runtime.functions.values():
        runtime.handler(function)  # imported now, not in the first invocation's time

    def run(request_id: int, logical_id: str, event: Any) -> None:
        started_cpu = time.thread_time()
        try:
            answer = runtime.run_handler(runtime.functions[logical_id], event)
        except BaseException as error:  # noqa: BLE001 - SystemExit and the like: the process would go on
            payload = {"errorType": "Runtime.ExitError", "errorMessage": repr(error)}
            answer = Answer(payload, "Unhandled", "Runtime.ExitError")
        # As the Invoke API answers it: JSON (what pickle could carry and JSON not would differ).
        payload = json.loads(json.dumps(answer.payload, default=str))
        cpu_seconds = time.thread_time() - started_cpu
        channel.send(("result", request_id, payload, answer.function_error, answer.outcome, cpu_seconds))

    try:
        while True:
            message = connection.recv()
            if message[0] == "invoke":
                invocations.submit(run, *message[1:])
            elif message[0] == "answer":
                _, request_id, *answer = message
                channel.settle(request_id, tuple(answer))
            elif message[0] == "stop":
                break
    except (EOFError, OSError):
        pass  # the stack is gone
    os._exit(0)  # handler threads may still wait on calls nobody will answer


class _PipeTransport:
    """A worker's botocore `before-send` handler: requests for the stack's endpoint go up the pipe,
    to be answered as an in-process call is (devstack.transport); any other goes to the network."""

    def __init__(self, endpoint: str, channel: _Channel):
        self.netloc = urlsplit(endpoint).netloc
        self.channel = channel

    def __call__(self, request: AWSPreparedRequest, **_kwargs: Any) -> AWSResponse | None:
        if urlsplit(request.url).netloc != self.netloc:
            return None
        headers = [(name, value) for name, value in request.headers.items()]
        status, answer_headers, content = self.channel.ask(
            "call", request.method, request.url, headers, request_body(request)
        ).result()
        return AWSResponse(request.url, status, answer_headers, RawBody(content))
