"""The webhook queue's consumer: fans the service's events out to the webhooks that take them, and
attempts deliveries. A failed attempt leaves its message in the queue, hidden until the next attempt
is due (reported as a batch item failure, so the batch's other messages are not tried again)."""

import json

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bulkimport import config
from bulkimport.webhooks.service import RetryLater, handle_message


class Settings(config.Tables, config.WebhookQueue, config.WebhookDelivery):
    pass


settings = config.load(Settings)  # cold start: a missing setting fails here, naming it

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# A batch whose every delivery waits for a retry is not the function failing (that would count as a
# Lambda error, which WebhookDeliveryErrorsAlarm watches): its answer lists them all.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    try:
        handle_message(json.loads(record.body), record.receipt_handle)
    except RetryLater as later:
        logger.info(str(later))
        raise


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
