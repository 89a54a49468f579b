"""template.yaml is deployable as written: cfn-lint (what `sam validate --lint` runs) finds nothing,
and the state machine's substitutions and Lambda wiring line up with the template."""

import json
import re
from pathlib import Path

import pytest
from cfnlint.api import lint_all

from devstack.cfn import Template

ROOT = Path(__file__).resolve().parents[2]


def test_cfn_lint_finds_no_errors_or_warnings():
    matches = lint_all((ROOT / "template.yaml").read_text())
    problems = [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches if m.rule.id[0] in "EW"]
    assert problems == []


MACHINES = {
    "ImportStateMachine": (5, ("Prepare", "ProcessChunks")),
    "JobsStateMachine": (5, ("Prepare", "ProcessPages", "ExportRecords")),
}


@pytest.mark.parametrize("logical_id", MACHINES)
def test_state_machine_substitutions_are_all_defined_and_used(logical_id):
    template = Template(ROOT / "template.yaml")
    props = template.resources[logical_id]["Properties"]
    text = (ROOT / props["DefinitionUri"]).read_text()
    used = set(re.findall(r"\$\{(\w+)\}", text))
    assert used == set(props["DefinitionSubstitutions"])
    _, definition = template.state_machine(logical_id)
    states = json.loads(definition)["States"]
    invoked = {s["Parameters"]["FunctionName"] for s in _tasks(states)}
    functions = {f.arn for f in template.functions().values()}
    assert invoked <= functions and len(invoked) == MACHINES[logical_id][0]


@pytest.mark.parametrize("logical_id", MACHINES)
def test_every_lambda_task_retries_service_errors_and_lands_in_finalize(logical_id):
    _, definition = Template(ROOT / "template.yaml").state_machine(logical_id)
    states = json.loads(definition)["States"]
    for task in _tasks(states):
        retried = {e for r in task["Retry"] for e in r["ErrorEquals"]}
        assert {
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
        } <= retried
    for name in MACHINES[logical_id][1]:
        assert states[name]["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Finalize"}]


def _tasks(states: dict):
    for state in states.values():
        if state["Type"] == "Task":
            yield state
        if state["Type"] == "Map":
            yield from _tasks(state["ItemProcessor"]["States"])
