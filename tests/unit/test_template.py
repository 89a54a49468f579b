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


def test_every_function_logs_to_a_group_with_retention():
    """Lambda's default log group keeps logs forever; each function has one of ours, kept a while."""
    template = Template(ROOT / "template.yaml")
    groups = {
        r["Properties"]["LogGroupName"]["Fn::Sub"]: r["Properties"]
        for r in template.of_type("AWS::Logs::LogGroup").values()
    }
    for logical_id in template.of_type("AWS::Serverless::Function"):
        group = groups.get(f"/aws/lambda/${{{logical_id}}}")
        assert group is not None, f"{logical_id} has no log group"
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_the_dashboard_and_alarms_show_only_metrics_the_code_emits():
    """A metric renamed in a handler (or a dashboard typo) would leave an empty graph or an alarm that
    never fires: every BulkImport metric the template names is one some function adds."""
    template = Template(ROOT / "template.yaml")
    emitted = set()
    for path in (ROOT / "functions").glob("*/app.py"):
        text = path.read_text()
        emitted |= set(re.findall(r'add_metric\(\s*name="(\w+)"', text))
        if "name=f\"{event['kind'].capitalize()}Duration\"" in text:
            emitted |= {"ImportDuration", "JobDuration"}
    (dashboard,) = template.of_type("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"][0]
    named = set()
    for widget in json.loads(re.sub(r"\$\{[\w:]+\}", "x", body))["widgets"]:
        namespace = None
        for metric in widget["properties"]["metrics"]:
            namespace = metric[0] if metric[0] != "." else namespace
            if namespace == "BulkImport":
                named.add(metric[1])
    for alarm in template.of_type("AWS::CloudWatch::Alarm").values():
        if alarm["Properties"].get("Namespace") == "BulkImport":
            named.add(alarm["Properties"]["MetricName"])
    assert named and named <= emitted, named - emitted


def test_an_import_is_revertible_as_long_as_its_work_files_are_kept():
    from bulkimport.imports.service import WORK_FILES_DAYS

    bucket = Template(ROOT / "template.yaml").resources["DataBucket"]["Properties"]
    (rule,) = [r for r in bucket["LifecycleConfiguration"]["Rules"] if r.get("Prefix") == "work/"]
    assert rule["ExpirationInDays"] == WORK_FILES_DAYS


def test_the_data_bucket_keeps_the_version_an_import_reads_as_long_as_the_upload():
    """An import reads the version of its file that landed (adapters/s3.py): the bucket keeps
    versions, and one written over stays as long as the upload itself would."""
    bucket = Template(ROOT / "template.yaml").resources["DataBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r.get("Prefix"): r for r in bucket["LifecycleConfiguration"]["Rules"]}
    uploads = rules["uploads/"]
    assert uploads["NoncurrentVersionExpiration"]["NoncurrentDays"] >= uploads["ExpirationInDays"]
    for prefix in ("drop/", "sources/", "work/", "exports/"):  # no version kept for ever
        assert rules[prefix]["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 1
    assert any(r.get("ExpiredObjectDeleteMarker") for r in bucket["LifecycleConfiguration"]["Rules"])
