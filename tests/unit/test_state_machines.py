"""The state machines: built from statemachine/src/ (never edited by hand), the shared states the same in
both, and what AWS requires or recommends of a definition that moto would run anyway (unique state
names across the whole definition, transitions that land on states, AWS's Lambda retries). `make test`
also runs asl-validator (npm) over both files; here cfn-lint's Step Functions schema checks their shape."""

import json
import re
from pathlib import Path

import pytest
from cfnlint.api import lint_all

from devstack.asl import refusals, scopes, targets
from tools import build_state_machines as builder

ROOT = Path(__file__).resolve().parents[2]
KINDS = tuple(builder.MACHINES)
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
TO_FINALIZE = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Finalize"}


def committed(kind: str) -> dict:
    return json.loads(builder.MACHINES[kind].read_text())


def shared_state_names() -> list[str]:
    return list(json.loads((builder.SOURCES / "shared.json").read_text())["States"])


def lambda_tasks(definition: dict):
    """(name, state, the Map state it runs in or None) of every Lambda task."""
    for name, state in definition["States"].items():
        if state["Type"] == "Task" and state["Resource"] == "arn:aws:states:::lambda:invoke":
            yield name, state, None
        if "ItemProcessor" in state:
            for inner, task, _ in lambda_tasks(state["ItemProcessor"]):
                yield inner, task, state


# ---------------------------------------------------------------- (a) built, not hand-edited


@pytest.mark.parametrize("kind", KINDS)
def test_the_committed_definition_is_what_the_sources_build(kind):
    assert builder.MACHINES[kind].read_text() == builder.render(kind), (
        f"{builder.MACHINES[kind].name} differs from statemachine/src/: edit the sources and run "
        "python tools/build_state_machines.py"
    )


def test_the_build_refuses_an_unknown_policy_name_and_a_redefined_shared_state(monkeypatch):
    own = json.loads((builder.SOURCES / "import.json").read_text())
    shared = json.loads((builder.SOURCES / "shared.json").read_text())
    unknown = json.loads(json.dumps(own))
    unknown["States"]["Prepare"]["Retry"] = ["LambdaServiceErorrs"]
    monkeypatch.setattr(builder, "_load", lambda name: shared if name == "shared" else unknown)
    with pytest.raises(ValueError, match="LambdaServiceErorrs"):
        builder.build("import")
    clash = json.loads(json.dumps(own))
    clash["States"]["Finalize"] = {"Type": "Succeed"}
    monkeypatch.setattr(builder, "_load", lambda name: shared if name == "shared" else clash)
    with pytest.raises(ValueError, match="Finalize"):
        builder.build("import")


# ---------------------------------------------------------------- (b) the shared states


@pytest.mark.parametrize("name", shared_state_names())
def test_every_shared_state_is_the_same_in_both_machines(name):
    import_states, jobs_states = committed("import")["States"], committed("jobs")["States"]
    assert import_states[name] == jobs_states[name]


def test_the_shared_states_pass_one_payload_for_every_kind_of_run():
    states = committed("import")["States"]
    assert set(states["Start"]["Parameters"]) == {
        "kind.$",
        "tenant.$",
        "run_id.$",
        "ticket.$",
        "poll_seconds.$",
        "execution_arn.$",
        "error",
    }
    assert set(states["TakeTable"]["Parameters"]["Payload"]) == {
        "kind.$",
        "tenant.$",
        "run_id.$",
        "ticket.$",
        "execution_arn.$",
    }
    assert set(states["Finalize"]["Parameters"]["Payload"]) == {
        "kind.$",
        "tenant.$",
        "run_id.$",
        "error.$",
        "ticket.$",
        "execution_arn.$",
    }


# ---------------------------------------------------------------- (c) names and transitions


@pytest.mark.parametrize("kind", KINDS)
def test_every_state_name_is_unique_across_the_whole_definition(kind):
    # AWS refuses a definition whose Map processor reuses a state name of the machine (CreateStateMachine
    # fails, so does `sam deploy`); moto runs it anyway.
    # The local stack refuses the same at CreateStateMachine (devstack/asl.py).
    names = [name for _, scope in scopes(committed(kind)) for name in scope["States"]]
    assert sorted({n for n in names if names.count(n) > 1}) == []
    assert refusals(committed(kind)) == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_transition_lands_on_a_state_of_its_scope_and_every_state_is_reached(kind):
    for path, scope in scopes(committed(kind)):
        states = scope["States"]
        assert scope["StartAt"] in states, path
        reached, todo = set(), [scope["StartAt"]]
        while todo:
            name = todo.pop()
            if name in reached:
                continue
            assert name in states, f"{path}: a transition to {name!r}, which is not a state here"
            reached.add(name)
            todo.extend(targets(states[name]))
        assert reached == set(states), f"{path}: never reached: {sorted(set(states) - reached)}"


def test_an_atomic_import_runs_one_map_twice_check_then_write():
    states = committed("import")["States"]
    maps = [name for name, state in states.items() if state["Type"] == "Map"]
    assert maps == ["ProcessChunks"]
    chunks = states["ProcessChunks"]
    assert chunks["ItemSelector"]["pass.$"] == "$.prepared.pass"
    assert (chunks["MaxConcurrency"], chunks["ResultPath"]) == (16, None)
    assert chunks["ItemReader"]["ReaderConfig"] == {"InputType": "JSON"}
    # Express children: a chunk is idempotent and counted once (test_exactly_once runs one twice).
    assert chunks["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}
    after = states[chunks["Next"]]
    assert (
        after["Type"] == "Choice"
        and after["Choices"] == [{"Variable": "$.prepared.pass", "StringEquals": "check", "Next": "AfterCheck"}]
        and after["Default"] == "Finalize"
    )
    passed = states[states["AfterCheck"]["Next"]]
    write = states[passed["Choices"][0]["Next"]]
    # The write pass runs the whole plan AfterCheck names (a restarted check pass ran only the rest).
    assert (write["Type"], write["Parameters"], write["ResultPath"], write["Next"]) == (
        "Pass",
        {"status": "ready", "manifest_key.$": "$.checked.manifest_key", "pass": "write"},
        "$.prepared",
        "ProcessChunks",
    )
    assert states["AfterCheck"]["ResultSelector"]["manifest_key.$"] == "$.Payload.manifest_key"


# ---------------------------------------------------------------- (d) retries and catches


@pytest.mark.parametrize("kind", KINDS)
def test_every_lambda_task_retries_lambda_service_errors_and_is_caught_into_finalize(kind):
    tasks = list(lambda_tasks(committed(kind)))
    assert len(tasks) == 5
    for name, task, in_map in tasks:
        # AWS's recommended retry for lambda:invoke, in one retrier.
        assert any(set(r["ErrorEquals"]) >= LAMBDA_SERVICE_ERRORS for r in task["Retry"]), name
        if name == "Finalize":
            assert "Catch" not in task
        elif in_map is None:
            assert task["Catch"] == [TO_FINALIZE], name
        else:  # inside a Map processor: Finalize is not in scope; the Map's Catch leads there
            assert in_map["Catch"] == [TO_FINALIZE], name


@pytest.mark.parametrize("kind", KINDS)
def test_map_workers_retry_crashes_timeouts_and_throttling(kind):
    # The chunk and page retry tests (a killed worker, a throttled table) rely on these.
    for name, task, in_map in lambda_tasks(committed(kind)):
        if in_map is not None:
            retried = {e for r in task["Retry"] for e in r["ErrorEquals"]}
            assert {
                "Runtime.ExitError",
                "Sandbox.Timedout",
                "States.Timeout",
                "ProvisionedThroughputExceededException",
                "ThrottlingException",
                "ClientError",
            } <= retried, name


def test_an_express_child_has_time_for_every_retry_of_its_worker():
    # An EXPRESS child execution ends at 5 minutes (Step Functions quotas). A worker that times out is
    # retried: its attempts and the pauses between them must end before the child does, or a slow
    # chunk would fail the import instead of being retried.
    from devstack.cfn import Template

    functions = Template(ROOT / "template.yaml").functions()
    definition = committed("import")
    for name, task, in_map in lambda_tasks(definition):
        if in_map is None or in_map["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] != "EXPRESS":
            continue
        logical_id = re.fullmatch(r"\$\{(\w+)Arn\}", task["Parameters"]["FunctionName"]).group(1)
        timeout = functions[logical_id].timeout
        (retrier,) = [r for r in task["Retry"] if "Sandbox.Timedout" in r["ErrorEquals"]]
        pauses = sum(retrier["IntervalSeconds"] * retrier["BackoffRate"] ** n for n in range(retrier["MaxAttempts"]))
        assert (1 + retrier["MaxAttempts"]) * timeout + pauses <= 300, (name, timeout)


# ---------------------------------------------------------------- AWS's schema


@pytest.mark.parametrize("kind", KINDS)
def test_cfn_lint_finds_the_definition_valid_for_step_functions(kind):
    definition = committed(kind)
    substitutions = set(re.findall(r"\$\{(\w+)\}", json.dumps(definition)))
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/machine",
                    "Definition": definition,
                    "DefinitionSubstitutions": dict.fromkeys(substitutions, "substituted"),
                },
            }
        },
    }
    problems = [f"{m.rule.id} {m.message}" for m in lint_all(json.dumps(template)) if m.rule.id[0] in "EW"]
    assert problems == []
