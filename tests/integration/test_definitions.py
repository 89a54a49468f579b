"""The local stack refuses a state machine definition that Step Functions refuses (moto alone would
run it): CreateStateMachine answers InvalidDefinition, as on AWS (devstack/asl.py)."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack.cfn import ACCOUNT

ROLE = f"arn:aws:iam::{ACCOUNT}:role/definitions-test"


def _definition(stack) -> dict:
    _, definition = stack.template.state_machine("ImportStateMachine")
    return json.loads(definition)


def test_a_valid_definition_is_created(stack):
    sfn = boto3.client("stepfunctions")
    arn = sfn.create_state_machine(name="definitions-valid", definition=json.dumps(_definition(stack)), roleArn=ROLE)
    assert arn["stateMachineArn"].endswith(":definitions-valid")


def test_a_state_name_reused_inside_a_map_is_refused(stack):
    definition = _definition(stack)
    processor = definition["States"]["ProcessChunks"]["ItemProcessor"]
    # The mistake the import definition once had: the Map's worker named like a state of the machine.
    processor["States"]["Finalize"] = processor["States"].pop("ProcessChunk")
    processor["StartAt"] = "Finalize"
    with pytest.raises(ClientError) as refused:
        boto3.client("stepfunctions").create_state_machine(
            name="definitions-duplicate", definition=json.dumps(definition), roleArn=ROLE
        )
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidDefinition"
    assert "DUPLICATE_STATE_NAME: Duplicate State name: Finalize" in error["Message"]


def test_a_transition_to_no_state_is_refused(stack):
    definition = _definition(stack)
    definition["States"]["Prepare"]["Next"] = "Nowhere"
    with pytest.raises(ClientError) as refused:
        boto3.client("stepfunctions").create_state_machine(
            name="definitions-dangling", definition=json.dumps(definition), roleArn=ROLE
        )
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert "'Nowhere'" in refused.value.response["Error"]["Message"]
