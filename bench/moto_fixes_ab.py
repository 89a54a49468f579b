"""What each of devstack's moto fixes (devstack/moto_fixes.py) buys, measured in-process as an A/B.

For each fix, a process of its own serves moto in-process (the stack's transport, no sockets) with
every other fix installed, runs the workload that fix is for (after a warm-up), installs the fix and
runs the same workload again: CPU seconds of the process, median of 3, without / with, and their
ratio, in the same process. "control" installs nothing between the two: the ratio an unchanged stack
shows (warm caches, a table grown by the first runs). Then a 2,000-row import into a table with a
unique field on a local stack with every fix, and on one without (--stock-moto), as wall seconds.

    .venv/bin/python -m bench.moto_fixes_ab            # every fix, then the import
    .venv/bin/python -m bench.moto_fixes_ab FIX ...     # those fixes only, no import
    .venv/bin/python -m bench.moto_fixes_ab import      # the import only
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _client(service: str):
    """A boto3 client whose requests moto answers in this process."""
    import boto3
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from devstack.transport import InProcessTransport

    global _APP
    if "_APP" not in globals():
        _APP = _App(DomainDispatcherApplication(create_backend_app))
    endpoint = "http://127.0.0.1:5999"
    client = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    client.meta.events.register_first("before-send", InProcessTransport(endpoint, _APP))
    return client


class _App:
    """moto's app, wrapped in DynamoDirect once that fix is on."""

    def __init__(self, app):
        self.app = self.plain = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def _table(ddb, with_range: bool = False) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    keys = ("pk", "sk") if with_range else ("pk",)
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"), strict=False)],
    )
    return name


def _fill(ddb, table: str, count: int, with_range: bool = False) -> None:
    for start in range(0, count, 25):
        items = []
        for n in range(start, min(count, start + 25)):
            item = {"pk": {"S": f"p{n % 500}" if with_range else f"k{n}"}, "v": {"S": "x" * 40}}
            if with_range:
                item["sk"] = {"S": f"s{n}"}
            items.append({"PutRequest": {"Item": item}})
        ddb.batch_write_item(RequestItems={table: items})


def _big_item(pk: str) -> dict:
    return {
        "pk": {"S": pk},
        **{f"a{n}": {"S": "value" * 4} for n in range(40)},
        "recipe": {"M": {f"c{n}": {"M": {"source": {"S": f"col{n}"}, "target": {"S": f"f{n}"}}} for n in range(20)}},
        "count": {"N": "0"},
    }


def _claims(ddb, table: str, count: int = 400) -> None:
    for _ in range(count):
        ddb.put_item(
            TableName=table,
            Item={"pk": {"S": uuid.uuid4().hex}, "owner": {"S": "import-1"}, "record": {"S": "r1"}},
            ConditionExpression="attribute_not_exists(pk) OR #o = :mine",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":mine": {"S": "import-1"}},
        )


def workloads() -> dict[str, tuple]:
    """fix -> (setup() -> state, run(state)): what the fix is for."""

    def claims_setup():
        ddb = _client("dynamodb")
        return ddb, _table(ddb)

    def claims_run(state):
        _claims(*state, count=1000)

    def query_setup():
        ddb = _client("dynamodb")
        table = _table(ddb, with_range=True)
        _fill(ddb, table, 10_000, with_range=True)
        return ddb, table

    def query_run(state):
        ddb, table = state
        for n in range(150):
            ddb.query(
                TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": f"p{n}"}}
            )

    def transact_setup():
        ddb = _client("dynamodb")
        table = _table(ddb)
        _fill(ddb, table, 10_000)
        return ddb, table

    def transact_run(state):
        ddb, table = state
        for _ in range(60):
            ddb.transact_write_items(
                TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": uuid.uuid4().hex}}}} for _ in range(2)]
            )

    def batch_setup():
        ddb = _client("dynamodb")
        return ddb, _table(ddb)

    def batch_run(state):
        ddb, table = state
        for _ in range(40):
            ddb.batch_write_item(
                RequestItems={table: [{"PutRequest": {"Item": _big_item(uuid.uuid4().hex)}} for _ in range(25)]}
            )

    def import_item_setup():  # an import's item: large, read and updated for every chunk
        ddb = _client("dynamodb")
        table = _table(ddb)
        ddb.put_item(TableName=table, Item=_big_item("import"))
        return ddb, table

    def update_run(state):
        ddb, table = state
        for _ in range(300):
            ddb.update_item(
                TableName=table,
                Key={"pk": {"S": "import"}},
                UpdateExpression="ADD #c :one",
                ExpressionAttributeNames={"#c": "count"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    def read_run(state):
        ddb, table = state
        for _ in range(300):
            ddb.get_item(TableName=table, Key={"pk": {"S": "import"}}, ConsistentRead=True)

    def range_setup():
        s3 = _client("s3")
        bucket = f"b-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="upload.csv", Body=b"x" * (20 * 1024 * 1024))
        return s3, bucket

    def range_run(state):
        s3, bucket = state
        for n in range(40):
            start = n * 200_000
            s3.get_object(Bucket=bucket, Key="upload.csv", Range=f"bytes={start}-{start + 199_999}")["Body"].read()

    def small_setup():
        s3, sqs = _client("s3"), _client("sqs")
        bucket = f"b-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="small", Body=b"x" * 100)
        return s3, bucket, sqs, sqs.create_queue(QueueName=bucket)["QueueUrl"]

    def small_run(state):
        # What moto serves besides DynamoDB: a chunk's S3 reads, the pollers' SQS receives.
        s3, bucket, sqs, queue = state
        for _ in range(150):
            s3.get_object(Bucket=bucket, Key="small")["Body"].read()
            sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)

    claims = (claims_setup, claims_run)
    small = (small_setup, small_run)
    return {
        "control": claims,
        "narrow_key_queries": (query_setup, query_run),
        "narrow_transaction_rollback_copies": (transact_setup, transact_run),
        "list_moto_modules_once": small,
        "size_new_items_once": (batch_setup, batch_run),
        "lex_condition_expressions_once": claims,
        "update_items_without_copies": (import_item_setup, update_run),
        "read_ranges_from_the_object": (range_setup, range_run),
        "answer_plain_attribute_values_as_stored": (import_item_setup, read_run),
        "DynamoDirect": claims,
        "sign_without_signatures": claims,
    }


def _measure(run, state) -> float:
    times = []
    for _ in range(3):
        started = time.process_time()
        run(state)
        times.append(time.process_time() - started)
    return statistics.median(times)


def one(fix: str) -> dict:
    """In this process: every fix but `fix`, its workload; then `fix` too, the same workload."""
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core")]
    from devstack import moto_fixes, transport

    moto_fixes.check_versions()
    every = moto_fixes.fixes()
    client_side = {
        "sign_without_signatures": lambda: transport.sign_without_signatures("http://127.0.0.1:5999"),
    }
    for name, install in {**every, **client_side}.items():
        if name != fix:
            install()
    setup, run = workloads()[fix]
    if fix != "DynamoDirect":
        _client("dynamodb")
        _APP.app = moto_fixes.DynamoDirect(_APP.plain)
    state = setup()
    run(state)  # warm-up
    without = _measure(run, state)
    if fix == "DynamoDirect":
        _APP.app = moto_fixes.DynamoDirect(_APP.plain)
    elif fix in every:
        every[fix]()
    elif fix in client_side:
        client_side[fix]()
    with_fix = _measure(run, state)
    return {
        "fix": fix,
        "without_s": round(without, 4),
        "with_s": round(with_fix, 4),
        "ratio": round(with_fix / without, 3),
    }


IMPORT = """
import sys, time, json
sys.path[:0] = [".", "layers/core"]
from devstack.stack import LocalStack
from tests.helpers import Api, csv_bytes, free_port
from tests.samples import HEADER, good_row, setup_contacts
stack = LocalStack(aws_port=free_port(), api_port=free_port(), moto_fixes=sys.argv[1] == "on").start()
api = Api(stack.api_url, "dev-key")
recipe = setup_contacts(api)
content = csv_bytes([HEADER, *[good_row(n) for n in range(1, 2001)]])
started = time.monotonic()
done = api.wait(api.import_file(recipe["id"], content)["id"], timeout=900)
assert done["success_count"] == 2000, done
print(json.dumps({"seconds": round(time.monotonic() - started, 2)}))
"""


def _in_child(*args: str) -> dict:
    ran = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if ran.returncode != 0:
        raise RuntimeError(ran.stderr[-2000:])
    return json.loads(ran.stdout.splitlines()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(sys.argv[2])))
        return
    if sys.argv[1:] == ["import"]:
        _import_ab()
        return
    names = sys.argv[1:] or list(workloads())
    print(f"{'fix':42} {'without s':>10} {'with s':>10} {'ratio':>7}")
    for name in names:
        result = _in_child(sys.executable, "-m", "bench.moto_fixes_ab", "--one", name)
        print(f"{name:42} {result['without_s']:>10} {result['with_s']:>10} {result['ratio']:>7}", flush=True)
    if not sys.argv[1:]:
        _import_ab()


def _import_ab() -> None:
    on = _in_child(sys.executable, "-c", IMPORT, "on")["seconds"]
    off = _in_child(sys.executable, "-c", IMPORT, "off")["seconds"]
    print(f"2,000-row import, unique field: fixes on {on} s, off {off} s, on/off {on / off:.3f}")


if __name__ == "__main__":
    main()
