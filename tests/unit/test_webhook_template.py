"""The webhook delivery's wiring in template.yaml holds the contract's schedule: every delay fits one
SQS visibility change, the messages outlive the schedule, Lambda's poller never shows a message
again while its function may still run, and only a crashing message reaches the dead-letter queue."""

from pathlib import Path

from devstack.cfn import Template

TEMPLATE = Template(Path(__file__).resolve().parents[2] / "template.yaml")
RESOURCES = TEMPLATE.resources


def _delays() -> list[int]:
    return [int(d) for d in TEMPLATE.doc["Parameters"]["WebhookRetrySeconds"]["Default"].split(",")]


def test_the_default_schedule_is_the_contracts_about_27_hours():
    assert _delays() == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert 26 * 3600 < sum(_delays()) < 28 * 3600
    assert max(_delays()) <= 43200  # ChangeMessageVisibility's limit


def test_the_queue_keeps_a_delivery_for_its_whole_schedule_and_sends_only_crashes_to_its_dlq():
    queue = RESOURCES["WebhookQueue"]["Properties"]
    function = RESOURCES["WebhookDeliveryFunction"]["Properties"]
    mapping = RESOURCES["WebhookDeliveryEventSource"]["Properties"]
    assert queue["MessageRetentionPeriod"] > sum(_delays()) + 3600
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]  # as Lambda advises for SQS sources
    attempts = 1 + len(_delays())
    assert queue["RedrivePolicy"]["maxReceiveCount"] > attempts
    # A batch's deliveries are attempted one after another, each for at most the receiver's timeout.
    timeout = TEMPLATE.doc["Parameters"]["WebhookTimeoutSeconds"]
    assert mapping["BatchSize"] * timeout["MaxValue"] < function["Timeout"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert TEMPLATE.doc["Parameters"]["WebhookLocalReceivers"]["Default"] == "false"
