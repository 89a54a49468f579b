"""`make run`: start the local stack and say how to import a first file."""

import argparse
import signal
import threading

from devstack.stack import DEV_KEY, DEV_TENANT, LocalStack

QUICK_START = """
Bulk import local stack is up.
  API           {api}        (docs: {api}/docs, spec: {api}/openapi.json)
  AWS endpoint  {aws}        (moto: S3, DynamoDB, Step Functions, EventBridge)
  API key       {key}  (tenant '{tenant}', role admin)

Import a first file (from the repo root):
  export API={api} KEY={key}
  curl -s -X POST $API/tables -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
    -d @examples/contacts-table.json
  curl -s -X POST $API/recipes -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
    -d @examples/contacts-recipe.json                       # note the "id" it returns
  curl -s -X POST $API/imports -H "Authorization: Bearer $KEY" \\
    -F recipe_id=<recipe id> -F file=@examples/contacts.csv  # note the import "id"
  curl -s $API/imports/<import id> -H "Authorization: Bearer $KEY"
  curl -s $API/imports/<import id>/failures -H "Authorization: Bearer $KEY"
  curl -s "$API/tables/contacts/records?per_page=5" -H "Authorization: Bearer $KEY"

Or all of that in one go:  make demo
Data lives in memory: it is gone when this stops (Ctrl-C).
"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    parser.add_argument("--api-port", type=int, default=3000)
    parser.add_argument("--aws-port", type=int, default=5000)
    args = parser.parse_args()
    stack = LocalStack(aws_port=args.aws_port, api_port=args.api_port).start()
    print(QUICK_START.format(api=stack.api_url, aws=stack.aws_endpoint, key=DEV_KEY, tenant=DEV_TENANT), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    stack.stop()


if __name__ == "__main__":
    main()
