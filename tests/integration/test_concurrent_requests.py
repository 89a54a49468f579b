"""Requests served at the same time each get their own answer, as a browser's parallel requests do
(the console loads /me, /recipes, /tables and /imports at once, and polls while imports run).

On AWS each concurrent invocation of the API function has an execution environment of its own; the
local stack runs them in one process, on one Powertools resolver (devstack/resolver_state.py)."""

from concurrent.futures import ThreadPoolExecutor

MISSING_RECIPE = "01M8C9BVB8MA4PQ3011DQJGH53"


def test_a_request_that_runs_meanwhile_leaves_another_requests_answer_alone(tenant, other_tenant, faults):
    chinese = {"Accept-Language": "zh-TW"}
    alone = tenant.viewer.get(f"/recipes/{MISSING_RECIPE}", headers=chinese)
    assert alone.status_code == 404 and alone.json()["error"]["code"] == "RECIPE_NOT_FOUND"

    def mine(event) -> bool:
        authorizer = event["requestContext"]["authorizer"] or {}
        return event["path"] == f"/recipes/{MISSING_RECIPE}" and authorizer.get("tenant") == tenant.id

    # The first request stops inside its route, at its DynamoDB read; another tenant's request, on
    # another route and in another language, runs from start to end meanwhile; then the first goes on
    # and answers its error, in its own caller's language.
    with faults.hold("ApiFunction", "dynamodb.GetItem", when=mine) as gate, ThreadPoolExecutor(1) as pool:
        held = pool.submit(tenant.viewer.get, f"/recipes/{MISSING_RECIPE}", headers=chinese)
        gate.wait(timeout=30)
        meanwhile = other_tenant.viewer.get("/me")
        gate.release()
        first = held.result(timeout=30)

    assert meanwhile.status_code == 200, meanwhile.text
    assert meanwhile.json()["data"]["tenant"] == other_tenant.id
    assert (first.status_code, first.json()) == (404, alone.json())
