"""The embedded local stack: moto as AWS (executing the real state machine), the template's handlers
in-process, and API Gateway on loopback. No AWS account, no Docker."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import boto3
from werkzeug.serving import make_server
from werkzeug.wrappers import Request

from devstack import queues
from devstack.activity import ActivityLog
from devstack.apigateway import ApiGateway
from devstack.asl import refuse_invalid_definitions
from devstack.cfn import REGION, Template
from devstack.console import ConsoleFiles
from devstack.iam import Enforcer, role_of
from devstack.runtime import LambdaRuntime
from devstack.s3_post import PostPolicyCheck
from devstack.workers import WorkerPool

ROOT = Path(__file__).resolve().parent.parent
CONSOLE_DIST = ROOT / "console" / "dist"  # `make console` builds it (make run and make test do)
DEV_TENANT = "dev"
DEV_KEY = "dev-key"
_NO_METRICS = "No application metrics to publish"  # aws_lambda_powertools.metrics, on a flush with none
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
ASYNC_RETRIES = 2  # Lambda's retries of a failed asynchronous invocation (its default)

# How long an idle poller sleeps when no request wakes it (a safety net: requests do wake it).
_IDLE_POLL_SECONDS = 30.0


class Changes:
    """A count of the AWS requests that may have changed what a poller of the stack looks for, so
    that an idle stack's pollers (EventBridge rules' queues, the scheduler) sleep until one comes
    instead of asking moto several times a second. Reads (GET, HEAD) and SQS calls (the pollers'
    own) do not count."""

    def __init__(self):
        self._condition = threading.Condition()
        self.count = 0

    def note(self) -> None:
        with self._condition:
            self.count += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        """Return once the count is past `seen`, or after `timeout` seconds."""
        with self._condition:
            self._condition.wait_for(lambda: self.count != seen, timeout)

    @staticmethod
    def may_change(environ: dict) -> bool:
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return False
        return "/sqs/aws4_request" not in environ.get("HTTP_AUTHORIZATION", "")


class _AwsEndpoint:
    """moto's WSGI app, with the Lambda Invoke API answered by our in-process runtime.

    Extension point: `wrap_moto(middleware)` puts a WSGI middleware around moto (benchmarks count
    billable operations with one: bench/meter.py)."""

    def __init__(self, moto_app, runtime: LambdaRuntime):
        self.moto_app = moto_app
        self.runtime = runtime
        # moto's backends are not thread-safe (a TransactWriteItems deep-copies a table while another
        # thread writes to it), so AWS calls are served one at a time. Our handlers run outside it.
        self._moto_lock = threading.Lock()
        self.changes = Changes()

    def wrap_moto(self, middleware: Callable[[WsgiApp], WsgiApp]) -> None:
        """Serve every AWS request but Lambda's Invoke through `middleware(app)` from now on, app being
        moto (or the middlewares added before). It runs while the endpoint holds moto's lock, so moto's
        state changes only by the request it serves, and what it returns is drained there too."""
        with self._moto_lock:
            self.moto_app = middleware(self.moto_app)

    def __call__(self, environ, start_response):
        try:
            return self._serve(environ, start_response)
        finally:
            if Changes.may_change(environ):
                self.changes.note()

    def _serve(self, environ, start_response):
        match = _INVOKE_PATH.match(environ.get("PATH_INFO", ""))
        if match and environ.get("REQUEST_METHOD") == "POST":
            function = self.runtime.find(unquote(match["name"]))
            if function is not None:
                payload = Request(environ).get_data()
                body, error = self.runtime.invoke_json(function, payload)
                headers = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", "$LATEST")]
                if error:
                    headers.append(("X-Amz-Function-Error", error))
                start_response("200 OK", headers)
                return [body]
        with self._moto_lock:
            # Drain the response inside the lock: moto may build it lazily.
            return list(self.moto_app(environ, start_response))


class LocalStack:
    """Once started: `runtime` runs the handlers (its invocation and AWS-call hooks let tests inject
    faults: tests/faults.py) and `aws` is the AWS endpoint (its `wrap_moto` lets benchmarks meter
    requests: bench/meter.py)."""

    def __init__(
        self,
        aws_port: int = 5000,
        api_port: int = 3000,
        host: str = "127.0.0.1",
        parameters: dict[str, str] | None = None,
        log_level: str = "WARNING",
        deliver_events: bool = True,
        timed_events: bool = True,
        authorizer_cache_seconds: float | None = None,
        extra_keys: Iterable[tuple[str, str, str | None]] = (),
        activity: ActivityLog | None = None,
        template: Path | None = None,
        enforce_iam: bool = True,
        in_process: bool = True,
        worker_processes: int = 0,
        moto_fixes: bool | None = None,
    ):
        self.host = host
        # False: moto, botocore, Powertools and the standard library as released, no patch of
        # devstack's (devstack/moto_fixes.py); None: DEVSTACK_MOTO_FIXES says (on unless it is 0).
        from devstack import moto_fixes as fixes

        self.moto_fixes = fixes.wanted() if moto_fixes is None else moto_fixes
        # False: no EventBridge rule, schedule or Schedule event reaches a function (a benchmark that
        # runs the steps itself).
        self.deliver_events = deliver_events
        # False: functions' `Schedule` events (the sweeper's every 5 minutes) never fire on their own;
        # the test suite invokes the sweeper itself, so a sweep never lands in the middle of a test.
        self.timed_events = timed_events
        # True: the handlers' AWS calls reach the endpoint in-process (devstack.transport), not over
        # loopback HTTP (False: a benchmark's baseline).
        self.in_process = in_process
        # Handlers run in this many worker processes (devstack.workers), so the stack uses more
        # than one core; 0: in this process, where tests' fault hooks reach them.
        self.worker_processes = worker_processes
        self.workers: WorkerPool | None = None
        self.log_level = log_level
        # None: the template's ReauthorizeEvery, as API Gateway caches the authorizer's answers.
        self.authorizer_cache_seconds = authorizer_cache_seconds
        # (tenant, role, secret or None) of keys made at start besides dev-key: secrets are in `keys`.
        self.extra_keys = list(extra_keys)
        self.keys: list[tuple[str, str, str]] = []
        self.activity = activity  # where requests and runs are told as they happen (None: nowhere)
        self.aws_port = aws_port
        self.api_port = api_port
        # Locally a queued run looks for its table every second (the template's default suits AWS), and
        # webhooks may call receivers on http://127.0.0.1 (on AWS, never: docs/API.md, "Webhooks").
        local = {"QueuePollSeconds": "1", "WebhookLocalReceivers": "true"}
        self.template = Template(template or ROOT / "template.yaml", {**local, **(parameters or {})})
        # Each function under its own role, as on AWS (devstack/iam.py); off only to measure its cost.
        self.enforce_iam = enforce_iam
        self._servers = []
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def console_url(self) -> str:
        return f"http://{self.host}:{self.api_port}/"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}/{self.template.api()['StageName']}"

    # ------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        from devstack import moto_fixes

        if self.moto_fixes:
            moto_fixes.check_versions()  # before anything is patched
        os.environ.update(
            AWS_ENDPOINT_URL=self.aws_endpoint,
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            AWS_ACCESS_KEY_ID=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            AWS_SECRET_ACCESS_KEY=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
            MOTO_PORT=str(self.aws_port),  # where moto's state machine interpreter calls back
            POWERTOOLS_TRACE_DISABLED="true",
            POWERTOOLS_METRICS_DISABLED="true",
            POWERTOOLS_DEV="false",
            # The worker processes, spawned with this environment, run as this process does.
            **{moto_fixes.SWITCH: "1" if self.moto_fixes else "0"},
        )
        self.iam = Enforcer(self.template) if self.enforce_iam else None
        self.runtime = LambdaRuntime(self.template, self.iam)
        self.runtime.install(patches=self.moto_fixes)
        if self.activity:
            self.activity.watch(self.runtime)
        # Locally, handlers log warnings and errors only (the template's level is for AWS).
        os.environ["POWERTOOLS_LOG_LEVEL"] = self.log_level
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # Powertools warns when a handler publishes no metric (most API requests): metrics are off
        # locally (POWERTOOLS_METRICS_DISABLED). Here, and in the worker processes, which start with
        # the environment and not this process's filters.
        warnings.filterwarnings("ignore", message=_NO_METRICS)
        os.environ["PYTHONWARNINGS"] = ",".join(
            filter(None, (os.environ.get("PYTHONWARNINGS"), f"ignore:{_NO_METRICS}"))
        )

        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        moto_app = DomainDispatcherApplication(create_backend_app)
        if self.moto_fixes:
            moto_fixes.install()
            moto_app = moto_fixes.DynamoDirect(moto_app)
        self.aws = _AwsEndpoint(moto_app, self.runtime)
        # POST uploads checked against their signed policy, as S3 does (moto stores any form).
        credentials = {os.environ["AWS_ACCESS_KEY_ID"]: os.environ["AWS_SECRET_ACCESS_KEY"]}
        self.aws.wrap_moto(lambda app: PostPolicyCheck(app, credentials))
        self.aws.wrap_moto(refuse_invalid_definitions)  # what AWS refuses and moto would run
        self._serve(self.aws, self.aws_port, MotoRequestHandler)
        from devstack.transport import InProcessTransport, route_to_stack

        transport = InProcessTransport(self.aws_endpoint, self.aws)
        if self.in_process:
            route_to_stack(self.aws_endpoint, transport, self.moto_fixes)
        if self.worker_processes:
            self.workers = WorkerPool(
                self.worker_processes, self.template.path, self.template.parameters, self.enforce_iam, transport
            )
            self.runtime.run_in_workers(self.workers)
        boto3.client("s3")  # warm up botocore's loaders in this thread
        import requests

        requests.post(
            f"{self.aws_endpoint}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=10
        ).raise_for_status()
        self._create_resources()
        on_request = self.activity.request if self.activity else None
        api = ApiGateway(self.template, self.runtime, self.authorizer_cache_seconds, on_request)
        # The web console's files at the API port's root (CloudFront and its bucket on AWS).
        self._serve(ConsoleFiles(api, CONSOLE_DIST, self.template, api.stage, self.aws_endpoint), self.api_port)
        return self

    def _serve(self, app, port: int, handler=None) -> None:
        kwargs = {"request_handler": handler} if handler else {}
        server = make_server(self.host, port, app, threaded=True, **kwargs)
        self._servers.append(server)
        thread = threading.Thread(target=server.serve_forever, daemon=True, name=f"serve-{port}")
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        if hasattr(self, "aws"):
            self.aws.changes.note()  # wakes the pollers, to see the stop
        for server in self._servers:
            server.shutdown()
        if self.workers is not None:
            self.workers.stop()
        for thread in self._threads:
            thread.join(timeout=5)

    # ------------------------------------------------------------ resources from template.yaml
    def _create_resources(self) -> None:
        t = self.template
        ddb = boto3.client("dynamodb")
        for logical_id, resource in t.of_type("AWS::DynamoDB::Table").items():
            props = resource["Properties"]
            kwargs = {
                "TableName": t.physical_name(logical_id),
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if props.get("GlobalSecondaryIndexes"):
                kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            ddb.create_table(**kwargs)

        s3 = boto3.client("s3")
        for logical_id, resource in t.of_type("AWS::S3::Bucket").items():
            name = t.physical_name(logical_id)
            s3.create_bucket(Bucket=name)
            if versioning := resource["Properties"].get("VersioningConfiguration"):
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
            if resource["Properties"].get("NotificationConfiguration", {}).get("EventBridgeConfiguration"):
                s3.put_bucket_notification_configuration(
                    Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
                )
            if cors := resource["Properties"].get("CorsConfiguration"):
                s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": self._cors_rules(cors["CorsRules"])})

        queues.create_queues(t)

        events = boto3.client("events")
        for logical_id in t.of_type("AWS::Events::EventBus"):
            events.create_event_bus(Name=t.physical_name(logical_id))

        sfn = boto3.client("stepfunctions")
        expanded = self.iam.expanded if self.iam else t.expanded()
        for logical_id in t.of_type("AWS::Serverless::StateMachine"):
            name, definition = t.state_machine(logical_id)
            role = expanded.attribute(role_of(expanded, logical_id, "RoleArn"), "Arn")
            sfn.create_state_machine(name=name, definition=definition, roleArn=role)

        scheduler = boto3.client("scheduler")
        for logical_id in t.of_type("AWS::Scheduler::ScheduleGroup"):
            group = t.physical_name(logical_id)
            scheduler.create_schedule_group(Name=group)
            if self.deliver_events:
                self._start_thread(f"scheduler-{group}", self._fire_schedules, group)

        if self.deliver_events:
            self._wire_eventbridge_rules()
            queues.wire_rules(t)
            for logical_id, mapping in t.of_type("AWS::Lambda::EventSourceMapping").items():
                self._start_thread(
                    f"poll-{logical_id}", queues.poll_mapping, self, mapping["Properties"], self._stopping.is_set
                )
        from bulkimport.access.keys import create_api_key

        create_api_key(DEV_TENANT, "admin", name="dev admin key", api_key=DEV_KEY)
        self.keys = [(DEV_TENANT, "admin", DEV_KEY)]
        for tenant, role, secret in self.extra_keys:
            self.keys.append((tenant, role, create_api_key(tenant, role, name="local stack key", api_key=secret)))

    def _cors_rules(self, rules: list[dict]) -> list[dict]:
        """The template's CORS rules for S3's API; an origin the template computes (the console's
        CloudFront address) is the local console's origin here."""
        local_origin = self.console_url.rstrip("/")
        out = []
        for rule in rules:
            origins = [origin if isinstance(origin, str) else local_origin for origin in rule["AllowedOrigins"]]
            converted = {"AllowedMethods": rule["AllowedMethods"], "AllowedOrigins": origins}
            for name, api_name in (("AllowedHeaders", "AllowedHeaders"), ("ExposedHeaders", "ExposeHeaders")):
                if name in rule:
                    converted[api_name] = rule[name]
            if "MaxAge" in rule:
                converted["MaxAgeSeconds"] = rule["MaxAge"]
            out.append(converted)
        return out

    def _wire_eventbridge_rules(self) -> None:
        """Each EventBridgeRule event of a function becomes a rule with the same pattern; moto delivers
        matching events to a queue, and a pump hands them to the function, as EventBridge would."""
        events = boto3.client("events")
        sqs = boto3.client("sqs")
        for function in self.runtime.functions.values():
            for event_id, event in function.events.items():
                if event["Type"] == "Schedule" and self.timed_events:
                    self._start_thread(
                        f"tick-{function.logical_id}", self._tick, function, event["Properties"]["Schedule"]
                    )
                if event["Type"] != "EventBridgeRule":
                    continue
                props = event["Properties"]
                pattern = self.template.resolve(props["Pattern"])
                bus = self.template.resolve(props.get("EventBusName", "default"))
                rule_name = f"{function.logical_id}-{event_id}"
                queue_url = sqs.create_queue(QueueName=f"devstack-{rule_name}")["QueueUrl"]
                queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
                events.put_rule(Name=rule_name, EventBusName=bus, EventPattern=json.dumps(pattern))
                events.put_targets(Rule=rule_name, EventBusName=bus, Targets=[{"Id": "devstack", "Arn": queue_arn}])
                self._start_thread(f"pump-{rule_name}", self._pump, queue_url, function)

    def _start_thread(self, name: str, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=name)
        thread.start()
        self._threads.append(thread)

    def _fire_schedules(self, group: str) -> None:
        """EventBridge Scheduler: each schedule of the group invokes its target at the times its
        expression names, in its time zone; an `at` schedule set to delete itself is deleted after."""
        from bulkimport.errors import DomainError
        from devstack.schedules import next_fire

        scheduler = boto3.client("scheduler")
        fired: dict[str, datetime] = {}  # schedule name -> when it last fired (or was created/changed)
        while not self._stopping.wait(0.5):
            seen = self.aws.changes.count
            next_due: datetime | None = None  # the earliest time a schedule fires next
            try:
                names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
                now = datetime.now(UTC)
                for name in names:
                    try:
                        schedule = scheduler.get_schedule(Name=name, GroupName=group)
                    except scheduler.exceptions.ResourceNotFoundException:
                        continue  # deleted since it was listed (a scheduled import cancelled meanwhile)
                    changed = schedule["LastModificationDate"].astimezone(UTC)
                    since = max(fired.get(name, changed), changed)
                    if schedule["State"] != "ENABLED":
                        continue
                    try:
                        due = next_fire(
                            schedule["ScheduleExpression"],
                            since,
                            schedule.get("ScheduleExpressionTimezone") or "UTC",
                            start=changed,
                        )
                    except DomainError:
                        continue  # an expression the local stack cannot run
                    if due is None:
                        continue
                    if due > now:
                        next_due = due if next_due is None else min(next_due, due)
                        continue
                    fired[name] = now
                    target = schedule["Target"]
                    if self._scheduler_may_invoke(target):
                        self.invoke_async(self.runtime.find(target["Arn"]), json.loads(target.get("Input") or "{}"))
                    if schedule.get("ActionAfterCompletion") == "DELETE" and schedule["ScheduleExpression"].startswith(
                        "at("
                    ):
                        # Its import may have deleted it meanwhile.
                        with contextlib.suppress(scheduler.exceptions.ResourceNotFoundException):
                            scheduler.delete_schedule(Name=name, GroupName=group)
            except Exception:  # the endpoint is going away at stop
                if self._stopping.is_set():
                    return
                raise
            # Sleep until a schedule is due or a request may have added or changed one.
            until_due = (next_due - datetime.now(UTC)).total_seconds() if next_due else _IDLE_POLL_SECONDS
            self.aws.changes.wait(seen, min(max(until_due, 0.0), _IDLE_POLL_SECONDS))

    def _scheduler_may_invoke(self, target: dict) -> bool:
        """EventBridge Scheduler invokes a target as the schedule's role: a role that may not invoke
        it gets the invocation refused (on AWS the schedule's attempt fails, and is retried or
        dropped to its dead-letter queue)."""
        if self.iam is None:
            return True
        role = self.iam.by_arn.get(target["RoleArn"])
        refused = role is None or self.iam.check(role, [("lambda:InvokeFunction", target["Arn"])]) is not None
        if refused:
            logging.getLogger("devstack").error(
                "scheduler: role %s may not invoke %s: lambda:InvokeFunction denied", target["RoleArn"], target["Arn"]
            )
        return not refused

    def _tick(self, function, expression: str) -> None:
        """A function's Schedule event (`rate(...)`): invoked at that rate, as EventBridge would."""
        from bulkimport.schedules.expressions import rate_seconds

        interval = rate_seconds(expression)
        while not self._stopping.wait(interval):
            self.invoke_async(function, {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})

    def _pump(self, queue_url: str, function) -> None:
        sqs = boto3.client("sqs")
        while not self._stopping.is_set():
            seen = self.aws.changes.count
            try:
                # Short polls: a long poll would sit inside moto (and its lock) for the whole wait.
                messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                    "Messages", []
                )
            except Exception:  # the endpoint is going away at stop
                if self._stopping.is_set():
                    return
                raise
            if not messages:
                # Nothing can arrive before another request changes something (an event put, an
                # object created); then look again, at most ten times a second.
                self.aws.changes.wait(seen, _IDLE_POLL_SECONDS)
                self._stopping.wait(0.1)
            for message in messages:
                self.invoke_async(function, json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def invoke_async(self, function, event) -> None:
        """An asynchronous invocation (EventBridge, Scheduler), as Lambda runs one: a failed attempt is
        tried twice more (Lambda's default; on AWS a minute or two later, here at once), then the event
        goes to the function's DeadLetterQueue, when it has one, with the last error."""
        for _attempt in range(1 + ASYNC_RETRIES):
            payload, error = self.runtime.invoke(function, event)
            if not error:
                return
        if function.dead_letter_arn:
            sqs = boto3.client("sqs")
            queue_url = sqs.get_queue_url(QueueName=function.dead_letter_arn.rsplit(":", 1)[-1])["QueueUrl"]
            message = str(payload.get("errorMessage", "") if isinstance(payload, dict) else payload)[:256]
            sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=json.dumps(event),
                MessageAttributes={
                    "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                    "ErrorMessage": {"DataType": "String", "StringValue": message or error},
                },
            )

    # ------------------------------------------------------------ what tests and people need
    def resource_name(self, logical_id: str) -> str:
        return self.template.physical_name(logical_id)
