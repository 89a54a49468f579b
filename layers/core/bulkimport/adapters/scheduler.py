"""A small adapter over EventBridge Scheduler: the schedules that run scheduled imports and recurring
schedules, all in the stack's group, all invoking ScheduledRunFunction with what to run."""

from __future__ import annotations

import json
from datetime import datetime

from botocore.exceptions import ClientError

from bulkimport.adapters.aws import client
from bulkimport.config import Schedules, section


def put_schedule(
    name: str, expression: str, timezone: str, payload: dict, enabled: bool = True, delete_after: bool = False
) -> None:
    """Create the schedule `name` (at most 64 characters), or replace it if it exists."""
    cfg = section(Schedules)
    request = {
        "Name": name,
        "GroupName": cfg.schedule_group,
        "ScheduleExpression": expression,
        "ScheduleExpressionTimezone": timezone,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED" if enabled else "DISABLED",
        "Target": {
            "Arn": cfg.scheduled_run_function_arn,
            "RoleArn": cfg.scheduler_role_arn,
            "Input": json.dumps(payload),
            "RetryPolicy": {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 3600},
            "DeadLetterConfig": {"Arn": cfg.failed_events_queue_arn},
        },
    }
    if delete_after:
        request["ActionAfterCompletion"] = "DELETE"
    scheduler = client("scheduler")
    try:
        scheduler.create_schedule(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConflictException":
            raise
        scheduler.update_schedule(**request)


def one_time(name: str, when_utc: datetime, payload: dict) -> None:
    """Run `payload` once at `when_utc`; the schedule deletes itself after."""
    put_schedule(name, f"at({when_utc.strftime('%Y-%m-%dT%H:%M:%S')})", "UTC", payload, delete_after=True)


def delete_schedule(name: str) -> None:
    try:
        client("scheduler").delete_schedule(Name=name, GroupName=section(Schedules).schedule_group)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
