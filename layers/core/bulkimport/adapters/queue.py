"""SQS: the queue webhook deliveries wait in between attempts (a message per delivery, hidden until
its next attempt is due)."""

from __future__ import annotations

import json

from bulkimport.adapters.aws import client


def send(queue_url: str, body: dict, delay_seconds: int = 0) -> None:
    client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(body), DelaySeconds=delay_seconds)


def hide(queue_url: str, receipt_handle: str, seconds: int) -> None:
    """Show the message again (to its consumer) in `seconds`, at most 12 hours."""
    client("sqs").change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)
