"""`make run`: start the local stack and say how to import a first file."""

import argparse
import signal
import threading
from pathlib import Path

from devstack.stack import DEV_KEY, DEV_TENANT, LocalStack

QUICK_START = """
Bulk import local stack is up.
  API           {api}        (docs: {api}/docs, spec: {api}/openapi.json)
  AWS endpoint  {aws}        (moto: S3, DynamoDB, Step Functions, EventBridge)
  API key       {key}  (tenant '{tenant}', role admin)

Import a first file, from the repo root in another terminal:
  bash examples/quickstart.sh        # table + recipe + a 10,000-row CSV with 40 bad rows, watched to the end
or step by step with curl:
  export API={api} KEY={key}
  curl -s -X POST $API/tables  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d @examples/contacts-table.json
  curl -s -X POST $API/recipes -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d @examples/contacts-recipe.json
  python3 examples/make_sample.py 10000 /tmp/contacts-10k.csv
  curl -s -X POST $API/imports -H "Authorization: Bearer $KEY" -F recipe_id=<recipe id> -F file=@/tmp/contacts-10k.csv
  curl -s $API/imports/<import id>            -H "Authorization: Bearer $KEY"
  curl -s $API/imports/<import id>/failures   -H "Authorization: Bearer $KEY"
  curl -s "$API/tables/contacts/records?per_page=5" -H "Authorization: Bearer $KEY"

Data lives in memory: it is gone when this stops (Ctrl-C).
"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    parser.add_argument("--api-port", type=int, default=3000)
    parser.add_argument("--aws-port", type=int, default=5000)
    parser.add_argument(
        "--template", type=Path, help="another template than ./template.yaml (its code paths from its folder)"
    )
    args = parser.parse_args()
    stack = LocalStack(aws_port=args.aws_port, api_port=args.api_port, template=args.template).start()
    print(QUICK_START.format(api=stack.api_url, aws=stack.aws_endpoint, key=DEV_KEY, tenant=DEV_TENANT), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    stack.stop()


if __name__ == "__main__":
    main()
