"""Step Functions: starting a run's execution and asking whether one still runs."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from bulkimport.adapters.aws import client


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


def start_execution(state_machine_arn: str, name: str, payload: dict) -> bool:
    """Start an execution; False when one of that name exists already (names are unique per state
    machine, so starting the same run twice is refused by Step Functions itself)."""
    try:
        client("stepfunctions").start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
        return False
    return True


def execution_status(arn: str) -> str:
    """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, ... or MISSING."""
    try:
        return client("stepfunctions").describe_execution(executionArn=arn)["status"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
            return "MISSING"
        raise


def execution_running(arn: str) -> bool:
    return execution_status(arn) == "RUNNING"
