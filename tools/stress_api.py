"""Stress the local stack's API as browsers do: many requests at once, while imports run.

    .venv/bin/python -m tools.stress_api [--clients 10] [--seconds 30] [--switch-interval 0.0002]

Each client is a tenant of its own (an admin key, a table, a recipe) that sends GETs of /me, /recipes,
/tables, /imports, /recipes/{id}, /tables/{key} and /imports/{id} back to back, and now and then uploads
a small file to import, which the stack runs in the background. Every answer is checked: any 5xx,
and any 200 that is not this client's own data (another tenant's tables, another recipe), is counted
and printed. It exits 1 if any was seen.

The stack runs in this process, so `--switch-interval` (sys.setswitchinterval) can make Python switch
threads far more often than its 5 ms: a race between requests that happens once in hundreds of
requests at the default shows up within seconds. The stack's own log (tracebacks of unhandled errors,
as JSON lines of the API function's logger) goes to stdout as usual.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter

from devstack.stack import LocalStack
from tests.helpers import Api, csv_bytes, free_port, new_tenant
from tests.samples import CONTACTS, HEADER, contacts_recipe, good_row


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.problems: list[str] = []

    def answer(self, method: str, path: str, status: int, problem: str | None) -> None:
        with self.lock:
            self.statuses[status] += 1
            if problem:
                self.problems.append(f"{method} {path}: {status} {problem}"[:400])


def client(stack: LocalStack, number: int, until: float, tally: Tally) -> None:
    from bulkimport.access.keys import create_api_key

    tenant = new_tenant()
    api = Api(stack.api_url, create_api_key(tenant, "admin"))
    table = f"t{number}"
    try:
        api.create_table({**CONTACTS, "key": table})
        recipe = api.create_recipe(contacts_recipe(table=table))["id"]
    except AssertionError as refused:  # Api.ok's message: method, path, status and body
        tally.answer("setup", "", 0, str(refused))
        return
    imports: list[str] = []
    sent = 0
    while time.monotonic() < until:
        sent += 1
        if random.random() < 0.08:
            rows = [HEADER] + [good_row(sent * 1000 + i) for i in range(120)]
            files = {"file": ("f.csv", csv_bytes(rows), "text/csv")}
            response = api.post("/imports", data={"recipe_id": recipe}, files=files)
            if response.status_code == 201:
                imports.append(response.json()["data"]["id"])
            problem = None if response.status_code == 201 else response.text
            tally.answer("POST", "/imports", response.status_code, problem)
            continue
        path = random.choice(
            ["/me", "/recipes", "/tables", "/imports", f"/recipes/{recipe}", f"/tables/{table}"]
            + [f"/imports/{i}" for i in imports[-2:]]
        )
        response = api.get(path)
        ok = response.status_code == 200 and _own(path, response.json()["data"], tenant, table, recipe, imports)
        tally.answer("GET", path, response.status_code, None if ok else response.text)


def _own(path: str, data, tenant: str, table: str, recipe: str, imports: list[str]) -> bool:
    """Whether a 200's data is this client's own."""
    if path == "/me":
        return data["tenant"] == tenant
    if path == "/recipes":
        return [r["id"] for r in data] == [recipe]
    if path == "/tables":
        return [t["key"] for t in data] == [table]
    if path == "/imports":
        return {i["id"] for i in data} <= set(imports)
    return data.get("id", data.get("key")) == path.rsplit("/", 1)[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients, each a tenant (default 10)")
    parser.add_argument("--seconds", type=float, default=30, help="how long they send (default 30)")
    parser.add_argument("--switch-interval", type=float, default=0.005, help="sys.setswitchinterval (default 0.005)")
    args = parser.parse_args()
    sys.setswitchinterval(args.switch_interval)
    stack = LocalStack(aws_port=free_port(), api_port=free_port(), timed_events=False).start()
    tally = Tally()
    until = time.monotonic() + args.seconds
    threads = [threading.Thread(target=client, args=(stack, n, until, tally)) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stack.stop()
    print(f"answers: {dict(sorted(tally.statuses.items()))}; problems: {len(tally.problems)}")
    for problem in tally.problems[:20]:
        print("  " + problem)
    return 1 if tally.problems else 0


if __name__ == "__main__":
    sys.exit(main())
