"""SQS as the template wires it: its queues with their attributes (visibility timeout, retention,
redrive to a dead-letter queue), EventBridge rules of the template that target a queue, and
Lambda's SQS event source mappings: a poller that hands batches to the function and deletes what it
took, as Lambda does (with ReportBatchItemFailures, all but the messages the function reports)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import boto3

from devstack.cfn import REGION, Template

# How often a mapping's poller looks at its queue: a hidden message shows again at a time that no
# request announces (its visibility timeout ends), so the poller cannot wait for a change alone.
POLL_SECONDS = 0.25
_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds")
_POLLER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")

log = logging.getLogger("devstack")


def create_queues(template: Template) -> None:
    """Every AWS::SQS::Queue, dead-letter queues first (a redrive policy names an existing queue)."""
    sqs = boto3.client("sqs")
    queues = template.of_type("AWS::SQS::Queue")
    for logical_id in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q].get("Properties", {})):
        props = template.resolve(queues[logical_id].get("Properties", {}))
        attributes = {name: str(props[name]) for name in _QUEUE_ATTRIBUTES if name in props}
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        sqs.create_queue(QueueName=template.physical_name(logical_id), Attributes=attributes)


def wire_rules(template: Template) -> None:
    """Every AWS::Events::Rule of the template whose targets are queues (what EventBridge then
    delivers to them, moto does too)."""
    events = boto3.client("events")
    for logical_id, resource in template.of_type("AWS::Events::Rule").items():
        props = template.resolve(resource["Properties"])
        targets = props.get("Targets", [])
        if any(":sqs:" not in target["Arn"] for target in targets):
            raise ValueError(f"{logical_id}: the local stack delivers rules to SQS queues only")
        name, bus = template.physical_name(logical_id), props.get("EventBusName", "default")
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(props["EventPattern"]))
        events.put_targets(
            Rule=name, EventBusName=bus, Targets=[{"Id": target["Id"], "Arn": target["Arn"]} for target in targets]
        )


def queue_url(arn: str) -> str:
    return boto3.client("sqs").get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]


def poll_mapping(stack, props: dict, stopping: Callable[[], bool]) -> None:
    """One AWS::Lambda::EventSourceMapping of a queue: receive up to BatchSize messages, invoke the
    function with them synchronously, delete those it took. A failed invocation deletes nothing (the
    messages show again when their visibility timeout ends, and go to the queue's dead-letter queue
    after its maxReceiveCount). The poller acts with the function's role, as Lambda's does."""
    props = stack.template.resolve(props)
    function = stack.runtime.find(props["FunctionName"])
    if function is None:
        raise ValueError(f"event source mapping of an unknown function {props['FunctionName']}")
    arn = props["EventSourceArn"]
    if stack.iam is not None:
        refused = stack.iam.check(
            stack.iam.function_roles[function.logical_id], [(action, arn) for action in _POLLER_ACTIONS]
        )
        if refused:
            log.error("event source mapping of %s: %s on %s denied: it never polls", function.name, *refused[:2])
            return
    sqs = boto3.client("sqs")
    url = queue_url(arn)
    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    partial = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
    while not stopping():
        seen = stack.aws.changes.count
        try:
            messages = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=int(props.get("BatchSize", 10)),
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        except Exception:  # the endpoint is going away at stop
            if stopping():
                return
            raise
        if not messages:
            stack.aws.changes.wait(seen, POLL_SECONDS)
            continue
        records = [_record(message, arn) for message in messages]
        payload, error = stack.runtime.invoke(function, {"Records": records})
        if error:
            continue
        failed = set()
        if partial and isinstance(payload, dict):
            failed = {failure["itemIdentifier"] for failure in payload.get("batchItemFailures") or []}
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _record(message: dict, arn: str) -> dict:
    """A message as Lambda's SQS event carries it."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    }
