"""IAM as the expanded template grants it (devstack/iam.py): what the state machines, EventBridge rules
and EventBridge Scheduler do on the stack's behalf is allowed by the roles and permissions they act
under, and the policy evaluation the local stack enforces follows IAM's rules for what we use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulkimport.adapters import keys
from devstack.asl import scopes
from devstack.cfn import ACCOUNT, REGION, Template
from devstack.iam import Role, covers, role_of, roles

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Template(ROOT / "template.yaml")
EXPANDED = TEMPLATE.expanded()
ROLES = roles(EXPANDED)
# What each Distributed Map's ItemReader reads: the manifest its Prepare step wrote.
MANIFESTS = {
    "ImportStateMachine": keys.manifest_key("tenant", "import"),
    "JobsStateMachine": keys.job_manifest_key("tenant", "job"),
}


def _needs(logical_id: str) -> list[tuple[str, str, str]]:
    """(state, action, resource) for everything the state machine's ASL makes Step Functions do."""
    name, definition = TEMPLATE.state_machine(logical_id)
    machine_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
    needs = []
    every_state = [item for _, scope in scopes(json.loads(definition)) for item in scope["States"].items()]
    for state_name, state in every_state:
        resource = state.get("Resource", "")
        if resource == "arn:aws:states:::lambda:invoke":
            needs.append((state_name, "lambda:InvokeFunction", state["Parameters"]["FunctionName"]))
        elif resource.startswith("arn:aws:lambda:"):
            needs.append((state_name, "lambda:InvokeFunction", resource))
        elif state["Type"] == "Task":
            raise AssertionError(f"{state_name}: add what {resource} needs to this test")
        reader = state.get("ItemReader")
        if reader:
            assert reader["Resource"] == "arn:aws:states:::s3:getObject"
            params = reader["Parameters"]
            key = params.get("Key") or MANIFESTS[logical_id]
            needs.append((state_name, "s3:GetObject", f"arn:aws:s3:::{params['Bucket']}/{key}"))
        if state.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED":
            # A Distributed Map runs its items as child executions of the same state machine.
            child = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{name}/{state_name}-label:0123-child"
            needs += [
                (state_name, "states:StartExecution", machine_arn),
                (state_name, "states:DescribeExecution", child),
                (state_name, "states:StopExecution", child),
            ]
    return needs


@pytest.mark.parametrize("logical_id", sorted(TEMPLATE.of_type("AWS::Serverless::StateMachine")))
def test_state_machine_role_allows_what_its_definition_does(logical_id):
    role = ROLES[role_of(EXPANDED, logical_id, "RoleArn")]
    needs = _needs(logical_id)
    assert {action for _, action, _ in needs} >= {"lambda:InvokeFunction", "s3:GetObject", "states:StartExecution"}
    refused = [need for need in needs if not role.decide(need[1], need[2]).allowed]
    assert refused == []


@pytest.mark.parametrize("logical_id", sorted(TEMPLATE.of_type("AWS::Serverless::StateMachine")))
def test_state_machine_role_grants_nothing_its_definition_does_not_need(logical_id):
    role = ROLES[role_of(EXPANDED, logical_id, "RoleArn")]
    needs = _needs(logical_id)
    unneeded = [grant for grant in role.grants() if not any(covers(grant, a, r) for _, a, r in needs)]
    assert unneeded == []


def test_each_eventbridge_rule_may_invoke_its_target():
    rules = EXPANDED.of_type("AWS::Events::Rule")
    permissions = [EXPANDED.resolve(p["Properties"]) for p in EXPANDED.of_type("AWS::Lambda::Permission").values()]
    assert rules
    for logical_id, rule in rules.items():
        rule_arn = EXPANDED.attribute(logical_id, "Arn")
        for target in EXPANDED.resolve(rule["Properties"]["Targets"]):
            if ":sqs:" in target["Arn"]:
                assert _queue_takes_from(target["Arn"], rule_arn), f"rule {logical_id} may not send to {target['Arn']}"
                continue
            function_name = target["Arn"].rsplit(":", 1)[-1]
            granted = [
                p
                for p in permissions
                if p["Principal"] == "events.amazonaws.com"
                and p["Action"] == "lambda:InvokeFunction"
                and p["FunctionName"] in (function_name, target["Arn"])
                and p.get("SourceArn", rule_arn) == rule_arn
            ]
            assert granted, f"rule {logical_id} may not invoke {target['Arn']}"


def _queue_takes_from(queue_arn: str, rule_arn: str) -> bool:
    """Whether a queue policy lets EventBridge send to the queue for this rule (without one, the
    rule's deliveries are dropped)."""
    for policy in EXPANDED.of_type("AWS::SQS::QueuePolicy").values():
        props = EXPANDED.resolve(policy["Properties"])
        for statement in props["PolicyDocument"]["Statement"]:
            if (
                statement["Effect"] == "Allow"
                and statement["Principal"] == {"Service": "events.amazonaws.com"}
                and statement["Action"] == "sqs:SendMessage"
                and statement["Resource"] == queue_arn
                and statement.get("Condition", {}).get("ArnEquals", {}).get("aws:SourceArn") == rule_arn
            ):
                return True
    return False


def test_bucket_sends_the_events_the_rules_expect():
    """A rule on S3's Object Created events for our bucket gets nothing unless the bucket sends its
    notifications to EventBridge (which delivers them on the default bus)."""
    expecting = []
    for rule in EXPANDED.of_type("AWS::Events::Rule").values():
        props = EXPANDED.resolve(rule["Properties"])
        pattern = props.get("EventPattern", {})  # a Schedule rule has none
        if "aws.s3" in pattern.get("source", []):
            assert props.get("EventBusName", "default") == "default"
            expecting += pattern["detail"]["bucket"]["name"]
    assert expecting
    for logical_id, bucket in TEMPLATE.of_type("AWS::S3::Bucket").items():
        if TEMPLATE.physical_name(logical_id) in expecting:
            config = bucket["Properties"]["NotificationConfiguration"]["EventBridgeConfiguration"]
            assert config["EventBridgeEnabled"] is True


def test_scheduler_role_may_invoke_the_schedules_target_and_the_api_may_pass_it():
    api = TEMPLATE.functions()["ApiFunction"].environment
    scheduler_role = next(r for r in ROLES.values() if r.arn == api["SCHEDULER_ROLE_ARN"])
    assert scheduler_role.decide("lambda:InvokeFunction", api["SCHEDULED_RUN_FUNCTION_ARN"]).allowed
    trust = EXPANDED.resolve(EXPANDED.resources[scheduler_role.logical_id]["Properties"]["AssumeRolePolicyDocument"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "scheduler.amazonaws.com"}]
    api_role = ROLES[role_of(EXPANDED, "ApiFunction")]
    assert api_role.decide("iam:PassRole", scheduler_role.arn).allowed


def test_every_function_runs_under_a_role_of_its_own():
    functions = EXPANDED.of_type("AWS::Lambda::Function")
    assigned = [role_of(EXPANDED, logical_id) for logical_id in functions]
    assert len(set(assigned)) == len(functions) == len(TEMPLATE.functions())


# ------------------------------------------------------------------ the evaluation's rules
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"


def _role(*statements: dict) -> Role:
    return Role(
        "TestRole", f"arn:aws:iam::{ACCOUNT}:role/test", [{"Version": "2012-10-17", "Statement": list(statements)}]
    )


def test_allow_matches_action_and_resource_with_wildcards():
    role = _role({"Effect": "Allow", "Action": ["dynamodb:Get*"], "Resource": [TABLE, f"{TABLE}/index/*"]})
    assert role.decide("dynamodb:GetItem", TABLE).allowed
    assert role.decide("dynamodb:GetItem", f"{TABLE}/index/by-name").allowed
    assert not role.decide("dynamodb:PutItem", TABLE).allowed
    assert not role.decide("dynamodb:GetItem", f"{TABLE}2").allowed
    # IAM compares actions without regard to case.
    assert role.decide("DynamoDB:getitem", TABLE).allowed


def test_explicit_deny_wins_and_not_action_covers_the_rest():
    role = _role(
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": ["dynamodb:GetItem"], "Resource": TABLE},
    )
    assert role.decide("dynamodb:GetItem", TABLE).allowed
    denied = role.decide("dynamodb:PutItem", TABLE)
    assert not denied.allowed and denied.explicit_deny
    assert role.decide("dynamodb:PutItem", f"{TABLE}2").allowed


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/x"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"Bool": {"aws:x": "true"}}},
        {"Effect": "Allow", "Action": "s3:GetObjec?", "Resource": "*"},
    ],
)
def test_what_the_evaluation_does_not_implement_is_refused_not_misread(statement):
    with pytest.raises(ValueError, match="does not implement"):
        _role(statement)
