"""Least privilege, judged at the end of a session that ran the whole integration suite: every
(action, resource) a role of the expanded template grants was used by some call the suite made
under that role, or is listed below with the reason the suite cannot exercise it. And no call
was denied: the suite runs with every permission it needs.

The state machines' roles are not judged here: what they do is read from their ASL and checked
both ways in tests/unit/test_iam.py."""

from __future__ import annotations

from devstack.iam import Enforcer, covers

# Dead-letter queues are written by the services, with the role, not by our code; the local stack
# delivers those events itself (stack.invoke_async, the local scheduler), outside role checks.
LAMBDA_DLQ = "Lambda (the service) sends a failed asynchronous event to the DLQ with the function's role"
SCHEDULER_DLQ = "EventBridge Scheduler sends a target's failed event to its DLQ with this role"

# (role, action, the granted resource's local ARN) -> why no test reaches it.
UNEXERCISED = {
    (
        "ApiFunctionRole",
        "dynamodb:DeleteItem",
        "arn:aws:dynamodb:us-east-1:123456789012:table/bulkimport-local-RecordsTable",
    ): "batch-create gives back the unique keys a row claimed when it fails on a later one (records/writer.py)",
    (
        "ProcessChunkFunctionRole",
        "dynamodb:DeleteItem",
        "arn:aws:dynamodb:us-east-1:123456789012:table/bulkimport-local-RecordsTable",
    ): "an imported row gives back the unique keys it claimed when it fails on a later one (records/writer.py)",
    (
        "ApiFunctionRole",
        "scheduler:UpdateSchedule",
        "arn:aws:scheduler:us-east-1:123456789012:schedule/bulkimport-local-schedules/*",
    ): "a schedule whose CreateSchedule conflicts (a retried request) is updated instead (adapters/scheduler.py)",
    (
        "PrepareImportFunctionRole",
        "s3:AbortMultipartUpload",
        "arn:aws:s3:::bulkimport-local-databucket/*",
    ): "the work copy's multipart upload is aborted when writing it fails (adapters/s3.py BlobStore.writer)",
    (
        "ExportRecordsFunctionRole",
        "s3:AbortMultipartUpload",
        "arn:aws:s3:::bulkimport-local-databucket/*",
    ): "an export's multipart upload is aborted when writing it fails (adapters/s3.py BlobStore.writer)",
    (
        "ObjectCreatedFunctionRole",
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:123456789012:bulkimport-local-FailedEventsQueue",
    ): LAMBDA_DLQ,
    (
        "ScheduledRunFunctionRole",
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:123456789012:bulkimport-local-FailedEventsQueue",
    ): LAMBDA_DLQ,
    (
        "SweepRunsFunctionRole",
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:123456789012:bulkimport-local-FailedEventsQueue",
    ): LAMBDA_DLQ,
    (
        "SchedulerRole",
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:123456789012:bulkimport-local-FailedEventsQueue",
    ): SCHEDULER_DLQ,
}


def problems(enforcer: Enforcer) -> list[str]:
    machine_roles = {
        enforcer.expanded.resources[m]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        for m in enforcer.expanded.of_type("AWS::StepFunctions::StateMachine")
    }
    found = [f"denied: {role} {action} {resource}" for role, action, resource in enforcer.denied]
    for logical_id, role in sorted(enforcer.roles.items()):
        if logical_id in machine_roles:
            continue
        used = enforcer.used.get(logical_id, set())
        for action, resource in role.grants():
            if (logical_id, action, resource) in UNEXERCISED or any(covers((action, resource), a, r) for a, r in used):
                continue
            found.append(f"granted, never used: {logical_id} {action} {resource}")
    return found
