"""The sample events in events/ (for `sam local invoke` and for reading) are what the handlers take."""

import json
from dataclasses import fields
from pathlib import Path

from bulkimport.ingest.parsing import ChunkPlan

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
    assert invoke(stack, "ObjectCreatedFunction", load("object-created.json")) == {"started_import": None}


def test_scheduled_run_sample_for_an_unknown_schedule_imports_nothing(stack):
    assert invoke(stack, "ScheduledRunFunction", load("scheduled-run.json")) == {"imports": []}


def test_sweep_runs_sample_runs(stack):
    assert "settled" in invoke(stack, "SweepRunsFunction", load("sweep-runs.json"))


def test_pipeline_samples_have_the_fields_the_steps_read():
    for name in ("prepare-import.json", "prepare-import-take-table.json", "process-chunk.json", "finalize-import.json"):
        event = load(name)
        assert {"tenant", "import_id"} <= set(event)
    assert {"ticket", "execution_arn"} <= set(load("prepare-import-take-table.json"))
    assert set(load("process-chunk.json")["chunk"]) == {f.name for f in fields(ChunkPlan)}


def test_job_samples_name_a_step_the_jobs_function_runs():
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("jobs_app", EVENTS.parent / "functions" / "jobs" / "app.py")
    app = module_from_spec(spec)
    spec.loader.exec_module(app)
    for name in ("job-step.json", "job-process-page.json", "job-finalize.json"):
        event = load(name)
        assert {"tenant", "job_id"} <= set(event) and event["step"] in app.STEPS
    assert set(load("job-process-page.json")["page"]) == {"index", "key", "count"}
