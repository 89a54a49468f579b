"""The sample events in events/ (for `sam local invoke` and for reading) are what the handlers take."""

import json
import re
from dataclasses import fields
from pathlib import Path

from bulkimport.ingest.parsing import ChunkPlan
from devstack.cfn import Template

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def invoke(stack, logical_id: str, event: dict):
    result, error = stack.runtime.invoke(stack.runtime.functions[logical_id], event)
    assert error is None, result
    return result


def test_api_samples(stack):
    assert invoke(stack, "ApiFunction", load("api-health.json"))["statusCode"] == 200
    listed = invoke(stack, "ApiFunction", load("api-list-tables.json"))
    assert listed["statusCode"] == 200 and "data" in json.loads(listed["body"])


def test_authorizer_sample_allows_the_dev_key(stack):
    policy = invoke(stack, "AuthorizerFunction", load("authorizer.json"))
    assert policy["context"]["tenant"] == "dev" and policy["context"]["role"] == "admin"
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    bad = {**load("authorizer.json"), "authorizationToken": "Bearer nope"}
    result, error = stack.runtime.invoke(stack.runtime.functions["AuthorizerFunction"], bad)
    assert error and result["errorMessage"] == "Unauthorized"


def test_object_created_sample_for_an_unknown_import_starts_nothing(stack):
    assert invoke(stack, "ObjectCreatedFunction", load("object-created.json")) == {
        "started_import": None,
        "ignored": "no import 01M81EZQ2WJG465XEANM1SD8B3 of tenant dev",
    }


def test_scheduled_run_sample_for_an_unknown_schedule_imports_nothing(stack):
    assert invoke(stack, "ScheduledRunFunction", load("scheduled-run.json")) == {"imports": []}


def test_webhook_delivery_sample_of_an_unknown_delivery_and_an_event_takes_both(stack):
    # The delivery names none of the dev tenant's (it has no webhooks): nothing to attempt; the event
    # fans out to no webhook. Neither is left in the queue (no batch item failure).
    assert invoke(stack, "WebhookDeliveryFunction", load("webhook-delivery.json")) == {"batchItemFailures": []}


def test_sweep_runs_sample_runs(stack):
    assert "settled" in invoke(stack, "SweepRunsFunction", load("sweep-runs.json"))


def test_pipeline_samples_have_the_fields_the_steps_read():
    for name in (
        "prepare-import.json",
        "take-table.json",
        "process-chunk.json",
        "after-check.json",
        "finalize-run.json",
    ):
        event = load(name)
        assert {"tenant", "run_id"} <= set(event)
    assert {"ticket", "execution_arn"} <= set(load("take-table.json"))
    assert set(load("process-chunk.json")["chunk"]) == {f.name for f in fields(ChunkPlan)}


def test_job_samples_have_the_fields_the_steps_read():
    for name in ("prepare-job.json", "process-page.json", "export-records.json", "finalize-run.json"):
        event = load(name)
        assert {"tenant", "run_id"} <= set(event)
    assert set(load("process-page.json")["page"]) == {"index", "key", "count"}


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def test_every_function_has_a_sample_event():
    template = Template(EVENTS.parent / "template.yaml")
    for logical_id in template.functions():
        name = _kebab(logical_id.removesuffix("Function"))
        assert list(EVENTS.glob(f"{name}*.json")), f"no sample event events/{name}.json for {logical_id}"


def test_state_machine_samples_carry_exactly_what_their_state_sends():
    from bulkimport.run_kinds import KINDS

    for machine in ("import", "jobs"):
        definition = json.loads((EVENTS.parent / "statemachine" / f"{machine}.asl.json").read_text())
        for function, keys in _payload_keys(definition["States"]):
            event = load(f"{_kebab(function)}.json")
            assert set(event) == keys, f"events/{_kebab(function)}.json"
            assert event.get("kind", "import") in KINDS


def _payload_keys(states: dict, item_keys: set[str] | None = None):
    """(function, the keys of the event its Lambda task sends) for every Lambda task of the states."""
    for state in states.values():
        if state["Type"] == "Task" and state["Resource"] == "arn:aws:states:::lambda:invoke":
            function = re.fullmatch(r"\$\{(\w+)FunctionArn\}", state["Parameters"]["FunctionName"]).group(1)
            payload = state["Parameters"].get("Payload")
            yield function, {k.removesuffix(".$") for k in payload} if payload is not None else item_keys
        if "ItemProcessor" in state:
            yield from _payload_keys(
                state["ItemProcessor"]["States"], {k.removesuffix(".$") for k in state["ItemSelector"]}
            )
