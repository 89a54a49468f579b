"""IAM on the local stack: every function runs under its own role, as on AWS.

The roles come from template.yaml expanded by the SAM translator (devstack.cfn.Template.expanded):
policy templates become the policy documents CloudFormation would create, intrinsic functions
resolved to the local stack's names. Each AWS call a handler makes is mapped to the IAM actions and
resource ARNs AWS authorizes it by (`authorizations`, a small explicit table of the operations the
code makes), and evaluated against the calling function's role with moto's IAM policy evaluation
(moto.iam.access_control.IAMPolicy: Allow, Deny, Action/NotAction and wildcards, explicit Deny
winning). A call the role does not allow fails as the client sees it on AWS: a ClientError with
AccessDeniedException (DynamoDB, Step Functions, EventBridge, Scheduler) or AccessDenied (S3, SQS).

moto's evaluator does not implement NotResource or Condition in identity policies, nor `?` as a
wildcard; a role using one is refused when the stack starts rather than evaluated wrongly.

Every authorization evaluated is recorded (`used`) per role, so the test suite can tell which
granted actions no code path uses (least privilege).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, PermissionResult

from devstack.cfn import ACCOUNT, REGION, Template

# ------------------------------------------------------------------ operation -> IAM authorizations
# (service as botocore's events name it, operation) -> IAM action, for calls on one resource.
_DYNAMODB_ITEM = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "DescribeTable"}
_S3_OBJECT = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    # A multipart upload is authorized as s3:PutObject, part by part.
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListParts": "s3:ListMultipartUploadParts",
    "DeleteObject": "s3:DeleteObject",
}
_S3_BUCKET = {"ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket"}
_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
_SQS = {
    "SendMessage": "sqs:SendMessage",
    "SendMessageBatch": "sqs:SendMessage",
    "ReceiveMessage": "sqs:ReceiveMessage",
    "DeleteMessage": "sqs:DeleteMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibility": "sqs:ChangeMessageVisibility",
    "GetQueueAttributes": "sqs:GetQueueAttributes",
}


class UnmappedOperation(Exception):
    """A handler made a call the table below does not know: add it, with the action(s) AWS checks."""


def authorizations(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs AWS authorizes a call by, all of which must be allowed."""
    if service == "dynamodb":
        if operation in _DYNAMODB_ITEM:
            return [(f"dynamodb:{operation}", _table_arn(params["TableName"], params.get("IndexName")))]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", _table_arn(table)) for table in params["RequestItems"]]
        if operation == "TransactWriteItems":
            found = []
            for entry in params["TransactItems"]:
                ((kind, item),) = entry.items()
                found.append((_TRANSACT_ACTIONS[kind], _table_arn(item["TableName"])))
            return list(dict.fromkeys(found))
        if operation == "TransactGetItems":
            return list(
                dict.fromkeys(("dynamodb:GetItem", _table_arn(e["Get"]["TableName"])) for e in params["TransactItems"])
            )
    if service == "s3":
        if operation in _S3_OBJECT:
            action = _S3_OBJECT[operation]
            if action == "s3:GetObject" and params.get("VersionId"):  # a read of one version, by its id
                action = "s3:GetObjectVersion"
            return [(action, f"arn:aws:s3:::{params['Bucket']}/{params['Key']}")]
        if operation in _S3_BUCKET:
            return [(_S3_BUCKET[operation], f"arn:aws:s3:::{params['Bucket']}")]
        if operation == "DeleteObjects":
            return [
                ("s3:DeleteObject", f"arn:aws:s3:::{params['Bucket']}/{o['Key']}") for o in params["Delete"]["Objects"]
            ]
    if service == "sfn":
        if operation == "StartExecution":
            return [("states:StartExecution", params["stateMachineArn"])]
        if operation in ("DescribeExecution", "StopExecution"):
            return [(f"states:{operation}", params["executionArn"])]
    if service == "eventbridge" and operation == "PutEvents":
        return list(dict.fromkeys(("events:PutEvents", _bus_arn(e.get("EventBusName"))) for e in params["Entries"]))
    if service == "scheduler":
        if operation in ("CreateSchedule", "UpdateSchedule", "DeleteSchedule", "GetSchedule"):
            group = params.get("GroupName") or "default"
            found = [
                (f"scheduler:{operation}", f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{group}/{params['Name']}")
            ]
            if operation in ("CreateSchedule", "UpdateSchedule"):
                # Handing the schedule a role to run its target under is passing that role.
                found.append(("iam:PassRole", params["Target"]["RoleArn"]))
            return found
        if operation == "ListSchedules":
            return [("scheduler:ListSchedules", "*")]
    if service == "sqs" and operation in _SQS:
        queue = params["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
        return [(_SQS[operation], f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}")]
    raise UnmappedOperation(
        f"{service}.{operation}: the local stack does not know which IAM actions authorize it;"
        " add it to devstack/iam.py"
    )


def _table_arn(table: str, index: str | None = None) -> str:
    arn = table if table.startswith("arn:") else f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _bus_arn(bus: str | None) -> str:
    bus = bus or "default"
    return bus if bus.startswith("arn:") else f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"


# ------------------------------------------------------------------ roles and their evaluation
_UNSUPPORTED = ("NotResource", "Condition", "NotPrincipal")
# How each service's client reports a denial: (error code, HTTP status).
DENIAL = {
    "dynamodb": ("AccessDeniedException", 400),
    "sfn": ("AccessDeniedException", 400),
    "eventbridge": ("AccessDeniedException", 400),
    "scheduler": ("AccessDeniedException", 403),
    "s3": ("AccessDenied", 403),
    "sqs": ("AccessDenied", 403),
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    explicit_deny: bool = False


class Role:
    """One IAM role's identity-based policies (inline policies; AWS managed policies such as
    AWSLambdaBasicExecutionRole grant logs and X-Ray only, which the code never calls)."""

    def __init__(self, logical_id: str, arn: str, documents: list[dict]):
        self.logical_id = logical_id
        self.arn = arn
        self.documents = documents
        for document in documents:
            for statement in _statements(document):
                refused = [key for key in _UNSUPPORTED if key in statement]
                wildcard = any(
                    "?" in value for key in ("Action", "NotAction", "Resource") for value in _values(statement, key)
                )
                if refused or wildcard:
                    raise ValueError(
                        f"{logical_id}: a statement uses {refused or '?'}, which the local stack's policy"
                        f" evaluation (moto's) does not implement: {statement}"
                    )
        # IAM matches actions case-insensitively, moto's evaluator exactly: actions go in lower case.
        self._policies = [IAMPolicy(json.dumps(_lower_actions(document))) for document in documents]

    @lru_cache(maxsize=65536)  # noqa: B019 - roles live as long as the stack
    def decide(self, action: str, resource: str) -> Decision:
        results = [policy.is_action_permitted(action.lower(), resource) for policy in self._policies]
        if PermissionResult.DENIED in results:
            return Decision(False, explicit_deny=True)
        return Decision(PermissionResult.PERMITTED in results)

    def grants(self) -> list[tuple[str, str]]:
        """Each (action, resource) an Allow statement names, as written (wildcards and all)."""
        return [
            (action, resource)
            for document in self.documents
            for statement in _statements(document)
            if statement["Effect"] == "Allow"
            for action in _values(statement, "Action")
            for resource in _values(statement, "Resource")
        ]

    def granted_actions(self) -> set[str]:
        return {action for action, _ in self.grants()}


def covers(grant: tuple[str, str], action: str, resource: str) -> bool:
    """Whether one granted (action, resource), wildcards and all, allows `action` on `resource`."""
    statement = IAMPolicyStatement({"Effect": "Allow", "Action": grant[0].lower(), "Resource": grant[1]})
    return statement.is_action_permitted(action.lower(), resource) == PermissionResult.PERMITTED


def _statements(document: dict) -> list[dict]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _values(statement: dict, key: str) -> list[str]:
    value = statement.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def _lower_actions(document: dict) -> dict:
    statements = []
    for statement in _statements(document):
        statement = dict(statement)
        for key in ("Action", "NotAction"):
            if key in statement:
                statement[key] = [a.lower() for a in _values(statement, key)]
        statements.append(statement)
    return {**document, "Statement": statements}


def roles(expanded: Template) -> dict[str, Role]:
    """Every AWS::IAM::Role of the expanded template, by logical id, its intrinsics resolved."""
    found = {}
    for logical_id, resource in expanded.of_type("AWS::IAM::Role").items():
        props = expanded.resolve(resource["Properties"])
        documents = [policy["PolicyDocument"] for policy in props.get("Policies", [])]
        found[logical_id] = Role(logical_id, expanded.attribute(logical_id, "Arn"), documents)
    return found


def role_of(expanded: Template, logical_id: str, role_property: str = "Role") -> str:
    """The logical id of the role a function (Role) or state machine (RoleArn) runs under."""
    value = expanded.resources[logical_id]["Properties"][role_property]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    raise ValueError(f"{logical_id}: {role_property} is not a role of the template: {value}")


class Enforcer:
    """The functions' roles, their decisions, and what each role was really used for."""

    def __init__(self, template: Template):
        self.expanded = template.expanded()
        self.roles = roles(self.expanded)
        self.by_arn = {role.arn: role for role in self.roles.values()}
        self.function_roles = {
            logical_id: self.roles[role_of(self.expanded, logical_id)]
            for logical_id in self.expanded.of_type("AWS::Lambda::Function")
        }
        # role logical id -> {(action, resource)} evaluated for it, allowed or not.
        self.used: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self.denied: list[tuple[str, str, str]] = []  # (role, action, resource)

    def check(self, role: Role, requested: list[tuple[str, str]]) -> tuple[str, str, Decision] | None:
        """Record the authorizations; the first one the role does not allow, or None. (No lock: a
        set's add and a list's append are atomic, and decisions are pure.)"""
        refused = None
        for action, resource in requested:
            self.used[role.logical_id].add((action, resource))
            decision = role.decide(action, resource)
            if not decision.allowed and refused is None:
                refused = (action, resource, decision)
                self.denied.append((role.logical_id, action, resource))
        return refused

    def used_actions(self) -> dict[str, set[str]]:
        return {role: {action for action, _ in pairs} for role, pairs in self.used.items()}


def denial_message(role: Role, function_name: str, action: str, resource: str, decision: Decision) -> str:
    role_name = role.arn.rsplit("/", 1)[-1]
    why = (
        "with an explicit deny in an identity-based policy"
        if decision.explicit_deny
        else f"because no identity-based policy allows the {action} action"
    )
    return (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{function_name} is not authorized to perform:"
        f" {action} on resource: {resource} {why}"
    )


def state_machine_definitions(template: Template) -> Iterator[tuple[str, dict]]:
    for logical_id in template.of_type("AWS::Serverless::StateMachine"):
        yield logical_id, json.loads(template.state_machine(logical_id)[1])


def usage_report(enforcer: Enforcer) -> dict[str, dict]:
    """Per role: the actions it grants, the actions its calls used (with the resources, prefixes of
    S3 keys cut to their first segment so the file stays readable) and the calls it was refused."""
    report = {}
    for logical_id, role in sorted(enforcer.roles.items()):
        used: dict[str, set[str]] = defaultdict(set)
        for action, resource in enforcer.used.get(logical_id, ()):
            used[action].add(_resource_shape(resource))
        report[logical_id] = {
            "granted": sorted(role.granted_actions()),
            "used": {action: sorted(resources) for action, resources in sorted(used.items())},
            "denied": sorted({f"{a} {r}" for role_id, a, r in enforcer.denied if role_id == logical_id}),
        }
    return report


def _resource_shape(resource: str) -> str:
    if resource.startswith("arn:aws:s3:::") and "/" in resource:
        bucket, key = resource.removeprefix("arn:aws:s3:::").split("/", 1)
        return f"arn:aws:s3:::{bucket}/{key.split('/', 1)[0]}/*"
    if resource.startswith("arn:aws:states:") and ":execution:" in resource:
        return resource.rsplit(":", 1)[0] + ":*"
    if resource.startswith("arn:aws:scheduler:"):
        return resource.rsplit("/", 1)[0] + "/*"
    return resource
