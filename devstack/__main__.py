"""`make run`: start the local stack, say how to use it, and tell what happens while it runs."""

import argparse
import os
import signal
import socket
import sys
import threading
from importlib.metadata import version
from pathlib import Path

from devstack import moto_fixes
from devstack.activity import ActivityLog
from devstack.cfn import REGION
from devstack.stack import DEV_KEY, DEV_TENANT, LocalStack
from devstack.workers import default_count

QUICK_START = """
Bulk import local stack is up.
  Console       {console}        (sign in with dev-key)
  API           {api}        (docs: {api}/docs, spec: {api}/openapi.json)
  AWS endpoint  {aws}        (moto {moto}: S3, DynamoDB, Step Functions, EventBridge, Scheduler)
                moto fixes: {fixes}
  Bucket        {bucket}
  API keys      {keys}

Import a first file, from the repo root in another terminal:
  API={api} bash examples/quickstart.sh        # table + recipe + a 10,000-row CSV with 40 bad rows, watched to the end
or with the CLI (.venv/bin/bulkimport, installed by make install):
  export BULKIMPORT_API={api} BULKIMPORT_KEY={key}
  bulkimport tables create examples/contacts-table.json
  bulkimport recipes create examples/contacts-recipe.json          # prints the recipe id
  python3 examples/make_sample.py 10000 /tmp/contacts-10k.csv
  bulkimport import /tmp/contacts-10k.csv --recipe <recipe id> --wait
  bulkimport failures <import id>
or with curl:
  export API={api} KEY={key}
  curl -s $API/imports -H "Authorization: Bearer $KEY"

The AWS CLI against this stack:
  export AWS_ENDPOINT_URL={aws} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION={region}
  aws s3 ls s3://{bucket}/ --recursive
  aws --endpoint-url {aws} s3 cp file.csv s3://{bucket}/drop/{tenant}/<recipe id>/file.csv   # imports it
A tenant's first admin key, as an operator would make it on AWS:
  bulkimport admin create-key --tenant acme --role admin --endpoint-url {aws}

Data lives in memory: it is gone when this stops (Ctrl-C).{activity}
"""

FIXES = {
    True: "on  (devstack/moto_fixes.py; --stock-moto or DEVSTACK_MOTO_FIXES=0 runs moto as released)",
    False: "off (moto, botocore and Powertools as released: the API function serves one request at a time)",
}


def _key(value: str) -> tuple[str, str, str | None]:
    tenant, _, rest = value.partition(":")
    role, _, secret = rest.partition(":")
    if not tenant or role not in ("viewer", "editor", "admin"):
        raise argparse.ArgumentTypeError(f"{value!r}: use TENANT:ROLE or TENANT:ROLE:SECRET, ROLE viewer|editor|admin")
    return tenant, role, secret or None


def _port(value: str) -> int:
    port = int(value)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port")
    return port


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description="The embedded local stack: moto as AWS (S3, DynamoDB, Step Functions running the real "
        "state machines, EventBridge, Scheduler), the template's Lambda handlers in worker processes, and "
        "API Gateway on loopback. No AWS account, no Docker. `make run API_PORT=3100 AWS_PORT=5100` passes "
        "the ports.",
    )
    parser.add_argument(
        "--api-port", type=_port, default=3000, help="port of the API, http://127.0.0.1:PORT/v1 (default 3000)"
    )
    parser.add_argument(
        "--aws-port",
        type=_port,
        default=5000,
        help="port of the AWS endpoint (moto) for boto3, the AWS CLI and `bulkimport admin` (default 5000)",
    )
    parser.add_argument(
        "--key",
        type=_key,
        action="append",
        default=[],
        metavar="TENANT:ROLE[:SECRET]",
        help="also create this API key at start (repeatable; without SECRET one is made and printed): "
        "e.g. --key acme:admin:acme-key --key acme:viewer. dev-key (tenant dev, admin) is always there",
    )
    parser.add_argument(
        "--template", type=Path, help="another template than ./template.yaml (its code paths from its folder)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=default_count(),
        metavar="N",
        help="run the Lambda handlers in N worker processes, so that the stack uses more than one core "
        f"(default {default_count()}: this machine's cores but one); 0 runs them in the stack's process",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print only the banner, not a line per request, run, chunk and S3 event"
    )
    parser.add_argument(
        "--stock-moto",
        action="store_true",
        help="run on moto, botocore and Powertools as released, without devstack's fixes "
        "(devstack/moto_fixes.py), to tell a moto bug from a fix's; the same as DEVSTACK_MOTO_FIXES=0",
    )
    return parser


def _busy(port: int) -> bool:
    """Whether something listens on the port. SO_REUSEADDR, as the stack's own servers bind: the
    connections a stack stopped a moment ago left in TIME-WAIT do not hold the port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _stop(stack: LocalStack) -> None:
    """Ctrl-C: stop serving and end the worker processes, then exit at once. The data lives in this
    process's memory only, so nothing is saved; the interpreter's own teardown (freeing every stored
    object, one by one) is skipped, which for a large store took longer than everything else."""
    print("\nStopping: the API and AWS endpoints close, the worker processes end; the data in memory goes.", flush=True)
    # A second Ctrl-C while stopping ends it there, and so does a stop that hangs.
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))

    def too_long() -> None:
        print("Stopping took too long: exiting.", flush=True)
        os._exit(1)

    watchdog = threading.Timer(10, too_long)
    watchdog.daemon = True
    watchdog.start()
    stack.stop()
    print("Stopped.", flush=True)
    sys.stderr.flush()
    os._exit(0)


def main() -> None:
    args = parser().parse_args()
    for flag, port, variable in (("--api-port", args.api_port, "API_PORT"), ("--aws-port", args.aws_port, "AWS_PORT")):
        if _busy(port):
            print(
                f"Port {port} is in use (another local stack?). Choose another with {flag} "
                f"(make run {variable}=...), or stop what holds it.",
                file=sys.stderr,
            )
            sys.exit(2)
    if args.api_port == args.aws_port:
        print("--api-port and --aws-port must differ.", file=sys.stderr)
        sys.exit(2)
    if args.stock_moto:
        os.environ[moto_fixes.SWITCH] = "0"
    activity = None if args.quiet else ActivityLog()
    stack = LocalStack(
        aws_port=args.aws_port,
        api_port=args.api_port,
        extra_keys=args.key,
        activity=activity,
        template=args.template,
        worker_processes=max(0, args.workers),
    )
    try:
        stack.start()
    except moto_fixes.VersionMismatch as mismatch:
        print(mismatch, file=sys.stderr)
        sys.exit(2)
    keys = "\n                ".join(
        f"{secret}  (tenant '{tenant}', role {role})" for tenant, role, secret in stack.keys
    )
    print(
        QUICK_START.format(
            api=stack.api_url,
            console=stack.console_url,
            aws=stack.aws_endpoint,
            key=DEV_KEY,
            tenant=DEV_TENANT,
            keys=keys,
            bucket=stack.resource_name("DataBucket"),
            region=REGION,
            moto=version("moto"),
            fixes=FIXES[stack.moto_fixes],
            activity="" if args.quiet else "\nWhat happens, as it happens (--quiet turns this off):",
        ),
        flush=True,
    )
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    _stop(stack)


if __name__ == "__main__":
    main()
